/**
 * The name an image gets under `<prefix>images/`: its path relative to the image folder, so
 * images in sub-folders keep distinct names. An image outside the folder (an absolute path in a
 * CSV, say) goes under `external/<hash of its folder>/`, which keeps names from different folders
 * apart without exposing local paths in S3. Pure.
 */
import { createHash } from 'crypto';
import * as path from 'path';

/** Full local path of an image the dataset names. */
export function resolveImagePath(imageRoot: string, image: string): string {
  return path.resolve(imageRoot, image);
}

/** The name of an image under `images/`, with "/" separators. */
export function imageObjectName(imageRoot: string, resolvedPath: string): string {
  const relative = path.relative(path.resolve(imageRoot), resolvedPath);
  const inside = relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
  if (inside) return relative.split(path.sep).join('/');
  const folderHash = createHash('sha256').update(path.dirname(resolvedPath)).digest('hex').slice(0, 12);
  return `external/${folderHash}/${path.basename(resolvedPath)}`;
}
