/**
 * Small S3 helpers shared by the handlers and the CLI. They take an S3Client so callers
 * decide the configuration (the SDK honours AWS_ENDPOINT_URL_S3, which the offline tests use).
 */
import { GetObjectCommand, HeadObjectCommand, NotFound, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';

/** A bucket and key, with the version when one is pinned. */
export interface S3Location {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
}

/** Parses `s3://bucket/key`; throws a message that shows the expected form. */
export function parseS3Uri(uri: string): S3Location {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri.trim());
  if (!match) throw new Error(`"${uri}" is not an S3 URI; expected s3://<bucket>/<key>`);
  return { bucket: match[1], key: match[2] };
}

/** Formats a location as `s3://bucket/key`. */
export function toS3Uri(location: S3Location): string {
  return `s3://${location.bucket}/${location.key}`;
}

/** Whether an S3 error means "there is no such object". */
export function isNotFound(err: unknown): boolean {
  return err instanceof NoSuchKey || err instanceof NotFound || (err instanceof S3ServiceException && err.$metadata?.httpStatusCode === 404);
}

/** Size, ETag and version of an object, or undefined when it does not exist. */
export async function headObject(s3: S3Client, location: S3Location): Promise<{ size: number; etag?: string; versionId?: string } | undefined> {
  try {
    const out = await s3.send(new HeadObjectCommand({ Bucket: location.bucket, Key: location.key, VersionId: location.versionId }));
    return { size: out.ContentLength ?? 0, etag: out.ETag, versionId: out.VersionId };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Reads a whole (small) object as UTF-8 text. */
export async function getText(s3: S3Client, location: S3Location): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, VersionId: location.versionId }));
  return out.Body!.transformToString('utf-8');
}

/** The text of a small object, or how large it is when it exceeds the limit (nothing more is read then). */
export type BoundedText = { readonly text: string } | { readonly tooLarge: true; readonly size: number };

/**
 * Reads an object as UTF-8 text unless it has more than `maxBytes`: the size is known from the
 * response's Content-Length before the body is read, and the download is stopped at once; the
 * stream is also cut at `maxBytes` should the length be missing. Bounds what a function holds
 * whatever a user uploads.
 */
export async function getTextAtMost(s3: S3Client, location: S3Location, maxBytes: number): Promise<BoundedText> {
  const out = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key, VersionId: location.versionId }));
  const body = out.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
  if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
    body?.destroy?.();
    return { tooLarge: true, size: out.ContentLength };
  }
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body ?? []) {
    length += chunk.byteLength;
    if (length > maxBytes) {
      body?.destroy?.();
      return { tooLarge: true, size: length };
    }
    parts.push(chunk);
  }
  return { text: Buffer.concat(parts, length).toString('utf8') };
}

/** Writes a JSON document (pretty-printed, so people can read it in the console). */
export async function putJson(s3: S3Client, location: S3Location, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: location.bucket,
      Key: location.key,
      Body: JSON.stringify(value, null, 2),
      ContentType: 'application/json',
    }),
  );
}
