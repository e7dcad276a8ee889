/** SQuAD F1 and exact match: normalization, per-answer scores, streaming aggregation. */
export { ASCII_PUNCTUATION, answerTokens, normalizeAnswer } from './normalize-answer';
export { exactMatchScore, f1Score, scoreAnswer, tokenOverlapF1 } from './squad-f1';
export type { AnswerScore } from './squad-f1';
export { ScoreAccumulator, UNANSWERED_SCORE } from './score-accumulator';
export type { ScoreSummary } from './score-accumulator';
export { parsePredictionLine } from './prediction-line';
export type { PredictionLine, PredictionLineResult } from './prediction-line';
export { DEFAULT_MAX_LISTED_PREDICTION_PROBLEMS, scorePredictionStream } from './score-predictions-stream';
export type { PredictionLineProblem, PredictionStreamOptions, PredictionStreamScore } from './score-predictions-stream';
