/**
 * Writes JSON Lines files: one compact JSON value per line, "\n" line ends, a final newline.
 * Written to a temporary name and renamed, so a crash never leaves half a dataset behind.
 */
import { rename, rm, writeFile } from 'fs/promises';

/** The text of a JSON Lines file. Pure. */
export function toJsonLines(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join('\n') + (values.length > 0 ? '\n' : '');
}

/** Writes values to `filePath` as JSON Lines; returns the byte size written. */
export async function writeJsonLines(filePath: string, values: readonly unknown[]): Promise<number> {
  const text = toJsonLines(values);
  const temporary = `${filePath}.partial`;
  try {
    await writeFile(temporary, text, 'utf-8');
    await rename(temporary, filePath);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  return Buffer.byteLength(text, 'utf-8');
}
