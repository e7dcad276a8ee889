/**
 * One line of a predictions JSONL file, as `llama-finetune score` reads it:
 *
 *     {"prediction": "the answer", "references": ["reference 1", "reference 2"]}
 *
 * A single reference may be given as `"reference": "text"` instead (many evaluation tools
 * write that); giving both is an error, so a file never means two things. Other fields (ids,
 * questions, latencies) are ignored. The prediction may be the empty string (it scores 0
 * unless every reference is empty too); references must be strings, at least one.
 */

/** A parsed prediction line. */
export interface PredictionLine {
  readonly prediction: string;
  readonly references: readonly string[];
}

/** The outcome of {@link parsePredictionLine}: the record, or what is wrong with the line. */
export type PredictionLineResult = { readonly ok: true; readonly value: PredictionLine } | { readonly ok: false; readonly problem: string };

const EXAMPLE = '{"prediction": "...", "references": ["..."]}';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}

function fail(problem: string): PredictionLineResult {
  return { ok: false, problem };
}

/** Parses and checks one non-blank line. Never throws. */
export function parsePredictionLine(text: string): PredictionLineResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return fail(`not valid JSON (${(err as Error).message}); each line must be one object like ${EXAMPLE}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(`expected a JSON object like ${EXAMPLE}, got ${describe(parsed)}`);
  }
  const record = parsed as Record<string, unknown>;
  if (!('prediction' in record)) return fail(`"prediction" is missing; each line needs the model's answer as "prediction": "..."`);
  if (typeof record.prediction !== 'string') return fail(`"prediction" must be a string, got ${describe(record.prediction)}`);
  const hasList = 'references' in record;
  const hasSingle = 'reference' in record;
  if (hasList && hasSingle) return fail('give either "references" (an array) or "reference" (one string), not both');
  if (hasSingle) {
    if (typeof record.reference !== 'string') return fail(`"reference" must be a string, got ${describe(record.reference)}`);
    return { ok: true, value: { prediction: record.prediction, references: [record.reference] } };
  }
  if (!hasList) return fail('"references" is missing; give the reference answers as "references": ["..."] (or one as "reference": "...")');
  const references = record.references;
  if (!Array.isArray(references)) return fail(`"references" must be a non-empty array of strings, got ${describe(references)}`);
  if (references.length === 0) return fail('"references" is empty; give at least one reference answer');
  for (let i = 0; i < references.length; i++) {
    if (typeof references[i] !== 'string') return fail(`"references"[${i}] must be a string, got ${describe(references[i])}`);
  }
  return { ok: true, value: { prediction: record.prediction, references: references as string[] } };
}
