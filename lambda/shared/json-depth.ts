/**
 * Nesting depth of parsed JSON, measured without recursion. Pure.
 *
 * V8 parses deeply nested JSON iteratively, but JSON.stringify and any recursive walk of the
 * result overflow the stack ("Maximum call stack size exceeded") at a few thousand levels; a
 * 40 KB line of `[[[[...]]]]` is enough. Inputs are checked with this before anything walks
 * them, and a value nested deeper than its format can be is reported instead.
 */

/** Deepest nesting a dataset record may have: the Bedrock conversation format needs 8 levels. */
export const MAX_RECORD_DEPTH = 32;

/** Deepest nesting a run request may have (it needs 2 levels). */
export const MAX_RUN_REQUEST_DEPTH = 16;

/**
 * Whether `value` has lists or objects nested more than `maxDepth` levels (the value itself is
 * level 1 when it is a list or object). Stops at the first container past the limit.
 */
export function exceedsJsonDepth(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const containers: object[] = [value];
  const depths: number[] = [1];
  while (containers.length > 0) {
    const container = containers.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) return true;
    if (Array.isArray(container)) {
      for (let i = 0; i < container.length; i++) {
        const item: unknown = container[i];
        if (typeof item === 'object' && item !== null) {
          containers.push(item);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in container) {
        const item: unknown = (container as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) {
          containers.push(item);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

/** Whether an error is the engine's stack overflow (a recursive parser or walk met deep nesting). */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof RangeError && /call stack/i.test(err.message);
}
