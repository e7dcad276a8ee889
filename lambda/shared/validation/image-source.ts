/**
 * "Read a byte range of an image URI", behind one interface with two implementations:
 * S3 (a ranged GetObject, so only the header bytes travel, never the whole image) and a
 * local directory that mirrors S3 (`<root>/<bucket>/<key>`, for `llama-finetune validate
 * --image-root`). The image checks are the same code for both.
 */
import { open } from 'fs/promises';
import * as path from 'path';
import { GetObjectCommand, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { isThrottlingError } from '../throttling';

/** Bytes read from the start of an image, and the size of the whole file. */
export interface ImageByteRange {
  /** The bytes of [start, end), fewer when the file ends earlier. */
  readonly bytes: Uint8Array;
  /** Size of the whole file in bytes. */
  readonly totalSize: number;
}

/** Where image bytes come from. */
export interface ImageByteSource {
  /** For reports: "S3" or "local directory /data/images". */
  readonly description: string;
  /** Reads bytes [start, end) of the image at `uri` (an s3:// URI). */
  readRange(uri: string, start: number, end: number): Promise<ImageByteRange>;
  /**
   * Reads the last `length` bytes of the image (the whole file when shorter) without knowing its
   * size, so it can run alongside the header read. Optional: without it, the end is read after
   * the header, with {@link readRange}.
   */
  readSuffix?(uri: string, length: number): Promise<ImageByteRange>;
}

/** Why an image read failed. Throttled and transient failures are worth retrying. */
export type ImageReadFailureKind = 'not-found' | 'access-denied' | 'throttled' | 'transient';

/** A failed image read, classified. */
export class ImageReadError extends Error {
  constructor(
    readonly kind: ImageReadFailureKind,
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'ImageReadError';
  }
}

/** Whether a read error is worth retrying (throttling or a transient server/network error). */
export function isRetryableImageReadError(err: unknown): boolean {
  return err instanceof ImageReadError && (err.kind === 'throttled' || err.kind === 'transient');
}

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

function splitUri(uri: string): { bucket: string; key: string } {
  const match = S3_URI.exec(uri);
  if (!match) throw new ImageReadError('not-found', `"${uri}" is not an s3://bucket/key URI`);
  return { bucket: match[1], key: match[2] };
}

const NOT_FOUND_CODES = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchVersion']);
const TRANSIENT_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'TimeoutError', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);

/** Maps an S3 SDK error to an {@link ImageReadError}, or returns undefined for unexpected errors. */
export function classifyS3Error(err: unknown, uri: string): ImageReadError | undefined {
  const e = err as { name?: string; code?: string; Code?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  // SDK service errors carry the S3 code as `name`; network errors are plain Errors with a `code`.
  const code = e?.Code ?? (e?.name && e.name !== 'Error' ? e.name : undefined) ?? e?.code ?? '';
  const status = e?.$metadata?.httpStatusCode;
  if (NOT_FOUND_CODES.has(code) || status === 404) return new ImageReadError('not-found', `${uri} does not exist`, err);
  if (code === 'AccessDenied' || status === 403) return new ImageReadError('access-denied', `reading ${uri} was denied (${code || status})`, err);
  if (isThrottlingError(err)) return new ImageReadError('throttled', `reading ${uri} was throttled (${code || status})`, err);
  if (TRANSIENT_NETWORK_CODES.has(code) || (e?.code !== undefined && TRANSIENT_NETWORK_CODES.has(e.code)) || (status !== undefined && status >= 500)) {
    return new ImageReadError('transient', `reading ${uri} failed (${code || status}): ${e?.message ?? ''}`.trim(), err);
  }
  return undefined;
}

/**
 * Reads at most `limit` bytes of a body stream. A body of exactly `limit` bytes (a ranged answer)
 * is read to its end, so its keep-alive connection is reused; only a longer one (the range was
 * ignored) is cut off, which destroys the stream and its connection.
 */
async function readAtMost(body: AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of body) {
    const room = limit - length;
    if (chunk.byteLength > room) {
      parts.push(chunk.subarray(0, room));
      length = limit;
      break; // leaving the loop destroys the stream: stop downloading what was not asked for
    }
    parts.push(chunk);
    length += chunk.byteLength;
  }
  return Buffer.concat(parts, length);
}

/**
 * An S3 client whose connection pool is large enough for `concurrency` parallel image checks
 * (the SDK's default pool of 50 sockets would otherwise queue requests silently). Response
 * checksums are validated only when required: a ranged read has no whole-object checksum to
 * compare, and skipping the work saves CPU, which bounds the image read rate (the SDK spends
 * roughly half a millisecond of CPU per request).
 */
export function createS3ClientForImageReads(concurrency: number, config: S3ClientConfig = {}): S3Client {
  // Each image check has up to two reads in flight (its header and its end).
  const maxSockets = Math.max(50, 2 * concurrency + 8);
  return new S3Client({
    requestHandler: { httpAgent: { keepAlive: true, maxSockets }, httpsAgent: { keepAlive: true, maxSockets } },
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...config,
  });
}

/** Image bytes from S3 by ranged GetObject. */
export class S3ImageByteSource implements ImageByteSource {
  readonly description = 'S3 (ranged GetObject)';

  /** @param s3 the client, or a function that creates it on the first read (so no client exists when no image is read). */
  constructor(private readonly s3: S3Client | (() => S3Client)) {}

  async readRange(uri: string, start: number, end: number): Promise<ImageByteRange> {
    const { bucket, key } = splitUri(uri);
    const client = typeof this.s3 === 'function' ? this.s3() : this.s3;
    let out;
    try {
      out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      // A range that starts at or past the end: the object is shorter than `start` (empty when start is 0).
      if (e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416) return { bytes: new Uint8Array(0), totalSize: start };
      throw classifyS3Error(err, uri) ?? err;
    }
    return this.receive(uri, out, end - start);
  }

  /** A suffix range (`bytes=-N`): S3 answers with the last N bytes, or the whole object when it is shorter. */
  async readSuffix(uri: string, length: number): Promise<ImageByteRange> {
    const { bucket, key } = splitUri(uri);
    const client = typeof this.s3 === 'function' ? this.s3() : this.s3;
    let out;
    try {
      out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=-${length}` }));
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      // An empty object has no last bytes (S3 answers 200 with no body; an RFC 9110 server may answer 416).
      if (e?.name === 'InvalidRange' || e?.$metadata?.httpStatusCode === 416) return { bytes: new Uint8Array(0), totalSize: 0 };
      throw classifyS3Error(err, uri) ?? err;
    }
    if (out.ContentRange === undefined && (out.ContentLength ?? 0) > length) {
      // A 200 with the whole object (range ignored): do not download it; no bytes tells the caller to read the end by offset.
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return { bytes: new Uint8Array(0), totalSize: out.ContentLength ?? 0 };
    }
    return this.receive(uri, out, length);
  }

  private async receive(uri: string, out: { ContentRange?: string; ContentLength?: number; Body?: unknown }, limit: number): Promise<ImageByteRange> {
    // 206 answers carry the full size in Content-Range; a 200 (range ignored) is the whole object.
    const totalSize = parseTotalSize(out.ContentRange) ?? out.ContentLength ?? 0;
    try {
      const bytes = out.Body ? await readAtMost(out.Body as AsyncIterable<Uint8Array>, limit) : new Uint8Array(0);
      return { bytes, totalSize };
    } catch (err) {
      throw classifyS3Error(err, uri) ?? new ImageReadError('transient', `reading ${uri} broke off: ${(err as Error).message}`, err);
    }
  }
}

/** The total size from a Content-Range header such as "bytes 0-16383/52000". */
export function parseTotalSize(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /\/(\d+)\s*$/.exec(contentRange) : null;
  return match ? Number(match[1]) : undefined;
}

/** Image bytes from a local directory laid out as `<root>/<bucket>/<key>`. */
export class LocalImageByteSource implements ImageByteSource {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = `local directory ${this.root}`;
  }

  /** The local path an s3:// URI maps to. */
  pathOf(uri: string): string {
    const { bucket, key } = splitUri(uri);
    const resolved = path.resolve(this.root, bucket, ...key.split('/'));
    if (!resolved.startsWith(this.root + path.sep)) throw new ImageReadError('not-found', `${uri} maps outside ${this.root}`);
    return resolved;
  }

  readRange(uri: string, start: number, end: number): Promise<ImageByteRange> {
    return this.read(uri, () => [start, end]);
  }

  readSuffix(uri: string, length: number): Promise<ImageByteRange> {
    return this.read(uri, (size) => [Math.max(0, size - length), size]);
  }

  /** Reads the range `rangeOf(size)` gives for the file's size. */
  private async read(uri: string, rangeOf: (size: number) => [number, number]): Promise<ImageByteRange> {
    const file = this.pathOf(uri);
    let handle;
    try {
      handle = await open(file, 'r');
      const stats = await handle.stat();
      if (!stats.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      const size = stats.size;
      const [start, end] = rangeOf(size);
      const length = Math.max(0, Math.min(end, size) - start);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = length > 0 ? await handle.read(buffer, 0, length, start) : { bytesRead: 0 };
      return { bytes: buffer.subarray(0, bytesRead), totalSize: size };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new ImageReadError('not-found', `${uri} does not exist (looked for ${file})`, err);
      if (code === 'EACCES' || code === 'EPERM') throw new ImageReadError('access-denied', `${file} cannot be read (${code})`, err);
      if (code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN') throw new ImageReadError('transient', `${file}: ${code}`, err);
      throw err;
    } finally {
      await handle?.close();
    }
  }
}
