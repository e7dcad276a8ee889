/**
 * Runs one shard of the test set through both models: the base model on demand (an inference
 * profile) and the fine-tuned model on its Provisioned Throughput, with the same prompt and
 * deterministic settings. Writes one predictions line per record and model.
 *
 * Input: { run, shard: { index, key }, fineTunedModelId, baseModelId }.
 * Output: { index, records, failures }.
 *
 * With a shared baseline (evaluation/baseline.ts) only one model is asked: a run whose context
 * carries `evaluation.baseline` asks only the fine-tuned model (the base answers are stored);
 * the baseline piece (`purpose: 'baseline'`, no fine-tuned model) asks only the base model the
 * shard names and writes under the baseline's folder.
 *
 * Throttling is retried by the SDK, then by the Map state's retry of the whole shard (the
 * predictions object is rewritten whole, so a retried shard leaves no duplicates). A record
 * the model refuses (e.g. a ValidationException) is written with its error and scored 0.
 */
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { bedrockRuntimeClient, s3Client } from '../shared/aws-clients';
import { intEnv } from '../shared/env';
import { converseInputFor } from '../shared/evaluation/converse-input';
import { ModelPredictionLine } from '../shared/evaluation/model-prediction';
import { EvaluationItem, evaluationPredictionsKey } from '../shared/evaluation/test-records';
import { baselinePredictionsKey } from '../shared/evaluation/baseline';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { RunContext } from '../shared/run-context';
import { getText, parseS3Uri } from '../shared/s3';

export interface InferShardEvent {
  readonly run: RunContext;
  /** `baseModelId` is set on the shards of a baseline's manifest. */
  readonly shard: { readonly index: number; readonly key: string; readonly baseModelId?: string };
  /** Absent when computing a baseline. */
  readonly fineTunedModelId?: string;
  /** Absent when computing a baseline (the shard names it). */
  readonly baseModelId?: string;
  /** 'baseline': base model answers only, for a shared baseline. @default - the run's evaluation */
  readonly purpose?: 'evaluation' | 'baseline';
}

/** Errors that mean "try later", rethrown so the shard is retried rather than scored 0. */
const RETRYABLE = new Set(['ThrottlingException', 'ServiceUnavailableException', 'InternalServerException', 'ModelNotReadyException', 'ModelTimeoutException']);

const log = createLogger({ step: 'infer-shard' });

/** The entry point: inferShard, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, inferShard);

async function inferShard(event: InferShardEvent): Promise<{ index: number; records: number; failures: number }> {
  const { run, shard } = event;
  const s3 = s3Client();
  const items = (await getText(s3, { bucket: run.artifacts.bucket, key: shard.key }))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EvaluationItem);
  const maxTokens = run.evaluation.maxTokens;
  const images = new Map<string, Promise<Uint8Array>>();
  const readImage = (uri: string) => {
    // The same image is often asked about several times; read it once per shard.
    if (!images.has(uri)) images.set(uri, readBytes(uri));
    return images.get(uri)!;
  };
  // Which models answer: both (a run's own evaluation), the fine-tuned one only (a run reusing a
  // stored baseline) or the base one only (computing the baseline).
  const computingBaseline = event.purpose === 'baseline';
  const baseModelId = computingBaseline ? (event.shard.baseModelId ?? event.baseModelId) : event.baseModelId;
  const askBase = computingBaseline || !run.evaluation.baseline;
  const askFineTuned = !computingBaseline;
  if (askBase && !baseModelId) throw new Error('infer-shard: no base model id (the state machine passes baseModelId, or the baseline manifest names it per shard)');
  if (askFineTuned && !event.fineTunedModelId) throw new Error('infer-shard: no fineTunedModelId; the state machine passes the Provisioned Throughput ARN');
  const lines: ModelPredictionLine[] = [];
  const concurrency = intEnv('RECORD_CONCURRENCY', 1);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      const answers = await Promise.all([
        ...(askBase ? [predict(item, 'base', baseModelId!, maxTokens, readImage)] : []),
        ...(askFineTuned ? [predict(item, 'fine-tuned', event.fineTunedModelId!, maxTokens, readImage)] : []),
      ]);
      lines.push(...answers);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  lines.sort((a, b) => a.line - b.line || a.model.localeCompare(b.model));

  const key = computingBaseline
    ? baselinePredictionsKey(run.artifacts.prefix, baseModelId!, shard.index)
    : evaluationPredictionsKey(run.artifacts.prefix, shard.index);
  await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: key, Body: lines.map((l) => JSON.stringify(l)).join('\n') + '\n', ContentType: 'application/x-ndjson' }));
  const failures = lines.filter((l) => l.error).length;
  log.info('shard inferred', { runId: run.runId, shard: shard.index, records: items.length, failures, ...(computingBaseline ? { baseline: baseModelId } : {}), ...(askBase ? {} : { sharedBaseline: true }) });
  return { index: shard.index, records: items.length, failures };
}

async function predict(item: EvaluationItem, model: ModelPredictionLine['model'], modelId: string, maxTokens: number, readImage: (uri: string) => Promise<Uint8Array>): Promise<ModelPredictionLine> {
  const started = Date.now();
  const imageUris = item.turns.flatMap((turn) => turn.content.flatMap((block) => ('image' in block ? [block.image.uri] : [])));
  const base = { recordId: item.recordId, line: item.line, model, modelId, question: item.question, references: item.references, ...(imageUris.length > 0 ? { imageUris } : {}) };
  try {
    const out = await bedrockRuntimeClient().send(new ConverseCommand(await converseInputFor(item, modelId, maxTokens, readImage)));
    const text = (out.output?.message?.content ?? []).map((b) => b.text ?? '').join('').trim();
    return { ...base, prediction: text, latencyMs: out.metrics?.latencyMs ?? Date.now() - started, inputTokens: out.usage?.inputTokens ?? 0, outputTokens: out.usage?.outputTokens ?? 0 };
  } catch (err) {
    if (RETRYABLE.has((err as Error).name)) throw err;
    return { ...base, error: `${(err as Error).name}: ${(err as Error).message}`, latencyMs: Date.now() - started, inputTokens: 0, outputTokens: 0 };
  }
}

async function readBytes(uri: string): Promise<Uint8Array> {
  const { bucket, key } = parseS3Uri(uri);
  const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToByteArray();
}
