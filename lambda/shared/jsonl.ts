/**
 * Streaming JSONL line splitter: turns a stream of byte chunks (a local file stream or an S3
 * GetObject body) into numbered lines without holding the file in memory.
 *
 * It splits the raw bytes at newline bytes (0x0a never occurs inside a multi-byte UTF-8
 * character) and decodes each line on its own, which is faster than decoding whole chunks
 * and slicing them, and hands out each line's bytes too (the duplicate detector hashes them).
 *
 * Bytes that are not valid UTF-8 are flagged per line (`invalidUtf8`, with the first bad byte's
 * offset): decoding replaces them with U+FFFD, so only a line whose text holds U+FFFD is
 * checked byte by byte, and valid lines cost one native indexOf. Lines are decoded whole (a
 * line that spans chunks is joined first), so a character split across chunks is never
 * mistaken for an invalid one.
 *
 * Memory stays bounded by the chunk size plus the longest line; a line longer than
 * `maxLineBytes` is not buffered at all (it is reported as too long and skipped), so one
 * corrupt multi-gigabyte "line" cannot exhaust a Lambda function's memory.
 */

/** One line of a JSONL file. */
export interface JsonlLine {
  /** 1-based line number, as editors show it. */
  readonly lineNumber: number;
  /** The line decoded as UTF-8, without its line break ("\n" or "\r\n"); empty when `tooLong`. */
  readonly text: string;
  /**
   * Where the line's bytes (without the line break) are: `source[start, start + byteLength)`.
   * Valid while the batch is processed; given as offsets so no view is created per line.
   */
  readonly source: Uint8Array;
  readonly start: number;
  /** Set when the line exceeded `maxLineBytes`; its content was dropped. */
  readonly tooLong?: boolean;
  /** Length of the line in bytes (also when `tooLong`, counted while skipping). */
  readonly byteLength: number;
  /** Set when the line's bytes are not valid UTF-8: where the first invalid byte is. */
  readonly invalidUtf8?: InvalidUtf8Position;
}

/** Where the first byte that is not valid UTF-8 lies. */
export interface InvalidUtf8Position {
  /** 0-based offset within the line (after a byte order mark). */
  readonly lineByte: number;
  /** 0-based offset within the file. */
  readonly fileByte: number;
}

/** Options of {@link readJsonlLineBatches}. */
export interface JsonlReadOptions {
  /** Longest line kept, in bytes. @default 8 MiB */
  readonly maxLineBytes?: number;
  /** Called after every chunk with the number of bytes consumed so far (progress reporting). */
  readonly onBytes?: (bytesRead: number) => void;
}

/** What {@link readJsonlLineBatches} learned about the file besides its lines. */
export interface JsonlFileFacts {
  /** Whether the file started with a UTF-8 byte order mark (removed from line 1). */
  hadByteOrderMark: boolean;
  /** Bytes read. */
  bytesRead: number;
}

/** The default longest line: far above any record Bedrock accepts (16,000 tokens ~ 64 KB). */
export const DEFAULT_MAX_LINE_BYTES = 8 * 1024 * 1024;

const NEWLINE = 0x0a;
const REPLACEMENT_CHARACTER = '\ufffd';
const CARRIAGE_RETURN = 0x0d;
const EMPTY = new Uint8Array(0);

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Yields the lines of a JSONL stream in batches (one batch per input chunk), which costs far
 * less per line than yielding lines one by one. A final line without a trailing newline is
 * included; the empty remainder after a trailing newline is not.
 *
 * @param facts filled in while reading (byte order mark, bytes read).
 */
export async function* readJsonlLineBatches(
  chunks: AsyncIterable<Uint8Array | string>,
  options: JsonlReadOptions = {},
  facts: JsonlFileFacts = { hadByteOrderMark: false, bytesRead: 0 },
): AsyncGenerator<JsonlLine[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let pending: Buffer[] = []; // pieces of the current line from earlier chunks
  let pendingLength = 0;
  let skipping = false; // inside a too-long line: drop bytes until the next newline
  let skippedLength = 0;
  let lineNumber = 0;
  let lineOffset = 0; // file offset of the current line's first byte

  const finishLine = (piece: Buffer, start: number, end: number, batch: JsonlLine[]) => {
    lineNumber++;
    const lineStart = lineOffset;
    lineOffset += (skipping ? skippedLength : pendingLength) + (end - start) + 1;
    if (skipping) {
      batch.push({ lineNumber, text: '', source: EMPTY, start: 0, tooLong: true, byteLength: skippedLength + end - start });
      skipping = false;
      skippedLength = 0;
      return;
    }
    let bytes: Buffer;
    let from: number;
    let to: number;
    if (pendingLength > 0) {
      bytes = Buffer.concat([...pending, piece.subarray(start, end)]);
      from = 0;
      to = bytes.length;
      pending = [];
      pendingLength = 0;
    } else {
      bytes = piece;
      from = start;
      to = end;
    }
    const lineFirstByte = from; // before a byte order mark is skipped
    if (to > from && bytes[to - 1] === CARRIAGE_RETURN) to--;
    if (lineNumber === 1 && to - from >= 3 && bytes[from] === 0xef && bytes[from + 1] === 0xbb && bytes[from + 2] === 0xbf) {
      facts.hadByteOrderMark = true;
      from += 3;
    }
    if (to - from > maxLineBytes) {
      batch.push({ lineNumber, text: '', source: EMPTY, start: 0, tooLong: true, byteLength: to - from });
      return;
    }
    const text = bytes.toString('utf8', from, to);
    // U+FFFD is what the decoder puts in place of invalid bytes; a genuine U+FFFD is valid UTF-8.
    const invalidAt = text.indexOf(REPLACEMENT_CHARACTER) >= 0 ? firstInvalidUtf8Byte(bytes, from, to) : -1;
    if (invalidAt >= 0) {
      batch.push({
        lineNumber,
        text,
        source: bytes,
        start: from,
        byteLength: to - from,
        invalidUtf8: { lineByte: invalidAt - from, fileByte: lineStart + (invalidAt - lineFirstByte) },
      });
      return;
    }
    batch.push({ lineNumber, text, source: bytes, start: from, byteLength: to - from });
  };

  for await (const raw of chunks) {
    const chunk = asBuffer(raw);
    facts.bytesRead += chunk.length;
    const batch: JsonlLine[] = [];
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(NEWLINE, start);
      if (newline < 0) break;
      finishLine(chunk, start, newline, batch);
      start = newline + 1;
    }
    const rest = chunk.length - start;
    if (skipping) {
      skippedLength += rest;
    } else if (pendingLength + rest > maxLineBytes) {
      skipping = true;
      skippedLength = pendingLength + rest;
      pending = [];
      pendingLength = 0;
    } else if (rest > 0) {
      // Copy: the stream may reuse its buffer for the next chunk.
      pending.push(Buffer.from(chunk.subarray(start)));
      pendingLength += rest;
    }
    options.onBytes?.(facts.bytesRead);
    if (batch.length > 0) yield batch;
  }
  if (pendingLength > 0 || skipping) {
    const batch: JsonlLine[] = [];
    finishLine(Buffer.alloc(0), 0, 0, batch);
    yield batch;
  }
}

/**
 * Offset of the first byte of `bytes[from, to)` that is not part of a valid UTF-8 sequence
 * (overlong forms, surrogates and code points above U+10FFFF are invalid, as in RFC 3629),
 * or -1 when all of it is valid.
 */
export function firstInvalidUtf8Byte(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let i = from;
  while (i < to) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let min: number; // smallest code point of this length (shorter would be overlong)
    let codePoint: number;
    if (b >= 0xc2 && b <= 0xdf) [length, min, codePoint] = [2, 0x80, b & 0x1f];
    else if (b >= 0xe0 && b <= 0xef) [length, min, codePoint] = [3, 0x800, b & 0x0f];
    else if (b >= 0xf0 && b <= 0xf4) [length, min, codePoint] = [4, 0x10000, b & 0x07];
    else return i;
    if (i + length > to) return i;
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) return i;
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i;
    i += length;
  }
  return -1;
}

/** Yields the lines of a JSONL stream one at a time (convenient where speed matters less). */
export async function* readJsonlLines(chunks: AsyncIterable<Uint8Array | string>, options: JsonlReadOptions = {}): AsyncGenerator<JsonlLine> {
  for await (const batch of readJsonlLineBatches(chunks, options)) yield* batch;
}
