/**
 * Generators of tiny but real image files, for tests and benchmarks.
 *
 * Each generator writes a complete file that a standard decoder accepts (checked with
 * pngcheck, djpeg, giftext and dwebp while writing this), with any width and height the
 * format can express. Every image is a flat grey picture, encoded so that its size stays
 * small even when the header says 9000 x 9000 pixels:
 * - PNG: 1-bit greyscale, zlib-compressed rows of zeros, valid CRCs.
 * - JPEG: baseline (SOF0) greyscale with one-symbol Huffman tables, so each 8x8 block costs
 *   two bits; optional APP segments push the SOF far into the file.
 * - GIF: GIF89a whose logical screen has the chosen size, holding a 1x1 frame (decoders fill
 *   the rest of the screen with the background colour).
 * - WebP VP8L: lossless with single-symbol prefix codes, so pixels cost no bits at all.
 * - WebP VP8: a lossy key frame whose partitions are all zero bytes. A boolean decoder reads
 *   zero bits from zero bytes whatever the probabilities, which decodes as intra-predicted
 *   macroblocks without coefficients; about 3 bytes per 16x16 macroblock are provided.
 * - WebP VP8X: the extended header with the canvas size, followed by a VP8L or VP8 frame.
 */
import { crc32, deflateSync } from 'zlib';

/** An image format the generators can write (same spelling as Bedrock's `format`). */
export type FixtureImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

/** Which WebP bitstream to write. */
export type WebpVariant = 'VP8' | 'VP8L' | 'VP8X';

/** Options shared by {@link imageBytes}. */
export interface ImageFixtureOptions {
  /** PNG only: size of an extra ancillary chunk, to make a file larger than a limit. */
  readonly paddingBytes?: number;
  /** JPEG only: bytes of APP1 metadata placed before the start-of-frame header. */
  readonly metadataBytes?: number;
  /** WebP only: the bitstream variant. @default 'VP8L' */
  readonly webpVariant?: WebpVariant;
}

/** A real image of the given format and size. */
export function imageBytes(format: FixtureImageFormat, width: number, height: number, options: ImageFixtureOptions = {}): Buffer {
  switch (format) {
    case 'png':
      return pngImage(width, height, { paddingBytes: options.paddingBytes });
    case 'jpeg':
      return jpegImage(width, height, { metadataBytes: options.metadataBytes });
    case 'gif':
      return gifImage(width, height);
    case 'webp':
      return webpImage(width, height, options.webpVariant ?? 'VP8L');
  }
}

// ---------------------------------------------------------------- PNG

/** A 1-bit greyscale PNG; `paddingBytes` adds a private ancillary chunk of that many bytes. */
export function pngImage(width: number, height: number, options: { paddingBytes?: number } = {}): Buffer {
  requireSide(width, 1, 0x7fffffff, 'PNG width');
  requireSide(height, 1, 0x7fffffff, 'PNG height');
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 1; // bit depth
  header[9] = 0; // colour type: greyscale
  // compression, filter and interlace methods stay 0
  const rowBytes = 1 + Math.ceil(width / 8); // filter byte + packed pixels
  const pixels = deflateSync(Buffer.alloc(rowBytes * height));
  const chunks = [pngChunk('IHDR', header), pngChunk('IDAT', pixels)];
  if (options.paddingBytes && options.paddingBytes > 0) chunks.push(pngChunk('fiLl', Buffer.alloc(options.paddingBytes)));
  chunks.push(pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

// ---------------------------------------------------------------- JPEG

/** A baseline greyscale JPEG; `metadataBytes` of APP1 data come before the SOF0 header. */
export function jpegImage(width: number, height: number, options: { metadataBytes?: number } = {}): Buffer {
  requireSide(width, 1, 0xffff, 'JPEG width');
  requireSide(height, 1, 0xffff, 'JPEG height');
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  parts.push(jpegSegment(0xe0, Buffer.from([0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]))); // JFIF
  let metadata = options.metadataBytes ?? 0;
  while (metadata > 0) {
    const size = Math.min(metadata, 65533);
    const payload = Buffer.alloc(size);
    payload.write('Exif\0\0', 0, 'latin1');
    parts.push(jpegSegment(0xe1, payload));
    metadata -= size;
  }
  parts.push(jpegSegment(0xdb, Buffer.concat([Buffer.from([0x00]), Buffer.alloc(64, 1)]))); // one quantisation table
  const frame = Buffer.alloc(9);
  frame[0] = 8; // sample precision
  frame.writeUInt16BE(height, 1);
  frame.writeUInt16BE(width, 3);
  frame[5] = 1; // one component
  frame[6] = 1; // component id
  frame[7] = 0x11; // no subsampling
  frame[8] = 0; // quantisation table 0
  parts.push(jpegSegment(0xc0, frame));
  // One code of length 1 in each table: DC category 0 (no difference), AC end-of-block.
  const oneSymbolTable = (tableClassAndId: number) => Buffer.concat([Buffer.from([tableClassAndId, 1]), Buffer.alloc(15), Buffer.from([0x00])]);
  parts.push(jpegSegment(0xc4, oneSymbolTable(0x00)));
  parts.push(jpegSegment(0xc4, oneSymbolTable(0x10)));
  parts.push(jpegSegment(0xda, Buffer.from([1, 1, 0x00, 0, 63, 0])));
  // Every 8x8 block is "DC diff 0" + "EOB": two zero bits. Pad the last byte with one bits.
  const blocks = Math.ceil(width / 8) * Math.ceil(height / 8);
  const bits = blocks * 2;
  const scan = Buffer.alloc(Math.ceil(bits / 8));
  const spare = scan.length * 8 - bits;
  if (spare > 0) scan[scan.length - 1] = (1 << spare) - 1;
  parts.push(scan, Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

function jpegSegment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

// ---------------------------------------------------------------- GIF

/** A GIF89a with a logical screen of the given size and a single 1x1 frame. */
export function gifImage(width: number, height: number): Buffer {
  requireSide(width, 1, 0xffff, 'GIF width');
  requireSide(height, 1, 0xffff, 'GIF height');
  const screen = Buffer.alloc(7);
  screen.writeUInt16LE(width, 0);
  screen.writeUInt16LE(height, 2);
  screen[4] = 0x80; // global colour table of 2 entries
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    screen,
    Buffer.from([0x80, 0x80, 0x80, 0xff, 0xff, 0xff]), // the two colours
    Buffer.from([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0]), // image descriptor: at (0,0), 1x1, no local table
    // LZW minimum code size 2; codes clear(4), 0, end(5) packed in 3-bit codes.
    Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00]),
    Buffer.from([0x3b]),
  ]);
}

// ---------------------------------------------------------------- WebP

/** A WebP image in the chosen bitstream variant (VP8X wraps a VP8L frame). */
export function webpImage(width: number, height: number, variant: WebpVariant = 'VP8L'): Buffer {
  switch (variant) {
    case 'VP8L':
      return riff([vp8lChunk(width, height)]);
    case 'VP8':
      return riff([vp8Chunk(width, height)]);
    case 'VP8X':
      return riff([vp8xChunk(width, height), vp8lChunk(width, height)]);
  }
}

function riff(chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

function riffChunk(fourCc: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(fourCc, 0, 'latin1');
  head.writeUInt32LE(payload.length, 4);
  const pad = payload.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  return Buffer.concat([head, payload, pad]);
}

function vp8xChunk(width: number, height: number): Buffer {
  requireSide(width, 1, 1 << 24, 'WebP canvas width');
  requireSide(height, 1, 1 << 24, 'WebP canvas height');
  const payload = Buffer.alloc(10); // flags 0: no alpha, ICC, EXIF, XMP or animation
  payload.writeUIntLE(width - 1, 4, 3);
  payload.writeUIntLE(height - 1, 7, 3);
  return riffChunk('VP8X', payload);
}

function vp8lChunk(width: number, height: number): Buffer {
  requireSide(width, 1, 16384, 'WebP lossless width');
  requireSide(height, 1, 16384, 'WebP lossless height');
  const bits = new LsbBitWriter();
  bits.write(0x2f, 8); // signature
  bits.write(width - 1, 14);
  bits.write(height - 1, 14);
  bits.write(0, 1); // alpha not used
  bits.write(0, 3); // version
  bits.write(0, 1); // no transform
  bits.write(0, 1); // no colour cache
  bits.write(0, 1); // no meta prefix codes
  // Five simple prefix codes with one symbol each: green, red, blue, alpha, distance.
  for (const symbol of [0x80, 0x80, 0x80, 0xff]) {
    bits.write(1, 1); // simple code
    bits.write(0, 1); // one symbol
    bits.write(1, 1); // 8-bit symbol
    bits.write(symbol, 8);
  }
  bits.write(1, 1);
  bits.write(0, 1);
  bits.write(0, 1); // 1-bit symbol
  bits.write(0, 1);
  // Pixels decode with zero bits each: nothing more to write.
  return riffChunk('VP8L', bits.bytes());
}

/** Most bytes the first VP8 partition may have (its size field is 19 bits). */
const VP8_MAX_FIRST_PARTITION = (1 << 19) - 1;

function vp8Chunk(width: number, height: number): Buffer {
  requireSide(width, 1, 16383, 'WebP lossy width');
  requireSide(height, 1, 16383, 'WebP lossy height');
  const macroblocks = Math.ceil(width / 16) * Math.ceil(height / 16);
  // Zero bytes decode as zero bits; these budgets leave a wide margin over what the modes
  // (first partition, ~4 bits per macroblock) and end-of-block tokens (~9 bits) consume.
  const firstPartition = Math.min(VP8_MAX_FIRST_PARTITION, 2048 + macroblocks);
  const tokenPartition = 1024 + 2 * macroblocks;
  const header = Buffer.alloc(10);
  const tag = (1 << 4) | (firstPartition << 5); // key frame, version 0, shown
  header.writeUIntLE(tag, 0, 3);
  header[3] = 0x9d;
  header[4] = 0x01;
  header[5] = 0x2a;
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  return riffChunk('VP8 ', Buffer.concat([header, Buffer.alloc(firstPartition + tokenPartition)]));
}

/** Packs values least-significant bit first, as VP8L reads them. */
class LsbBitWriter {
  private readonly out: number[] = [];
  private current = 0;
  private used = 0;

  write(value: number, count: number): void {
    for (let i = 0; i < count; i++) {
      this.current |= ((value >>> i) & 1) << this.used;
      this.used++;
      if (this.used === 8) {
        this.out.push(this.current);
        this.current = 0;
        this.used = 0;
      }
    }
  }

  bytes(): Buffer {
    return Buffer.from(this.used > 0 ? [...this.out, this.current] : this.out);
  }
}

function requireSide(value: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be a whole number from ${min} to ${max}, got ${value}`);
  }
}
