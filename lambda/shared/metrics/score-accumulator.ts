/**
 * Streaming aggregation of SQuAD scores: keeps two sums and a count, so memory stays the same
 * however many records pass through.
 */
import { AnswerScore, scoreAnswer } from './squad-f1';

/** Aggregate scores, as the published results report them: means x 100 (0..100). */
export interface ScoreSummary {
  /** Mean F1 x 100; 0 when no record was scored. */
  readonly f1: number;
  /** Mean exact match x 100; 0 when no record was scored. */
  readonly exactMatch: number;
  /** Records scored. */
  readonly count: number;
}

/** The score of a record without an answer (its inference failed): 0, as the official script scores unanswered questions. */
export const UNANSWERED_SCORE: AnswerScore = Object.freeze({ f1: 0, exactMatch: 0 });

/** Accumulates per-record scores into a {@link ScoreSummary}. */
export class ScoreAccumulator {
  private f1Sum = 0;
  private exactMatchSum = 0;
  private records = 0;

  /** Scores one record, adds it, and returns its own scores (fractions 0..1). */
  add(prediction: string, references: readonly string[]): AnswerScore {
    const score = scoreAnswer(prediction, references);
    this.addScore(score);
    return score;
  }

  /** Adds a record scored elsewhere (e.g. {@link UNANSWERED_SCORE} for a failed inference). */
  addScore(score: AnswerScore): void {
    this.f1Sum += score.f1;
    this.exactMatchSum += score.exactMatch;
    this.records++;
  }

  /** Records added so far. */
  get count(): number {
    return this.records;
  }

  /** The means so far, x 100. */
  result(): ScoreSummary {
    if (this.records === 0) return { f1: 0, exactMatch: 0, count: 0 };
    return { f1: (100 * this.f1Sum) / this.records, exactMatch: (100 * this.exactMatchSum) / this.records, count: this.records };
  }
}
