/**
 * Where images may live: the S3 buckets and prefixes the Bedrock customization service role
 * may read. Images elsewhere make the training job fail long after it started, so the
 * engine rejects them up front.
 */

/** A bucket, optionally narrowed to a key prefix. */
export interface AllowedImageLocation {
  readonly bucket: string;
  /** Key prefix ('' for the whole bucket). */
  readonly prefix: string;
}

/** Parses `s3://bucket`, `s3://bucket/` or `s3://bucket/prefix/`; a bare bucket name is accepted too. */
export function parseAllowedImageLocation(text: string): AllowedImageLocation {
  const trimmed = text.trim();
  const match = /^(?:s3:\/\/)?([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(trimmed);
  if (!match) throw new Error(`"${text}" is not an S3 location; expected s3://<bucket> or s3://<bucket>/<prefix>`);
  return { bucket: match[1], prefix: match[2] ?? '' };
}

/** Whether an object lies inside one of the allowed locations. */
export function isAllowedImageLocation(bucket: string, key: string, allowed: readonly AllowedImageLocation[]): boolean {
  return allowed.some((location) => location.bucket === bucket && key.startsWith(location.prefix));
}

/** Formats locations for messages: `s3://a/, s3://b/images/`. */
export function describeImageLocations(allowed: readonly AllowedImageLocation[]): string {
  return allowed.map((l) => `s3://${l.bucket}/${l.prefix}`).join(', ');
}
