/**
 * Cleans up after an execution that failed, timed out or was aborted: stops its customization
 * job if it is still training (nothing keeps billing for a run nobody watches), and records and
 * announces the outcome when the workflow could not do so itself (timeout, abort).
 *
 * Triggered by an EventBridge rule on "Step Functions Execution Status Change" events of the
 * workflow's state machine with status FAILED, TIMED_OUT or ABORTED.
 */
import {
  DeleteProvisionedModelThroughputCommand,
  GetModelCustomizationJobCommand,
  ListProvisionedModelThroughputsCommand,
  ResourceNotFoundException,
  StopModelCustomizationJobCommand,
} from '@aws-sdk/client-bedrock';
import { provisionedModelNameFor } from '../shared/evaluation/provisioned-names';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { notifyOutcome } from '../shared/notify';
import { RunOutcomeStatus, executionPointerKey, readRunRecord, updateRunRecord, withEvent } from '../shared/run-record';
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

  let jobStopped = false;
  let outcomeRecorded = false;
  const status = (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(detail.status) ? detail.status : 'FAILED') as RunOutcomeStatus;
  const existing = await readRunRecord(s3Client(), artifactsBucket, pointer.recordKey);
  if (!existing) throw new Error(`The execution points at run record s3://${artifactsBucket}/${pointer.recordKey}, which does not exist`);
  const record = existing.record;
  if (record.job) {
    const current = await bedrockClient().send(new GetModelCustomizationJobCommand({ jobIdentifier: record.job.jobArn }));
    if (ACTIVE_JOB_STATES.has(current.status ?? '')) {
      await bedrockClient().send(new StopModelCustomizationJobCommand({ jobIdentifier: record.job.jobArn }));
      jobStopped = true;
      runLog.warn('stopped the customization job of an execution that ended', { jobArn: record.job.jobArn, executionStatus: detail.status });
    }
  }
  const deleted = await deleteProvisionedThroughputs(record.runId, record.provisionedThroughput);
  if (deleted.length > 0) runLog.warn('deleted the Provisioned Throughput of an execution that ended', { arns: deleted, executionStatus: detail.status });

  const updated = await updateRunRecord(s3Client(), artifactsBucket, pointer.recordKey, (r) => {
    let next = r;
    if (jobStopped && r.job) next = { ...withEvent(next, 'job stopped by cleanup', { jobArn: r.job.jobArn }), job: { ...r.job, status: 'Stopping' } };
    if (deleted.length > 0) {
      const deletedAt = new Date();
      const pt = r.provisionedThroughput;
      next = {
        ...withEvent(next, 'provisioned throughput deleted by cleanup', { arns: deleted }),
        provisionedThroughput: pt ? { ...pt, deletedAt: deletedAt.toISOString(), hours: (deletedAt.getTime() - Date.parse(pt.createdAt)) / 3_600_000 } : pt,
      };
    }
    if (r.status === 'RUNNING') {
      outcomeRecorded = true;
      const message = describeEnd(detail, jobStopped);
      next = {
        ...withEvent(next, `run ${status.toLowerCase().replace('_', ' ')}`),
        status,
        outcome: { status, finishedAt: new Date().toISOString(), error: detail.error ?? `Execution${status}`, cause: message, summary: message },
      };
    }
    return next;
  });
  if (outcomeRecorded) {
    await notifyOutcome(
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
  return { runId: pointer.runId, jobStopped, provisionedThroughputsDeleted: deleted, outcomeRecorded };
}

/**
 * Deletes every Provisioned Throughput the run created: the one its record names, and any
 * other that carries the run's derived name (in case the function that created it stopped
 * before writing the record). Those named by the deployment (not created by runs) are never
 * touched, since their names differ.
 */
async function deleteProvisionedThroughputs(runId: string, recorded: { arn: string; deletedAt?: string } | undefined): Promise<string[]> {
  const name = provisionedModelNameFor({ runId });
  const arns = new Set<string>();
  if (recorded && !recorded.deletedAt) arns.add(recorded.arn);
  let nextToken: string | undefined;
  do {
    const page = await bedrockClient().send(new ListProvisionedModelThroughputsCommand({ nameContains: name, nextToken }));
    for (const pt of page.provisionedModelSummaries ?? []) {
      if (pt.provisionedModelName === name && pt.provisionedModelArn) arns.add(pt.provisionedModelArn);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  const deleted: string[] = [];
  for (const arn of arns) {
    try {
      await bedrockClient().send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }));
      deleted.push(arn);
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
  }
  return deleted;
}

function describeEnd(detail: ExecutionStatusChangeEvent['detail'], jobStopped: boolean): string {
  const how = { TIMED_OUT: 'The execution timed out', ABORTED: 'The execution was aborted', FAILED: 'The execution failed' }[detail.status] ?? `The execution ended (${detail.status})`;
  return `${how}${detail.cause ? `: ${detail.cause}` : ''}.${jobStopped ? ' Its customization job was still training and has been stopped.' : ''}`;
}
