/**
 * SQuAD answer normalization, as the published SQuAD v1.1 evaluation script defines it:
 *
 *     normalize(s) = collapse whitespace(remove articles(remove ASCII punctuation(lowercase(s))))
 *
 * Decisions where JavaScript and the Python script could differ:
 * - lowercase: `String.prototype.toLowerCase` (locale independent, like Python's `str.lower`).
 * - punctuation: only the 32 ASCII characters of Python's `string.punctuation` are removed
 *   (deleted, not replaced by a space: "U.S." becomes "us"); accents, CJK and Unicode
 *   punctuation such as "—" or "’" stay.
 * - articles: "a", "an" and "the" are removed where they stand as whole words, i.e. not
 *   touching a word character. Word characters are Unicode letters, numbers and "_", like
 *   Python's `re` `\b` on text, so "theory" and "éthe" keep their "the" while "the—cat" loses it.
 * - whitespace: JavaScript's `\s` set (ASCII and Unicode spaces, including no-break space and
 *   the ideographic space).
 *
 * {@link answerTokens} does all of this in one pass over the characters (the hot path of
 * scoring); only tokens holding non-ASCII or control characters fall back to a regular
 * expression for the article rule.
 */

/** Python's `string.punctuation`: every printable ASCII character that is not a letter, digit or space. */
export const ASCII_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const IS_PUNCTUATION = new Uint8Array(128);
for (const ch of ASCII_PUNCTUATION) IS_PUNCTUATION[ch.charCodeAt(0)] = 1;

/** "a", "an" or "the" not touching a word character (Unicode letter, number or underscore). */
const WHOLE_WORD_ARTICLE = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;
const WHITESPACE_RUN = /\s+/;

/** Whether a UTF-16 code unit above 127 is whitespace in JavaScript's `\s` sense. */
function isNonAsciiWhitespace(code: number): boolean {
  return (
    code === 0x00a0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * Appends a whitespace-free token to `tokens` unless it is an article. `mixed` says the token
 * holds characters other than ASCII letters and digits, so an article may hide inside it
 * between non-word characters ("l’a", "the—cat"): then the exact rule runs.
 */
function pushToken(token: string, mixed: boolean, tokens: string[]): void {
  if (!mixed) {
    if (token !== 'the' && token !== 'a' && token !== 'an') tokens.push(token);
    return;
  }
  const withoutArticles = token.replace(WHOLE_WORD_ARTICLE, ' ');
  if (withoutArticles === token) {
    tokens.push(token);
    return;
  }
  for (const piece of withoutArticles.split(WHITESPACE_RUN)) if (piece !== '') tokens.push(piece);
}

/**
 * The tokens of a normalized answer: normalize, then split on whitespace.
 * `answerTokens(s).join(' ')` equals {@link normalizeAnswer}(s).
 */
export function answerTokens(text: string): string[] {
  const lower = text.toLowerCase();
  const tokens: string[] = [];
  let token = ''; // the current token's characters before `runStart`
  let runStart = -1; // start of the current run of kept characters, or -1
  let mixed = false;
  const length = lower.length;
  for (let i = 0; i < length; i++) {
    const code = lower.charCodeAt(i);
    let isSpace = false;
    if (code < 128) {
      if (IS_PUNCTUATION[code] === 1) {
        // Deleted: close the run so the characters on either side join up.
        if (runStart >= 0) {
          token += lower.slice(runStart, i);
          runStart = -1;
        }
        continue;
      }
      isSpace = code === 32 || (code >= 9 && code <= 13);
      // Control characters are neither word characters nor whitespace: article boundaries.
      if (!isSpace && (code < 32 || code === 127)) mixed = true;
    } else {
      isSpace = isNonAsciiWhitespace(code);
      if (!isSpace) mixed = true;
    }
    if (isSpace) {
      if (runStart >= 0) {
        token += lower.slice(runStart, i);
        runStart = -1;
      }
      if (token !== '') pushToken(token, mixed, tokens);
      token = '';
      mixed = false;
    } else if (runStart < 0) {
      runStart = i;
    }
  }
  if (runStart >= 0) token += lower.slice(runStart);
  if (token !== '') pushToken(token, mixed, tokens);
  return tokens;
}

/** The normalized answer text: tokens joined by single spaces ("" when nothing is left). */
export function normalizeAnswer(text: string): string {
  return answerTokens(text).join(' ');
}
