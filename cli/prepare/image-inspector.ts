/**
 * Looks at an image file on disk: does it exist, what is it really, and how large is it? The
 * format comes from the file's first bytes, not its extension (datasets do ship PNGs named
 * .jpg, and Bedrock needs the true format in the record). Only the header is read.
 */
import { FileHandle, open } from 'fs/promises';
import { ImageFormat } from '../../lambda/shared/bedrock-record';
import { IMAGE_HEADER_PREFIX_BYTES, inspectImageHeader } from '../../lambda/shared/image-header';

/** What was found at an image path. */
export type ImageInspection =
  | { readonly ok: true; readonly format: ImageFormat; readonly size: number; readonly width: number; readonly height: number }
  | { readonly ok: false; readonly reason: 'missing' | 'unreadable' | 'not-an-image'; readonly message: string };

/** Inspects one image file. */
export async function inspectImageFile(filePath: string): Promise<ImageInspection> {
  let handle: FileHandle;
  try {
    handle = await open(filePath, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'missing', message: `image ${filePath} does not exist` };
    return { ok: false, reason: 'unreadable', message: `image ${filePath} cannot be opened (${code ?? (err as Error).message})` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { ok: false, reason: 'unreadable', message: `image ${filePath} is not a file` };
    let wanted = Math.min(IMAGE_HEADER_PREFIX_BYTES, stat.size);
    for (;;) {
      const header = Buffer.alloc(wanted);
      const { bytesRead } = await handle.read(header, 0, wanted, 0);
      const result = inspectImageHeader(new Uint8Array(header.buffer, header.byteOffset, bytesRead));
      if (result.status === 'ok') {
        return { ok: true, format: result.info.format, size: stat.size, width: result.info.width, height: result.info.height };
      }
      if (result.status === 'invalid') {
        const what = result.format ? `a damaged ${result.format.toUpperCase()} file (${result.reason})` : 'not a PNG, JPEG, GIF or WebP file (by its content)';
        return { ok: false, reason: 'not-an-image', message: `image ${filePath} is ${what}; convert it to PNG or JPEG` };
      }
      // JPEG metadata can push the size fields far in; read up to where the parser can go on.
      if (bytesRead >= stat.size || result.minBytes <= bytesRead) {
        return { ok: false, reason: 'unreadable', message: `image ${filePath} ends before its header does (${stat.size} bytes); the file is truncated` };
      }
      wanted = Math.min(stat.size, Math.max(result.minBytes, wanted * 2));
    }
  } catch (err) {
    return { ok: false, reason: 'unreadable', message: `image ${filePath} cannot be read (${(err as Error).message})` };
  } finally {
    await handle.close();
  }
}
