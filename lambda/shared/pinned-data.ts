/**
 * Pinned data: a run trains and evaluates exactly the dataset objects it validated. Bedrock's
 * s3Uri takes no version, so after a successful validation the validated versions are copied
 * under the run's own prefix (`<runs prefix><run id>/data/`), and every later step reads the
 * copies. {@link pinnedDataLocation} is the one place that says where a copy lives.
 */
import { CopyObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { referencesSidecarKey } from './evaluation/test-records';
import { DataFileRole, DataFileVersion, RunContext } from './run-context';
import { RunRequestProblem } from './run-request';
import { S3Location, headObject, toS3Uri } from './s3';

/** Every dataset file role, in the order runs list them. */
export const DATA_FILE_ROLES: readonly DataFileRole[] = ['training', 'validation', 'test', 'testReferences'];

/** Names of the copies under `<run prefix>data/`; the test sidecar keeps the name evaluation looks for. */
const PINNED_FILE_NAMES: Record<DataFileRole, string> = {
  training: 'training.jsonl',
  validation: 'validation.jsonl',
  test: 'test.jsonl',
  testReferences: referencesSidecarKey('test.jsonl'),
};

/**
 * S3 copies one object of at most 5 GB in a single CopyObject; a larger file would need a
 * multipart copy. Runs refuse larger files when the request is read (see the README's limits).
 */
export const MAX_PINNED_FILE_BYTES = 5 * 1024 ** 3;

/** Where the run's copy of a dataset file lives (artifacts bucket, under the run's prefix). */
export function pinnedDataLocation(run: Pick<RunContext, 'artifacts'> & { readonly data?: Pick<RunContext['data'], 'pinnedPrefix'> }, role: DataFileRole): S3Location {
  return { bucket: run.artifacts.bucket, key: `${run.data?.pinnedPrefix ?? run.artifacts.prefix}data/${PINNED_FILE_NAMES[role]}` };
}

/** {@link pinnedDataLocation} as an s3:// URI (what Bedrock is given). */
export function pinnedDataUri(run: Parameters<typeof pinnedDataLocation>[0], role: DataFileRole): string {
  return toS3Uri(pinnedDataLocation(run, role));
}

/** The dataset keys a run's request names, by role; the test file brings its references sidecar (which may not exist). */
export function sourceDataKeys(data: Pick<RunContext['data'], 'trainingKey' | 'validationKey' | 'testKey'>): Partial<Record<DataFileRole, string>> {
  return {
    training: data.trainingKey,
    ...(data.validationKey ? { validation: data.validationKey } : {}),
    ...(data.testKey ? { test: data.testKey, testReferences: referencesSidecarKey(data.testKey) } : {}),
  };
}

/**
 * The current version of each named file (HeadObject); a file that does not exist is left
 * out, so the caller decides whether that is an error (the references sidecar is optional).
 */
export async function currentDataFileVersions(s3: S3Client, bucket: string, keys: Partial<Record<DataFileRole, string>>): Promise<Partial<Record<DataFileRole, DataFileVersion>>> {
  const entries = await Promise.all(
    Object.entries(keys).map(async ([role, key]) => {
      const head = await headObject(s3, { bucket, key: key! });
      return head ? ([role, { key: key!, versionId: head.versionId, etag: head.etag ?? '', size: head.size }] as const) : undefined;
    }),
  );
  return Object.fromEntries(entries.filter((e) => e !== undefined));
}

/** The request field that names each file (the sidecar comes with testData). */
const REQUEST_FIELDS: Record<DataFileRole, string> = { training: 'trainingData', validation: 'validationData', test: 'testData', testReferences: 'testData' };

/**
 * What is wrong with the named files as found: missing or empty (the optional references
 * sidecar may be missing), or too large to pin. Each problem names the request field, the
 * file and what to do.
 */
export function dataFileProblems(bucket: string, keys: Partial<Record<DataFileRole, string>>, versions: Partial<Record<DataFileRole, DataFileVersion>>): RunRequestProblem[] {
  const problems: RunRequestProblem[] = [];
  for (const role of DATA_FILE_ROLES) {
    const key = keys[role];
    const version = versions[role];
    const field = REQUEST_FIELDS[role];
    if (!key || (!version && role === 'testReferences')) continue;
    if (!version) {
      problems.push({ field, rule: 'data-missing', message: `s3://${bucket}/${key} does not exist; upload the file first, then upload the request again` });
    } else if (version.size === 0 && role !== 'testReferences') {
      problems.push({ field, rule: 'data-empty', message: `s3://${bucket}/${key} is empty` });
    } else if (version.size > MAX_PINNED_FILE_BYTES) {
      problems.push({
        field,
        rule: 'data-too-large',
        message: `s3://${bucket}/${key} has ${version.size} bytes; a run copies its data under the run with one S3 CopyObject (at most 5 GB), so split it into files of at most 5 GB`,
      });
    }
  }
  return problems;
}

/** A dataset file is no longer the version the run accepted (replaced in an unversioned bucket, or that version deleted). */
export class DataFileChangedError extends Error {
  constructor(readonly uri: string, detail: string) {
    super(
      `${uri} changed after the run request was accepted (${detail}); the run uses only the version it validated. ` +
        'Upload the data first, wait for the upload to finish, then upload the run request again.',
    );
    this.name = 'DataChanged';
  }
}

/** What run.json records of each pinned file. */
export interface PinnedDataFile {
  /** The file the request named: `s3://<dataset bucket>/<key>`. */
  readonly sourceUri: string;
  readonly versionId?: string;
  readonly etag: string;
  readonly size: number;
  /** The run's copy, which Bedrock and the evaluation read. */
  readonly copyUri: string;
}

/**
 * Copies the exact validated versions to the run's prefix: by version id where the bucket is
 * versioned, else conditionally on the ETag (CopySourceIfMatch), so a file replaced since it
 * was validated fails the run (DataChanged) instead of being trained on. Idempotent: a retry
 * writes the same bytes to the same keys.
 */
export async function copyPinnedDataFiles(
  s3: S3Client,
  run: Pick<RunContext, 'artifacts'> & { readonly data: Pick<RunContext['data'], 'bucket' | 'pinnedPrefix'> },
  versions: Partial<Record<DataFileRole, DataFileVersion>>,
): Promise<Partial<Record<DataFileRole, PinnedDataFile>>> {
  const pinned: Partial<Record<DataFileRole, PinnedDataFile>> = {};
  for (const role of DATA_FILE_ROLES) {
    const version = versions[role];
    if (!version) continue;
    const source = `s3://${run.data.bucket}/${version.key}`;
    if (version.size > MAX_PINNED_FILE_BYTES) throw new Error(`${source} is larger than 5 GB, which one CopyObject cannot pin; split the file`);
    const target = pinnedDataLocation(run, role);
    const copySource = `${run.data.bucket}/${version.key.split('/').map(encodeURIComponent).join('/')}${version.versionId ? `?versionId=${encodeURIComponent(version.versionId)}` : ''}`;
    try {
      await s3.send(
        new CopyObjectCommand({
          Bucket: target.bucket,
          Key: target.key,
          CopySource: copySource,
          CopySourceIfMatch: version.etag || undefined,
          // The user's object tags are not the run's; not copying them also needs no tagging permissions.
          TaggingDirective: 'REPLACE',
        }),
      );
    } catch (err) {
      if (isChangedSource(err)) throw new DataFileChangedError(source, version.versionId ? `version ${version.versionId} is gone` : `its ETag is no longer ${version.etag}`);
      throw err;
    }
    pinned[role] = { sourceUri: source, versionId: version.versionId, etag: version.etag, size: version.size, copyUri: toS3Uri(target) };
  }
  return pinned;
}

/** 412 (If-Match failed) or 404 on the pinned version: the source is no longer what was validated. */
export function isChangedSource(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  const status = err.$metadata?.httpStatusCode;
  return status === 412 || err.name === 'PreconditionFailed' || err.name === 'NoSuchVersion' || err.name === 'NoSuchKey' || status === 404;
}
