/**
 * Records how a run ended in its run record and tells people (SNS) and programs (EventBridge).
 * Called by the state machine at the end of every path that has a run context, and at the end
 * of the failure path of a request that could not even be read (no record then). The record is
 * written first; a notification that cannot be delivered is reported (log line, metric, alarm)
 * and does not fail the step, so a trained model never ends as a failed execution for it.
 *
 * Input: { status: 'SUCCEEDED' | 'FAILED', run?, error?: { Error, Cause }, request? }.
 */
import { intEnv, requireEnv } from '../shared/env';
import { s3Client } from '../shared/aws-clients';
import { createLogger } from '../shared/logger';
import { keepRunHistory } from '../shared/leaderboard/history-store';
import { DEFAULT_RUN_HISTORY_LENGTH } from '../shared/leaderboard/run-history';
import { logFailures, runIdOf } from '../shared/log-failures';
import { announceOutcome } from '../shared/notify';
import { OutcomeFacts } from '../shared/outcome-message';
import { RunContext } from '../shared/run-context';
import { RunOutcomeStatus, RunRecord, isRunOwner, readRunRecord, runRecordKey, updateOwnRunRecord, withEvent } from '../shared/run-record';
import { StepError, describeStepError } from '../shared/step-error';

export interface RecordOutcomeEvent {
  readonly status: Extract<RunOutcomeStatus, 'SUCCEEDED' | 'FAILED'>;
  readonly run?: RunContext;
  readonly error?: StepError;
  /** The execution input (S3 event detail), for runs that failed before they had a context. */
  readonly request?: { readonly bucket?: { readonly name?: string }; readonly object?: { readonly key?: string } };
}

export interface RecordOutcomeResult {
  readonly status: RunOutcomeStatus;
  readonly runId?: string;
  readonly recordUri?: string;
  /** Whether both the SNS message and the EventBridge event were delivered. */
  readonly announced: boolean;
  /** False for a duplicate execution, which neither records nor announces anything of the run it does not own. */
  readonly owner: boolean;
}

const log = createLogger({ step: 'record-outcome' });

/** The entry point: recordOutcome, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, recordOutcome);

async function recordOutcome(event: RecordOutcomeEvent): Promise<RecordOutcomeResult> {
  const environmentName = requireEnv('ENVIRONMENT_NAME');
  const error = event.error ? describeStepError(event.error) : undefined;
  const run = event.run;
  let record: RunRecord | undefined;
  let recordUri: string | undefined;
  if (run) {
    const key = runRecordKey(run);
    recordUri = `s3://${run.artifacts.bucket}/${key}`;
    // A run that failed before its record was created (e.g. in begin-run) has none to update.
    const existing = await readRunRecord(s3Client(), run.artifacts.bucket, key);
    if (existing && !isRunOwner(existing.record, run)) {
      // A duplicate execution of the same request version failed (e.g. S3 refused its BeginRun):
      // the run belongs to another execution, which goes on. Its record stays untouched, and
      // nobody is told that run failed; this execution's failure shows as a failed execution.
      log.warn('this execution does not own the run; its outcome is neither recorded nor announced', {
        runId: run.runId,
        executionArn: run.executionArn,
        ownerExecutionArn: existing.record.executionArn,
        status: event.status,
        error: error?.name,
      });
      return { status: event.status, runId: run.runId, recordUri, announced: false, owner: false };
    }
    if (existing) {
      record = await updateOwnRunRecord(s3Client(), run, (r) => ({
        ...withEvent(r, `run ${event.status.toLowerCase()}`, error ? { error: error.name } : undefined),
        status: event.status,
        outcome: {
          status: event.status,
          finishedAt: new Date().toISOString(),
          error: error?.name,
          cause: error?.message,
          summary: error ? `${error.name}: ${error.message}` : 'The run completed.',
        },
      }));
    }
  }
  const requestUri = run
    ? `s3://${run.request.bucket}/${run.request.key}`
    : event.request?.bucket?.name && event.request.object?.key
      ? `s3://${event.request.bucket.name}/${event.request.object.key}`
      : undefined;
  const facts: OutcomeFacts = { status: event.status, runId: run?.runId, requestUri, model: run?.model.name, error, record, recordUri, environmentName };
  // A request that failed before it had a run context has no run id: the request names it instead.
  const runLog = log.child(run ? { runId: run.runId } : { request: requestUri });
  runLog.info('run outcome recorded', { status: event.status, error: error?.name });
  // The request name's history and its leaderboard across runs; logged, never failing the step.
  if (record) await keepRunHistory(s3Client(), runLog, record, { environment: environmentName, limit: intEnv('RUN_HISTORY_LENGTH', DEFAULT_RUN_HISTORY_LENGTH) });
  // The outcome is recorded; a notification SNS or EventBridge refuses is logged, counted and
  // alarmed, and never turns the run's result into a failure.
  const announced = await announceOutcome(runLog, facts, requireEnv('TOPIC_ARN'), requireEnv('EVENT_BUS_NAME'));
  return { status: event.status, runId: run?.runId, recordUri, announced, owner: true };
}
