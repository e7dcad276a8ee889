/**
 * Where prepare writes, locally and in S3. Pure path arithmetic.
 *
 * Local layout under --out:
 *   <out>/train.jsonl, validation.jsonl, test.jsonl      the Bedrock records
 *   <out>/<split>.references.jsonl                       extra reference answers (VQAv2), by line
 *   <out>/<bucket>/<prefix>images/<name>                 the images, mirroring their S3 keys
 * S3 layout (what --upload creates, and what the records point to):
 *   s3://<bucket>/<prefix><split>.jsonl, s3://<bucket>/<prefix>images/<name>
 * Mirroring keys under <out>/<bucket>/ is what lets `llama-finetune validate <out>/train.jsonl
 * --image-root <out>` find every image (validate maps s3://<bucket>/<key> to <root>/<bucket>/<key>).
 */
import * as path from 'path';
import { SplitName } from './split-assignment';

/** Output locations for one prepare run. */
export interface OutputLayout {
  readonly outDir: string;
  readonly bucket: string;
  /** Key prefix, empty or ending in "/". */
  readonly prefix: string;
}

/** Folder (under the prefix) that holds the images. */
export const IMAGES_FOLDER = 'images/';

/** Local file of a split's records. */
export function splitFilePath(layout: OutputLayout, split: SplitName): string {
  return path.join(layout.outDir, `${split}.jsonl`);
}

/** Local sidecar with a split's reference answers. */
export function referencesFilePath(layout: OutputLayout, split: SplitName): string {
  return path.join(layout.outDir, `${split}.references.jsonl`);
}

/** S3 key of a file written directly under the output folder (a split or sidecar file). */
export function dataFileKey(layout: OutputLayout, fileName: string): string {
  return `${layout.prefix}${fileName}`;
}

/** S3 key of an image. */
export function imageKey(layout: OutputLayout, imageName: string): string {
  return `${layout.prefix}${IMAGES_FOLDER}${imageName}`;
}

/** The URI a record uses for an image. */
export function imageUri(layout: OutputLayout, imageName: string): string {
  return `s3://${layout.bucket}/${imageKey(layout, imageName)}`;
}

/** Local copy of an image, at <out>/<bucket>/<key>. */
export function localImagePath(layout: OutputLayout, imageName: string): string {
  return path.join(layout.outDir, layout.bucket, ...imageKey(layout, imageName).split('/'));
}

/** The folder to pass to `validate --image-root`. */
export function imageRootForValidate(layout: OutputLayout): string {
  return layout.outDir;
}
