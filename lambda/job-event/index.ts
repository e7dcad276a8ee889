/**
 * Resumes the run waiting for a customization job when Bedrock announces that the job ended
 * (EventBridge rule on the default bus: source aws.bedrock, detail-type "Model Customization
 * Job State Change", ended statuses). The run is found from the event's job ARN only (the token
 * its WaitForJobEnd step stored under job-waits/<job id>.json); the token wakes the run, and
 * the run's CheckJob step then reads the job's outcome from Bedrock, so the event's content
 * never decides a run's course.
 *
 * Events for jobs this deployment did not start, duplicates, and events for runs no longer
 * waiting (resumed already, timed out into a safety poll, ended) are logged and ignored.
 * Other errors are thrown, so EventBridge's asynchronous invocation retries; a run whose event
 * is lost for good learns of the end at its next safety poll.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { s3Client, sfnClient } from '../shared/aws-clients';
import { requireEnv } from '../shared/env';
import { JobWaitWakeUp, isStaleTokenError, jobEndOf, jobWaitKey, parseJobWaitRecord } from '../shared/job-wait';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { isNotFound } from '../shared/s3';

/** What the function did with an event. */
export type JobEventResult = { readonly resumed: string } | { readonly ignored: string };

const log = createLogger({ step: 'job-event' });

/** The entry point: resumeWaitingRun, with its errors logged with the job ARN. */
export const handler = logFailures(log, (e: { detail?: { jobArn?: unknown } }) => ({ jobArn: e?.detail?.jobArn }), resumeWaitingRun);

async function resumeWaitingRun(event: unknown): Promise<JobEventResult> {
  const end = jobEndOf(event);
  if ('ignored' in end) return ignore(end.ignored);
  let text: string;
  try {
    const out = await s3Client().send(new GetObjectCommand({ Bucket: requireEnv('JOB_WAITS_BUCKET'), Key: jobWaitKey(end.jobArn) }));
    text = await out.Body!.transformToString('utf-8');
  } catch (err) {
    if (isNotFound(err)) return ignore('no run of this deployment waits for this job', { jobArn: end.jobArn, jobStatus: end.jobStatus });
    throw err;
  }
  const waiting = parseJobWaitRecord(text);
  if (!waiting || waiting.jobArn !== end.jobArn) return ignore('the stored wait does not belong to this job', { jobArn: end.jobArn });
  const wakeUp: JobWaitWakeUp = { wokenBy: 'event', jobArn: end.jobArn, jobStatus: end.jobStatus, at: end.time };
  try {
    await sfnClient().send(new SendTaskSuccessCommand({ taskToken: waiting.taskToken, output: JSON.stringify(wakeUp) }));
  } catch (err) {
    if (isStaleTokenError(err)) return ignore('the run no longer waits on this token (resumed already, in a safety poll, or ended)', { jobArn: end.jobArn, runId: waiting.runId, error: (err as Error).name });
    throw err;
  }
  log.info('resumed the run waiting for the job', { runId: waiting.runId, executionArn: waiting.executionArn, jobArn: end.jobArn, jobStatus: end.jobStatus });
  return { resumed: waiting.executionArn };
}

function ignore(reason: string, fields: Record<string, unknown> = {}): JobEventResult {
  log.info('event ignored', { reason, ...fields });
  return { ignored: reason };
}
