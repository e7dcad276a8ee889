/**
 * The pictures of the lowest-scoring examples, embedded in the HTML report (the questions are
 * about them). Pure: the handler reads the bytes, these functions decide what is embedded.
 *
 * There is no image library among the dependencies (and decoding untrusted images in the
 * reporting step is a risk of its own), so images are not re-encoded: a small image is
 * embedded as it is, as a `data:` URI whose MIME type comes from the file's own magic bytes,
 * and shown scaled down by its `width`/`height` attributes and CSS. An image over the byte
 * limit, past the count limit, or unreadable gets a placeholder that says why and names the
 * S3 object. Both limits together bound the report's size and the bytes the step reads.
 */
import { ImageFormat } from '../bedrock-record';
import { detectImageFormat, readImageInfo } from '../image-header';
import { ReportRecord } from './report-model';

/** How many images a report embeds and how large each may be. */
export interface ReportImageLimits {
  /** Image slots embedded in the whole report, in the order of the examples. */
  readonly maxImages: number;
  /** Largest image file embedded, in bytes; larger ones get a placeholder. */
  readonly maxBytesPerImage: number;
}

/**
 * 10 images (one per default lowest-scoring example) of at most 256 KiB each: a typical chart
 * or photo of a VQA set fits, and the embedded pictures add at most ~3.4 MB (base64) to the page.
 */
export const DEFAULT_REPORT_IMAGE_LIMITS: ReportImageLimits = { maxImages: 10, maxBytesPerImage: 256 * 1024 };

/** The box an embedded image is scaled down into, in CSS pixels (never scaled up). */
export const REPORT_IMAGE_BOX = { width: 320, height: 240 } as const;

/** An image as the report shows it: embedded, or a placeholder with the reason. */
export type ReportImage =
  | {
      readonly kind: 'embedded';
      readonly uri: string;
      readonly mimeType: string;
      /** `data:<mime>;base64,<bytes>`. */
      readonly dataUri: string;
      /** Pixel size from the header; 0 when the header does not say (the CSS box still applies). */
      readonly width: number;
      readonly height: number;
      readonly bytes: number;
    }
  | { readonly kind: 'placeholder'; readonly uri: string; readonly reason: string };

const MIME_TYPES: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp' };

/** Checks limits given by configuration; throws a message naming the wrong one. */
export function checkReportImageLimits(limits: ReportImageLimits): void {
  if (!Number.isInteger(limits.maxImages) || limits.maxImages < 0) throw new Error(`Report image limits: maxImages must be a whole number >= 0, got ${limits.maxImages}`);
  if (!Number.isInteger(limits.maxBytesPerImage) || limits.maxBytesPerImage < 1) throw new Error(`Report image limits: maxBytesPerImage must be a whole number >= 1, got ${limits.maxBytesPerImage}`);
}

/** The image slots of the examples, in order: which record shows which image. */
export function imageSlots(records: readonly ReportRecord[]): Array<{ readonly recordId: string; readonly uri: string }> {
  return records.flatMap((record) => record.imageUris.map((uri) => ({ recordId: record.recordId, uri })));
}

/** The distinct images to read: those of the first `maxImages` slots of the examples. */
export function imagesToRead(records: readonly ReportRecord[], limits: ReportImageLimits): string[] {
  return [...new Set(imageSlots(records).slice(0, limits.maxImages).map((slot) => slot.uri))];
}

/** A placeholder for an image that is not embedded. */
export function imagePlaceholder(uri: string, reason: string): ReportImage {
  return { kind: 'placeholder', uri, reason };
}

/**
 * What the report shows for an image file: embedded when it is at most `maxBytesPerImage` and
 * its bytes are a PNG, JPEG, GIF or WebP (the MIME type follows the bytes, not the record's
 * `format`), otherwise a placeholder.
 * @param bytes the file, or its first bytes when it is larger than the limit
 * @param totalBytes the size of the whole file
 */
export function reportImageOf(uri: string, bytes: Uint8Array, totalBytes: number, limits: ReportImageLimits): ReportImage {
  if (totalBytes > limits.maxBytesPerImage) {
    return imagePlaceholder(uri, `${formatBytes(totalBytes)} is over the ${formatBytes(limits.maxBytesPerImage)} an embedded image may have`);
  }
  const format = detectImageFormat(bytes);
  if (!format) return imagePlaceholder(uri, 'the file is not a PNG, JPEG, GIF or WebP image');
  const info = readImageInfo(bytes);
  const mimeType = MIME_TYPES[format];
  return {
    kind: 'embedded',
    uri,
    mimeType,
    dataUri: `data:${mimeType};base64,${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`,
    width: info?.width ?? 0,
    height: info?.height ?? 0,
    bytes: totalBytes,
  };
}

/** The size an image is shown at: fitted into {@link REPORT_IMAGE_BOX}, aspect kept, never enlarged. */
export function displaySize(width: number, height: number): { width: number; height: number } | undefined {
  if (!(width > 0 && height > 0)) return undefined;
  const scale = Math.min(1, REPORT_IMAGE_BOX.width / width, REPORT_IMAGE_BOX.height / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** "256 KiB", "3.2 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
