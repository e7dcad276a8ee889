/**
 * SQuAD token-overlap F1 and exact match for one answer (see normalize-answer.ts for the
 * normalization).
 *
 * Edge case decided here: when the prediction and the reference both normalize to nothing
 * (e.g. "" against "The."), F1 is 1, as in the official SQuAD v2.0 script; the v1.1 script
 * would give F1 0 there while giving exact match 1. Choosing v2.0's rule keeps F1 and exact
 * match consistent (exact match 1 implies F1 1). In every other case the two scripts agree:
 * an empty side against a non-empty one scores 0, and no overlap scores 0.
 */
import { answerTokens } from './normalize-answer';

/** Scores of one answer, as fractions (0..1), like the official script's per-question values. */
export interface AnswerScore {
  /** Best token-overlap F1 over the references, 0..1. */
  readonly f1: number;
  /** 1 when the normalized prediction equals a normalized reference, else 0. */
  readonly exactMatch: 0 | 1;
}

/** Below this many token pairs, counting by nested loops beats building a Map. */
const SMALL_PAIR_COUNT = 256;
/** Marks reference tokens already matched (reused between calls: scoring is synchronous). */
let matched = new Uint8Array(64);

/** Size of the multiset intersection of two token lists: sum over tokens of min(count in a, count in b). */
function commonTokenCount(prediction: readonly string[], reference: readonly string[]): number {
  if (prediction.length * reference.length <= SMALL_PAIR_COUNT) {
    if (matched.length < reference.length) matched = new Uint8Array(reference.length * 2);
    matched.fill(0, 0, reference.length);
    let common = 0;
    for (const token of prediction) {
      for (let j = 0; j < reference.length; j++) {
        if (matched[j] === 0 && reference[j] === token) {
          matched[j] = 1;
          common++;
          break;
        }
      }
    }
    return common;
  }
  const remaining = new Map<string, number>();
  for (const token of reference) remaining.set(token, (remaining.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of prediction) {
    const left = remaining.get(token);
    if (left !== undefined && left > 0) {
      remaining.set(token, left - 1);
      common++;
    }
  }
  return common;
}

/** Token-overlap F1 (0..1) of two normalized token lists; 1 when both are empty. */
export function tokenOverlapF1(prediction: readonly string[], reference: readonly string[]): number {
  if (prediction.length === 0 || reference.length === 0) return prediction.length === reference.length ? 1 : 0;
  const common = commonTokenCount(prediction, reference);
  if (common === 0) return 0;
  const precision = common / prediction.length;
  const recall = common / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

function sameTokens(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** F1 (0..1) of a prediction against one reference. */
export function f1Score(prediction: string, reference: string): number {
  return tokenOverlapF1(answerTokens(prediction), answerTokens(reference));
}

/** 1 when the prediction and the reference normalize to the same text, else 0. */
export function exactMatchScore(prediction: string, reference: string): 0 | 1 {
  return sameTokens(answerTokens(prediction), answerTokens(reference)) ? 1 : 0;
}

/**
 * Scores a prediction against every reference and keeps the best F1 and the best exact match
 * (each maximized on its own, as the official script does).
 *
 * @throws RangeError when `references` is empty: a record without a reference cannot be scored.
 */
export function scoreAnswer(prediction: string, references: readonly string[]): AnswerScore {
  if (references.length === 0) throw new RangeError('scoreAnswer needs at least one reference answer; got none.');
  const predicted = answerTokens(prediction);
  let f1 = 0;
  let exactMatch: 0 | 1 = 0;
  for (const reference of references) {
    const expected = answerTokens(reference);
    if (exactMatch === 0 && sameTokens(predicted, expected)) exactMatch = 1;
    const score = tokenOverlapF1(predicted, expected);
    if (score > f1) f1 = score;
    if (exactMatch === 1 && f1 === 1) break;
  }
  return { f1, exactMatch };
}
