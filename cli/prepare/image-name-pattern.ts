/**
 * The --image-pattern option for datasets that name images by id (VQAv2 uses COCO names such as
 * COCO_train2014_000000000009.jpg). Placeholders: {image_id}, {image_id:0N} (zero-padded to N
 * digits) and {split} (the COCO split, e.g. train2014).
 */

/** The COCO naming VQAv2 images use. */
export const DEFAULT_VQAV2_IMAGE_PATTERN = 'COCO_{split}_{image_id:012}.jpg';

/** A checked pattern. */
export interface ImageNamePattern {
  readonly source: string;
  /** Whether the pattern needs {split}. */
  readonly usesSplit: boolean;
  /** The file name for one image. */
  format(values: { readonly imageId: string | number; readonly split?: string }): string;
}

type Piece = { readonly literal: string } | { readonly field: 'image_id'; readonly width: number } | { readonly field: 'split' };

/**
 * Parses a pattern.
 * @throws Error naming the unknown placeholder or unmatched brace, and the allowed placeholders.
 */
export function parseImageNamePattern(source: string): ImageNamePattern {
  const pieces: Piece[] = [];
  const placeholder = /\{([^{}]*)\}/g;
  let last = 0;
  for (let match = placeholder.exec(source); match; match = placeholder.exec(source)) {
    pieces.push({ literal: source.slice(last, match.index) });
    const name = match[1];
    const padded = /^image_id:0(\d{1,2})$/.exec(name);
    if (name === 'image_id') pieces.push({ field: 'image_id', width: 0 });
    else if (padded) pieces.push({ field: 'image_id', width: Number(padded[1]) });
    else if (name === 'split') pieces.push({ field: 'split' });
    else throw new Error(`unknown placeholder {${name}}; use {image_id}, {image_id:012} (zero-padded) or {split}, e.g. ${DEFAULT_VQAV2_IMAGE_PATTERN}`);
    last = match.index + match[0].length;
  }
  const tail = source.slice(last);
  if (/[{}]/.test(tail) || pieces.some((p) => 'literal' in p && /[{}]/.test(p.literal))) {
    throw new Error(`"${source}" has an unmatched brace; placeholders look like {image_id} or {split}`);
  }
  pieces.push({ literal: tail });
  if (!pieces.some((p) => 'field' in p && p.field === 'image_id')) {
    throw new Error(`"${source}" must contain {image_id} (or {image_id:012}), e.g. ${DEFAULT_VQAV2_IMAGE_PATTERN}`);
  }
  const usesSplit = pieces.some((p) => 'field' in p && p.field === 'split');
  return {
    source,
    usesSplit,
    format: ({ imageId, split }) =>
      pieces
        .map((p) => {
          if ('literal' in p) return p.literal;
          if (p.field === 'split') return split ?? '';
          return String(imageId).padStart(p.width, '0');
        })
        .join(''),
  };
}
