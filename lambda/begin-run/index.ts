/**
 * Begins a run: creates its record (`runs/<run id>/run.json`) with a conditional write, and the
 * pointer from the execution to the run that the cleanup function uses. A second execution for
 * the same request version (a duplicated S3 event) finds the record and is told it is a
 * duplicate; it never overwrites the first run's record. A retry of this step in the same
 * execution finds the record it wrote itself (same execution ARN) and carries on as the run.
 *
 * Input: { run, executionArn, executionName, seed? }. Output: { duplicate, runId, recordUri }.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../shared/aws-clients';
import { requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { VariantRecordSeed } from '../shared/experiment-runs';
import { RunContext } from '../shared/run-context';
import { RunRecord, RunRecordExistsError, createRunRecord, executionPointerKey, readRunRecord, runRecordKey } from '../shared/run-record';

export interface BeginRunEvent {
  readonly run: RunContext;
  readonly executionArn: string;
  readonly executionName: string;
  /** A variant of an experiment starts with its experiment's validation, pinned data and its share of the estimate (it is not validated again). */
  readonly seed?: VariantRecordSeed;
}

export interface BeginRunResult {
  readonly duplicate: boolean;
  readonly runId: string;
  readonly recordUri: string;
}

const log = createLogger({ step: 'begin-run' });

/** The entry point: beginRun, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, beginRun);

async function beginRun(event: BeginRunEvent): Promise<BeginRunResult> {
  const runsPrefix = requireEnv('RUNS_PREFIX');
  const { run } = event;
  const bucket = run.artifacts.bucket;
  const key = runRecordKey(run);
  const recordUri = `s3://${bucket}/${key}`;
  const now = new Date().toISOString();
  const record: RunRecord = {
    schemaVersion: 1,
    runId: run.runId,
    executionArn: event.executionArn,
    createdAt: now,
    status: 'RUNNING',
    run,
    ...(event.seed?.validation ? { validation: event.seed.validation } : {}),
    ...(event.seed?.data ? { data: event.seed.data } : {}),
    ...(event.seed?.costEstimate ? { costEstimate: event.seed.costEstimate } : {}),
    timeline: [
      { at: now, event: 'run started', detail: { executionArn: event.executionArn } },
      ...(run.experiment?.kind === 'variant' ? [{ at: now, event: 'variant of experiment', detail: { experimentRunId: run.experiment.experimentRunId, variant: run.experiment.variantName, validation: 'the experiment\'s (validated once)' } }] : []),
    ],
  };
  try {
    await createRunRecord(s3Client(), bucket, record);
  } catch (err) {
    if (!(err instanceof RunRecordExistsError)) throw err;
    // The record may be this execution's own: the step wrote it, then failed (or timed out)
    // before answering, and Step Functions retried it. Only another execution's record is a duplicate.
    const existing = await readRunRecord(s3Client(), bucket, key);
    if (existing?.record.executionArn !== event.executionArn) {
      log.warn('duplicate trigger: this request version already has a run; nothing to do', { runId: run.runId, recordUri, executionArn: event.executionArn, recordExecutionArn: existing?.record.executionArn });
      return { duplicate: true, runId: run.runId, recordUri };
    }
    log.info('retried: the run record is this execution\'s own; continuing', { runId: run.runId, recordUri });
  }
  // Written every time (the same content), so a retry after a lost pointer still leaves one.
  await s3Client().send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: executionPointerKey(runsPrefix, event.executionName),
      Body: JSON.stringify({ runId: run.runId, recordKey: key, executionArn: event.executionArn }),
      ContentType: 'application/json',
    }),
  );
  log.info('run begun', { runId: run.runId, recordUri });
  return { duplicate: false, runId: run.runId, recordUri };
}
