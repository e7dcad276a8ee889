/**
 * Makes untrusted text (dataset content, run request values, object keys) safe to show on a
 * terminal, in summary.txt, in a report and in an SNS e-mail. Pure.
 *
 * A dataset line can carry terminal escape sequences (ESC [ ... ), other C0/C1 control
 * characters or Unicode bidirectional overrides that make a message lie about what it says
 * (e.g. "Trojan Source" reordering). Every such character is shown escaped instead, as `\n`,
 * `\t`, `\r` or `\uXXXX`, so the reader sees exactly which character is there. Text is also
 * cut to a length, so a 40 MB value never becomes a 40 MB message.
 */

/** C0 and C1 controls, DEL, bidi marks/embeddings/overrides/isolates, line/paragraph separators, lone surrogates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** The same set, but line feeds are allowed (multi-line messages such as a validation summary). */
const UNSAFE_KEEPING_LINE_FEEDS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCharacter(c: string): string {
  return SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Options of {@link safeText}. */
export interface SafeTextOptions {
  /** Longest text kept, in UTF-16 code units before escaping. @default no limit */
  readonly maxChars?: number;
  /** Keep "\n" as a line break (for multi-line messages); everything else is escaped. @default false */
  readonly keepLineBreaks?: boolean;
}

/**
 * `text` with every control, bidi and lone-surrogate character escaped visibly, at most
 * `maxChars` long once escaped (plus a marker giving the original length when it was cut).
 * Text that needs no escaping and fits stays as it is.
 */
export function safeText(text: string, options: SafeTextOptions = {}): string {
  const max = Math.max(0, Math.floor(options.maxChars ?? Infinity));
  // Escaping never shortens text, so `max` characters of input are enough to fill the output.
  const head = text.length > max ? text.slice(0, endBeforeSplitPair(text, max)) : text;
  const pattern = options.keepLineBreaks ? UNSAFE_KEEPING_LINE_FEEDS : UNSAFE;
  pattern.lastIndex = 0;
  const escaped = pattern.test(head) ? head.replace(pattern, escapeCharacter) : head;
  let out = escaped;
  if (out.length > max) {
    let end = endBeforeSplitPair(out, max);
    // Do not cut an escape such as \u001b in two.
    const backslash = out.lastIndexOf('\\', end - 1);
    if (backslash >= 0 && end - backslash < 6 && /^\\(u[0-9a-f]{4}|[nrt])/.test(out.slice(backslash, backslash + 6))) end = backslash;
    out = out.slice(0, end);
  }
  const cut = head.length < text.length || out.length < escaped.length;
  return cut ? `${out}... (${text.length.toLocaleString('en-US')} characters in all)` : out;
}

/** `end`, or one less when that would split a surrogate pair. */
function endBeforeSplitPair(text: string, end: number): number {
  if (end <= 0 || end >= text.length) return end;
  const c = text.charCodeAt(end - 1);
  return c >= 0xd800 && c <= 0xdbff ? end - 1 : end;
}

/** Default length of a value quoted in a message. */
export const DEFAULT_EXCERPT_CHARS = 120;

/** A string value as a message quotes it: in double quotes, escaped and cut. */
export function quoted(text: string, maxChars = DEFAULT_EXCERPT_CHARS): string {
  return `"${safeText(text, { maxChars })}"`;
}

/**
 * A short, safe description of any JSON value for a message, e.g. `"abc"`, `42`,
 * `a list of 3 items ([1,2,3])`, `an object with fields a, b`. Never recurses deeper than a
 * few levels, so a value nested 20,000 levels deep costs no more than a flat one (JSON.stringify
 * would overflow the stack on it).
 */
export function describeValue(value: unknown, maxChars = DEFAULT_EXCERPT_CHARS): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return quoted(value, maxChars);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'a number too large to represent';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    return `a list of ${value.length} item${value.length === 1 ? '' : 's'} (${preview(value, maxChars)})`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value as object);
    return keys.length === 0 ? 'an empty object' : `an object (${preview(value, maxChars)})`;
  }
  return typeof value;
}

/** Levels of a list or object shown in a preview before "..." stands in for the rest. */
const PREVIEW_DEPTH = 3;

/** A compact JSON-like preview, at most PREVIEW_DEPTH levels deep and about `maxChars` long. */
function preview(value: unknown, maxChars: number): string {
  let out = '';
  const write = (v: unknown, depth: number): void => {
    if (out.length > maxChars) return;
    if (Array.isArray(v)) {
      if (depth >= PREVIEW_DEPTH) {
        out += v.length === 0 ? '[]' : '[...]';
        return;
      }
      out += '[';
      for (let i = 0; i < v.length && out.length <= maxChars; i++) {
        if (i > 0) out += ',';
        write(v[i], depth + 1);
      }
      out += ']';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= PREVIEW_DEPTH) {
        out += '{...}';
        return;
      }
      out += '{';
      let first = true;
      for (const key of Object.keys(v)) {
        if (out.length > maxChars) break;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(key.slice(0, maxChars))}:`;
        write((v as Record<string, unknown>)[key], depth + 1);
      }
      out += '}';
    } else if (typeof v === 'string') {
      out += JSON.stringify(v.slice(0, maxChars));
    } else if (typeof v === 'number' && !Number.isFinite(v)) {
      out += 'Infinity';
    } else {
      out += String(v);
    }
  };
  write(value, 0);
  return safeText(out, { maxChars });
}
