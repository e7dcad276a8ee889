/**
 * Builds the evaluation report from the two models' answers. Pure and deterministic: the same
 * input gives the same report.
 */
import { AnswerScore, ScoreAccumulator, scoreAnswer, UNANSWERED_SCORE } from '../metrics';
import { latencyStats } from './latency-stats';
import { evaluateQualityGate } from './quality-gate';
import {
  EVALUATION_REPORT_SCHEMA_VERSION,
  EvaluationReport,
  EvaluationReportInput,
  ModelScores,
  PredictionRecord,
  ReportRecord,
  TokenTotals,
} from './report-model';

/** The default number of lowest-scoring examples kept. */
export const DEFAULT_LOWEST_COUNT = 10;

type Side = 'base' | 'fineTuned';

function fail(message: string): never {
  throw new Error(`Evaluation report input: ${message}`);
}

function checkCount(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(`${what} must be a number >= 0, got ${String(value)}.`);
}

function checkRecord(record: PredictionRecord, side: Side, index: number): void {
  const where = `${side}[${index}]`;
  if (typeof record.recordId !== 'string' || record.recordId === '') fail(`${where}.recordId must be a non-empty string.`);
  const named = `${where} (record "${record.recordId}")`;
  if (typeof record.question !== 'string') fail(`${named}.question must be a string.`);
  if (typeof record.prediction !== 'string') fail(`${named}.prediction must be a string; leave a failed record out instead.`);
  if (!Array.isArray(record.references) || record.references.length === 0 || !record.references.every((r) => typeof r === 'string')) {
    fail(`${named}.references must be a non-empty array of strings.`);
  }
  checkCount(record.latencyMs, `${named}.latencyMs`);
  checkCount(record.inputTokens, `${named}.inputTokens`);
  checkCount(record.outputTokens, `${named}.outputTokens`);
  if (record.line !== undefined && !(Number.isInteger(record.line) && record.line >= 1)) fail(`${named}.line must be a whole number >= 1, got ${String(record.line)}.`);
  if (record.imageUris !== undefined && !(Array.isArray(record.imageUris) && record.imageUris.every((u) => typeof u === 'string' && u.startsWith('s3://')))) {
    fail(`${named}.imageUris must be an array of s3:// URIs.`);
  }
}

function indexById(records: readonly PredictionRecord[], side: Side): Map<string, PredictionRecord> {
  const byId = new Map<string, PredictionRecord>();
  records.forEach((record, index) => {
    checkRecord(record, side, index);
    if (byId.has(record.recordId)) fail(`${side} holds record "${record.recordId}" twice; each record is answered once per model.`);
    byId.set(record.recordId, record);
  });
  return byId;
}

function sameReferences(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

function parseTime(value: string, what: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) fail(`${what} must be an ISO 8601 timestamp, got ${JSON.stringify(value)}.`);
  return ms;
}

function tokenTotals(records: readonly PredictionRecord[]): TokenTotals {
  let input = 0;
  let output = 0;
  for (const r of records) {
    input += r.inputTokens;
    output += r.outputTokens;
  }
  return { input, output };
}

function modelScores(accumulator: ScoreAccumulator, answered: number): ModelScores {
  const summary = accumulator.result();
  return { ...summary, answered, missing: summary.count - answered };
}

/** Whether either model lost points on the record (F1 below 100; a missing answer scores 0). */
function lostPoints(record: ReportRecord): boolean {
  return record.baseF1 < 100 || record.fineTunedF1 < 100;
}

/** Lowest first among the records that lost points: by fine-tuned F1, then base F1; ties keep input order. */
function lowestRecords(records: readonly ReportRecord[], count: number): ReportRecord[] {
  return records
    .map((record, index) => ({ record, index }))
    .filter((entry) => lostPoints(entry.record))
    .sort((a, b) => a.record.fineTunedF1 - b.record.fineTunedF1 || a.record.baseF1 - b.record.baseF1 || a.index - b.index)
    .slice(0, count)
    .map((entry) => entry.record);
}

/**
 * Scores both models on the same records and assembles the report.
 *
 * Records are matched by `recordId`. A record present on one side only is a failed inference
 * on the other: it scores 0 there and is counted in `missing`. Both sides of a record must
 * carry the same references (the question text may differ, e.g. a prompt-optimized base prompt;
 * the fine-tuned side's question is shown).
 *
 * @throws Error naming the side, the record and the field when the input is inconsistent.
 */
export function buildEvaluationReport(input: EvaluationReportInput): EvaluationReport {
  const lowestCount = input.lowestCount ?? DEFAULT_LOWEST_COUNT;
  if (!Number.isInteger(lowestCount) || lowestCount < 0) fail(`lowestCount must be a whole number >= 0, got ${lowestCount}.`);
  const started = parseTime(input.run.startedAt, 'run.startedAt');
  const finished = parseTime(input.run.finishedAt, 'run.finishedAt');
  if (finished < started) fail(`run.finishedAt (${input.run.finishedAt}) is before run.startedAt (${input.run.startedAt}).`);
  const { costs } = input;
  for (const key of ['baseInputTokens', 'baseOutputTokens', 'fineTunedInputTokens', 'fineTunedOutputTokens'] as const) checkCount(costs[key], `costs.${key}`);
  if (costs.provisionedThroughputHours !== undefined) checkCount(costs.provisionedThroughputHours, 'costs.provisionedThroughputHours');
  if (costs.modelUnits !== undefined) checkCount(costs.modelUnits, 'costs.modelUnits');

  const baseById = indexById(input.base, 'base');
  const fineTunedById = indexById(input.fineTuned, 'fineTuned');
  const recordIds = [...baseById.keys(), ...[...fineTunedById.keys()].filter((id) => !baseById.has(id))];

  const baseAccumulator = new ScoreAccumulator();
  const fineTunedAccumulator = new ScoreAccumulator();
  const comparison = { improved: 0, worsened: 0, unchanged: 0 };
  const records: ReportRecord[] = recordIds.map((recordId) => {
    const base = baseById.get(recordId);
    const fineTuned = fineTunedById.get(recordId);
    const shown = (fineTuned ?? base)!;
    if (base && fineTuned && !sameReferences(base.references, fineTuned.references)) {
      fail(`record "${recordId}" has different references on the base and the fine-tuned side; both models must be scored against the same answers.`);
    }
    const baseScore: AnswerScore = base ? scoreAnswer(base.prediction, shown.references) : UNANSWERED_SCORE;
    const fineTunedScore: AnswerScore = fineTuned ? scoreAnswer(fineTuned.prediction, shown.references) : UNANSWERED_SCORE;
    baseAccumulator.addScore(baseScore);
    fineTunedAccumulator.addScore(fineTunedScore);
    if (fineTunedScore.f1 > baseScore.f1) comparison.improved++;
    else if (fineTunedScore.f1 < baseScore.f1) comparison.worsened++;
    else comparison.unchanged++;
    return {
      recordId,
      line: shown.line ?? base?.line ?? null,
      imageUris: [...(shown.imageUris ?? base?.imageUris ?? [])],
      question: shown.question,
      references: [...shown.references],
      basePrediction: base?.prediction ?? null,
      fineTunedPrediction: fineTuned?.prediction ?? null,
      baseF1: 100 * baseScore.f1,
      fineTunedF1: 100 * fineTunedScore.f1,
      baseExactMatch: baseScore.exactMatch === 1,
      fineTunedExactMatch: fineTunedScore.exactMatch === 1,
    };
  });

  const scores = { base: modelScores(baseAccumulator, baseById.size), fineTuned: modelScores(fineTunedAccumulator, fineTunedById.size) };
  const relativeImprovementPercent = scores.base.f1 === 0 ? null : ((scores.fineTuned.f1 - scores.base.f1) / scores.base.f1) * 100;
  const modelUnitHours =
    costs.provisionedThroughputHours !== undefined && costs.modelUnits !== undefined ? costs.provisionedThroughputHours * costs.modelUnits : undefined;

  return {
    schemaVersion: EVALUATION_REPORT_SCHEMA_VERSION,
    run: { ...input.run, durationSeconds: (finished - started) / 1000 },
    scores,
    relativeImprovementPercent,
    absoluteDelta: { f1: scores.fineTuned.f1 - scores.base.f1, exactMatch: scores.fineTuned.exactMatch - scores.base.exactMatch },
    recordComparison: comparison,
    records,
    lostPoints: records.filter(lostPoints).length,
    lowest: lowestRecords(records, lowestCount),
    latency: { base: latencyStats(input.base.map((r) => r.latencyMs)), fineTuned: latencyStats(input.fineTuned.map((r) => r.latencyMs)) },
    tokens: { base: tokenTotals(input.base), fineTuned: tokenTotals(input.fineTuned) },
    costs: modelUnitHours === undefined ? { ...costs } : { ...costs, modelUnitHours },
    ...(input.costEstimate ? { costEstimate: input.costEstimate } : {}),
    training: input.training ?? null,
    gate: evaluateQualityGate(input.qualityGate, {
      baseF1: scores.base.f1,
      fineTunedF1: scores.fineTuned.f1,
      relativeImprovementPercent,
      count: scores.fineTuned.count,
    }),
    madeWithStandIns: input.madeWithStandIns ?? false,
  };
}
