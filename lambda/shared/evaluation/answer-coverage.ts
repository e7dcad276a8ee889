/**
 * How many test records each model actually answered. A record a model refused (AccessDenied,
 * a ValidationException, a deleted Provisioned Throughput) is written without a prediction and
 * scores 0; when many are refused, the F1 measures the failure, not the model. For example, if
 * every base-model call is denied, base F1 is 0 and any fine-tuned score looks like an unbounded
 * improvement that would pass the quality gate. This module counts the answers and says when
 * there are too few to score. Pure.
 */
import type { ModelPredictionLine } from './model-prediction';

/** Share of records each model must answer when the deployment sets none. */
export const DEFAULT_MIN_ANSWERED_SHARE = 0.95;

/** How many distinct errors the message lists (the predictions files hold every one). */
const ERRORS_LISTED = 3;
/** Longest error text quoted in the message. */
const ERROR_TEXT_LIMIT = 300;

/** One distinct error a model gave, with the number of records it was given for. */
export interface CoverageError {
  readonly model: ModelPredictionLine['model'];
  readonly error: string;
  readonly records: number;
}

/** The answers counted over every predictions line. */
export interface AnswerCoverage {
  /** Test records (each has one line per model). */
  readonly records: number;
  /** Records each model answered (a prediction, possibly empty text). */
  readonly answered: { readonly base: number; readonly fineTuned: number };
  /** Distinct errors in the order first met. */
  readonly errors: readonly CoverageError[];
}

/** Counts answers line by line, so the caller can stream the predictions files. */
export class AnswerCoverageCounter {
  private readonly lines = { base: 0, fineTuned: 0 };
  private readonly answered = { base: 0, fineTuned: 0 };
  private readonly errors = new Map<string, { model: ModelPredictionLine['model']; error: string; records: number }>();

  /** Counts one predictions line. */
  add(line: Pick<ModelPredictionLine, 'model' | 'prediction' | 'error'>): void {
    const model = line.model === 'base' ? 'base' : 'fineTuned';
    this.lines[model] += 1;
    if (line.prediction !== undefined) {
      this.answered[model] += 1;
      return;
    }
    const error = line.error ?? 'no answer and no error recorded';
    const key = `${line.model}\u0000${error}`;
    const seen = this.errors.get(key);
    if (seen) seen.records += 1;
    else this.errors.set(key, { model: line.model, error, records: 1 });
  }

  /** The counts so far. */
  coverage(): AnswerCoverage {
    return {
      records: Math.max(this.lines.base, this.lines.fineTuned),
      answered: { ...this.answered },
      errors: [...this.errors.values()].map((e) => ({ ...e })),
    };
  }
}

/** The counts of a whole set of lines. */
export function answerCoverageOf(lines: Iterable<Pick<ModelPredictionLine, 'model' | 'prediction' | 'error'>>): AnswerCoverage {
  const counter = new AnswerCoverageCounter();
  for (const line of lines) counter.add(line);
  return counter.coverage();
}

/**
 * Reads the minimum answered share (a fraction above 0, at most 1) from its environment
 * variable's text; the default when unset.
 */
export function minAnsweredShareFrom(raw: string | undefined, variable = 'MIN_ANSWERED_SHARE'): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_MIN_ANSWERED_SHARE;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 1) {
    throw new Error(`Environment variable ${variable} must be a fraction above 0 and at most 1 (e.g. 0.95), got '${raw}'; set the construct's evaluation.minAnsweredShare to such a fraction and deploy again.`);
  }
  return value;
}

/** The models that answered fewer than `minShare` of the records (none when there are no records). */
export function modelsShortOfAnswers(coverage: AnswerCoverage, minShare: number): Array<ModelPredictionLine['model']> {
  if (coverage.records === 0) return [];
  const short: Array<ModelPredictionLine['model']> = [];
  if (coverage.answered.base / coverage.records < minShare) short.push('base');
  if (coverage.answered.fineTuned / coverage.records < minShare) short.push('fine-tuned');
  return short;
}

/** The evaluation has too few answers to be scored; its scores would measure the errors. */
export class EvaluationIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EvaluationIncomplete';
  }
}

/**
 * Throws EvaluationIncompleteError when either model answered fewer than `minShare` of the
 * records. The message says how many records each model answered, the first few distinct
 * errors, where every error is, and what to do.
 */
export function requireEnoughAnswers(coverage: AnswerCoverage, minShare: number, predictionsUri: string): void {
  const short = modelsShortOfAnswers(coverage, minShare);
  if (short.length === 0) return;
  const { records, answered } = coverage;
  const percent = (n: number) => `${Math.round(n * 1000) / 10}%`;
  const listed = coverage.errors
    .filter((e) => short.includes(e.model))
    .sort((a, b) => b.records - a.records)
    .slice(0, ERRORS_LISTED)
    .map((e) => `${e.model} model, ${e.records} record${e.records === 1 ? '' : 's'}: ${clip(e.error)}`);
  const hidden = coverage.errors.filter((e) => short.includes(e.model)).length - listed.length;
  throw new EvaluationIncompleteError(
    [
      `The evaluation is incomplete: the base model answered ${answered.base} of ${records} test records and the fine-tuned model ${answered.fineTuned} of ${records}; ` +
        `each must answer at least ${percent(minShare)} for the scores to mean anything, so no report was written and the quality gate was not applied.`,
      listed.length > 0 ? `Errors: ${listed.join('; ')}${hidden > 0 ? `; and ${hidden} more distinct error${hidden === 1 ? '' : 's'}` : ''}.` : '',
      `Every record's error is in ${predictionsUri}.`,
      `What to do: ${adviceFor(coverage.errors.filter((e) => short.includes(e.model)))} Then upload the request again.`,
    ]
      .filter((part) => part !== '')
      .join(' '),
  );
}

function adviceFor(errors: readonly CoverageError[]): string {
  const names = new Set(errors.map((e) => e.error.split(':')[0].trim()));
  const advice: string[] = [];
  if (names.has('AccessDeniedException')) {
    advice.push(
      'for AccessDeniedException, enable access to the base model in the Bedrock console (Model access) in every region its inference profile routes to, and check that the inference function\'s role may call bedrock:InvokeModel on the inference profile and the Provisioned Throughput;',
    );
  }
  if (names.has('ValidationException')) advice.push('for ValidationException, check the test records against the model\'s input rules (image format and size, roles, token limits);');
  if (names.has('ResourceNotFoundException')) advice.push('for ResourceNotFoundException, check that the model or Provisioned Throughput still exists while the evaluation runs;');
  if (advice.length === 0) advice.push('fix the cause of the errors above;');
  return `${advice.join(' ')} the share of records each model must answer is the construct's evaluation.minAnsweredShare (environment variable MIN_ANSWERED_SHARE).`;
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > ERROR_TEXT_LIMIT ? `${oneLine.slice(0, ERROR_TEXT_LIMIT - 3)}...` : oneLine;
}
