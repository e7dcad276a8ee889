/**
 * LocalS3: an in-memory S3 on 127.0.0.1 that the real `@aws-sdk/client-s3` talks to
 * (path-style URLs, which the SDK uses for an IP endpoint). It speaks S3's REST-XML wire
 * format, decodes the SDK's aws-chunked streaming bodies and verifies flexible checksums,
 * so handler code runs unchanged against it.
 *
 * Supported: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation,
 * Get/PutBucketVersioning, ListObjectsV2, PutObject (conditional writes), GetObject (ranges,
 * versions, conditional reads), HeadObject, DeleteObject, DeleteObjects, CopyObject and
 * multipart upload (Create/UploadPart/Complete/Abort). Anything else answers 501
 * NotImplemented naming the operation. Keys are taken literally from the request path
 * (`a/../b`, `a//b` and `./x` are keys of their own, as in S3).
 *
 * Faults ({@link LocalS3.failNext}, {@link LocalS3.throttle}, {@link LocalS3.conflictConditionalWrites})
 * last a number of requests or a wall-clock window, and can be limited to one operation or to
 * conditional writes (the only requests S3 answers 409 ConditionalRequestConflict).
 *
 * Every request is written to an {@link AwsCallLog} as the IAM authorisations it needs
 * (HeadObject is s3:GetObject, ListObjectsV2 is s3:ListBucket on the bucket, parts are
 * s3:PutObject, ...). An optional authorizer turns the log into an access check.
 */
import { randomBytes } from 'node:crypto';
import { AwsCallLog } from './aws-call-log';
import { ChunkedBodyError, decodeAwsChunked, isAwsChunked } from './stand-ins/aws-chunked';
import { algorithmOfHeader, ChecksumAlgorithm, checksumBase64, md5Base64, md5Hex, multipartEtag } from './stand-ins/checksums';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { newRequestId, principalOf, readBody, RunningServer, sleep, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';
import { resolveRange } from './stand-ins/s3-byte-range';
import { compareKeys, InvalidContinuationTokenError, listObjectsPage } from './stand-ins/s3-listing';
import { elements, s3Document, s3ErrorDocument, text, XmlNode } from './stand-ins/xml';

/** The S3 operations LocalS3 recognises. */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'PutBucketVersioning'
  | 'ListObjectsV2'
  | 'DeleteObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'Unsupported';

/**
 * Decides whether `principal` may perform `action` on `resources`; return false to answer
 * 403 AccessDenied. Lets IAM tests run code against the policy a construct synthesizes.
 */
export type Authorizer = (request: { readonly principal: string; readonly action: string; readonly resources: readonly string[] }) => boolean;

/** Options of {@link LocalS3.start}. */
export interface LocalS3Options {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Log to write to; a new one when omitted (share one across stand-ins via local-aws.ts). */
  readonly callLog?: AwsCallLog;
  /** Smallest allowed size of every part but the last (S3: 5 MiB). Lower it to test multipart with small data. */
  readonly minPartSize?: number;
  /** Region the buckets live in (x-amz-bucket-region, GetBucketLocation); default us-west-2. */
  readonly region?: string;
  /** Account of the default aws/s3 KMS key reported for SSE-KMS writes without a key id; default 111122223333. */
  readonly accountId?: string;
  /** Clock that fault windows (`{ forMs }`) are measured by; default Date.now. */
  readonly faultClock?: () => number;
}

/** An error LocalS3 should answer the next requests with (see {@link LocalS3.failNext}). */
export interface S3FaultOptions {
  /** HTTP status; default 503. */
  readonly status?: number;
  /** S3 error code; default `SlowDown` (which the SDK retries as throttling). */
  readonly code?: string;
  readonly message?: string;
  /** Only requests for this operation fail; every operation when omitted. */
  readonly operation?: S3Operation;
  /**
   * Only conditional writes fail: PutObject, CopyObject and CompleteMultipartUpload sent with
   * If-None-Match or If-Match. Default false (every matching request).
   */
  readonly conditionalOnly?: boolean;
}

/** The operations S3 documents a 409 ConditionalRequestConflict for (when sent with If-Match / If-None-Match). */
export type S3ConditionalWriteOperation = 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload';

const CONDITIONAL_WRITE_OPERATIONS: ReadonlySet<S3Operation> = new Set<S3ConditionalWriteOperation>(['PutObject', 'CopyObject', 'CompleteMultipartUpload']);

/** What {@link LocalS3.headObject} reports about the current version of an object. */
export interface StoredObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Quoted ETag, as S3 returns it. */
  readonly etag: string;
  /** Version id; undefined in a bucket that never had versioning. */
  readonly versionId?: string;
  readonly contentType: string;
  /** User metadata (x-amz-meta-*), lower-case names without the prefix. */
  readonly metadata: Readonly<Record<string, string>>;
  readonly lastModified: Date;
  /**
   * The write's sequencer, as S3 puts it in the Object Created event: unique per write of a
   * key (a rewrite with the same bytes gets a new one), the same in every delivery of its event.
   */
  readonly sequencer: string;
  /** Server-side encryption as requested (`AES256` by default, `aws:kms` with the key id). */
  readonly serverSideEncryption: string;
  readonly sseKmsKeyId?: string;
}

/** Result of a stand-in acting for a service role (see {@link LocalS3.readAsPrincipal}). */
export type PrincipalAccess<T> = { readonly outcome: 'ok'; readonly value: T } | { readonly outcome: 'missing' | 'denied' | 'no-bucket' };

const S3_MAX_PART_NUMBER = 10_000;
const DEFAULT_MIN_PART_SIZE = 5 * 1024 * 1024;
const OWNER_ID = '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a';

/** Headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-language', 'expires'];

/** Sub-resources that turn a request into an operation LocalS3 does not implement. */
const UNSUPPORTED_SUBRESOURCES = [
  'acl', 'tagging', 'policy', 'cors', 'lifecycle', 'website', 'logging', 'notification', 'encryption', 'replication',
  'retention', 'legal-hold', 'object-lock', 'attributes', 'restore', 'select', 'torrent', 'accelerate', 'analytics',
  'inventory', 'metrics', 'ownershipControls', 'publicAccessBlock', 'requestPayment', 'intelligent-tiering', 'versions',
];

interface ObjectVersion {
  readonly kind: 'object';
  readonly versionId: string;
  readonly body: Buffer;
  /** Bare ETag (hex, or hex-N for multipart). */
  readonly etag: string;
  readonly lastModified: Date;
  /** Event sequencer of the write that stored this version (hex, increasing). */
  readonly sequencer: string;
  readonly contentType: string;
  readonly metadata: Record<string, string>;
  readonly storedHeaders: Record<string, string>;
  readonly checksum?: { readonly algorithm: ChecksumAlgorithm; readonly value: string };
  readonly sse: string;
  readonly sseKmsKeyId?: string;
}

interface DeleteMarker {
  readonly kind: 'delete-marker';
  readonly versionId: string;
  readonly lastModified: Date;
}

type Version = ObjectVersion | DeleteMarker;

interface UploadedPart {
  readonly body: Buffer;
  readonly etag: string;
}

interface MultipartUpload {
  readonly uploadId: string;
  readonly key: string;
  readonly template: Omit<ObjectVersion, 'kind' | 'versionId' | 'body' | 'etag' | 'lastModified' | 'sequencer' | 'checksum'>;
  readonly parts: Map<number, UploadedPart>;
}

interface BucketState {
  readonly name: string;
  readonly createdAt: Date;
  versioning?: 'Enabled' | 'Suspended';
  /** Versions of each key, oldest first. */
  readonly objects: Map<string, Version[]>;
  readonly uploads: Map<string, MultipartUpload>;
}

/** An S3 error response. */
class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string | undefined> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface S3Response {
  readonly status: number;
  readonly headers?: Record<string, string | number | undefined>;
  readonly body?: Buffer | string;
}

interface RequestContext {
  readonly req: StandInRequest;
  readonly query: URLSearchParams;
  readonly bucketName?: string;
  readonly key?: string;
  readonly body: Buffer;
  readonly trailers: Readonly<Record<string, string>>;
  readonly principal: string;
}

interface Authorization {
  readonly action: string;
  readonly resources: string[];
}

const DEFAULT_MESSAGES: Record<string, string> = {
  SlowDown: 'Please reduce your request rate.',
  InternalError: 'We encountered an internal error. Please try again.',
  ServiceUnavailable: 'Service is unable to handle request.',
  AccessDenied: 'Access Denied',
  // S3 API reference (PutObject / CopyObject / CompleteMultipartUpload, If-Match and If-None-Match):
  // "If a conflicting operation occurs during the upload S3 returns a 409 ConditionalRequestConflict response."
  ConditionalRequestConflict: 'A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.',
};

/** ARN of a bucket as IAM sees it. */
export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/** ARN of an object as IAM sees it (the key is not URL-encoded). */
export function objectArn(bucket: string, key: string): string {
  return `arn:aws:s3:::${bucket}/${key}`;
}

/** Why a bucket name is invalid, or undefined when S3 accepts it. */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'must be 3 to 63 characters long';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return 'may contain only lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit';
  if (/\.\./.test(name)) return 'must not contain two adjacent dots';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'must not look like an IP address';
  return undefined;
}

/** Percent-decodes, leaving text that is not valid percent-encoding as it is (the SDK does not encode CopySource). */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Path and query of a request target, taken literally. S3 keys are opaque: `a/../b`, `a//b`
 * and `./x` are keys of their own, and the SDK sends them as they are; a WHATWG URL parse
 * would resolve the dot segments and store the object under another key.
 */
export function literalTarget(target: string): { pathname: string; query: URLSearchParams } {
  const mark = target.indexOf('?');
  return mark < 0 ? { pathname: target, query: new URLSearchParams() } : { pathname: target.slice(0, mark), query: new URLSearchParams(target.slice(mark + 1)) };
}

function quoted(etag: string): string {
  return `"${etag}"`;
}

function newVersionId(): string {
  return randomBytes(24).toString('base64url');
}

function header(req: StandInRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function userMetadata(req: StandInRequest): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata[name.slice('x-amz-meta-'.length)] = String(value);
  }
  return metadata;
}

function storedHeaders(req: StandInRequest): Record<string, string> {
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    const value = header(req, name);
    if (value !== undefined) stored[name] = value;
  }
  // aws-chunked is transfer framing, not a property of the object.
  const encoding = (header(req, 'content-encoding') ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e !== 'aws-chunked');
  if (encoding.length > 0) stored['content-encoding'] = encoding.join(',');
  return stored;
}

/**
 * An in-memory S3 for tests, benchmarks and the offline demo. Start with {@link LocalS3.start},
 * point the SDK at {@link LocalS3.endpoint} (or use local-aws.ts), stop with {@link LocalS3.stop}.
 */
export class LocalS3 {
  /** Starts a LocalS3 on 127.0.0.1. */
  static async start(options: LocalS3Options = {}): Promise<LocalS3> {
    const s3 = new LocalS3(options);
    s3.server = await startServer((req, res) => s3.handle(req, res), options.port ?? 0, 'LocalS3');
    return s3;
  }

  /** The log every request is written to. */
  readonly callLog: AwsCallLog;
  private server: RunningServer;
  private readonly buckets = new Map<string, BucketState>();
  private readonly faults: FaultPlan;
  /** Counter behind the per-write event sequencers. */
  private writeSequence = 0;
  private readonly minPartSize: number;
  private readonly region: string;
  private readonly accountId: string;
  private latencyMs = 0;
  private authorizer?: Authorizer;

  private constructor(options: LocalS3Options) {
    this.callLog = options.callLog ?? new AwsCallLog();
    this.minPartSize = options.minPartSize ?? DEFAULT_MIN_PART_SIZE;
    this.region = options.region ?? 'us-west-2';
    this.accountId = options.accountId ?? '111122223333';
    this.faults = new FaultPlan(options.faultClock);
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_S3` or the client's `endpoint`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Stops the server (state is kept, but no longer reachable). */
  async stop(): Promise<void> {
    await this.server.close();
  }

  // ---- programmatic API for tests -------------------------------------------------------

  /** Creates a bucket (no-op when it exists); `versioned` turns versioning on. */
  createBucket(name: string, options: { versioned?: boolean } = {}): void {
    const problem = bucketNameProblem(name);
    if (problem) throw new Error(`LocalS3.createBucket('${name}'): a bucket name ${problem}.`);
    const bucket: BucketState = this.buckets.get(name) ?? { name, createdAt: new Date(), objects: new Map(), uploads: new Map() };
    if (options.versioned) bucket.versioning = 'Enabled';
    this.buckets.set(name, bucket);
  }

  /** Names of all buckets, sorted. */
  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  /** Stores an object as a client PutObject would (not logged). */
  putObject(
    bucket: string,
    key: string,
    body: Buffer | Uint8Array | string,
    options: { contentType?: string; metadata?: Record<string, string> } = {},
  ): { etag: string; versionId?: string } {
    const state = this.requireBucket(bucket, 'putObject');
    const version = this.storeVersion(state, key, {
      body: Buffer.from(body as Uint8Array),
      contentType: options.contentType ?? 'binary/octet-stream',
      metadata: { ...(options.metadata ?? {}) },
      storedHeaders: {},
      sse: 'AES256',
    });
    return { etag: quoted(version.etag), versionId: state.versioning ? version.versionId : undefined };
  }

  /** The current body of an object (or of `versionId`), undefined when absent. */
  getObject(bucket: string, key: string, versionId?: string): Buffer | undefined {
    const state = this.buckets.get(bucket);
    const version = state && this.findVersion(state, key, versionId);
    return version?.kind === 'object' ? Buffer.from(version.body) : undefined;
  }

  /** Size, ETag, content type and metadata of the current version, undefined when absent. */
  headObject(bucket: string, key: string): StoredObjectInfo | undefined {
    const state = this.buckets.get(bucket);
    const version = state && this.findVersion(state, key);
    if (version?.kind !== 'object') return undefined;
    return {
      key,
      size: version.body.length,
      etag: quoted(version.etag),
      versionId: state!.versioning ? version.versionId : undefined,
      contentType: version.contentType,
      metadata: { ...version.metadata },
      lastModified: version.lastModified,
      sequencer: version.sequencer,
      serverSideEncryption: version.sse,
      sseKmsKeyId: version.sseKmsKeyId,
    };
  }

  /** Version ids of a key, newest first, with delete markers flagged. */
  versionsOf(bucket: string, key: string): Array<{ versionId: string; deleteMarker: boolean; size?: number }> {
    const versions = this.buckets.get(bucket)?.objects.get(key) ?? [];
    return [...versions].reverse().map((v) => ({ versionId: v.versionId, deleteMarker: v.kind === 'delete-marker', size: v.kind === 'object' ? v.body.length : undefined }));
  }

  /** Deletes an object as an unversioned DeleteObject would (adds a delete marker when versioned). */
  deleteObject(bucket: string, key: string): void {
    const state = this.requireBucket(bucket, 'deleteObject');
    this.deleteCurrent(state, key);
  }

  /** Keys whose current version exists, sorted as S3 lists them. */
  listKeys(bucket: string, prefix = ''): string[] {
    const state = this.buckets.get(bucket);
    if (!state) return [];
    return [...state.objects.entries()]
      .filter(([key, versions]) => key.startsWith(prefix) && versions[versions.length - 1]?.kind === 'object')
      .map(([key]) => key)
      .sort(compareKeys);
  }

  /** Number of existing objects in one bucket, or in all buckets. */
  objectCount(bucket?: string): number {
    const names = bucket === undefined ? [...this.buckets.keys()] : [bucket];
    return names.reduce((sum, name) => sum + this.listKeys(name).length, 0);
  }

  /** Multipart uploads started but neither completed nor aborted. */
  pendingUploads(bucket: string): Array<{ key: string; uploadId: string; parts: number }> {
    return [...(this.buckets.get(bucket)?.uploads.values() ?? [])].map((u) => ({ key: u.key, uploadId: u.uploadId, parts: u.parts.size }));
  }

  /** Delays every request by `ms` (for benchmarks; tests must not depend on timing). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /**
   * Answers matching requests with an S3 error (default 503 SlowDown) for `times`: a count,
   * `'forever'`, or a wall-clock window `{ forMs }`.
   */
  failNext(times: FaultLength, options: S3FaultOptions = {}): void {
    const code = options.code ?? 'SlowDown';
    this.faults.add(times, { status: options.status ?? 503, code, message: options.message ?? DEFAULT_MESSAGES[code] ?? code }, { operation: options.operation, conditionalOnly: options.conditionalOnly });
  }

  /**
   * A throttling storm: answers matching requests with S3's throttling error, 503 SlowDown
   * ("Please reduce your request rate."), which the SDK retries as throttling, for `length`
   * (a count, `'forever'`, or a wall-clock window `{ forMs }`).
   */
  throttle(length: FaultLength, options: { operation?: S3Operation; message?: string } = {}): void {
    this.failNext(length, { status: 503, code: 'SlowDown', operation: options.operation, message: options.message });
  }

  /**
   * Answers conditional writes (If-None-Match / If-Match on PutObject, CopyObject,
   * CompleteMultipartUpload) with 409 ConditionalRequestConflict, as S3 does when a
   * conflicting write is in progress. The SDK does not retry it; the caller must. Writes
   * without a condition, and every other operation, are untouched.
   */
  conflictConditionalWrites(times: FaultLength = 1, options: { operation?: S3ConditionalWriteOperation; message?: string } = {}): void {
    this.failNext(times, { status: 409, code: 'ConditionalRequestConflict', operation: options.operation, message: options.message, conditionalOnly: true });
  }

  /** Removes every planned fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Installs (or with undefined removes) an access check applied to every authorisation. */
  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  /**
   * Reads an object on behalf of a service role (e.g. Bedrock reading training data), logged
   * as s3:GetObject by `principal` and subject to the authorizer.
   */
  readAsPrincipal(principal: string, bucket: string, key: string, operation = 'GetObject'): PrincipalAccess<Buffer> {
    const auth = { action: 's3:GetObject', resources: [objectArn(bucket, key)] };
    const log = (status: number, errorCode?: string) => this.logAuthorizations(newRequestId(), operation, principal, [auth], status, errorCode);
    if (!this.isAllowed(principal, auth)) return log(403, 'AccessDenied'), { outcome: 'denied' };
    const state = this.buckets.get(bucket);
    if (!state) return log(404, 'NoSuchBucket'), { outcome: 'no-bucket' };
    const version = this.findVersion(state, key);
    if (version?.kind !== 'object') return log(404, 'NoSuchKey'), { outcome: 'missing' };
    log(200);
    return { outcome: 'ok', value: Buffer.from(version.body) };
  }

  /** Checks a bucket on behalf of a service role, logged as s3:ListBucket. */
  listAsPrincipal(principal: string, bucket: string, prefix = ''): PrincipalAccess<string[]> {
    const auth = { action: 's3:ListBucket', resources: [bucketArn(bucket)] };
    const log = (status: number, errorCode?: string) => this.logAuthorizations(newRequestId(), 'ListObjectsV2', principal, [auth], status, errorCode);
    if (!this.isAllowed(principal, auth)) return log(403, 'AccessDenied'), { outcome: 'denied' };
    if (!this.buckets.has(bucket)) return log(404, 'NoSuchBucket'), { outcome: 'no-bucket' };
    log(200);
    return { outcome: 'ok', value: this.listKeys(bucket, prefix) };
  }

  /** Writes an object on behalf of a service role (e.g. Bedrock writing job output), logged as s3:PutObject. */
  writeAsPrincipal(principal: string, bucket: string, key: string, body: Buffer | string, contentType = 'binary/octet-stream'): PrincipalAccess<string> {
    const auth = { action: 's3:PutObject', resources: [objectArn(bucket, key)] };
    const log = (status: number, errorCode?: string) => this.logAuthorizations(newRequestId(), 'PutObject', principal, [auth], status, errorCode);
    if (!this.isAllowed(principal, auth)) return log(403, 'AccessDenied'), { outcome: 'denied' };
    const state = this.buckets.get(bucket);
    if (!state) return log(404, 'NoSuchBucket'), { outcome: 'no-bucket' };
    const version = this.storeVersion(state, key, { body: Buffer.from(body), contentType, metadata: {}, storedHeaders: {}, sse: 'AES256' });
    log(200);
    return { outcome: 'ok', value: quoted(version.etag) };
  }

  // ---- storage ---------------------------------------------------------------------------

  private requireBucket(name: string, method: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new Error(`LocalS3.${method}: bucket '${name}' does not exist; create it first with createBucket('${name}').`);
    return bucket;
  }

  private findVersion(bucket: BucketState, key: string, versionId?: string): Version | undefined {
    const versions = bucket.objects.get(key);
    if (!versions || versions.length === 0) return undefined;
    if (versionId === undefined) return versions[versions.length - 1];
    return versions.find((v) => v.versionId === versionId);
  }

  private storeVersion(bucket: BucketState, key: string, fields: Omit<ObjectVersion, 'kind' | 'versionId' | 'etag' | 'lastModified' | 'sequencer'> & { etag?: string }): ObjectVersion {
    const version: ObjectVersion = {
      ...fields,
      kind: 'object',
      versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null',
      etag: fields.etag ?? md5Hex(fields.body),
      lastModified: new Date(),
      // Every write gets its own (even in the same millisecond, even with the same bytes), as in S3.
      sequencer: (++this.writeSequence).toString(16).toUpperCase().padStart(16, '0'),
    };
    this.appendVersion(bucket, key, version);
    return version;
  }

  private appendVersion(bucket: BucketState, key: string, version: Version): void {
    const versions = bucket.objects.get(key) ?? [];
    // Without versioning (or suspended) the single "null" version is replaced.
    const kept = bucket.versioning === 'Enabled' ? versions : versions.filter((v) => v.versionId !== 'null');
    kept.push(version);
    bucket.objects.set(key, kept);
  }

  private deleteCurrent(bucket: BucketState, key: string): DeleteMarker | undefined {
    if (!bucket.versioning) {
      bucket.objects.delete(key);
      return undefined;
    }
    const marker: DeleteMarker = { kind: 'delete-marker', versionId: bucket.versioning === 'Enabled' ? newVersionId() : 'null', lastModified: new Date() };
    this.appendVersion(bucket, key, marker);
    return marker;
  }

  private deleteVersion(bucket: BucketState, key: string, versionId: string): Version | undefined {
    const versions = bucket.objects.get(key) ?? [];
    const index = versions.findIndex((v) => v.versionId === versionId);
    if (index < 0) return undefined;
    const [removed] = versions.splice(index, 1);
    if (versions.length === 0) bucket.objects.delete(key);
    return removed;
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    const requestId = newRequestId();
    const { pathname, query } = literalTarget(req.url ?? '/');
    const principal = principalOf(req, query);
    const [, rawBucket = '', ...rawKey] = pathname.split('/');
    const bucketName = rawBucket ? safeDecode(rawBucket) : undefined;
    const key = rawKey.length > 0 && rawKey.join('/') !== '' ? safeDecode(rawKey.join('/')) : undefined;
    const operation = this.operationOf(req, query, bucketName, key);
    // Read the body before anything can fail, so an early error never leaves a half-read socket.
    const raw = await readBody(req);
    const authorizations = this.authorizationsFor(operation, req, query, raw, bucketName, key);

    let response: S3Response;
    let errorCode: string | undefined;
    try {
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const conditional = CONDITIONAL_WRITE_OPERATIONS.has(operation) && (header(req, 'if-none-match') !== undefined || header(req, 'if-match') !== undefined);
      const fault = this.faults.take(operation, { conditional });
      if (fault) throw new S3Error(fault.status, fault.code, fault.message ?? fault.code);
      for (const auth of authorizations) {
        if (!this.isAllowed(principal, auth)) throw new S3Error(403, 'AccessDenied', 'Access Denied');
      }
      const { body, trailers } = this.decodeBody(req, raw);
      response = await this.dispatch(operation, { req, query, bucketName, key, body, trailers, principal });
    } catch (err) {
      if (!(err instanceof S3Error)) throw err;
      errorCode = err.code;
      response = this.errorResponse(req, err, requestId, bucketName, key);
    }
    this.logAuthorizations(requestId, operation, principal, authorizations, response.status, errorCode);
    this.send(req, res, response, requestId);
  }

  private send(req: StandInRequest, res: StandInResponse, response: S3Response, requestId: string): void {
    const headers: Record<string, string | number> = { 'x-amz-request-id': requestId, 'x-amz-id-2': `${requestId}/local-s3`, server: 'AmazonS3' };
    for (const [name, value] of Object.entries(response.headers ?? {})) if (value !== undefined) headers[name] = value;
    const body = response.body === undefined ? undefined : Buffer.isBuffer(response.body) ? response.body : Buffer.from(response.body, 'utf8');
    if (headers['content-length'] === undefined) headers['content-length'] = body?.length ?? 0;
    res.writeHead(response.status, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private errorResponse(req: StandInRequest, err: S3Error, requestId: string, bucketName?: string, key?: string): S3Response {
    if (req.method === 'HEAD') return { status: err.status, headers: err.headers };
    const body = s3ErrorDocument({
      Code: err.code,
      Message: err.message,
      ...(err.code === 'NoSuchKey' ? { Key: key } : {}),
      ...(err.code === 'NoSuchBucket' ? { BucketName: bucketName } : {}),
      ...err.fields,
      RequestId: requestId,
      HostId: `${requestId}/local-s3`,
    });
    return { status: err.status, headers: { 'content-type': 'application/xml', ...err.headers }, body };
  }

  private isAllowed(principal: string, auth: Authorization): boolean {
    return this.authorizer ? this.authorizer({ principal, action: auth.action, resources: auth.resources }) : true;
  }

  private logAuthorizations(requestId: string, operation: string, principal: string, auths: readonly Authorization[], status: number, errorCode?: string): void {
    for (const auth of auths) {
      this.callLog.record({ requestId, service: 's3', operation, action: auth.action, resources: auth.resources, status, errorCode, principal });
    }
  }

  private decodeBody(req: StandInRequest, raw: Buffer): { body: Buffer; trailers: Record<string, string> } {
    if (!isAwsChunked(req.headers)) return { body: raw, trailers: {} };
    let decoded;
    try {
      decoded = decodeAwsChunked(raw);
    } catch (err) {
      if (err instanceof ChunkedBodyError) throw new S3Error(400, 'IncompleteBody', err.message);
      throw err;
    }
    const declared = header(req, 'x-amz-decoded-content-length');
    if (declared !== undefined && Number(declared) !== decoded.payload.length) {
      throw new S3Error(400, 'IncompleteBody', `You did not provide the number of bytes specified by the x-amz-decoded-content-length header (${declared}); the body carried ${decoded.payload.length}.`);
    }
    return { body: decoded.payload, trailers: { ...decoded.trailers } };
  }

  /** Checks Content-MD5 and any x-amz-checksum-* header or trailer against the body; returns the verified checksum. */
  private verifyChecksums(ctx: RequestContext): { algorithm: ChecksumAlgorithm; value: string } | undefined {
    const md5 = header(ctx.req, 'content-md5');
    if (md5 !== undefined && md5 !== md5Base64(ctx.body)) throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const candidates = { ...Object.fromEntries(Object.entries(ctx.req.headers).map(([k, v]) => [k, String(v)])), ...ctx.trailers };
    let verified: { algorithm: ChecksumAlgorithm; value: string } | undefined;
    for (const [name, value] of Object.entries(candidates)) {
      const algorithm = algorithmOfHeader(name);
      if (!algorithm) continue;
      const actual = checksumBase64(algorithm, ctx.body);
      if (actual !== value) {
        throw new S3Error(400, 'BadDigest', `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum (expected ${value}, calculated ${actual}).`);
      }
      verified = { algorithm, value };
    }
    return verified;
  }

  private operationOf(req: StandInRequest, query: URLSearchParams, bucket?: string, key?: string): S3Operation {
    const method = req.method ?? 'GET';
    if (UNSUPPORTED_SUBRESOURCES.some((name) => query.has(name))) return 'Unsupported';
    if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Unsupported';
    if (key === undefined) {
      if (method === 'PUT') return query.has('versioning') ? 'PutBucketVersioning' : 'CreateBucket';
      if (method === 'HEAD') return 'HeadBucket';
      if (method === 'DELETE') return 'DeleteBucket';
      if (method === 'POST') return query.has('delete') ? 'DeleteObjects' : 'Unsupported';
      if (method === 'GET') {
        if (query.has('versioning')) return 'GetBucketVersioning';
        if (query.has('location')) return 'GetBucketLocation';
        if (query.get('list-type') === '2') return 'ListObjectsV2';
      }
      return 'Unsupported';
    }
    switch (method) {
      case 'PUT':
        if (query.has('uploadId') && query.has('partNumber')) return header(req, 'x-amz-copy-source') ? 'Unsupported' : 'UploadPart';
        return header(req, 'x-amz-copy-source') ? 'CopyObject' : 'PutObject';
      case 'GET':
        return query.has('uploadId') || query.has('partNumber') ? 'Unsupported' : 'GetObject';
      case 'HEAD':
        return query.has('partNumber') ? 'Unsupported' : 'HeadObject';
      case 'DELETE':
        return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
      case 'POST':
        if (query.has('uploads')) return 'CreateMultipartUpload';
        if (query.has('uploadId')) return 'CompleteMultipartUpload';
        return 'Unsupported';
      default:
        return 'Unsupported';
    }
  }

  /** The IAM authorisations an operation needs (Service Authorization Reference for Amazon S3). */
  private authorizationsFor(operation: S3Operation, req: StandInRequest, query: URLSearchParams, rawBody: Buffer, bucket?: string, key?: string): Authorization[] {
    const onBucket = (action: string) => [{ action, resources: [bucketArn(bucket ?? '')] }];
    const onObject = (action: string) => [{ action, resources: [objectArn(bucket ?? '', key ?? '')] }];
    const versioned = query.has('versionId');
    switch (operation) {
      case 'ListBuckets':
        return [{ action: 's3:ListAllMyBuckets', resources: ['*'] }];
      case 'CreateBucket':
        return onBucket('s3:CreateBucket');
      case 'HeadBucket':
      case 'ListObjectsV2':
        return onBucket('s3:ListBucket');
      case 'DeleteBucket':
        return onBucket('s3:DeleteBucket');
      case 'GetBucketLocation':
        return onBucket('s3:GetBucketLocation');
      case 'GetBucketVersioning':
        return onBucket('s3:GetBucketVersioning');
      case 'PutBucketVersioning':
        return onBucket('s3:PutBucketVersioning');
      case 'DeleteObjects': {
        // Authorised per key, like DeleteObject (DeleteObjectVersion for versioned entries).
        const entries = elements(rawBody.toString('utf8'), 'Object').map((o) => ({ key: text(o, 'Key') ?? '', versioned: text(o, 'VersionId') !== undefined }));
        const plain = entries.filter((e) => !e.versioned).map((e) => objectArn(bucket ?? '', e.key));
        const versions = entries.filter((e) => e.versioned).map((e) => objectArn(bucket ?? '', e.key));
        return [
          ...(plain.length > 0 ? [{ action: 's3:DeleteObject', resources: plain }] : []),
          ...(versions.length > 0 ? [{ action: 's3:DeleteObjectVersion', resources: versions }] : []),
        ];
      }
      case 'PutObject': {
        const auths = onObject('s3:PutObject');
        if (header(req, 'x-amz-tagging')) auths.push(...onObject('s3:PutObjectTagging'));
        return auths;
      }
      case 'CopyObject': {
        const source = this.parseCopySource(header(req, 'x-amz-copy-source') ?? '');
        return [
          ...onObject('s3:PutObject'),
          { action: source?.versionId ? 's3:GetObjectVersion' : 's3:GetObject', resources: [source ? objectArn(source.bucket, source.key) : '*'] },
        ];
      }
      case 'GetObject':
      case 'HeadObject':
        return onObject(versioned ? 's3:GetObjectVersion' : 's3:GetObject');
      case 'DeleteObject':
        return onObject(versioned ? 's3:DeleteObjectVersion' : 's3:DeleteObject');
      case 'CreateMultipartUpload':
      case 'UploadPart':
      case 'CompleteMultipartUpload':
        return onObject('s3:PutObject');
      case 'AbortMultipartUpload':
        return onObject('s3:AbortMultipartUpload');
      case 'Unsupported':
        return [{ action: 's3:Unsupported', resources: [bucket ? (key ? objectArn(bucket, key) : bucketArn(bucket)) : '*'] }];
    }
  }

  private async dispatch(operation: S3Operation, ctx: RequestContext): Promise<S3Response> {
    switch (operation) {
      case 'ListBuckets':
        return this.listBuckets();
      case 'CreateBucket':
        return this.createBucketRequest(ctx);
      case 'Unsupported': {
        const what = `${ctx.req.method} ${ctx.req.url}`;
        throw new S3Error(501, 'NotImplemented', `LocalS3 does not implement ${what}; add the operation to test/support/local-s3.ts.`);
      }
      default:
        break;
    }
    const bucket = this.buckets.get(ctx.bucketName ?? '');
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
    switch (operation) {
      case 'HeadBucket':
        return { status: 200, headers: { 'x-amz-bucket-region': this.region } };
      case 'DeleteBucket':
        return this.deleteBucket(bucket);
      case 'GetBucketLocation':
        return {
          status: 200,
          headers: { 'content-type': 'application/xml' },
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${this.region}</LocationConstraint>`,
        };
      case 'GetBucketVersioning':
        return {
          status: 200,
          headers: { 'content-type': 'application/xml' },
          body: s3Document('VersioningConfiguration', [bucket.versioning ? ['Status', bucket.versioning] : undefined]),
        };
      case 'PutBucketVersioning':
        return this.putBucketVersioning(bucket, ctx);
      case 'ListObjectsV2':
        return this.listObjectsV2(bucket, ctx);
      case 'DeleteObjects':
        return this.deleteObjects(bucket, ctx);
      case 'PutObject':
        return this.putObjectRequest(bucket, ctx);
      case 'CopyObject':
        return this.copyObject(bucket, ctx);
      case 'GetObject':
      case 'HeadObject':
        return this.getObjectRequest(bucket, ctx);
      case 'DeleteObject':
        return this.deleteObjectRequest(bucket, ctx);
      case 'CreateMultipartUpload':
        return this.createMultipartUpload(bucket, ctx);
      case 'UploadPart':
        return this.uploadPart(bucket, ctx);
      case 'CompleteMultipartUpload':
        return this.completeMultipartUpload(bucket, ctx);
      case 'AbortMultipartUpload':
        return this.abortMultipartUpload(bucket, ctx);
    }
  }

  // ---- bucket operations -----------------------------------------------------------------

  private listBuckets(): S3Response {
    const buckets: XmlNode[] = [...this.buckets.values()]
      .sort((a, b) => compareKeys(a.name, b.name))
      .map((b) => ['Bucket', [['Name', b.name], ['CreationDate', b.createdAt.toISOString()]]]);
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body: s3Document('ListAllMyBucketsResult', [['Owner', [['ID', OWNER_ID]]], ['Buckets', buckets]]),
    };
  }

  private createBucketRequest(ctx: RequestContext): S3Response {
    const name = ctx.bucketName ?? '';
    const problem = bucketNameProblem(name);
    if (problem) throw new S3Error(400, 'InvalidBucketName', `The specified bucket is not valid: a bucket name ${problem}.`, { BucketName: name });
    if (this.buckets.has(name)) {
      throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: name });
    }
    this.createBucket(name);
    return { status: 200, headers: { location: `/${name}` } };
  }

  private deleteBucket(bucket: BucketState): S3Response {
    if (bucket.objects.size > 0) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket.name });
    this.buckets.delete(bucket.name);
    return { status: 204 };
  }

  private putBucketVersioning(bucket: BucketState, ctx: RequestContext): S3Response {
    const status = text(ctx.body.toString('utf8'), 'Status');
    if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    bucket.versioning = status;
    return { status: 200 };
  }

  private listObjectsV2(bucket: BucketState, ctx: RequestContext): S3Response {
    const q = ctx.query;
    const maxKeysText = q.get('max-keys');
    const maxKeys = maxKeysText === null ? 1000 : Number(maxKeysText);
    if (!Number.isInteger(maxKeys) || maxKeys < 0) throw new S3Error(400, 'InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys' });
    const request = {
      prefix: q.get('prefix') ?? undefined,
      delimiter: q.get('delimiter') ?? undefined,
      maxKeys,
      continuationToken: q.get('continuation-token') ?? undefined,
      startAfter: q.get('start-after') ?? undefined,
    };
    let page;
    try {
      page = listObjectsPage(this.listKeys(bucket.name), request);
    } catch (err) {
      if (err instanceof InvalidContinuationTokenError) throw new S3Error(400, 'InvalidArgument', err.message, { ArgumentName: 'continuation-token' });
      throw err;
    }
    const urlEncoded = q.get('encoding-type') === 'url';
    const enc = (value: string) => (urlEncoded ? encodeURIComponent(value).replace(/%2F/g, '/') : value);
    const contents: XmlNode[] = page.keys.map((key) => {
      const version = this.findVersion(bucket, key) as ObjectVersion;
      return ['Contents', [['Key', enc(key)], ['LastModified', version.lastModified.toISOString()], ['ETag', quoted(version.etag)], ['Size', version.body.length], ['StorageClass', 'STANDARD']]];
    });
    const body = s3Document('ListBucketResult', [
      ['Name', bucket.name],
      ['Prefix', enc(request.prefix ?? '')],
      request.delimiter !== undefined ? ['Delimiter', enc(request.delimiter)] : undefined,
      ['MaxKeys', maxKeys],
      urlEncoded ? ['EncodingType', 'url'] : undefined,
      ['KeyCount', page.keys.length + page.commonPrefixes.length],
      ['IsTruncated', page.isTruncated],
      request.continuationToken !== undefined ? ['ContinuationToken', request.continuationToken] : undefined,
      page.nextContinuationToken !== undefined ? ['NextContinuationToken', page.nextContinuationToken] : undefined,
      request.startAfter !== undefined ? ['StartAfter', enc(request.startAfter)] : undefined,
      ...contents,
      ...page.commonPrefixes.map((p): XmlNode => ['CommonPrefixes', [['Prefix', enc(p)]]]),
    ]);
    return { status: 200, headers: { 'content-type': 'application/xml' }, body };
  }

  private deleteObjects(bucket: BucketState, ctx: RequestContext): S3Response {
    this.verifyChecksums(ctx);
    const xml = ctx.body.toString('utf8');
    const quiet = text(xml, 'Quiet') === 'true';
    const results: XmlNode[] = [];
    for (const entry of elements(xml, 'Object')) {
      const key = text(entry, 'Key') ?? '';
      const versionId = text(entry, 'VersionId');
      let marker: Version | undefined;
      if (versionId !== undefined) marker = this.deleteVersion(bucket, key, versionId);
      else marker = this.deleteCurrent(bucket, key);
      if (!quiet) {
        results.push(['Deleted', [
          ['Key', key],
          versionId !== undefined ? ['VersionId', versionId] : undefined,
          marker?.kind === 'delete-marker' ? ['DeleteMarker', true] : undefined,
          marker?.kind === 'delete-marker' && versionId === undefined ? ['DeleteMarkerVersionId', marker.versionId] : undefined,
        ]]);
      }
    }
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: s3Document('DeleteResult', results) };
  }

  // ---- object operations -----------------------------------------------------------------

  /** Applies If-Match / If-None-Match of a write against the current version. */
  private checkWritePreconditions(bucket: BucketState, key: string, req: StandInRequest): void {
    const current = this.findVersion(bucket, key);
    const exists = current?.kind === 'object';
    const ifNoneMatch = header(req, 'if-none-match');
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch.trim() !== '*') throw new S3Error(501, 'NotImplemented', 'If-None-Match on writes only supports *', { Header: 'If-None-Match' });
      if (exists) throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-None-Match' });
    }
    const ifMatch = header(req, 'if-match');
    if (ifMatch !== undefined) {
      if (!exists) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
      if (ifMatch.replace(/"/g, '').trim() !== current.etag) {
        throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
      }
    }
  }

  private objectTemplate(req: StandInRequest): MultipartUpload['template'] {
    const sse = header(req, 'x-amz-server-side-encryption') ?? 'AES256';
    return {
      contentType: header(req, 'content-type') ?? 'binary/octet-stream',
      metadata: userMetadata(req),
      storedHeaders: storedHeaders(req),
      sse,
      sseKmsKeyId: sse === 'aws:kms' ? (header(req, 'x-amz-server-side-encryption-aws-kms-key-id') ?? `arn:aws:kms:${this.region}:${this.accountId}:alias/aws/s3`) : undefined,
    };
  }

  private writeHeaders(bucket: BucketState, version: ObjectVersion): Record<string, string | undefined> {
    return {
      etag: quoted(version.etag),
      'x-amz-version-id': bucket.versioning ? version.versionId : undefined,
      'x-amz-server-side-encryption': version.sse,
      'x-amz-server-side-encryption-aws-kms-key-id': version.sseKmsKeyId,
      ...(version.checksum ? { [`x-amz-checksum-${version.checksum.algorithm}`]: version.checksum.value } : {}),
    };
  }

  private putObjectRequest(bucket: BucketState, ctx: RequestContext): S3Response {
    const key = ctx.key!;
    const checksum = this.verifyChecksums(ctx);
    this.checkWritePreconditions(bucket, key, ctx.req);
    const version = this.storeVersion(bucket, key, { ...this.objectTemplate(ctx.req), body: ctx.body, checksum });
    return { status: 200, headers: this.writeHeaders(bucket, version) };
  }

  private parseCopySource(value: string): { bucket: string; key: string; versionId?: string } | undefined {
    const [path, search = ''] = value.split('?');
    const decoded = safeDecode(path).replace(/^\//, '');
    const slash = decoded.indexOf('/');
    if (slash <= 0 || slash === decoded.length - 1) return undefined;
    const versionId = new URLSearchParams(search).get('versionId') ?? undefined;
    return { bucket: decoded.slice(0, slash), key: decoded.slice(slash + 1), versionId };
  }

  private copyObject(bucket: BucketState, ctx: RequestContext): S3Response {
    const source = this.parseCopySource(header(ctx.req, 'x-amz-copy-source') ?? '');
    if (!source) throw new S3Error(400, 'InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey', { ArgumentName: 'x-amz-copy-source' });
    const sourceBucket = this.buckets.get(source.bucket);
    if (!sourceBucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: source.bucket });
    const found = this.findVersion(sourceBucket, source.key, source.versionId);
    if (found?.kind !== 'object') throw new S3Error(404, source.versionId ? 'NoSuchVersion' : 'NoSuchKey', 'The specified key does not exist.', { Key: source.key });
    // x-amz-copy-source-if-match: copy only while the source still has this ETag, else 412.
    const sourceIfMatch = header(ctx.req, 'x-amz-copy-source-if-match');
    if (sourceIfMatch !== undefined && sourceIfMatch.replace(/"/g, '').trim() !== found.etag) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'x-amz-copy-source-If-Match' });
    }
    const replace = (header(ctx.req, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase() === 'REPLACE';
    this.checkWritePreconditions(bucket, ctx.key!, ctx.req);
    const template = replace ? this.objectTemplate(ctx.req) : { ...this.objectTemplate(ctx.req), contentType: found.contentType, metadata: { ...found.metadata }, storedHeaders: { ...found.storedHeaders } };
    const version = this.storeVersion(bucket, ctx.key!, { ...template, body: found.body, etag: found.etag, checksum: found.checksum });
    return {
      status: 200,
      headers: {
        'content-type': 'application/xml',
        'x-amz-version-id': bucket.versioning ? version.versionId : undefined,
        'x-amz-copy-source-version-id': sourceBucket.versioning ? found.versionId : undefined,
        'x-amz-server-side-encryption': version.sse,
      },
      body: s3Document('CopyObjectResult', [['ETag', quoted(version.etag)], ['LastModified', version.lastModified.toISOString()]]),
    };
  }

  private getObjectRequest(bucket: BucketState, ctx: RequestContext): S3Response {
    const key = ctx.key!;
    const versionId = ctx.query.get('versionId') ?? undefined;
    const version = this.findVersion(bucket, key, versionId);
    if (!version) {
      if (versionId !== undefined) throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId });
      throw this.notFound(ctx, bucket.name);
    }
    if (version.kind === 'delete-marker') {
      const markerHeaders = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': version.versionId };
      if (versionId !== undefined) throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {}, markerHeaders);
      throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', {}, markerHeaders);
    }

    const ifMatch = header(ctx.req, 'if-match');
    if (ifMatch !== undefined && ifMatch !== '*' && ifMatch.replace(/"/g, '').trim() !== version.etag) {
      throw new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' });
    }
    const common: Record<string, string | number | undefined> = {
      etag: quoted(version.etag),
      'last-modified': version.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      'content-type': ctx.query.get('response-content-type') ?? version.contentType,
      'x-amz-version-id': bucket.versioning ? version.versionId : undefined,
      'x-amz-server-side-encryption': version.sse,
      'x-amz-server-side-encryption-aws-kms-key-id': version.sseKmsKeyId,
      ...version.storedHeaders,
      ...Object.fromEntries(Object.entries(version.metadata).map(([k, v]) => [`x-amz-meta-${k}`, v])),
    };
    const ifNoneMatch = header(ctx.req, 'if-none-match');
    if (ifNoneMatch !== undefined && (ifNoneMatch.trim() === '*' || ifNoneMatch.replace(/"/g, '').trim() === version.etag)) {
      return { status: 304, headers: { etag: common.etag, 'last-modified': common['last-modified'] } };
    }

    const size = version.body.length;
    const range = resolveRange(header(ctx.req, 'range'), size);
    if (range.kind === 'unsatisfiable') {
      throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: String(size), RangeRequested: header(ctx.req, 'range') });
    }
    if (range.kind === 'partial') {
      return {
        status: 206,
        headers: { ...common, 'content-range': `bytes ${range.start}-${range.end}/${size}`, 'content-length': range.end - range.start + 1 },
        body: version.body.subarray(range.start, range.end + 1),
      };
    }
    // A whole-object checksum lets the SDK validate what it downloads (x-amz-checksum-mode: ENABLED).
    const wantsChecksum = (header(ctx.req, 'x-amz-checksum-mode') ?? '').toUpperCase() === 'ENABLED' && version.checksum;
    return {
      status: 200,
      headers: {
        ...common,
        'content-length': size,
        ...(wantsChecksum ? { [`x-amz-checksum-${version.checksum!.algorithm}`]: version.checksum!.value, 'x-amz-checksum-type': 'FULL_OBJECT' } : {}),
      },
      body: version.body,
    };
  }

  /** NoSuchKey, or AccessDenied when the caller could not list the bucket (what S3 does). */
  private notFound(ctx: RequestContext, bucketName: string): S3Error {
    if (!this.isAllowed(ctx.principal, { action: 's3:ListBucket', resources: [bucketArn(bucketName)] })) return new S3Error(403, 'AccessDenied', 'Access Denied');
    return new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  }

  private deleteObjectRequest(bucket: BucketState, ctx: RequestContext): S3Response {
    const versionId = ctx.query.get('versionId') ?? undefined;
    if (versionId !== undefined) {
      const removed = this.deleteVersion(bucket, ctx.key!, versionId);
      return { status: 204, headers: { 'x-amz-version-id': versionId, 'x-amz-delete-marker': removed?.kind === 'delete-marker' ? 'true' : undefined } };
    }
    const marker = this.deleteCurrent(bucket, ctx.key!);
    return { status: 204, headers: marker ? { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId } : {} };
  }

  // ---- multipart upload ------------------------------------------------------------------

  private upload(bucket: BucketState, ctx: RequestContext): MultipartUpload {
    const uploadId = ctx.query.get('uploadId') ?? '';
    const upload = bucket.uploads.get(uploadId);
    if (!upload || upload.key !== ctx.key) {
      throw new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
    }
    return upload;
  }

  private createMultipartUpload(bucket: BucketState, ctx: RequestContext): S3Response {
    const uploadId = randomBytes(32).toString('base64url');
    bucket.uploads.set(uploadId, { uploadId, key: ctx.key!, template: this.objectTemplate(ctx.req), parts: new Map() });
    const algorithm = header(ctx.req, 'x-amz-checksum-algorithm');
    return {
      status: 200,
      headers: { 'content-type': 'application/xml', 'x-amz-checksum-algorithm': algorithm },
      body: s3Document('InitiateMultipartUploadResult', [['Bucket', bucket.name], ['Key', ctx.key!], ['UploadId', uploadId]]),
    };
  }

  private uploadPart(bucket: BucketState, ctx: RequestContext): S3Response {
    const upload = this.upload(bucket, ctx);
    const partNumber = Number(ctx.query.get('partNumber'));
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > S3_MAX_PART_NUMBER) {
      throw new S3Error(400, 'InvalidArgument', `Part number must be an integer between 1 and ${S3_MAX_PART_NUMBER}, inclusive`, { ArgumentName: 'partNumber' });
    }
    const checksum = this.verifyChecksums(ctx);
    const etag = md5Hex(ctx.body);
    upload.parts.set(partNumber, { body: ctx.body, etag });
    return { status: 200, headers: { etag: quoted(etag), ...(checksum ? { [`x-amz-checksum-${checksum.algorithm}`]: checksum.value } : {}) } };
  }

  private completeMultipartUpload(bucket: BucketState, ctx: RequestContext): S3Response {
    const upload = this.upload(bucket, ctx);
    const requested = elements(ctx.body.toString('utf8'), 'Part').map((part) => ({
      partNumber: Number(text(part, 'PartNumber')),
      etag: (text(part, 'ETag') ?? '').replace(/"/g, ''),
    }));
    if (requested.length === 0) throw new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');
    const parts: UploadedPart[] = [];
    requested.forEach((wanted, index) => {
      if (index > 0 && wanted.partNumber <= requested[index - 1].partNumber) {
        throw new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.');
      }
      const part = upload.parts.get(wanted.partNumber);
      if (!part || part.etag !== wanted.etag) {
        throw new S3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.', { PartNumber: String(wanted.partNumber), ETag: wanted.etag });
      }
      parts.push(part);
    });
    parts.slice(0, -1).forEach((part, index) => {
      if (part.body.length < this.minPartSize) {
        throw new S3Error(400, 'EntityTooSmall', `Your proposed upload is smaller than the minimum allowed size (part ${requested[index].partNumber} has ${part.body.length} bytes, minimum ${this.minPartSize}).`, { ProposedSize: String(part.body.length), MinSizeAllowed: String(this.minPartSize) });
      }
    });
    this.checkWritePreconditions(bucket, upload.key, ctx.req);
    const version = this.storeVersion(bucket, upload.key, {
      ...upload.template,
      body: Buffer.concat(parts.map((p) => p.body)),
      etag: multipartEtag(parts.map((p) => p.etag)),
    });
    bucket.uploads.delete(upload.uploadId);
    return {
      status: 200,
      headers: { 'content-type': 'application/xml', 'x-amz-version-id': bucket.versioning ? version.versionId : undefined, 'x-amz-server-side-encryption': version.sse },
      body: s3Document('CompleteMultipartUploadResult', [
        ['Location', `${this.endpoint}/${bucket.name}/${encodeURIComponent(upload.key)}`],
        ['Bucket', bucket.name],
        ['Key', upload.key],
        ['ETag', quoted(version.etag)],
      ]),
    };
  }

  private abortMultipartUpload(bucket: BucketState, ctx: RequestContext): S3Response {
    const upload = this.upload(bucket, ctx);
    bucket.uploads.delete(upload.uploadId);
    return { status: 204 };
  }
}
