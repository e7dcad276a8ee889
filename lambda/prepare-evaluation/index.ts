/**
 * First evaluation step: reads the run's copy of its validated test file (and of its references
 * sidecar when there is one), and cuts it into shards of evaluation items under the run's prefix,
 * so a Map state can fan inference out over many short Lambda invocations. The shard list goes to
 * a manifest in S3 that the Distributed Map reads, never into the state: the output's size does
 * not depend on the size of the test set (Step Functions allows 256 KiB per state).
 *
 * Input: { run, baseline? }. Output: { recordCount, shardCount, manifest: { bucket, key }, resultsPrefix, itemsDigest }.
 *
 * Two more uses, for the shared baseline of an experiment (evaluation/baseline.ts):
 * - `baseline: { models }` (the baseline piece): the shards go under `<prefix>baseline/shards/`
 *   and the manifest lists every shard once per base model (`baseModelId` on each), so one
 *   Distributed Map answers them all. Output adds `baseModelIds`.
 * - a run whose context carries `evaluation.baseline`: the baseline's manifest is checked
 *   against the run's evaluation (base model, maxTokens, maxRecords, test file version, the
 *   records themselves) before anything is paid for; a different one fails with BaselineMismatch.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { findModel } from '../shared/models/llama-models';
import { s3Client } from '../shared/aws-clients';
import { ConversationRecord } from '../shared/bedrock-record';
import { intEnv } from '../shared/env';
import {
  BaselineMismatchError,
  BaselineResults,
  baselineMismatches,
  baselineRoot,
  baselineShardManifestKey,
  evaluationItemsDigest,
} from '../shared/evaluation/baseline';
import { EvaluationItem, ReferencesSidecarLine, evaluationManifestKey, shardItems, toEvaluationItem } from '../shared/evaluation/test-records';
import { readJsonlLines } from '../shared/jsonl';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { pinnedDataLocation } from '../shared/pinned-data';
import { MAX_EVALUATION_RECORDS } from '../shared/run-request';
import { RunContext } from '../shared/run-context';
import { headObject } from '../shared/s3';
import { s3DatasetSource } from '../shared/validation/dataset-source';

export interface PrepareEvaluationEvent {
  readonly run: RunContext;
  /**
   * Prepare a baseline (base model answers only) for these models (catalogue names) instead of
   * the run's evaluation.
   * @default - the run's own evaluation
   */
  readonly baseline?: { readonly models?: readonly string[] };
}

export interface EvaluationShard {
  readonly index: number;
  readonly key: string;
  readonly count: number;
  /** Baseline shards only: the base model that answers this item of the manifest. */
  readonly baseModelId?: string;
}

export interface PrepareEvaluationResult {
  readonly recordCount: number;
  readonly shardCount: number;
  /** The JSON array of every {@link EvaluationShard}, which the Distributed Map's ItemReader reads. */
  readonly manifest: { readonly bucket: string; readonly key: string };
  /** Where the Distributed Map writes its Map Run results (ResultWriter prefix). */
  readonly resultsPrefix: string;
  /** SHA-256 of the evaluation items (what a shared baseline must have been made for). */
  readonly itemsDigest: string;
  /** Baseline only: the base model ids whose answers the manifest asks for. */
  readonly baseModelIds?: string[];
}

const log = createLogger({ step: 'prepare-evaluation' });

/** The entry point: prepareEvaluation, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, prepareEvaluation);

async function prepareEvaluation(event: PrepareEvaluationEvent): Promise<PrepareEvaluationResult> {
  const { run } = event;
  if (!run.data.testKey) throw new Error('The run has no testData; evaluation needs held-out test records');
  const shardSize = intEnv('SHARD_SIZE', 20);
  const s3 = s3Client();
  const baseModelIds = event.baseline ? baselineModelIds(run, event.baseline.models) : undefined;
  // A reused baseline is read (and its settings checked) before the test file: a wrong one fails fast.
  const reused = !event.baseline && run.evaluation.baseline ? await BaselineResults.read(s3, run.evaluation.baseline) : undefined;
  const target = { run, baseModelId: baseModelIdOf(run.model.name, run.model.inferenceProfileId) };
  if (reused) {
    const differences = baselineMismatches(reused.manifest, target);
    if (differences.length > 0) throw new BaselineMismatchError(reused.uri, differences);
  }

  // The run's copies of the validated test file and its sidecar (pinned-data.ts), never the user's keys.
  const testFile = pinnedDataLocation(run, 'test');
  const sidecarFile = pinnedDataLocation(run, 'testReferences');
  const sidecar = new Map<number, ReferencesSidecarLine>();
  if (await headObject(s3, sidecarFile)) {
    for await (const line of readLines(sidecarFile.bucket, sidecarFile.key)) {
      const parsed = JSON.parse(line.text) as ReferencesSidecarLine;
      sidecar.set(parsed.line, parsed);
    }
  }

  const items: EvaluationItem[] = [];
  // Bounded whatever the file holds, so this function's memory and time stay inside Lambda's.
  const limit = Math.min(run.evaluation.maxRecords ?? MAX_EVALUATION_RECORDS, MAX_EVALUATION_RECORDS);
  let capped = false;
  for await (const line of readLines(testFile.bucket, testFile.key)) {
    if (items.length >= limit) {
      capped = true;
      break;
    }
    // The validation step has checked every line already; a failure here is a real surprise.
    items.push(toEvaluationItem(JSON.parse(line.text) as ConversationRecord, line.lineNumber, sidecar.get(line.lineNumber)));
  }
  if (items.length === 0) throw new Error(`s3://${testFile.bucket}/${testFile.key} (the run's copy of s3://${run.data.bucket}/${run.data.testKey}) has no test records`);

  const itemsDigest = evaluationItemsDigest(items);
  if (reused) {
    const differences = baselineMismatches(reused.manifest, { ...target, itemsDigest, records: items.length });
    if (differences.length > 0) throw new BaselineMismatchError(reused.uri, differences);
  }

  const shards = shardItems(items, shardSize);
  const prefix = baseModelIds ? `${baselineRoot(run.artifacts.prefix)}shards/` : `${run.artifacts.prefix}evaluation/shards/`;
  const written = await Promise.all(
    shards.map(async (shard, i) => {
      const key = `${prefix}shard-${String(i + 1).padStart(5, '0')}.jsonl`;
      await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: key, Body: shard.map((item) => JSON.stringify(item)).join('\n') + '\n', ContentType: 'application/x-ndjson' }));
      return { index: i + 1, key, count: shard.length };
    }),
  );
  // A baseline's manifest lists every shard once per base model: one Distributed Map answers them all.
  const manifestItems: EvaluationShard[] = baseModelIds ? baseModelIds.flatMap((baseModelId) => written.map((shard) => ({ ...shard, baseModelId }))) : written;
  const manifestKey = baseModelIds ? baselineShardManifestKey(run.artifacts.prefix) : evaluationManifestKey(run.artifacts.prefix);
  await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: manifestKey, Body: JSON.stringify(manifestItems), ContentType: 'application/json' }));
  log.info(baseModelIds ? 'baseline prepared' : 'evaluation prepared', {
    runId: run.runId,
    records: items.length,
    shards: written.length,
    shardSize,
    sidecar: sidecar.size > 0,
    ...(capped ? { evaluatedFirst: limit } : {}),
    ...(baseModelIds ? { baseModelIds } : {}),
    ...(reused ? { sharedBaseline: reused.uri } : {}),
  });
  return {
    recordCount: items.length,
    shardCount: written.length,
    manifest: { bucket: run.artifacts.bucket, key: manifestKey },
    resultsPrefix: baseModelIds ? `${baselineRoot(run.artifacts.prefix)}map-runs` : `${run.artifacts.prefix}evaluation/map-runs`,
    itemsDigest,
    ...(baseModelIds ? { baseModelIds } : {}),
  };
}

/**
 * The base model id an evaluation asks for a model: the deployment's BASE_MODEL_ID when set
 * (evaluation.baseModelId, as the inference step is given), else the model's inference profile.
 */
function baseModelIdOf(modelName: string, inferenceProfileId?: string): string {
  const configured = process.env.BASE_MODEL_ID;
  if (configured) return configured;
  const id = inferenceProfileId ?? findModel(modelName)?.inferenceProfileId;
  if (!id) throw new Error(`'${modelName}' is not a model of the catalogue; a baseline needs the base model's inference profile`);
  return id;
}

/** The distinct base model ids of a baseline's models (the run's model when none are named). */
function baselineModelIds(run: RunContext, models: readonly string[] | undefined): string[] {
  const names = models && models.length > 0 ? models : [run.model.name];
  return [...new Set(names.map((name) => baseModelIdOf(name, name === run.model.name ? run.model.inferenceProfileId : undefined)))];
}

async function* readLines(bucket: string, key: string) {
  const { stream } = await s3DatasetSource(s3Client(), bucket, key).open();
  for await (const line of readJsonlLines(stream)) {
    if (line.text.trim() !== '') yield line;
  }
}
