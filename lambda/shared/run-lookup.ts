/**
 * Finding the run an upload of a run request started, from outside the workflow (the CLI):
 * the same identity the workflow derives the run id from (run-context.ts), never a second
 * scheme. Pure; no AWS calls.
 */
import { deriveRunId, RunContext } from './run-context';

/** What the uploader knows of its own upload of a request (PutObject's answer). */
export interface RequestUpload {
  readonly bucket: string;
  readonly key: string;
  /** The version id S3 returned (versioned buckets only). */
  readonly versionId?: string;
  /** The ETag S3 returned (quoted, as S3 returns it). */
  readonly etag?: string;
}

/**
 * The run id the workflow gives this upload, when the uploader can know it: in a versioned
 * bucket the id comes from the version id, which PutObject returns. In an unversioned bucket
 * it comes from the S3 event's sequencer, which only the event carries: undefined then, and
 * the run is found by {@link isRunOfUpload} among the runs that appeared after the upload.
 */
export function runIdOfUpload(requestName: string, upload: RequestUpload): string | undefined {
  if (!upload.versionId) return undefined;
  return deriveRunId(requestName, { bucket: upload.bucket, key: upload.key, versionId: upload.versionId });
}

/**
 * Whether a run's request (its run context's `request`) is this upload: same bucket and key,
 * and the same version id, or (unversioned) the same ETag. Two unversioned uploads of the
 * same bytes share an ETag: the caller looks only at runs that were not there before it uploaded.
 */
export function isRunOfUpload(request: RunContext['request'], upload: RequestUpload): boolean {
  if (request.bucket !== upload.bucket || request.key !== upload.key) return false;
  if (upload.versionId) return request.versionId === upload.versionId;
  return request.etag !== undefined && upload.etag !== undefined && unquote(request.etag) === unquote(upload.etag);
}

/** S3 event details carry the ETag without quotes; PutObject returns it quoted. */
function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
