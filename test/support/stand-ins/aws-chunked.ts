/**
 * Decoding of the `aws-chunked` request bodies that the AWS SDK sends to S3 when it streams
 * a payload (x-amz-content-sha256 = STREAMING-UNSIGNED-PAYLOAD-TRAILER,
 * STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER], ...). Pure functions, no I/O.
 *
 * Wire format, one chunk after another:
 *   <size in hex>[;chunk-signature=<sig>]\r\n<size bytes>\r\n
 * ending with a zero-size chunk, then optional trailer lines `name:value\r\n`, then `\r\n`.
 * Chunk signatures are not verified (the stand-ins do not check SigV4 at all).
 */

/** The payload and trailing headers of an aws-chunked body. */
export interface DecodedChunkedBody {
  readonly payload: Buffer;
  /** Trailer headers with lower-case names, e.g. `x-amz-checksum-crc32`. */
  readonly trailers: Readonly<Record<string, string>>;
}

/** Thrown when a body does not follow the aws-chunked format; the message says where. */
export class ChunkedBodyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkedBodyError';
  }
}

const CRLF = Buffer.from('\r\n');

/** Whether the request headers announce an aws-chunked body. */
export function isAwsChunked(headers: Readonly<Record<string, string | string[] | undefined>>): boolean {
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  const encoding = String(headers['content-encoding'] ?? '');
  return sha.startsWith('STREAMING-') || encoding.split(',').some((e) => e.trim() === 'aws-chunked');
}

/** Splits an aws-chunked body into payload and trailers. */
export function decodeAwsChunked(raw: Buffer): DecodedChunkedBody {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = raw.indexOf(CRLF, pos);
    if (lineEnd < 0) throw new ChunkedBodyError(`aws-chunked body: chunk header at byte ${pos} has no CRLF`);
    const header = raw.subarray(pos, lineEnd).toString('latin1');
    const sizeText = header.split(';')[0].trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new ChunkedBodyError(`aws-chunked body: bad chunk size '${sizeText}' at byte ${pos}`);
    const size = parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) break;
    if (pos + size > raw.length) throw new ChunkedBodyError(`aws-chunked body: chunk of ${size} bytes at byte ${pos} runs past the end (${raw.length} bytes)`);
    parts.push(raw.subarray(pos, pos + size));
    pos += size;
    if (!raw.subarray(pos, pos + 2).equals(CRLF)) throw new ChunkedBodyError(`aws-chunked body: chunk data at byte ${pos} is not followed by CRLF`);
    pos += 2;
  }
  const trailers: Record<string, string> = {};
  while (pos < raw.length) {
    const lineEnd = raw.indexOf(CRLF, pos);
    const line = raw.subarray(pos, lineEnd < 0 ? raw.length : lineEnd).toString('latin1');
    pos = lineEnd < 0 ? raw.length : lineEnd + 2;
    if (line === '') break;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ChunkedBodyError(`aws-chunked body: trailer line '${line}' is not name:value`);
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { payload: Buffer.concat(parts), trailers };
}

/**
 * Encodes a payload as aws-chunked with unsigned chunks (what STREAMING-UNSIGNED-PAYLOAD-TRAILER
 * uses). Only the stand-ins' own tests need it, to build bodies the SDK would send.
 */
export function encodeAwsChunked(payload: Buffer, chunkSize: number, trailers: Readonly<Record<string, string>> = {}): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length; i += chunkSize) {
    const chunk = payload.subarray(i, i + chunkSize);
    out.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, CRLF);
  }
  out.push(Buffer.from('0\r\n'));
  for (const [name, value] of Object.entries(trailers)) out.push(Buffer.from(`${name}:${value}\r\n`));
  out.push(CRLF);
  return Buffer.concat(out);
}
