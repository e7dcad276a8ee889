/**
 * The WaitForJobEnd step (a `.waitForTaskToken` Lambda task): keeps the execution's task token
 * where the job-event function finds it from the job's ARN (the artifacts bucket's job-waits/
 * prefix, which only the workflow's functions may read), then checks the job once. A job that
 * already ended (its event came before this wait was registered, or was missed) resumes the
 * execution at once; otherwise the execution waits for Bedrock's event, or for the state's
 * timeout (the safety poll). The token is written before the check, so an event arriving in
 * between finds it: no end can fall between the two.
 *
 * A check Bedrock answers with throttling or a server error is logged and left to the event or
 * the next safety poll (CheckJob counts such errors against jobWatchErrorBudget).
 *
 * Input: { runId, executionArn, jobArn, taskToken }. Output: { registered, jobStatus } (the
 * state's output is what resumes it, not this).
 */
import { GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { bedrockClient, s3Client, sfnClient } from '../shared/aws-clients';
import { requireEnv } from '../shared/env';
import { isTransientServiceError } from '../shared/job-watch';
import { ENDED_JOB_STATUSES, JobWaitRecord, JobWaitWakeUp, isStaleTokenError, jobWaitKey } from '../shared/job-wait';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';

export interface WaitForJobEndEvent {
  readonly runId: string;
  readonly executionArn: string;
  readonly jobArn: string;
  readonly taskToken: string;
}

const log = createLogger({ step: 'wait-for-job-end' });

/** The entry point: register, with its errors logged with the run id. */
export const handler = logFailures(log, (e: WaitForJobEndEvent) => ({ runId: e.runId, jobArn: e.jobArn }), register);

async function register(event: WaitForJobEndEvent): Promise<{ registered: true; jobStatus?: string }> {
  if (typeof event.taskToken !== 'string' || event.taskToken === '') throw new Error('WaitForJobEnd received no taskToken; the state must pass $$.Task.Token.');
  const record: JobWaitRecord = { jobArn: event.jobArn, taskToken: event.taskToken, executionArn: event.executionArn, runId: event.runId, registeredAt: new Date().toISOString() };
  await s3Client().send(
    new PutObjectCommand({ Bucket: requireEnv('JOB_WAITS_BUCKET'), Key: jobWaitKey(event.jobArn), Body: JSON.stringify(record), ContentType: 'application/json' }),
  );
  const runLog = log.child({ runId: event.runId, jobArn: event.jobArn });
  let status: string | undefined;
  try {
    status = (await bedrockClient().send(new GetModelCustomizationJobCommand({ jobIdentifier: event.jobArn }))).status;
  } catch (err) {
    if (!isTransientServiceError(err)) throw err;
    runLog.warn('could not check the job; waiting for its event or the safety poll', { error: err });
    return { registered: true };
  }
  if (status && ENDED_JOB_STATUSES.includes(status)) {
    const wakeUp: JobWaitWakeUp = { wokenBy: 'registration', jobArn: event.jobArn, jobStatus: status, at: new Date().toISOString() };
    try {
      await sfnClient().send(new SendTaskSuccessCommand({ taskToken: event.taskToken, output: JSON.stringify(wakeUp) }));
      runLog.info('job had already ended; resumed the run', { jobStatus: status });
    } catch (err) {
      // Its event resumed the run in the meantime.
      if (!isStaleTokenError(err)) throw err;
      runLog.info('job had already ended and the run was already resumed', { jobStatus: status, error: (err as Error).name });
    }
  } else {
    runLog.info('waiting for the job to end', { jobStatus: status });
  }
  return { registered: true, jobStatus: status };
}
