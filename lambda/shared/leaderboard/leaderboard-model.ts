/**
 * The leaderboard of an experiment: its variants (each a run with its own run.json) ranked by
 * the fine-tuned model's F1, then exact match, beside the shared baseline, the loss, the cost
 * and the quality gate, with the best variant named. Pure and deterministic: built from the
 * variants' run records; the renderers (Markdown, HTML, summary) only format it.
 *
 * Rules (the README's "Leaderboard" section states them too):
 * - Ranked: variants whose run SUCCEEDED and was evaluated. Scores are compared at the two
 *   decimals the leaderboard shows, so two variants that read the same are a tie: they share a
 *   rank (1, 2, 2, 4) and keep request order; the tie is stated.
 * - Then variants that succeeded without an evaluation (nothing to rank), then variants that
 *   failed, timed out, were aborted or have no record, each with its error.
 * - The best variant: the highest-ranked variant whose quality gate passed or was not set
 *   (request order breaks a tie). None when no variant was evaluated, or every evaluated
 *   variant failed its gate.
 */
import { CostEstimate, formatDollars, provisionedThroughputDollars } from '../cost-estimate';
import type { RunEvaluation, RunRecord } from '../run-record';

/** Version of the {@link Leaderboard} shape; raised on incompatible changes. */
export const LEADERBOARD_SCHEMA_VERSION = 1;

/** The rule that names the best variant, as the leaderboard states it. */
export const BEST_VARIANT_RULE =
  'The best variant has the highest fine-tuned F1 (then exact match, then request order) among the variants that succeeded, were evaluated and passed their quality gate or had none.';

/** One variant as the leaderboard's builder receives it. */
export interface LeaderboardVariantInput {
  /** The variant's name in the experiment (untrusted text: escaped by every renderer). */
  readonly name: string;
  readonly runId: string;
  /** Its run record; absent when none could be read (then `missing` says why). */
  readonly record?: RunRecord;
  /** Why there is no record, e.g. "no run record at s3://…". */
  readonly missing?: string;
}

/** What {@link buildLeaderboard} needs. */
export interface LeaderboardInput {
  readonly experimentRunId: string;
  readonly requestName: string;
  /** The variants in request order. */
  readonly variants: readonly LeaderboardVariantInput[];
  /** ISO 8601 time the leaderboard is made. */
  readonly generatedAt: string;
}

/** Scores of a variant (percentages, 0..100). */
export interface VariantScores {
  readonly fineTunedF1: number;
  readonly fineTunedExactMatch: number;
  readonly baseF1: number;
  readonly baseExactMatch: number;
  /** Relative F1 improvement over the base model, in percent; null when the base F1 is 0. */
  readonly relativeImprovementPercent: number | null;
  readonly records: number;
}

/** Cost of a variant: the estimate made before its job was created, and what is known after. */
export interface VariantCost {
  /** Tokens estimated (training, validation and evaluation). */
  readonly estimatedTokens?: number;
  /** Dollars estimated, when every price the run needs is set. */
  readonly estimatedDollars?: number;
  /** Hours the variant's Provisioned Throughput existed, and its model units. */
  readonly provisionedThroughputHours?: number;
  readonly modelUnits?: number;
  /** Actual Provisioned Throughput dollars (billed per started hour), when its price is set. */
  readonly provisionedThroughputDollars?: number;
}

/** Where a variant stands. */
export type VariantStanding = 'RANKED' | 'NOT_EVALUATED' | 'FAILED';

/** One row of the leaderboard. */
export interface LeaderboardEntry {
  readonly name: string;
  readonly runId: string;
  /** Position in the request (0-based). */
  readonly index: number;
  readonly standing: VariantStanding;
  /** 1-based competition rank (tied variants share it); null unless RANKED. */
  readonly rank: number | null;
  /** Names of the other variants with the same rank. */
  readonly tiedWith: readonly string[];
  /** The run's status, or MISSING when its record could not be read. */
  readonly status: RunRecord['status'] | 'MISSING';
  readonly model: string | null;
  readonly hyperParameters: Readonly<Record<string, number>>;
  readonly scores: VariantScores | null;
  /** The quality gate; null when the variant was not evaluated. */
  readonly gate: { readonly evaluated: boolean; readonly passed: boolean; readonly reasons: readonly string[] } | null;
  readonly finalTrainingLoss: number | null;
  readonly finalValidationLoss: number | null;
  /** (step, loss) points of the training loss, for the overlaid chart. */
  readonly trainingLossCurve: ReadonlyArray<readonly [number, number]>;
  readonly cost: VariantCost;
  /** Why the variant failed (error name and message), when it did. */
  readonly error: string | null;
  readonly reportHtmlUri: string | null;
}

/** The leaderboard (JSON-serializable; written as leaderboard.json). */
export interface Leaderboard {
  readonly schemaVersion: typeof LEADERBOARD_SCHEMA_VERSION;
  readonly experimentRunId: string;
  readonly requestName: string;
  readonly generatedAt: string;
  /**
   * The base model's scores every variant was compared with; null when no variant was
   * evaluated. `shared` is false when the variants' base scores differ (they were not scored
   * against one shared baseline), and each variant's improvement is then against its own.
   */
  readonly baseline: { readonly f1: number; readonly exactMatch: number; readonly shared: boolean } | null;
  /** Ranked variants by rank, then the not evaluated, then the failed (each group in request order). */
  readonly entries: readonly LeaderboardEntry[];
  /** Groups of variants that tie (same F1 and exact match at two decimals). */
  readonly ties: ReadonlyArray<readonly string[]>;
  readonly best: { readonly name: string; readonly runId: string } | null;
  /** Why the best is the best, or why there is none. */
  readonly bestReason: string;
  readonly bestRule: string;
  /** Sums over the variants: tokens estimated, and dollars when every variant has a dollar estimate. */
  readonly totals: { readonly variants: number; readonly ranked: number; readonly failed: number; readonly estimatedTokens: number; readonly estimatedDollars?: number };
}

/** Scores compared at the two decimals shown (formatScore), so what reads equal ranks equal. */
function shown(value: number): number {
  return Math.round(value * 100);
}

/** The scores a run's evaluation recorded, as the experiment and history leaderboards show them. */
export function scoresOf(evaluation: Pick<RunEvaluation, keyof VariantScores>): VariantScores {
  const { fineTunedF1, fineTunedExactMatch, baseF1, baseExactMatch, relativeImprovementPercent, records } = evaluation;
  return { fineTunedF1, fineTunedExactMatch, baseF1, baseExactMatch, relativeImprovementPercent, records };
}

function compareScores(a: VariantScores, b: VariantScores): number {
  return shown(b.fineTunedF1) - shown(a.fineTunedF1) || shown(b.fineTunedExactMatch) - shown(a.fineTunedExactMatch);
}

function errorOf(variant: LeaderboardVariantInput): string | null {
  const record = variant.record;
  if (!record) return variant.missing ?? 'no run record';
  if (record.status === 'SUCCEEDED' || record.status === 'RUNNING') return record.status === 'RUNNING' ? 'the run had not ended when the leaderboard was made' : null;
  const outcome = record.outcome;
  if (outcome?.error) return outcome.cause ? `${outcome.error}: ${outcome.cause}` : outcome.error;
  return outcome?.summary ?? `the run ended ${record.status.toLowerCase().replace('_', ' ')}`;
}

function costOf(record: RunRecord | undefined): VariantCost {
  if (!record) return {};
  const estimate: CostEstimate | undefined = record.costEstimate;
  const pt = record.provisionedThroughput;
  const price = estimate?.prices?.provisionedThroughputPerModelUnitHour;
  return {
    ...(estimate ? { estimatedTokens: estimate.totalTokens } : {}),
    ...(estimate?.dollars.total !== undefined ? { estimatedDollars: estimate.dollars.total } : {}),
    ...(pt?.hours !== undefined ? { provisionedThroughputHours: pt.hours, modelUnits: pt.modelUnits } : {}),
    ...(pt?.hours !== undefined && price !== undefined ? { provisionedThroughputDollars: provisionedThroughputDollars(pt.hours, pt.modelUnits, price) } : {}),
  };
}

function entryOf(variant: LeaderboardVariantInput, index: number): Omit<LeaderboardEntry, 'rank' | 'tiedWith'> {
  const record = variant.record;
  const evaluation = record?.evaluation;
  const error = errorOf(variant);
  const standing: VariantStanding = error !== null ? 'FAILED' : evaluation ? 'RANKED' : 'NOT_EVALUATED';
  return {
    name: variant.name,
    runId: variant.runId,
    index,
    standing,
    status: record?.status ?? 'MISSING',
    model: record?.run.model.name ?? null,
    hyperParameters: { ...(record?.run.hyperParameters ?? {}) },
    scores: evaluation ? scoresOf(evaluation) : null,
    gate: evaluation ? { evaluated: evaluation.gate.evaluated, passed: evaluation.gate.passed, reasons: [...evaluation.gate.reasons] } : null,
    finalTrainingLoss: record?.metrics?.training?.finalLoss ?? null,
    finalValidationLoss: record?.metrics?.validation?.finalLoss ?? null,
    trainingLossCurve: record?.metrics?.training?.curve ?? [],
    cost: costOf(record),
    error,
    reportHtmlUri: evaluation?.reportHtmlUri ?? null,
  };
}

function fail(message: string): never {
  throw new Error(`Leaderboard input: ${message}`);
}

/**
 * Ranks the variants and names the best (see the module comment for the rules).
 *
 * @throws Error naming the variant when two variants share a name or a run id, or a record belongs to another run.
 */
export function buildLeaderboard(input: LeaderboardInput): Leaderboard {
  if (input.variants.length === 0) fail('an experiment has at least one variant; none was given.');
  const names = new Set<string>();
  const runIds = new Set<string>();
  input.variants.forEach((v, i) => {
    if (typeof v.name !== 'string' || v.name === '') fail(`variants[${i}].name must be a non-empty string.`);
    if (typeof v.runId !== 'string' || v.runId === '') fail(`variants[${i}] (${JSON.stringify(v.name)}).runId must be a non-empty string.`);
    if (names.has(v.name)) fail(`variants[${i}].name ${JSON.stringify(v.name)} is given twice; variant names are unique in an experiment.`);
    if (runIds.has(v.runId)) fail(`variants[${i}].runId ${JSON.stringify(v.runId)} is given twice; each variant is its own run.`);
    if (v.record && v.record.runId !== v.runId) fail(`variants[${i}] (${JSON.stringify(v.name)}) names run ${JSON.stringify(v.runId)} but its record is of run ${JSON.stringify(v.record.runId)}.`);
    names.add(v.name);
    runIds.add(v.runId);
  });

  const all = input.variants.map(entryOf);
  const ranked = all.filter((e) => e.standing === 'RANKED').sort((a, b) => compareScores(a.scores!, b.scores!) || a.index - b.index);
  const withRanks: LeaderboardEntry[] = [];
  const ties: string[][] = [];
  ranked.forEach((entry, i) => {
    const previous = withRanks[i - 1];
    const tied = previous !== undefined && compareScores(previous.scores!, entry.scores!) === 0;
    const rank = tied ? previous.rank! : i + 1;
    withRanks.push({ ...entry, rank, tiedWith: [] });
    if (tied) {
      if (!ties.some((group) => group.includes(previous.name))) ties.push([previous.name]);
      ties[ties.length - 1].push(entry.name);
    }
  });
  const rankedEntries = withRanks.map((e) => {
    const group = ties.find((g) => g.includes(e.name));
    return group ? { ...e, tiedWith: group.filter((n) => n !== e.name) } : e;
  });
  const unranked = (standing: VariantStanding) => all.filter((e) => e.standing === standing).map((e) => ({ ...e, rank: null, tiedWith: [] }));
  const entries: LeaderboardEntry[] = [...rankedEntries, ...unranked('NOT_EVALUATED'), ...unranked('FAILED')];

  const eligible = rankedEntries.filter((e) => !e.gate!.evaluated || e.gate!.passed);
  const bestEntry = eligible[0];
  let bestReason: string;
  if (bestEntry) {
    const s = bestEntry.scores!;
    const tiedEligible = eligible.filter((e) => e !== bestEntry && compareScores(e.scores!, s) === 0).map((e) => e.name);
    bestReason =
      `${bestEntry.name} has the highest fine-tuned F1 (${s.fineTunedF1.toFixed(2)}, exact match ${s.fineTunedExactMatch.toFixed(2)}) ` +
      `among the ${eligible.length} variant(s) that passed their quality gate or had none` +
      (tiedEligible.length > 0 ? `; it ties with ${tiedEligible.join(', ')} and comes first in the request.` : '.');
  } else if (rankedEntries.length === 0) {
    bestReason = 'No variant was evaluated successfully, so none is named best.';
  } else {
    bestReason = `All ${rankedEntries.length} evaluated variant(s) failed their quality gate, so none is named best.`;
  }

  const baselines = rankedEntries.map((e) => e.scores!);
  const baseline =
    baselines.length === 0
      ? null
      : {
          f1: baselines[0].baseF1,
          exactMatch: baselines[0].baseExactMatch,
          shared: baselines.every((b) => b.baseF1 === baselines[0].baseF1 && b.baseExactMatch === baselines[0].baseExactMatch),
        };
  const dollars = entries.map((e) => e.cost.estimatedDollars);
  return {
    schemaVersion: LEADERBOARD_SCHEMA_VERSION,
    experimentRunId: input.experimentRunId,
    requestName: input.requestName,
    generatedAt: input.generatedAt,
    baseline,
    entries,
    ties,
    best: bestEntry ? { name: bestEntry.name, runId: bestEntry.runId } : null,
    bestReason,
    bestRule: BEST_VARIANT_RULE,
    totals: {
      variants: entries.length,
      ranked: rankedEntries.length,
      failed: entries.filter((e) => e.standing === 'FAILED').length,
      estimatedTokens: entries.reduce((sum, e) => sum + (e.cost.estimatedTokens ?? 0), 0),
      ...(dollars.every((d) => d !== undefined) ? { estimatedDollars: dollars.reduce((sum, d) => sum! + d!, 0) } : {}),
    },
  };
}

/** "$1.23 estimated; Provisioned Throughput 1.20 h x 1 MU ($20.00)", or what is known; "–" when nothing is. */
export function describeVariantCost(cost: VariantCost): string {
  const parts: string[] = [];
  if (cost.estimatedDollars !== undefined) parts.push(`${formatDollars(cost.estimatedDollars)} estimated`);
  else if (cost.estimatedTokens !== undefined) parts.push(`${cost.estimatedTokens.toLocaleString('en-US')} tokens estimated`);
  if (cost.provisionedThroughputHours !== undefined) {
    const actual = `Provisioned Throughput ${cost.provisionedThroughputHours.toFixed(2)} h x ${cost.modelUnits ?? 0} MU`;
    parts.push(cost.provisionedThroughputDollars !== undefined ? `${actual} (${formatDollars(cost.provisionedThroughputDollars)})` : actual);
  }
  return parts.length > 0 ? parts.join('; ') : '–';
}
