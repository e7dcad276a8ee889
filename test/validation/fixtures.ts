/**
 * Builders of small JSONL datasets for the validation tests: records in Bedrock's
 * conversation format, with images written as real files under a temporary image root that
 * mirrors S3 (`<root>/<bucket>/<key>`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { FixtureImageFormat, ImageFixtureOptions, imageBytes } from '../support/images';

/** The bucket and account the fixtures use. */
export const DATA_BUCKET = 'training-data-bucket';
export const ACCOUNT_ID = '111122223333';

/** An image content block. */
export function imageBlock(uri: string, format: string = 'png', bucketOwner: string | undefined = ACCOUNT_ID): object {
  return { image: { format, source: { s3Location: bucketOwner === undefined ? { uri } : { uri, bucketOwner } } } };
}

/** A single-turn record asking about an image. */
export function imageRecord(index: number, options: { uri?: string; format?: string; answer?: string; bucketOwner?: string } = {}): object {
  const uri = options.uri ?? `s3://${DATA_BUCKET}/images/${index}.png`;
  return {
    schemaVersion: 'bedrock-conversation-2024',
    system: [{ text: 'You answer questions about charts.' }],
    messages: [
      { role: 'user', content: [{ text: `What is the value of bar ${index}?` }, imageBlock(uri, options.format ?? 'png', options.bucketOwner ?? ACCOUNT_ID)] },
      { role: 'assistant', content: [{ text: options.answer ?? `${index}` }] },
    ],
  };
}

/** A single-turn text-only record. */
export function textRecord(index: number, answer = `${index}`): object {
  return {
    schemaVersion: 'bedrock-conversation-2024',
    messages: [
      { role: 'user', content: [{ text: `What is ${index} plus zero?` }] },
      { role: 'assistant', content: [{ text: answer }] },
    ],
  };
}

/** Joins records (objects or raw lines) into JSONL text with a trailing newline. */
export function toJsonl(records: readonly (object | string)[]): string {
  return records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
}

/** `count` distinct valid text-only records. */
export function textRecords(count: number, offset = 0): object[] {
  return Array.from({ length: count }, (_, i) => textRecord(offset + i));
}

/** A temporary directory that is removed by `cleanup()`. */
export function tempDir(prefix = 'validation-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes a real image at `<root>/<bucket>/<key>` for the URI s3://bucket/key; returns the URI. */
export function writeImage(root: string, uri: string, format: FixtureImageFormat, width: number, height: number, options: ImageFixtureOptions = {}): string {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`bad fixture URI ${uri}`);
  const file = path.join(root, match[1], match[2]);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, imageBytes(format, width, height, options));
  return uri;
}
