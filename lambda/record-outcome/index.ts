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
  /** An experiment's end: the leaderboard and how each variant's execution ended (the Map's results). */
  readonly experiment?: ExperimentEnd;
  /** The execution input (S3 event detail), for runs that failed before they had a context. */
  readonly request?: { readonly bucket?: { readonly name?: string }; readonly object?: { readonly key?: string } };
}

/** What the experiment's last steps pass: the leaderboard's result and each variant's end. */
export interface ExperimentEnd {
  readonly leaderboard?: { readonly leaderboardJsonKey: string; readonly leaderboardMarkdownKey: string; readonly leaderboardHtmlKey: string; readonly best?: { readonly name: string; readonly runId: string }; readonly summary: string };
  readonly variants?: ReadonlyArray<{ readonly name: string; readonly runId: string; readonly status?: string; readonly error?: string }>;
  /** The promotion of the best variant (its child execution's end), when promotion is on. */
  readonly promotion?: { readonly status?: string; readonly error?: string };
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
  const run = event.run;
  // An experiment none of whose variants succeeded has failed, whatever the state machine passed.
  const allVariantsFailed = event.experiment?.variants && !event.experiment.variants.some((v) => v.status === 'SUCCEEDED');
  const status = allVariantsFailed ? 'FAILED' : event.status;
  const error = allVariantsFailed
    ? { name: 'AllVariantsFailed', message: `No variant of the experiment succeeded (${event.experiment!.variants!.map((v) => `${v.name}: ${v.status ?? 'not run'}${v.error ? ` ${v.error}` : ''}`).join('; ')}). Each variant's run record says why.` }
    : event.error ? describeStepError(event.error) : undefined;
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
        status: status,
        error: error?.name,
      });
      return { status: status, runId: run.runId, recordUri, announced: false, owner: false };
    }
    if (existing) {
      record = await updateOwnRunRecord(s3Client(), run, (r) => ({
        ...withEvent(r, `run ${status.toLowerCase()}`, error ? { error: error.name } : undefined),
        status: status,
        outcome: {
          status: status,
          finishedAt: new Date().toISOString(),
          error: error?.name,
          cause: error?.message,
          summary: error ? `${error.name}: ${error.message}` : run.experiment?.kind === 'experiment' ? 'The experiment completed.' : 'The run completed.',
        },
        ...(event.experiment ? { experiment: experimentSection(r, event.experiment) } : {}),
      }));
    }
  }
  const requestUri = run
    ? `s3://${run.request.bucket}/${run.request.key}`
    : event.request?.bucket?.name && event.request.object?.key
      ? `s3://${event.request.bucket.name}/${event.request.object.key}`
      : undefined;
  const facts: OutcomeFacts = { status: status, runId: run?.runId, requestUri, model: run?.model.name, error, record, recordUri, environmentName };
  // A request that failed before it had a run context has no run id: the request names it instead.
  const runLog = log.child(run ? { runId: run.runId } : { request: requestUri });
  runLog.info('run outcome recorded', { status: status, error: error?.name });
  // The request name's history and its leaderboard across runs; logged, never failing the step.
  // An experiment's variants each keep their own entry; the experiment itself has no scores of its own.
  if (record && record.run.experiment?.kind !== 'experiment') await keepRunHistory(s3Client(), runLog, record, { environment: environmentName, limit: intEnv('RUN_HISTORY_LENGTH', DEFAULT_RUN_HISTORY_LENGTH) });
  // The outcome is recorded; a notification SNS or EventBridge refuses is logged, counted and
  // alarmed, and never turns the run's result into a failure.
  const announced = await announceOutcome(runLog, facts, requireEnv('TOPIC_ARN'), requireEnv('EVENT_BUS_NAME'));
  return { status: status, runId: run?.runId, recordUri, announced, owner: true };
}

/** The experiment's record section at its end: each variant's status, the leaderboard, the best variant. */
function experimentSection(record: RunRecord, end: ExperimentEnd): NonNullable<RunRecord['experiment']> {
  const bucket = record.run.artifacts.bucket;
  const ended = new Map((end.variants ?? []).map((v) => [v.runId, v]));
  const board = end.leaderboard;
  return {
    ...record.experiment,
    ...(record.experiment?.variants ? { variants: record.experiment.variants.map((v) => ({ ...v, ...(ended.get(v.runId)?.status ? { status: ended.get(v.runId)!.status } : {}), ...(ended.get(v.runId)?.error ? { error: ended.get(v.runId)!.error } : {}) })) } : {}),
    ...(board
      ? {
          leaderboard: { jsonUri: `s3://${bucket}/${board.leaderboardJsonKey}`, markdownUri: `s3://${bucket}/${board.leaderboardMarkdownKey}`, htmlUri: `s3://${bucket}/${board.leaderboardHtmlKey}` },
          ...(board.best ? { best: { name: board.best.name, runId: board.best.runId } } : {}),
          summary: board.summary,
        }
      : {}),
    ...(end.promotion ? { bestPromotion: end.promotion } : {}),
  };
}
