/**
 * Helpers for prepare tests: temporary folders with tiny real images (from the shared image
 * generators), dataset files, and a captured stdout/stderr for runPrepare.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ConversationRecord } from '../../lambda/shared/bedrock-record';
import { FixtureImageFormat, imageBytes } from '../support/images';

/** A temporary folder removed by `cleanup()`. */
export interface TempFolder {
  readonly root: string;
  /** Writes a file (creating folders) and returns its full path. */
  write(relative: string, content: string | Buffer): string;
  /** Writes a real image of the given format (32x24 px unless told) under `relative`. */
  image(relative: string, format: FixtureImageFormat, width?: number, height?: number): string;
  path(...parts: string[]): string;
  cleanup(): void;
}

/** Creates a temporary folder for one test. */
export function tempFolder(): TempFolder {
  const root = mkdtempSync(path.join(tmpdir(), 'prepare-test-'));
  const write = (relative: string, content: string | Buffer) => {
    const full = path.join(root, relative);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, content);
    return full;
  };
  return {
    root,
    write,
    image: (relative, format, width = 32, height = 24) => write(relative, imageBytes(format, width, height)),
    path: (...parts) => path.join(root, ...parts),
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Captured command output. */
export interface CapturedIo {
  readonly stdout: { write(text: string): boolean };
  readonly stderr: { isTTY: boolean; write(text: string): boolean };
  out(): string;
  err(): string;
}

/** Captures what runPrepare writes; `tty` pretends stderr is a terminal. */
export function captureIo(tty = false): CapturedIo {
  let out = '';
  let err = '';
  return {
    stdout: { write: (t) => ((out += t), true) },
    stderr: { isTTY: tty, write: (t) => ((err += t), true) },
    out: () => out,
    err: () => err,
  };
}

/** Reads a JSONL file of records. */
export function readRecords(file: string): ConversationRecord[] {
  return readFileSync(file, 'utf-8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as ConversationRecord);
}

/** The image block of a record's first message, if any. */
export function imageOf(record: ConversationRecord): { format: string; source: { s3Location: { uri: string; bucketOwner?: string } } } | undefined {
  const block = record.messages[0].content.find((c) => 'image' in c);
  return block && 'image' in block ? block.image : undefined;
}

/** The text of the first user message. */
export function firstQuestion(record: ConversationRecord): string {
  const block = record.messages[0].content.find((c) => 'text' in c);
  return block && 'text' in block ? block.text : '';
}
