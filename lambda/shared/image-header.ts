/**
 * Image format and pixel size from the first bytes of a file, without decoding the image.
 *
 * Pure functions over a byte prefix: the dataset validation engine feeds them the result of
 * a ranged S3 read (or a partial local file read), and `llama-finetune prepare` uses them on
 * local files. Only the four formats Bedrock accepts are recognised.
 *
 * How many bytes are enough:
 * - PNG: 24 bytes (signature + IHDR chunk header + width + height).
 * - GIF: 10 bytes (signature + logical screen width + height).
 * - WebP: 30 bytes for every variant (RIFF header + VP8, VP8L or VP8X chunk start).
 * - JPEG: the size sits in the start-of-frame (SOF) segment, after every segment that precedes
 *   it (APPn metadata, quantisation tables). That is usually within the first 2 KiB, but an
 *   EXIF block with a thumbnail or an embedded ICC profile can push it past 64 KiB. When the
 *   prefix ends before the SOF, {@link inspectImageHeader} says how long a prefix would get
 *   past the segment in the way, so a caller can read more and try again.
 * {@link IMAGE_HEADER_PREFIX_BYTES} is a first read that covers nearly all files in one go.
 *
 * A header says nothing about whether the rest of the file arrived: an upload cut short keeps
 * a perfect header. {@link inspectImageEnd} checks the end of the file instead, which costs one
 * more small read ({@link IMAGE_TRAILER_BYTES}) for a file longer than the first read:
 * - PNG ends with the IEND chunk (`00 00 00 00 'IEND' ae 42 60 82`);
 * - JPEG ends with the end-of-image marker `ff d9` (never found inside entropy-coded data,
 *   where `ff` is always followed by `00` or a restart marker);
 * - GIF ends with the trailer byte `3b`;
 * - WebP says its length in the RIFF header: the file must hold RIFF size + 8 bytes (the
 *   header alone settles it, no extra read).
 * A few bytes after the PNG or JPEG end marker are tolerated (some tools pad files).
 */
import { ImageFormat } from './bedrock-record';

/** What the header says about an image. */
export interface ImageInfo {
  readonly format: ImageFormat;
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
}

/** The outcome of looking at a header prefix. */
export type ImageHeaderResult =
  | { readonly status: 'ok'; readonly info: ImageInfo }
  /** The prefix ends too early; a prefix of at least `minBytes` bytes lets parsing progress. */
  | { readonly status: 'need-more-bytes'; readonly format?: ImageFormat; readonly minBytes: number }
  /** The bytes are not one of the four formats, or the header is malformed. */
  | { readonly status: 'invalid'; readonly format?: ImageFormat; readonly reason: string };

/** Bytes read from the end of a file to find its end marker (and tolerate a little padding). */
export const IMAGE_TRAILER_BYTES = 1024;

/** Whether the end check of a format needs the last bytes of the file (WebP's needs only the header). */
export function imageEndNeedsTail(format: ImageFormat): boolean {
  return format !== 'webp';
}

/** The outcome of {@link inspectImageEnd}. */
export type ImageEndResult = { readonly complete: true } | { readonly complete: false; readonly reason: string };

const PNG_END_CHUNK = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
const JPEG_END_OF_IMAGE = Buffer.from([0xff, 0xd9]);
const GIF_TRAILER = 0x3b;

/**
 * Whether a file of `size` bytes is complete (see the module comment).
 * @param header the first bytes of the file (at least 12 for WebP)
 * @param tail the last bytes of the file, up to {@link IMAGE_TRAILER_BYTES} (the whole file when shorter); ignored for WebP
 */
export function inspectImageEnd(format: ImageFormat, header: Uint8Array, tail: Uint8Array, size: number): ImageEndResult {
  const bytesText = (n: number) => `${n.toLocaleString('en-US')} bytes`;
  switch (format) {
    case 'webp': {
      const declared = readUint32LE(header, 4) + 8;
      return size >= declared
        ? { complete: true }
        : { complete: false, reason: `the file has ${bytesText(size)}, but its RIFF header says it has ${bytesText(declared)}: the WebP is cut short` };
    }
    case 'png':
      return Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength).indexOf(PNG_END_CHUNK) >= 0
        ? { complete: true }
        : { complete: false, reason: `the PNG (${bytesText(size)}) does not end with its IEND chunk: the file is cut short` };
    case 'jpeg':
      return Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength).lastIndexOf(JPEG_END_OF_IMAGE) >= 0
        ? { complete: true }
        : { complete: false, reason: `the JPEG (${bytesText(size)}) does not end with its end-of-image marker (FF D9): the file is cut short` };
    case 'gif':
      return tail.byteLength > 0 && tail[tail.byteLength - 1] === GIF_TRAILER
        ? { complete: true }
        : { complete: false, reason: `the GIF (${bytesText(size)}) does not end with its trailer byte (3B): the file is cut short` };
  }
}

/** A first read size that holds the size fields of nearly every PNG, GIF, WebP and JPEG file. */
export const IMAGE_HEADER_PREFIX_BYTES = 16 * 1024;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The image format named by the file's magic bytes, or undefined when it is none of png/jpeg/gif/webp. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (startsWith(bytes, 0, PNG_SIGNATURE)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (startsWithAscii(bytes, 0, 'GIF87a') || startsWithAscii(bytes, 0, 'GIF89a')) return 'gif';
  if (startsWithAscii(bytes, 0, 'RIFF') && startsWithAscii(bytes, 8, 'WEBP')) return 'webp';
  return undefined;
}

/**
 * Format, width and height read from a header prefix; undefined when the prefix is too short
 * or the bytes cannot be parsed (use {@link inspectImageHeader} to tell the two apart).
 */
export function readImageInfo(bytes: Uint8Array): ImageInfo | undefined {
  const result = inspectImageHeader(bytes);
  return result.status === 'ok' ? result.info : undefined;
}

/** Like {@link readImageInfo}, but says whether more bytes would help and why parsing failed. */
export function inspectImageHeader(bytes: Uint8Array): ImageHeaderResult {
  const format = detectImageFormat(bytes);
  // The longest signature needs 12 bytes (RIFF....WEBP); a shorter prefix may still become one.
  if (format === undefined && bytes.length < 12 && couldBeSignaturePrefix(bytes)) {
    return { status: 'need-more-bytes', minBytes: 12 };
  }
  switch (format) {
    case 'png':
      return inspectPng(bytes);
    case 'gif':
      return inspectGif(bytes);
    case 'webp':
      return inspectWebp(bytes);
    case 'jpeg':
      return inspectJpeg(bytes);
    default:
      return { status: 'invalid', reason: 'the bytes are not a PNG, JPEG, GIF or WebP image (unknown signature)' };
  }
}

function inspectPng(bytes: Uint8Array): ImageHeaderResult {
  if (bytes.length < 24) return { status: 'need-more-bytes', format: 'png', minBytes: 24 };
  if (!startsWithAscii(bytes, 12, 'IHDR')) {
    return { status: 'invalid', format: 'png', reason: 'the PNG does not start with an IHDR chunk' };
  }
  return ok('png', readUint32BE(bytes, 16), readUint32BE(bytes, 20));
}

function inspectGif(bytes: Uint8Array): ImageHeaderResult {
  if (bytes.length < 10) return { status: 'need-more-bytes', format: 'gif', minBytes: 10 };
  return ok('gif', readUint16LE(bytes, 6), readUint16LE(bytes, 8));
}

function inspectWebp(bytes: Uint8Array): ImageHeaderResult {
  if (bytes.length < 30) return { status: 'need-more-bytes', format: 'webp', minBytes: 30 };
  const chunk = String.fromCharCode(bytes[12], bytes[13], bytes[14], bytes[15]);
  const payload = 20;
  if (chunk === 'VP8 ') {
    // Lossy: 3-byte frame tag, start code 9d 01 2a, then 14-bit width and height (2 scale bits).
    if (bytes[payload + 3] !== 0x9d || bytes[payload + 4] !== 0x01 || bytes[payload + 5] !== 0x2a) {
      return { status: 'invalid', format: 'webp', reason: 'the WebP VP8 chunk lacks the key frame start code' };
    }
    return ok('webp', readUint16LE(bytes, payload + 6) & 0x3fff, readUint16LE(bytes, payload + 8) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    // Lossless: signature byte 0x2f, then 14 bits width-1 and 14 bits height-1, little-endian.
    if (bytes[payload] !== 0x2f) return { status: 'invalid', format: 'webp', reason: 'the WebP VP8L chunk lacks its signature byte' };
    const bits = readUint32LE(bytes, payload + 1);
    return ok('webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X') {
    // Extended: flags (1 byte), reserved (3), canvas width-1 (24 bits), canvas height-1 (24 bits).
    return ok('webp', readUint24LE(bytes, payload + 4) + 1, readUint24LE(bytes, payload + 7) + 1);
  }
  return { status: 'invalid', format: 'webp', reason: `the WebP file has an unknown first chunk '${chunk.replace(/[^\x20-\x7e]/g, '?')}'` };
}

/** SOF markers carry the frame size; C4 (DHT), C8 (reserved) and CC (DAC) are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length field. */
function isStandaloneMarker(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
}

function inspectJpeg(bytes: Uint8Array): ImageHeaderResult {
  let offset = 2; // after SOI (ff d8)
  for (;;) {
    if (offset >= bytes.length) return { status: 'need-more-bytes', format: 'jpeg', minBytes: offset + 2 };
    if (bytes[offset] !== 0xff) {
      return { status: 'invalid', format: 'jpeg', reason: `the JPEG has no segment marker at byte ${offset}` };
    }
    // Any number of 0xff fill bytes may precede a marker.
    let markerAt = offset + 1;
    while (markerAt < bytes.length && bytes[markerAt] === 0xff) markerAt++;
    if (markerAt >= bytes.length) return { status: 'need-more-bytes', format: 'jpeg', minBytes: markerAt + 2 };
    const marker = bytes[markerAt];
    if (isStandaloneMarker(marker)) {
      offset = markerAt + 1;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) {
      return { status: 'invalid', format: 'jpeg', reason: 'the JPEG reaches its image data without a start-of-frame header' };
    }
    if (markerAt + 3 > bytes.length) return { status: 'need-more-bytes', format: 'jpeg', minBytes: markerAt + 3 };
    const length = readUint16BE(bytes, markerAt + 1);
    if (length < 2) return { status: 'invalid', format: 'jpeg', reason: `the JPEG has a malformed segment at byte ${markerAt - 1}` };
    if (isStartOfFrame(marker)) {
      // Segment: length (2), precision (1), height (2), width (2).
      if (markerAt + 8 > bytes.length) return { status: 'need-more-bytes', format: 'jpeg', minBytes: markerAt + 8 };
      const height = readUint16BE(bytes, markerAt + 4);
      const width = readUint16BE(bytes, markerAt + 6);
      if (height === 0) {
        return { status: 'invalid', format: 'jpeg', reason: 'the JPEG defers its height to a later DNL marker; re-encode it as a baseline JPEG' };
      }
      return ok('jpeg', width, height);
    }
    offset = markerAt + 1 + length;
  }
}

function ok(format: ImageFormat, width: number, height: number): ImageHeaderResult {
  return { status: 'ok', info: { format, width, height } };
}

/** Whether a short prefix could still turn out to be one of the known signatures. */
function couldBeSignaturePrefix(bytes: Uint8Array): boolean {
  const candidates: number[][] = [
    PNG_SIGNATURE,
    [0xff, 0xd8, 0xff],
    ascii('GIF87a'),
    ascii('GIF89a'),
    ascii('RIFF'),
  ];
  return candidates.some((signature) => {
    const n = Math.min(signature.length, bytes.length);
    for (let i = 0; i < n; i++) if (bytes[i] !== signature[i]) return false;
    return true;
  });
}

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

function startsWith(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (bytes.length < at + expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
  return true;
}

function startsWithAscii(bytes: Uint8Array, at: number, text: string): boolean {
  return startsWith(bytes, at, ascii(text));
}

function readUint16BE(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function readUint16LE(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function readUint24LE(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
}

function readUint32BE(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

function readUint32LE(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + ((b[at + 3] << 24) >>> 0);
}
