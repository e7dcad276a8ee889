/**
 * Reads the JSON containers datasets ship in: one JSON document (an array of examples, or an
 * object such as VQAv2's `{questions: [...]}`), or JSON Lines (one example per line). Pure:
 * takes the text, returns the parsed items with their positions for messages.
 */
import { PrepareDataError } from './prepare-errors';
import { SourceLocation } from './source-example';

/** One parsed item and where it was. */
export interface JsonItem {
  readonly value: unknown;
  readonly location: SourceLocation;
}

/** What a JSON input file holds. */
export type JsonInput =
  | { readonly kind: 'items'; readonly items: JsonItem[] }
  | { readonly kind: 'object'; readonly value: Record<string, unknown> };

/**
 * Parses a JSON document (array or object) or, when the text is not one document, JSON Lines.
 * @throws PrepareDataError naming the file, line and column of the syntax error.
 */
export function parseJsonInput(text: string, file: string): JsonInput {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.trimStart();
  if (trimmed === '') throw new PrepareDataError(`${file} is empty; give a JSON array, a JSON object or JSON Lines`);
  try {
    const value: unknown = JSON.parse(body);
    if (Array.isArray(value)) {
      return { kind: 'items', items: value.map((v, index) => ({ value: v, location: { file, index } })) };
    }
    if (typeof value === 'object' && value !== null) return { kind: 'object', value: value as Record<string, unknown> };
    throw new PrepareDataError(`${file} holds a single JSON ${typeof value}; expected an array of examples, an object or JSON Lines`);
  } catch (err) {
    if (err instanceof PrepareDataError) throw err;
    // Not one document: JSON Lines starts with an object on its first line and has more lines.
    if (trimmed.startsWith('{') && /\}\s*\r?\n\s*\{/.test(body)) return { kind: 'items', items: parseJsonLines(body, file) };
    throw new PrepareDataError(`${file} is not valid JSON: ${describeJsonError(err as Error, body)}; fix the syntax or convert the file to JSON Lines`);
  }
}

/** Parses JSON Lines: one JSON value per non-blank line. */
export function parseJsonLines(text: string, file: string): JsonItem[] {
  const items: JsonItem[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    try {
      items.push({ value: JSON.parse(lines[i]), location: { file, line: i + 1 } });
    } catch (err) {
      throw new PrepareDataError(`${file} line ${i + 1} is not valid JSON (${(err as Error).message}); each line of a JSON Lines file must be one complete JSON value`);
    }
  }
  return items;
}

/** Turns V8's "at position N" into a line and column people can jump to. */
function describeJsonError(err: Error, text: string): string {
  const match = /position (\d+)/.exec(err.message);
  if (!match) return err.message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${err.message} (line ${line}, column ${column})`;
}
