/**
 * Uploads prepared files to S3 with bounded concurrency. An object that already exists with the
 * same size is skipped (HeadObject), so re-running an interrupted upload only sends what is
 * missing. Files go in phases (images first, then the JSONL files), so the dataset files never
 * point at images that are not there yet.
 */
import { readFile } from 'fs/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { headObject } from '../../lambda/shared/s3';
import { mapWithConcurrency } from './bounded-concurrency';
import { ProgressLine } from './progress-line';
import { DEFAULT_RETRY_POLICY, RetryPolicy, withThrottleRetry } from './throttle-retry';

/** One local file and the key it goes to. */
export interface UploadFile {
  readonly localPath: string;
  readonly key: string;
  readonly size: number;
  readonly contentType: string;
}

/** How to upload. */
export interface UploadOptions {
  /** Most requests in flight. */
  readonly concurrency: number;
  readonly retry?: RetryPolicy;
  readonly progress?: ProgressLine;
}

/** What an upload did. */
export interface UploadReport {
  readonly uploaded: number;
  readonly skipped: number;
  readonly bytesUploaded: number;
}

/** Raised when one object could not be uploaded; names the file, the key and the cause. */
export class UploadError extends Error {
  constructor(readonly file: UploadFile, readonly bucket: string, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`uploading ${file.localPath} to s3://${bucket}/${file.key} failed (${reason}); check the bucket name, region and your credentials, then run again (objects already uploaded are skipped)`);
    this.name = 'UploadError';
  }
}

/**
 * Uploads each phase completely before starting the next.
 * @throws UploadError for the first object that could not be uploaded.
 */
export async function uploadFiles(s3: S3Client, bucket: string, phases: readonly (readonly UploadFile[])[], options: UploadOptions): Promise<UploadReport> {
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  const total = phases.reduce((n, phase) => n + phase.length, 0);
  let uploaded = 0;
  let skipped = 0;
  let bytesUploaded = 0;
  // About 200 updates over the whole upload: enough to see it move, few enough for a slow terminal.
  const step = Math.max(1, Math.floor(total / 200));
  const report = () => {
    const done = uploaded + skipped;
    if (done % step === 0 || done === total) options.progress?.update(`uploading to s3://${bucket}: ${done}/${total} (${skipped} already there)`);
  };

  for (const phase of phases) {
    await mapWithConcurrency(phase, options.concurrency, async (file) => {
      try {
        const existing = await withThrottleRetry(() => headObject(s3, { bucket, key: file.key }), retry);
        if (existing && existing.size === file.size) {
          skipped++;
        } else {
          // Whole-file bodies (images are at most 10 MB) can be sent again on a retry; a stream could not.
          const body = await readFile(file.localPath);
          await withThrottleRetry(
            () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: file.key, Body: body, ContentLength: body.length, ContentType: file.contentType })),
            retry,
          );
          uploaded++;
          bytesUploaded += body.length;
        }
      } catch (err) {
        throw new UploadError(file, bucket, err);
      }
      report();
    });
  }
  options.progress?.done();
  return { uploaded, skipped, bytesUploaded };
}
