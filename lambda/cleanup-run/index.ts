/**
 * Cleans up after an execution that failed, timed out or was aborted: stops its customization
 * job if it is still training (nothing keeps billing for a run nobody watches), and records and
 * announces the outcome when the workflow could not do so itself (timeout, abort).
 *
 * Triggered by an EventBridge rule on "Step Functions Execution Status Change" events of the
 * workflow's state machine with status FAILED, TIMED_OUT or ABORTED.
 */
import { GetModelCustomizationJobCommand, ResourceNotFoundException, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { DescribeExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { bedrockClient, s3Client, sfnClient } from '../shared/aws-clients';
import { intEnv, requireEnv } from '../shared/env';
import { isJobArn } from '../shared/job-wait';
import { endJobWait } from '../shared/job-wait-store';
import { deleteProvisionedThroughput, runProvisionedThroughputArns, withProvisionedThroughputDeleted } from '../shared/evaluation/provisioned-throughput-deletion';
import { jobNameFor } from '../shared/job-names';
import { keepRunHistory } from '../shared/leaderboard/history-store';
import { DEFAULT_RUN_HISTORY_LENGTH } from '../shared/leaderboard/run-history';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { announceOutcome } from '../shared/notify';
import { RunOutcomeStatus, RunRecord, executionPointerKey, readRunRecord, updateRunRecord, withEvent } from '../shared/run-record';
import { getText, isNotFound } from '../shared/s3';

/** The part of the Step Functions execution status change event this function reads. */
export interface ExecutionStatusChangeEvent {
  readonly detail: {
    readonly executionArn: string;
    readonly name: string;
    readonly status: 'FAILED' | 'TIMED_OUT' | 'ABORTED' | string;
    readonly error?: string | null;
    readonly cause?: string | null;
  };
}

export interface CleanupResult {
  readonly runId?: string;
  readonly jobStopped: boolean;
  /** ARNs of the Provisioned Throughputs of the run that were deleted. */
  readonly provisionedThroughputsDeleted: readonly string[];
  readonly outcomeRecorded: boolean;
  /** Whether the outcome this cleanup recorded was announced (undefined when it recorded none). */
  readonly announced?: boolean;
  /** For an experiment: the variant executions it stopped. */
  readonly variantExecutionsStopped?: readonly string[];
}

/** Job states in which Bedrock is still (or about to stop) training. */
const ACTIVE_JOB_STATES = new Set(['InProgress']);

const log = createLogger({ step: 'cleanup-run' });

/** The entry point: cleanUpRun, with its errors logged with the execution (its run id may be unknown). */
export const handler = logFailures(log, (event: ExecutionStatusChangeEvent) => ({ executionArn: event?.detail?.executionArn }), cleanUpRun);

async function cleanUpRun(event: ExecutionStatusChangeEvent): Promise<CleanupResult> {
  const artifactsBucket = requireEnv('ARTIFACTS_BUCKET');
  const runsPrefix = requireEnv('RUNS_PREFIX');
  const { detail } = event;
  let pointer: { runId: string; recordKey: string };
  try {
    pointer = JSON.parse(await getText(s3Client(), { bucket: artifactsBucket, key: executionPointerKey(runsPrefix, detail.name) }));
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // The execution ended before it began a run (invalid request, duplicate): nothing was started.
    log.info('no run was begun by this execution; nothing to clean up', { executionArn: detail.executionArn, status: detail.status });
    return { jobStopped: false, provisionedThroughputsDeleted: [], outcomeRecorded: false };
  }
  const runLog = log.child({ runId: pointer.runId });

  const status = (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(detail.status) ? detail.status : 'FAILED') as RunOutcomeStatus;
  const existing = await readRunRecord(s3Client(), artifactsBucket, pointer.recordKey);
  if (!existing) throw new Error(`The execution points at run record s3://${artifactsBucket}/${pointer.recordKey}, which does not exist`);
  const record = existing.record;
  if (record.executionArn !== detail.executionArn) {
    // Only the execution that owns the run may stop its job or delete its Provisioned Throughput.
    runLog.warn('this execution does not own the run it points at; nothing to clean up', { executionArn: detail.executionArn, ownerExecutionArn: record.executionArn });
    return { runId: pointer.runId, jobStopped: false, provisionedThroughputsDeleted: [], outcomeRecorded: false };
  }
  // The job the record names; or, when the run got as far as launching but the record names
  // none (the launch function was stopped between creating the job and recording it), the job
  // under the run's deterministic name.
  // An experiment that ends abnormally stops its variants' executions; each variant's own
  // cleanup then stops its job and deletes its Provisioned Throughput. (Whether Step Functions
  // stops a .sync child when its parent stops is not documented, so this does not rely on it.)
  const variantsStopped = await stopVariantExecutions(record, detail.status, runLog);
  const checkedJobs = new Set<string>();
  const stoppedJobs: string[] = [];
  const jobIdentifier = record.job?.jobArn ?? (record.validation?.valid ? jobNameFor(record) : undefined);
  if (jobIdentifier) {
    const job = await stopJobIfTraining(jobIdentifier);
    checkedJobs.add(jobIdentifier);
    if (job.jobArn) checkedJobs.add(job.jobArn);
    if (job.stopped) {
      stoppedJobs.push(job.jobArn!);
      runLog.warn('stopped the customization job of an execution that ended', { jobArn: job.jobArn, executionStatus: detail.status, foundBy: record.job ? 'record' : 'name' });
    }
  }
  const recordedPt = record.provisionedThroughput && !record.provisionedThroughput.deletedAt ? [record.provisionedThroughput.arn] : [];
  const gone = await deleteProvisionedThroughputs([...recordedPt, ...(await runProvisionedThroughputArns(bedrockClient(), record.runId))]);
  if (gone.deleted.length > 0) runLog.warn('deleted the Provisioned Throughput of an execution that ended', { arns: gone.deleted, executionStatus: detail.status });

  let outcomeRecorded = false;
  const updated = await updateRunRecord(s3Client(), artifactsBucket, pointer.recordKey, detail.executionArn, (r) => {
    let next = withCleanupNoted(r, stoppedJobs, gone);
    if (r.status === 'RUNNING') {
      outcomeRecorded = true;
      const message = describeEnd(detail, stoppedJobs.length > 0);
      next = {
        ...withEvent(next, `run ${status.toLowerCase().replace('_', ' ')}`),
        status,
        outcome: { status, finishedAt: new Date().toISOString(), error: detail.error ?? `Execution${status}`, cause: message, summary: message },
      };
    }
    return next;
  });

  // A job or Provisioned Throughput recorded after the looks above but before the outcome was
  // written (a launch or provisioning step that was still running) is in the record now: handle
  // it too. From here on such a step finds the run ended and undoes what it created itself.
  const lateJob = updated.job && !checkedJobs.has(updated.job.jobArn) && (await stopJobIfTraining(updated.job.jobArn)).stopped ? updated.job.jobArn : undefined;
  const latePt = updated.provisionedThroughput && !updated.provisionedThroughput.deletedAt && !gone.handled.has(updated.provisionedThroughput.arn) ? await deleteProvisionedThroughputs([updated.provisionedThroughput.arn]) : undefined;
  if (lateJob || latePt?.handled.size) {
    if (lateJob) stoppedJobs.push(lateJob);
    for (const arn of latePt?.deleted ?? []) gone.deleted.push(arn);
    await updateRunRecord(s3Client(), artifactsBucket, pointer.recordKey, detail.executionArn, (r) => withCleanupNoted(r, lateJob ? [lateJob] : [], latePt ?? { deleted: [], handled: new Set(), refused: [] }));
    runLog.warn('stopped or deleted what the run recorded while the cleanup ran', { jobArn: lateJob, provisionedThroughputs: latePt?.deleted });
  }

  const jobStopped = stoppedJobs.length > 0;
  let announced: boolean | undefined;
  if (outcomeRecorded) {
    // A timed-out or aborted run is part of its name's history too (logged, never failing the cleanup).
    await keepRunHistory(s3Client(), runLog, updated, { environment: requireEnv('ENVIRONMENT_NAME'), limit: intEnv('RUN_HISTORY_LENGTH', DEFAULT_RUN_HISTORY_LENGTH) });
    // A refused notification is reported (log, metric, alarm); the cleanup itself is done.
    announced = await announceOutcome(
      runLog,
      {
        status,
        runId: updated.runId,
        requestUri: `s3://${updated.run.request.bucket}/${updated.run.request.key}`,
        model: updated.run.model.name,
        error: { name: detail.error ?? `Execution${status}`, message: describeEnd(detail, jobStopped) },
        record: updated,
        recordUri: `s3://${artifactsBucket}/${pointer.recordKey}`,
        environmentName: requireEnv('ENVIRONMENT_NAME'),
      },
      requireEnv('TOPIC_ARN'),
      requireEnv('EVENT_BUS_NAME'),
    );
  }
  // The execution waits no more: delete its job wait's task token (the job's late event then finds none).
  for (const jobArn of new Set([record.job?.jobArn, updated.job?.jobArn])) {
    if (isJobArn(jobArn) && (await endJobWait(s3Client(), requireEnv('JOB_WAITS_BUCKET'), jobArn, detail.executionArn)) === 'deleted') runLog.info('deleted the task token of the job wait', { jobArn });
  }
  // Recorded and announced: now fail (so Lambda retries, then the dead-letter queue) if a deletion was refused.
  const refused = [...gone.refused, ...(latePt?.refused ?? [])];
  if (refused.length > 0) throw new ProvisionedThroughputNotDeletedError(pointer.runId, refused);
  return { runId: pointer.runId, jobStopped, provisionedThroughputsDeleted: gone.deleted, outcomeRecorded, announced, ...(variantsStopped.length > 0 ? { variantExecutionsStopped: variantsStopped } : {}) };
}

/**
 * Stops every variant execution of an experiment that is still running. A variant that never
 * started (queued) has no execution; one that already ended answers as such: both are fine.
 */
async function stopVariantExecutions(record: RunRecord, status: string, runLog: typeof log): Promise<string[]> {
  const variants = record.experiment?.variants ?? [];
  const stopped: string[] = [];
  for (const variant of variants) {
    try {
      const { status: current } = await sfnClient().send(new DescribeExecutionCommand({ executionArn: variant.executionArn }));
      if (current !== 'RUNNING') continue;
      await sfnClient().send(
        new StopExecutionCommand({ executionArn: variant.executionArn, error: 'ExperimentEnded', cause: `Experiment ${record.runId} ended ${status}; its variants stop with it.` }),
      );
      stopped.push(variant.executionArn);
    } catch (err) {
      if ((err as Error).name === 'ExecutionDoesNotExist') continue;
      throw err;
    }
  }
  if (stopped.length > 0) runLog.warn('stopped the variants of an experiment that ended', { executions: stopped, experimentStatus: status });
  return stopped;
}

/**
 * Stops the job (by ARN or name) if it is still training. Returns its ARN when Bedrock knows
 * it (a name it does not know means the job was never created) and whether it was stopped.
 */
async function stopJobIfTraining(jobIdentifier: string): Promise<{ jobArn?: string; stopped: boolean }> {
  let current;
  try {
    current = await bedrockClient().send(new GetModelCustomizationJobCommand({ jobIdentifier }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException') return { stopped: false };
    throw err;
  }
  const jobArn = current.jobArn ?? jobIdentifier;
  if (!ACTIVE_JOB_STATES.has(current.status ?? '')) return { jobArn, stopped: false };
  await bedrockClient().send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
  return { jobArn, stopped: true };
}

/**
 * Deletes each Provisioned Throughput once; `handled` holds those deleted or already gone,
 * `refused` those Bedrock still refused after the retries (kept, not thrown, so the outcome is
 * recorded first: the watch deletes a throughput only once its run's record has ended).
 */
async function deleteProvisionedThroughputs(arns: readonly string[]): Promise<{ deleted: string[]; handled: Set<string>; refused: Array<{ arn: string; error: string }> }> {
  const deleted: string[] = [];
  const handled = new Set<string>();
  const refused: Array<{ arn: string; error: string }> = [];
  for (const arn of new Set(arns)) {
    try {
      if ((await deleteProvisionedThroughput(bedrockClient(), arn)) === 'deleted') deleted.push(arn);
      handled.add(arn);
    } catch (err) {
      refused.push({ arn, error: `${(err as Error).name}: ${(err as Error).message}` });
    }
  }
  return { deleted, handled, refused };
}

/** Bedrock refused to delete a run's Provisioned Throughput even after retries. */
export class ProvisionedThroughputNotDeletedError extends Error {
  constructor(runId: string, refused: ReadonlyArray<{ arn: string; error: string }>) {
    super(
      `Bedrock refused to delete the Provisioned Throughput of run ${runId}: ${refused.map((r) => `${r.arn} (${r.error})`).join('; ')}. ` +
        'The run\'s outcome is recorded; this cleanup is retried, and the Provisioned Throughput watch deletes it within its check interval.',
    );
    this.name = 'ProvisionedThroughputNotDeleted';
  }
}

/** The record with the cleanup's stops and deletions noted. Pure. */
function withCleanupNoted(record: RunRecord, stoppedJobs: readonly string[], gone: { deleted: readonly string[]; handled: ReadonlySet<string> }): RunRecord {
  let next = record;
  for (const jobArn of stoppedJobs) {
    next = withEvent(next, 'job stopped by cleanup', { jobArn });
    if (next.job?.jobArn === jobArn) next = { ...next, job: { ...next.job, status: 'Stopping' } };
  }
  if (gone.deleted.length > 0) next = withEvent(next, 'provisioned throughput deleted by cleanup', { arns: gone.deleted });
  const deletedAt = new Date();
  for (const arn of gone.handled) next = withProvisionedThroughputDeleted(next, arn, deletedAt);
  return next;
}

function describeEnd(detail: ExecutionStatusChangeEvent['detail'], jobStopped: boolean): string {
  const how = { TIMED_OUT: 'The execution timed out', ABORTED: 'The execution was aborted', FAILED: 'The execution failed' }[detail.status] ?? `The execution ended (${detail.status})`;
  return `${how}${detail.cause ? `: ${detail.cause}` : ''}.${jobStopped ? ' Its customization job was still training and has been stopped.' : ''}`;
}
