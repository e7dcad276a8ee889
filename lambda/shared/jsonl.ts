/**
 * Streaming JSONL line splitter: turns a stream of byte chunks (a local file stream or an S3
 * GetObject body) into numbered lines without holding the file in memory.
 *
 * Memory stays bounded by the chunk size plus the longest line; a line longer than
 * `maxLineChars` is not buffered at all (it is reported as too long and skipped), so one
 * corrupt multi-gigabyte "line" cannot exhaust a Lambda function's memory.
 */
import { StringDecoder } from 'string_decoder';

/** One line of a JSONL file. */
export interface JsonlLine {
  /** 1-based line number, as editors show it. */
  readonly lineNumber: number;
  /** The line without its line break ("\n" or "\r\n"); empty when `tooLong`. */
  readonly text: string;
  /** Set when the line exceeded `maxLineChars`; its text was dropped. */
  readonly tooLong?: boolean;
  /** Length of the line in characters (also when `tooLong`, counted while skipping). */
  readonly length: number;
}

/** Options of {@link readJsonlLineBatches}. */
export interface JsonlReadOptions {
  /** Longest line kept, in UTF-16 characters. @default 8 MiB of characters */
  readonly maxLineChars?: number;
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
export const DEFAULT_MAX_LINE_CHARS = 8 * 1024 * 1024;

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
  const maxLineChars = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const decoder = new StringDecoder('utf8');
  let pending = ''; // start of the current line, carried over from earlier chunks
  let skipping = false; // inside a too-long line: drop characters until the next newline
  let skippedLength = 0;
  let lineNumber = 0;
  let first = true;

  const finishLine = (text: string, batch: JsonlLine[]) => {
    lineNumber++;
    if (skipping) {
      batch.push({ lineNumber, text: '', tooLong: true, length: skippedLength + text.length });
      skipping = false;
      skippedLength = 0;
      return;
    }
    const withoutCr = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (withoutCr.length > maxLineChars) {
      batch.push({ lineNumber, text: '', tooLong: true, length: withoutCr.length });
      return;
    }
    batch.push({ lineNumber, text: withoutCr, length: withoutCr.length });
  };

  for await (const chunk of chunks) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    facts.bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) {
        facts.hadByteOrderMark = true;
        text = text.slice(1);
      }
    }
    const batch: JsonlLine[] = [];
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      if (newline < 0) break;
      const piece = text.slice(start, newline);
      finishLine(pending.length > 0 ? pending + piece : piece, batch);
      pending = '';
      start = newline + 1;
    }
    const rest = text.slice(start);
    if (skipping) {
      skippedLength += rest.length;
    } else if (pending.length + rest.length > maxLineChars) {
      skipping = true;
      skippedLength = pending.length + rest.length;
      pending = '';
    } else {
      pending += rest;
    }
    options.onBytes?.(facts.bytesRead);
    if (batch.length > 0) yield batch;
  }
  const tail = pending + decoder.end();
  if (tail.length > 0 || skipping) {
    const batch: JsonlLine[] = [];
    finishLine(tail, batch);
    yield batch;
  }
}

/** Yields the lines of a JSONL stream one at a time (convenient where speed matters less). */
export async function* readJsonlLines(chunks: AsyncIterable<Uint8Array | string>, options: JsonlReadOptions = {}): AsyncGenerator<JsonlLine> {
  for await (const batch of readJsonlLineBatches(chunks, options)) yield* batch;
}
