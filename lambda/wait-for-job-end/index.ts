/**
 * The WaitForJobEnd step (a `.waitForTaskToken` Lambda task): keeps the execution's task token
 * where the job-event function finds it from the job's ARN (the artifacts bucket's job-waits/
 * prefix, which only the workflow's functions may read), then checks the job once. A job that
 * already ended (its event came before this wait was registered, or was missed) resumes the
 * execution at once; otherwise the execution waits for Bedrock's event, or for the state's
 * timeout, after which the state runs again: this check is the safety poll. The token is
 * written before the check, so an event arriving in between finds it: no end can fall between
 * the two.
 *
 * A check Bedrock answers with throttling or a server error is logged and left to the event or
 * the next round; the streak of such checks is kept in the stored record (this execution's
 * only), and past JOB_WATCH_ERROR_BUDGET_SECONDS (jobWatchErrorBudget) the step fails with
 * JobWatchErrorBudgetExceeded, as CheckJob does.
 *
 * CheckJob deletes the token once it reads the job's end (and the cleanup when the execution
 * ends abnormally). The rewrites after the check (the streak) are sent with If-Match on this
 * invocation's own write: if the run was resumed meanwhile (by the event) and its wait ended,
 * the token stays deleted.
 *
 * Input: { runId, executionArn, jobArn, jobStatus, taskToken }. Output: { registered, jobStatus }
 * (what resumes the state is the token, not this).
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { bedrockClient, s3Client, sfnClient } from '../shared/aws-clients';
import { intEnv, requireEnv } from '../shared/env';
import { JobWatchErrorBudgetExceededError, JobWatchErrors, budgetExceeded, isTransientServiceError, withFailedCheck } from '../shared/job-watch';
import { ENDED_JOB_STATUSES, JobWaitRecord, JobWaitWakeUp, isStaleTokenError, jobWaitKey, parseJobWaitRecord } from '../shared/job-wait';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { isPreconditionFailed } from '../shared/run-record';
import { isNotFound } from '../shared/s3';

export interface WaitForJobEndEvent {
  readonly runId: string;
  readonly executionArn: string;
  readonly jobArn: string;
  /** The last status the run knows (for the error budget's message). */
  readonly jobStatus?: string;
  readonly taskToken: string;
}

/** Default of JOB_WATCH_ERROR_BUDGET_SECONDS: the construct's jobWatchErrorBudget default, 6 hours. */
const DEFAULT_WATCH_ERROR_BUDGET_SECONDS = 6 * 3600;

const log = createLogger({ step: 'wait-for-job-end' });

/** The entry point: register, with its errors logged with the run id. */
export const handler = logFailures(log, (e: WaitForJobEndEvent) => ({ runId: e.runId, jobArn: e.jobArn }), register);

async function register(event: WaitForJobEndEvent): Promise<{ registered: true; jobStatus?: string }> {
  if (typeof event.taskToken !== 'string' || event.taskToken === '') throw new Error('WaitForJobEnd received no taskToken; the state must pass $$.Task.Token.');
  const bucket = requireEnv('JOB_WAITS_BUCKET');
  const key = jobWaitKey(event.jobArn);
  const previous = await readPrevious(bucket, key);
  // A streak belongs to this execution's watch of this job only.
  const streak = previous && previous.executionArn === event.executionArn && previous.jobArn === event.jobArn ? previous.watchErrors : undefined;
  const record = (watchErrors?: JobWatchErrors): JobWaitRecord => ({
    jobArn: event.jobArn,
    taskToken: event.taskToken,
    executionArn: event.executionArn,
    runId: event.runId,
    registeredAt: new Date().toISOString(),
    ...(watchErrors ? { watchErrors } : {}),
  });
  const put = (value: JobWaitRecord, ifMatch?: string) => s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json', IfMatch: ifMatch }));
  const etag = (await put(record(streak))).ETag;
  /** Rewrites this invocation's own record; false when it is gone or replaced (the wait ended meanwhile). */
  const rewrite = async (value: JobWaitRecord): Promise<boolean> => {
    try {
      await put(value, etag);
      return true;
    } catch (err) {
      if (isNotFound(err) || isPreconditionFailed(err) || isConditionalConflict(err)) return false;
      throw err;
    }
  };

  const runLog = log.child({ runId: event.runId, jobArn: event.jobArn });
  let status: string | undefined;
  try {
    status = (await bedrockClient().send(new GetModelCustomizationJobCommand({ jobIdentifier: event.jobArn }))).status;
  } catch (err) {
    if (!isTransientServiceError(err)) throw err;
    const now = new Date();
    const watchErrors = withFailedCheck(streak, err, now);
    const budgetSeconds = intEnv('JOB_WATCH_ERROR_BUDGET_SECONDS', DEFAULT_WATCH_ERROR_BUDGET_SECONDS);
    if (budgetExceeded(watchErrors, budgetSeconds, now)) throw new JobWatchErrorBudgetExceededError(event.jobArn, watchErrors, budgetSeconds, event.jobStatus ?? 'unknown');
    if (!(await rewrite(record(watchErrors)))) {
      runLog.info('the wait ended while the job was being checked; its token stays deleted', { status: event.jobStatus });
      return { registered: true };
    }
    runLog.warn('could not check the job; waiting for its event or the next safety poll', { status: event.jobStatus, failedChecks: watchErrors.count, since: watchErrors.since, error: err });
    return { registered: true };
  }
  // A good check ends the streak.
  if (streak && !(await rewrite(record()))) {
    runLog.info('the wait ended while the job was being checked; its token stays deleted', { jobStatus: status });
    return { registered: true, jobStatus: status };
  }
  if (status && ENDED_JOB_STATUSES.includes(status)) {
    const wakeUp: JobWaitWakeUp = { wokenBy: 'registration', jobArn: event.jobArn, jobStatus: status, at: new Date().toISOString() };
    try {
      await sfnClient().send(new SendTaskSuccessCommand({ taskToken: event.taskToken, output: JSON.stringify(wakeUp) }));
      runLog.info('job has ended; resumed the run', { jobStatus: status });
    } catch (err) {
      // Its event resumed the run in the meantime.
      if (!isStaleTokenError(err)) throw err;
      runLog.info('job has ended and the run was already resumed', { jobStatus: status, error: (err as Error).name });
    }
  } else {
    runLog.info('waiting for the job to end', { jobStatus: status });
  }
  return { registered: true, jobStatus: status };
}

/** S3's 409 ConditionalRequestConflict: a conditional write raced another operation on the key (here, the deletion). */
function isConditionalConflict(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalRequestConflict' || (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode === 409;
}

async function readPrevious(bucket: string, key: string): Promise<JobWaitRecord | undefined> {
  try {
    const out = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return parseJobWaitRecord(await out.Body!.transformToString('utf-8'));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
