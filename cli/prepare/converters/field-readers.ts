import { isEmptyAnswer } from '../../../lambda/shared/validation/empty-answer';

/**
 * Small readers for fields of untyped JSON examples, shared by the converters, so every
 * converter words "missing" and "wrong type" the same way.
 */

/** Whether a value is a plain JSON object. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field that must hold non-empty text; numbers are accepted and turned into text (answers such as 14). */
export function readText(record: Record<string, unknown>, field: string): { value: string } | { problem: string } {
  const raw = record[field];
  if (raw === undefined || raw === null) return { problem: `has no "${field}"` };
  if (typeof raw === 'number' && Number.isFinite(raw)) return { value: String(raw) };
  if (typeof raw !== 'string') return { problem: `"${field}" must be text, got ${describeJsonType(raw)}` };
  const value = raw.trim();
  if (value === '') return { problem: `"${field}" is empty` };
  return { value };
}

/**
 * An answer field: like {@link readText}, but empty text is kept (as ""), because an empty
 * answer is a warning everywhere, not a conversion error (lambda/shared/validation/empty-answer.ts).
 */
export function readAnswer(record: Record<string, unknown>, field: string): { value: string } | { problem: string } {
  const raw = record[field];
  if (typeof raw === 'string' && isEmptyAnswer(raw)) return { value: '' };
  return readText(record, field);
}

/** Names a JSON value's type for messages. */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
