/**
 * The ListObjectsV2 algorithm: prefix, delimiter roll-up into CommonPrefixes, StartAfter,
 * MaxKeys (keys and common prefixes both count) and an opaque continuation token. Pure.
 */

/** What ListObjectsV2 was asked for. */
export interface ListRequest {
  readonly prefix?: string;
  readonly delimiter?: string;
  readonly maxKeys?: number;
  readonly continuationToken?: string;
  readonly startAfter?: string;
}

/** One page of results. */
export interface ListPage {
  /** Keys to list as Contents, in S3 order. */
  readonly keys: readonly string[];
  /** Common prefixes (with the delimiter), in S3 order. */
  readonly commonPrefixes: readonly string[];
  readonly isTruncated: boolean;
  readonly nextContinuationToken?: string;
}

/** Thrown for a continuation token this stand-in did not issue. */
export class InvalidContinuationTokenError extends Error {}

/** S3 orders keys by their UTF-8 bytes, which differs from JS string order for astral characters. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const TOKEN_PREFIX = 'local-s3:';

/** Where the previous page stopped: after a key, or after every key under a common prefix. */
interface Position {
  readonly value: string;
  readonly isPrefix: boolean;
}

function encodeToken(last: Position): string {
  return Buffer.from(`${TOKEN_PREFIX}${last.isPrefix ? 'P' : 'K'}:${last.value}`, 'utf8').toString('base64');
}

function decodeToken(token: string): Position {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const match = /^local-s3:([PK]):([\s\S]*)$/.exec(decoded);
  if (!match) throw new InvalidContinuationTokenError('The continuation token provided is incorrect');
  return { isPrefix: match[1] === 'P', value: match[2] };
}

/** Lists `allKeys` (any order) as one ListObjectsV2 page. */
export function listObjectsPage(allKeys: Iterable<string>, request: ListRequest): ListPage {
  const prefix = request.prefix ?? '';
  const maxKeys = Math.max(0, Math.min(request.maxKeys ?? 1000, 1000));
  const delimiter = request.delimiter || undefined;
  const after: Position | undefined =
    request.continuationToken !== undefined
      ? decodeToken(request.continuationToken)
      : request.startAfter !== undefined
        ? { value: request.startAfter, isPrefix: false }
        : undefined;

  const isListed = (key: string) =>
    key.startsWith(prefix) && (!after || (compareKeys(key, after.value) > 0 && !(after.isPrefix && key.startsWith(after.value))));
  const sorted = [...allKeys].filter(isListed).sort(compareKeys);
  const entries: Position[] = [];
  const seenPrefixes = new Set<string>();
  for (const key of sorted) {
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (delimiter && cut >= 0) {
      const common = key.slice(0, cut + delimiter.length);
      if (!seenPrefixes.has(common)) {
        seenPrefixes.add(common);
        entries.push({ value: common, isPrefix: true });
      }
    } else {
      entries.push({ value: key, isPrefix: false });
    }
  }

  const page = entries.slice(0, maxKeys);
  const isTruncated = entries.length > page.length;
  return {
    keys: page.filter((e) => !e.isPrefix).map((e) => e.value),
    commonPrefixes: page.filter((e) => e.isPrefix).map((e) => e.value),
    isTruncated,
    nextContinuationToken: isTruncated && page.length > 0 ? encodeToken(page[page.length - 1]) : undefined,
  };
}
