/**
 * Scores a predictions JSONL stream (a local file or an S3 object body) without holding it in
 * memory: lines are read in batches, scored and forgotten. Blank lines are skipped.
 */
import { readJsonlLineBatches } from '../jsonl';
import { parsePredictionLine } from './prediction-line';
import { ScoreAccumulator, ScoreSummary } from './score-accumulator';

/** A malformed line: its 1-based number and what is wrong. */
export interface PredictionLineProblem {
  readonly line: number;
  readonly message: string;
}

/** What {@link scorePredictionStream} found. */
export interface PredictionStreamScore {
  /** Scores of the well-formed lines. Not meaningful to publish when `problemCount` > 0. */
  readonly summary: ScoreSummary;
  /** The first `maxListedProblems` malformed lines. */
  readonly problems: readonly PredictionLineProblem[];
  /** Every malformed line, listed or not. */
  readonly problemCount: number;
}

/** Options of {@link scorePredictionStream}. */
export interface PredictionStreamOptions {
  /** Malformed lines listed in full; the rest are only counted. @default 20 */
  readonly maxListedProblems?: number;
}

/** The default number of malformed lines listed. */
export const DEFAULT_MAX_LISTED_PREDICTION_PROBLEMS = 20;

/** Reads, checks and scores every line of the stream. */
export async function scorePredictionStream(chunks: AsyncIterable<Uint8Array | string>, options: PredictionStreamOptions = {}): Promise<PredictionStreamScore> {
  const maxListed = options.maxListedProblems ?? DEFAULT_MAX_LISTED_PREDICTION_PROBLEMS;
  const accumulator = new ScoreAccumulator();
  const problems: PredictionLineProblem[] = [];
  let problemCount = 0;
  const report = (line: number, message: string) => {
    problemCount++;
    if (problems.length < maxListed) problems.push({ line, message });
  };
  for await (const batch of readJsonlLineBatches(chunks)) {
    for (const line of batch) {
      if (line.tooLong) {
        report(line.lineNumber, 'line is too long to be one prediction record (megabytes without a line break); is the file JSONL?');
        continue;
      }
      if (line.text.trim() === '') continue;
      const parsed = parsePredictionLine(line.text);
      if (parsed.ok) accumulator.add(parsed.value.prediction, parsed.value.references);
      else report(line.lineNumber, parsed.problem);
    }
  }
  return { summary: accumulator.result(), problems, problemCount };
}
