/**
 * Puts an image at its place in the output folder: a hard link when possible (no extra disk
 * space for datasets of thousands of images), a copy when linking is not possible (another
 * file system, or a file system without hard links).
 */
import { copyFile, link, mkdir, rm, stat } from 'fs/promises';
import * as path from 'path';

/** Links or copies `source` to `destination`, replacing whatever was there. */
export async function stageImageFile(source: string, destination: string): Promise<'linked' | 'copied' | 'unchanged'> {
  const [from, to] = await Promise.all([stat(source), stat(destination).catch(() => undefined)]);
  // Already this very file (a re-run): nothing to do.
  if (to && to.ino === from.ino && to.dev === from.dev) return 'unchanged';
  await mkdir(path.dirname(destination), { recursive: true });
  if (to) await rm(destination, { force: true });
  try {
    await link(source, destination);
    return 'linked';
  } catch {
    await copyFile(source, destination);
    return 'copied';
  }
}
