/**
 * First evaluation step: reads the run's copy of its validated test file (and of its references
 * sidecar when there is one), and cuts it into shards of evaluation items under the run's prefix,
 * so a Map state can fan inference out over many short Lambda invocations. The shard list goes to
 * a manifest in S3 that the Distributed Map reads, never into the state: the output's size does
 * not depend on the size of the test set (Step Functions allows 256 KiB per state).
 *
 * Input: { run }. Output: { recordCount, shardCount, manifest: { bucket, key }, resultsPrefix }.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../shared/aws-clients';
import { ConversationRecord } from '../shared/bedrock-record';
import { intEnv } from '../shared/env';
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
}

export interface EvaluationShard {
  readonly index: number;
  readonly key: string;
  readonly count: number;
}

export interface PrepareEvaluationResult {
  readonly recordCount: number;
  readonly shardCount: number;
  /** The JSON array of every {@link EvaluationShard}, which the Distributed Map's ItemReader reads. */
  readonly manifest: { readonly bucket: string; readonly key: string };
  /** Where the Distributed Map writes its Map Run results (ResultWriter prefix). */
  readonly resultsPrefix: string;
}

const log = createLogger({ step: 'prepare-evaluation' });

/** The entry point: prepareEvaluation, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, prepareEvaluation);

async function prepareEvaluation(event: PrepareEvaluationEvent): Promise<PrepareEvaluationResult> {
  const { run } = event;
  if (!run.data.testKey) throw new Error('The run has no testData; evaluation needs held-out test records');
  const shardSize = intEnv('SHARD_SIZE', 20);
  const s3 = s3Client();

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

  const shards = shardItems(items, shardSize);
  const prefix = `${run.artifacts.prefix}evaluation/shards/`;
  const written = await Promise.all(
    shards.map(async (shard, i) => {
      const key = `${prefix}shard-${String(i + 1).padStart(5, '0')}.jsonl`;
      await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: key, Body: shard.map((item) => JSON.stringify(item)).join('\n') + '\n', ContentType: 'application/x-ndjson' }));
      return { index: i + 1, key, count: shard.length };
    }),
  );
  const manifestKey = evaluationManifestKey(run.artifacts.prefix);
  await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: manifestKey, Body: JSON.stringify(written), ContentType: 'application/json' }));
  log.info('evaluation prepared', { runId: run.runId, records: items.length, shards: written.length, shardSize, sidecar: sidecar.size > 0, ...(capped ? { evaluatedFirst: limit } : {}) });
  return { recordCount: items.length, shardCount: written.length, manifest: { bucket: run.artifacts.bucket, key: manifestKey }, resultsPrefix: `${run.artifacts.prefix}evaluation/map-runs` };
}

async function* readLines(bucket: string, key: string) {
  const { stream } = await s3DatasetSource(s3Client(), bucket, key).open();
  for await (const line of readJsonlLines(stream)) {
    if (line.text.trim() !== '') yield line;
  }
}
