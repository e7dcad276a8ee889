/**
 * Checks the customization job once, when WaitForJobEnd moved on (Bedrock's event, or a safety
 * poll, found the job ended): the job's outcome is read here, from Bedrock, never from the event.
 * Records status changes in the run record; when the job has completed, reads Bedrock's
 * training and validation metrics CSVs into the record's metrics summary.
 *
 * A check Bedrock answers with throttling or a server error keeps the last known status (the
 * job trains on regardless) and counts toward `watchErrors`; the state machine waits and checks
 * again. Only a streak of failed checks longer than JOB_WATCH_ERROR_BUDGET_SECONDS (the
 * jobWatchErrorBudget setting) fails the run, with JobWatchErrorBudgetExceeded.
 *
 * When the job has ended, the run waits no more: its stored task token (job-waits/) is deleted.
 *
 * Input: { run, job }. Output: the job with its current status (and a small metrics digest).
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { jobIdOf } from '../shared/job-names';
import { createLogger } from '../shared/logger';
import { intEnv, requireEnv } from '../shared/env';
import { endJobWait } from '../shared/job-wait-store';
import { logFailures, runIdOf } from '../shared/log-failures';
import { RunContext } from '../shared/run-context';
import { RunJob, updateOwnRunRecord, withEvent } from '../shared/run-record';
import { getText, isNotFound, parseS3Uri } from '../shared/s3';
import { FinetuneMetric } from '../shared/metric-names';
import { emitMetrics } from '../shared/metrics-emf';
import { JobWatchErrorBudgetExceededError, JobWatchErrors, budgetExceeded, isTransientServiceError, withFailedCheck } from '../shared/job-watch';
import { TrainingMetricsSummary, metricsKeys, summarizeLossCsv } from '../shared/training-metrics';

export interface CheckJobEvent {
  readonly run: RunContext;
  /** The job as the previous check (or the launch) returned it. */
  readonly job: CheckJobResult;
}

export interface CheckJobResult extends RunJob {
  readonly finalTrainingLoss?: number;
  readonly finalValidationLoss?: number;
  /** The current streak of checks Bedrock answered with throttling or a server error; absent after a good check. */
  readonly watchErrors?: JobWatchErrors;
}

/** Default of JOB_WATCH_ERROR_BUDGET_SECONDS: the construct's jobWatchErrorBudget default, 6 hours. */
const DEFAULT_WATCH_ERROR_BUDGET_SECONDS = 6 * 3600;

const log = createLogger({ step: 'check-job' });

/** Statuses in which a job has ended; its duration is published once, on the change into one. */
const ENDED_JOB_STATES = new Set(['Completed', 'Failed', 'Stopped']);

/**
 * What to say when Bedrock ended a job without a failureMessage (a stopped job never has one):
 * the state machine formats the message into the run's error, and a missing field there would
 * fail the execution with a runtime error instead of JobFailed.
 */
function missingFailureMessage(status: string): string | undefined {
  if (status === 'Failed') return 'Bedrock gave no failure message';
  if (status === 'Stopped') return 'the job was stopped';
  return undefined;
}

/** The entry point: checkJob, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, checkJob);

async function checkJob(event: CheckJobEvent): Promise<CheckJobResult> {
  const { run } = event;
  // The streak travels with the job through the state, never into the record.
  const { watchErrors: previousErrors, ...job } = event.job;
  let out;
  try {
    out = await bedrockClient().send(new GetModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
  } catch (err) {
    if (!isTransientServiceError(err)) throw err;
    const now = new Date();
    const watchErrors = withFailedCheck(previousErrors, err, now);
    const budgetSeconds = intEnv('JOB_WATCH_ERROR_BUDGET_SECONDS', DEFAULT_WATCH_ERROR_BUDGET_SECONDS);
    if (budgetExceeded(watchErrors, budgetSeconds, now)) throw new JobWatchErrorBudgetExceededError(job.jobArn, watchErrors, budgetSeconds, job.status);
    // The job trains on; the last known status stands and the state machine checks again.
    log.warn('could not check the job; keeping its last known status', { runId: run.runId, jobArn: job.jobArn, status: job.status, failedChecks: watchErrors.count, since: watchErrors.since, error: err });
    return { ...job, watchErrors };
  }
  const status = out.status ?? 'InProgress';
  const current: RunJob = {
    ...job,
    status,
    outputModelArn: out.outputModelArn ?? job.outputModelArn,
    // A blank message says as little as none.
    failureMessage: out.failureMessage?.trim() || job.failureMessage || missingFailureMessage(status),
  };
  let metrics: TrainingMetricsSummary | undefined;
  if (status === 'Completed') metrics = await readMetrics(current);

  if (status !== job.status || metrics) {
    await updateOwnRunRecord(s3Client(), run, (r) => ({
      ...withEvent(r, `job ${status}`, { ...(current.failureMessage ? { failureMessage: current.failureMessage } : {}), ...(current.outputModelArn ? { outputModelArn: current.outputModelArn } : {}) }),
      job: current,
      ...(metrics ? { metrics } : {}),
    }));
    const runLog = log.child({ runId: run.runId });
    runLog.info('job status changed', { jobArn: job.jobArn, from: job.status, to: status });
    if (ENDED_JOB_STATES.has(status)) emitMetrics(runLog, [{ name: FinetuneMetric.JOB_DURATION, value: jobDurationSeconds(out.creationTime, out.endTime), unit: 'Seconds' }], process.env.ENVIRONMENT_NAME);
  }
  if (ENDED_JOB_STATES.has(status)) await endJobWait(s3Client(), requireEnv('JOB_WAITS_BUCKET'), job.jobArn, run.executionArn);
  return { ...current, finalTrainingLoss: metrics?.training?.finalLoss, finalValidationLoss: metrics?.validation?.finalLoss };
}

/** Reads the metrics CSVs Bedrock wrote under the job's output location (absent files are skipped). */
async function readMetrics(job: RunJob): Promise<TrainingMetricsSummary> {
  const output = parseS3Uri(job.outputS3Uri.endsWith('/') ? `${job.outputS3Uri}x` : `${job.outputS3Uri}/x`);
  const prefix = output.key.slice(0, -1);
  const keys = metricsKeys(prefix, jobIdOf(job.jobArn));
  const read = async (key: string) => {
    try {
      return await getText(s3Client(), { bucket: output.bucket, key });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const [training, validation] = await Promise.all([read(keys.training), read(keys.validation)]);
  return {
    training: training ? summarizeLossCsv(training, 'training_loss') : undefined,
    validation: validation ? summarizeLossCsv(validation, 'validation_loss') : undefined,
  };
}

/** Seconds from the job's creation to its end, as Bedrock reports them; undefined when either is missing. */
function jobDurationSeconds(creationTime: Date | undefined, endTime: Date | undefined): number | undefined {
  if (!creationTime || !endTime) return undefined;
  return Math.max(0, (endTime.getTime() - creationTime.getTime()) / 1000);
}
