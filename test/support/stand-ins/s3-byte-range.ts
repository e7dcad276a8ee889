/**
 * S3's reading of the HTTP Range header for GetObject/HeadObject. Pure.
 *
 * S3 serves one range only; a header it cannot parse (or with several ranges) is ignored and
 * the whole object is returned, while a well-formed range that starts past the end is an
 * InvalidRange (416) error.
 */

/** The outcome of applying a Range header to an object of a given size. */
export type RangeResult =
  | { readonly kind: 'whole' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/** Interprets `header` (e.g. `bytes=0-99`, `bytes=100-`, `bytes=-20`) for an object of `size` bytes. */
export function resolveRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    // S3 answers a suffix range on an empty object with 200 and no body, not 416
    // (observed: https://github.com/apache/arrow-rs-object-store/issues/846).
    if (size === 0) return { kind: 'whole' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Number(match[2]);
  if (end < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}
