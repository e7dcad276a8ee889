/**
 * Reads the facts the image rules need (real format, width, height, file size) from the
 * first bytes of each image, with bounded concurrency, retries of throttled reads, and each
 * distinct URI read once however many records use it.
 *
 * Reads start with {@link IMAGE_HEADER_PREFIX_BYTES}; when a JPEG's start-of-frame lies
 * further in, the next read fetches only the missing bytes, at least doubling the prefix,
 * up to `maxHeaderBytes`. The end of the file is checked for truncation too (see
 * {@link inspectImageEnd}). For an image longer than the first read, that takes a read of its
 * last {@link IMAGE_TRAILER_BYTES} bytes: a suffix read sent alongside the first read (one round
 * trip per image, not two) while most images so far were longer than the first read, else read
 * by offset once the size is known (so a dataset of small images costs one GET per image, and a
 * dataset of large ones one round trip).
 */
import { ImageFormat } from '../bedrock-record';
import { IMAGE_HEADER_PREFIX_BYTES, IMAGE_TRAILER_BYTES, ImageInfo, imageEndNeedsTail, inspectImageEnd, inspectImageHeader } from '../image-header';
import { createLimiter, Limiter } from './concurrency';
import { ImageByteRange, ImageByteSource, ImageReadError, isRetryableImageReadError } from './image-source';
import { RetryOptions, withRetry } from './retry';

/** What is known about one image after reading its header. */
export type ImageCheckOutcome =
  | { readonly ok: true; readonly format: ImageFormat; readonly width: number; readonly height: number; readonly size: number }
  | {
      readonly ok: false;
      readonly rule: 'image-not-found' | 'image-access-denied' | 'image-unreadable' | 'image-truncated';
      /** Why, for the message. */
      readonly detail: string;
      /** File size when known (so the size rule can still apply). */
      readonly size?: number;
    };

/** Options of {@link ImageChecker}. */
export interface ImageCheckerOptions {
  /** Images read at the same time. @default 32 */
  readonly concurrency?: number;
  /** Bytes of the first read. @default IMAGE_HEADER_PREFIX_BYTES (16 KiB) */
  readonly firstReadBytes?: number;
  /** Give up looking for the size fields after this many bytes. @default 1 MiB */
  readonly maxHeaderBytes?: number;
  /** Retry policy for throttled and transient reads. */
  readonly retry?: RetryOptions;
}

/** Counters for the report and the tests. */
export interface ImageCheckerStats {
  /** Distinct URIs read (a URI repeated after MAX_REMEMBERED_IMAGES others counts again). */
  uniqueImages: number;
  /** Ranged reads issued (retries included). */
  rangeRequests: number;
  /** Bytes received. */
  bytesRead: number;
  /** Reads retried after throttling or a transient failure. */
  retries: number;
}

/** A read that has finished, well or not. */
type SettledRead = { readonly range: ImageByteRange } | { readonly error: unknown };

/** Default concurrency of image reads. */
export const DEFAULT_IMAGE_CONCURRENCY = 32;
/** Most image outcomes remembered for de-duplication (see {@link ImageChecker}). */
export const MAX_REMEMBERED_IMAGES = 200_000;
/** Default most header bytes read per image. */
export const DEFAULT_MAX_HEADER_BYTES = 1024 * 1024;

/** See the module comment. Throws (from `check`) only for failures that retries could not cure. */
export class ImageChecker {
  readonly stats: ImageCheckerStats = { uniqueImages: 0, rangeRequests: 0, bytesRead: 0, retries: 0 };
  /**
   * One entry per distinct URI: a few hundred bytes each. Bedrock takes at most 10,000 records,
   * so valid datasets stay far below the cap; past it, images are no longer remembered (a
   * repeated URI is read again) so memory stays bounded on any input.
   */
  private readonly outcomes = new Map<string, Promise<ImageCheckOutcome>>();
  private readonly limit: Limiter;
  private readonly firstReadBytes: number;
  private readonly maxHeaderBytes: number;
  /** Images whose first read held the whole file, and images longer than that: predicts whether the end needs a read. */
  private readonly lengthsSeen = { wholeInFirstRead: 0, longer: 0 };

  constructor(
    readonly source: ImageByteSource,
    private readonly options: ImageCheckerOptions = {},
  ) {
    this.limit = createLimiter(options.concurrency ?? DEFAULT_IMAGE_CONCURRENCY);
    this.firstReadBytes = Math.max(64, options.firstReadBytes ?? IMAGE_HEADER_PREFIX_BYTES);
    this.maxHeaderBytes = Math.max(this.firstReadBytes, options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES);
  }

  /** The outcome for an image, reading it only the first time its URI is seen. */
  check(uri: string): Promise<ImageCheckOutcome> {
    let outcome = this.outcomes.get(uri);
    if (!outcome) {
      this.stats.uniqueImages++;
      outcome = this.limit(() => this.inspect(uri));
      if (this.outcomes.size < MAX_REMEMBERED_IMAGES) this.outcomes.set(uri, outcome);
    }
    return outcome;
  }

  private read(uri: string, start: number, end: number) {
    return this.counted(() => this.source.readRange(uri, start, end));
  }

  /** A read with retries of throttled and transient failures, counted in the stats. */
  private async counted(read: () => Promise<ImageByteRange>): Promise<ImageByteRange> {
    const range = await withRetry(
      () => {
        this.stats.rangeRequests++;
        return read();
      },
      isRetryableImageReadError,
      this.options.retry,
      () => this.stats.retries++,
    );
    this.stats.bytesRead += range.bytes.byteLength;
    return range;
  }

  private async inspect(uri: string): Promise<ImageCheckOutcome> {
    // The end of the file is read alongside the header; settled at once so a failure is never unhandled.
    const source = this.source;
    const endLikelyNeeded = this.lengthsSeen.longer >= this.lengthsSeen.wholeInFirstRead;
    const suffix: Promise<SettledRead> | undefined = source.readSuffix && endLikelyNeeded
      ? this.counted(() => source.readSuffix!(uri, IMAGE_TRAILER_BYTES)).then(
          (range) => ({ range }),
          (error: unknown) => ({ error }),
        )
      : undefined;
    try {
      return await this.readHeader(uri, suffix);
    } catch (err) {
      if (err instanceof ImageReadError && err.kind === 'not-found') return { ok: false, rule: 'image-not-found', detail: err.message };
      if (err instanceof ImageReadError && err.kind === 'access-denied') return { ok: false, rule: 'image-access-denied', detail: err.message };
      throw err;
    } finally {
      // Never leave a read running past the check (its slot of the concurrency limit is given back now).
      await suffix;
    }
  }

  private async readHeader(uri: string, suffix: Promise<SettledRead> | undefined): Promise<ImageCheckOutcome> {
    const first = await this.read(uri, 0, this.firstReadBytes);
    const size = first.totalSize;
    if (size <= this.firstReadBytes) this.lengthsSeen.wholeInFirstRead++;
    else this.lengthsSeen.longer++;
    let bytes = first.bytes;
    for (;;) {
      const header = inspectImageHeader(bytes);
      if (header.status === 'ok') return this.checkEnd(uri, header.info, bytes, size, suffix);
      if (header.status === 'invalid') return { ok: false, rule: 'image-unreadable', detail: header.reason, size };
      if (bytes.byteLength >= size) {
        return { ok: false, rule: 'image-unreadable', detail: size === 0 ? 'the file is empty' : `the file ends (${size} bytes) before the image header does`, size };
      }
      if (bytes.byteLength >= this.maxHeaderBytes) {
        return { ok: false, rule: 'image-unreadable', detail: `no image size found in the first ${this.maxHeaderBytes} bytes`, size };
      }
      const wanted = Math.min(size, this.maxHeaderBytes, Math.max(header.minBytes, bytes.byteLength * 2));
      const more = await this.read(uri, bytes.byteLength, wanted);
      if (more.bytes.byteLength === 0) return { ok: false, rule: 'image-unreadable', detail: 'the file ended early while reading its header', size };
      bytes = Buffer.concat([bytes, more.bytes]);
    }
  }

  /** Checks that the file is complete, reading its last bytes when they are not in `head` yet. */
  private async checkEnd(uri: string, info: ImageInfo, head: Uint8Array, size: number, suffix: Promise<SettledRead> | undefined): Promise<ImageCheckOutcome> {
    let tail: Uint8Array = head;
    if (imageEndNeedsTail(info.format)) {
      const tailStart = Math.max(0, size - IMAGE_TRAILER_BYTES);
      const read = head.byteLength >= size ? undefined : await suffix;
      if (read && 'error' in read) throw read.error;
      if (head.byteLength >= size) {
        tail = head.subarray(tailStart, size);
      } else if (read && read.range.totalSize === size && read.range.bytes.byteLength === size - tailStart) {
        tail = read.range.bytes;
      } else {
        // No suffix read, or the object changed size between the reads: read the end by offset.
        const readFrom = Math.max(tailStart, head.byteLength);
        const more = await this.read(uri, readFrom, size);
        tail = readFrom === tailStart ? more.bytes : Buffer.concat([head.subarray(tailStart), more.bytes]);
      }
    }
    const end = inspectImageEnd(info.format, head, tail, size);
    if (!end.complete) return { ok: false, rule: 'image-truncated', detail: end.reason, size };
    return { ok: true, ...info, size };
  }
}
