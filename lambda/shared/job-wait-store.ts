/**
 * The stored task token of a run waiting for its customization job (job-waits/<job id>.json in
 * the artifacts bucket), ended once the wait is over: CheckJob deletes it when it reads the
 * job's end (the run waits no more), and the cleanup when an execution ends abnormally (its
 * token is dead). A late event then finds no token and is ignored, as for a job no run waits
 * for; a WaitForJobEnd invocation still running rewrites it only with If-Match on its own
 * write (see wait-for-job-end), so it cannot bring a deleted token back.
 */
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { jobWaitKey, parseJobWaitRecord } from './job-wait';
import { isNotFound } from './s3';

/** What endJobWait found: deleted; no token stored; or a token another execution stored (left alone). */
export type JobWaitEnd = 'deleted' | 'absent' | 'not-this-execution';

/**
 * Deletes the token stored for `jobArn` if `executionArn` stored it: a duplicate execution of the
 * same request must not end the genuine run's wait. An unreadable record is deleted too (nothing
 * can resume a run from it).
 */
export async function endJobWait(s3: S3Client, bucket: string, jobArn: string, executionArn: string): Promise<JobWaitEnd> {
  const key = jobWaitKey(jobArn);
  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = await out.Body!.transformToString('utf-8');
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    throw err;
  }
  const stored = parseJobWaitRecord(text);
  if (stored && stored.executionArn !== '' && stored.executionArn !== executionArn) return 'not-this-execution';
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return 'deleted';
}
