/**
 * The history of one request name: every run of the name that ended leaves one small entry,
 * and a leaderboard across the last N runs shows how the score moved (F1 over runs, and a
 * table of the runs). Pure: the layout of the keys, the entry of a run, the merge and its
 * bounds, and the Markdown and HTML renderings; history-store.ts does the S3 side.
 *
 * Layout, under the runs prefix of the artifacts bucket (read by grantReadResults):
 *   <runs prefix>history/<request name>/runs/<newest-first start time>-<run id>.json   one per run
 *   <runs prefix>history/<request name>/leaderboard.json | .md | .html               the last N runs
 * Entry keys sort newest start first, so one bounded listing (MaxKeys N) finds the last N runs.
 * A run id always ends in "-<12 hex>", so no run's folder can be named "history".
 */
import type { RunContext } from '../run-context';
import type { RunRecord } from '../run-record';
import { REPORT_STYLE } from '../report/render-html';
import { ChartSeries, lossChartSvg } from '../report/loss-chart-svg';
import { escapeHtml } from '../report/html-escape';
import { escapeMarkdown } from '../report/markdown-escape';
import { formatPercent, formatPoints, formatScore, truncateText } from '../report/format-numbers';
import { hyperParametersText } from './render-leaderboard';
import { scoresOf, VariantScores } from './leaderboard-model';

import { DEFAULT_RUN_HISTORY_LENGTH, MAX_RUN_HISTORY_LENGTH } from './run-history-settings';

export { DEFAULT_RUN_HISTORY_LENGTH, MAX_RUN_HISTORY_LENGTH };
export const RUN_HISTORY_SCHEMA_VERSION = 1;

/** What the history keeps of one run. */
export interface RunHistoryEntry {
  readonly schemaVersion: typeof RUN_HISTORY_SCHEMA_VERSION;
  readonly runId: string;
  readonly requestName: string;
  /** When the run began (its record's createdAt): the history's order. */
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly status: RunRecord['status'];
  readonly model: string;
  readonly hyperParameters: Readonly<Record<string, number>>;
  readonly scores: VariantScores | null;
  readonly gate: { readonly evaluated: boolean; readonly passed: boolean } | null;
  readonly error: string | null;
  /** The experiment the run was a variant of, when it was one. */
  readonly experiment?: { readonly experimentRunId: string; readonly variantName: string };
  readonly reportHtmlUri: string | null;
}

/** The history leaderboard of a name (leaderboard.json). */
export interface RunHistory {
  readonly schemaVersion: typeof RUN_HISTORY_SCHEMA_VERSION;
  readonly requestName: string;
  readonly environment: string;
  readonly generatedAt: string;
  /** How many runs it keeps at most (N). */
  readonly limit: number;
  /** The last N runs by start time, oldest first. */
  readonly runs: readonly RunHistoryEntry[];
  /** The run with the highest fine-tuned F1 among them (the earliest on a tie); null when none was scored. */
  readonly bestRunId: string | null;
  /** Fine-tuned F1 of the latest scored run minus that of the first scored run shown, in points; null with fewer than 2 scored runs. */
  readonly f1Change: { readonly fromRunId: string; readonly toRunId: string; readonly points: number } | null;
}

/** The runs prefix a run's artifacts prefix (`<runs prefix><run id>/`) lies in. */
export function runsPrefixOf(run: Pick<RunContext, 'runId' | 'artifacts'>): string {
  const suffix = `${run.runId}/`;
  if (!run.artifacts.prefix.endsWith(suffix)) throw new Error(`Run ${run.runId}: its artifacts prefix "${run.artifacts.prefix}" does not end with "${suffix}", so its runs prefix is unknown.`);
  return run.artifacts.prefix.slice(0, -suffix.length);
}

/** `<runs prefix>history/<request name>/`. */
export function runHistoryPrefix(runsPrefix: string, requestName: string): string {
  if (!/^[A-Za-z0-9-]{1,40}$/.test(requestName)) throw new Error(`Run history: request name ${JSON.stringify(requestName.slice(0, 60))} is not 1-40 letters, digits or hyphens, so it cannot name a history folder.`);
  return `${runsPrefix}history/${requestName}/`;
}

/** Where the entries of a name are. */
export function runHistoryEntriesPrefix(runsPrefix: string, requestName: string): string {
  return `${runHistoryPrefix(runsPrefix, requestName)}runs/`;
}

/** Milliseconds until year 2286, zero-padded: a later time gives a smaller string, so listings return the newest first. */
function newestFirst(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`Run history: ${JSON.stringify(iso)} is not an ISO 8601 time.`);
  return String(9_999_999_999_999 - ms).padStart(13, '0');
}

/** The entry's key: the same for every write of one run, so a retried step overwrites rather than adds. */
export function runHistoryEntryKey(runsPrefix: string, entry: Pick<RunHistoryEntry, 'requestName' | 'startedAt' | 'runId'>): string {
  return `${runHistoryEntriesPrefix(runsPrefix, entry.requestName)}${newestFirst(entry.startedAt)}-${entry.runId}.json`;
}

/** The history leaderboard's three files. */
export function runHistoryFileKeys(runsPrefix: string, requestName: string): { json: string; markdown: string; html: string } {
  const prefix = runHistoryPrefix(runsPrefix, requestName);
  return { json: `${prefix}leaderboard.json`, markdown: `${prefix}leaderboard.md`, html: `${prefix}leaderboard.html` };
}

/** What the history keeps of an ended run. */
export function runHistoryEntryOf(record: RunRecord, now = new Date()): RunHistoryEntry {
  const evaluation = record.evaluation;
  const outcome = record.outcome;
  // exp-orchestration adds run.experiment to variant runs; read it loosely so older records need nothing.
  const experiment = (record.run as RunContext & { experiment?: { experimentRunId?: unknown; variantName?: unknown } }).experiment;
  return {
    schemaVersion: RUN_HISTORY_SCHEMA_VERSION,
    runId: record.runId,
    requestName: record.run.requestName,
    startedAt: record.createdAt,
    finishedAt: outcome?.finishedAt ?? now.toISOString(),
    status: record.status,
    model: record.run.model.name,
    hyperParameters: { ...record.run.hyperParameters },
    scores: evaluation ? scoresOf(evaluation) : null,
    gate: evaluation ? { evaluated: evaluation.gate.evaluated, passed: evaluation.gate.passed } : null,
    error: outcome?.error ? truncateText(outcome.cause ? `${outcome.error}: ${outcome.cause}` : outcome.error, 1000) : null,
    ...(typeof experiment?.experimentRunId === 'string' && typeof experiment.variantName === 'string'
      ? { experiment: { experimentRunId: experiment.experimentRunId, variantName: experiment.variantName } }
      : {}),
    reportHtmlUri: evaluation?.reportHtmlUri ?? null,
  };
}

/** Checks a history length (the N of "last N runs"). */
export function checkRunHistoryLength(limit: number, where: string): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RUN_HISTORY_LENGTH) {
    throw new Error(`${where} must be a whole number of runs from 1 to ${MAX_RUN_HISTORY_LENGTH}, got ${limit}.`);
  }
  return limit;
}

/**
 * The last `limit` runs by start time, oldest first; one entry per run id (the one that
 * finished last, should a run have been written twice). Pure.
 */
export function mergeRunHistory(entries: readonly RunHistoryEntry[], limit: number): RunHistoryEntry[] {
  checkRunHistoryLength(limit, 'The run history length');
  const byRun = new Map<string, RunHistoryEntry>();
  for (const entry of entries) {
    const seen = byRun.get(entry.runId);
    if (!seen || entry.finishedAt > seen.finishedAt) byRun.set(entry.runId, entry);
  }
  const ordered = [...byRun.values()].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  return ordered.slice(Math.max(0, ordered.length - limit));
}

/** Builds the history leaderboard of a name from its entries (any order, any number). */
export function buildRunHistory(input: { requestName: string; environment: string; generatedAt: string; limit: number; entries: readonly RunHistoryEntry[] }): RunHistory {
  const runs = mergeRunHistory(
    input.entries.filter((e) => e.requestName === input.requestName),
    input.limit,
  );
  const scored = runs.filter((r) => r.scores !== null);
  let best: RunHistoryEntry | undefined;
  for (const r of scored) if (!best || r.scores!.fineTunedF1 > best.scores!.fineTunedF1) best = r;
  const first = scored[0];
  const last = scored[scored.length - 1];
  return {
    schemaVersion: RUN_HISTORY_SCHEMA_VERSION,
    requestName: input.requestName,
    environment: input.environment,
    generatedAt: input.generatedAt,
    limit: input.limit,
    runs,
    bestRunId: best?.runId ?? null,
    f1Change: scored.length >= 2 ? { fromRunId: first.runId, toRunId: last.runId, points: last.scores!.fineTunedF1 - first.scores!.fineTunedF1 } : null,
  };
}

const HEADERS = ['#', 'Run', 'Started', 'Status', 'Model', 'Hyperparameters', 'Fine-tuned F1', 'Exact match', 'Base F1', 'F1 vs base', 'Quality gate'];
const NUMERIC = new Set([0, 6, 7, 8, 9]);

function gate(entry: RunHistoryEntry): string {
  if (!entry.gate) return '–';
  if (!entry.gate.evaluated) return 'no gate';
  return entry.gate.passed ? 'passed' : 'failed';
}

function runCell(entry: RunHistoryEntry): string {
  return entry.experiment ? `${entry.runId} (variant ${entry.experiment.variantName} of ${entry.experiment.experimentRunId})` : entry.runId;
}

function statusCell(entry: RunHistoryEntry): string {
  const status = entry.status.toLowerCase().replace('_', ' ');
  return entry.error ? `${status}: ${truncateText(entry.error, 200)}` : status;
}

function cells(entry: RunHistoryEntry, index: number): string[] {
  const s = entry.scores;
  return [
    String(index + 1),
    runCell(entry),
    entry.startedAt,
    statusCell(entry),
    entry.model,
    hyperParametersText(entry.hyperParameters),
    s ? formatScore(s.fineTunedF1) : '–',
    s ? formatScore(s.fineTunedExactMatch) : '–',
    s ? formatScore(s.baseF1) : '–',
    s ? formatPercent(s.relativeImprovementPercent) : '–',
    gate(entry),
  ];
}

function headline(history: RunHistory): string {
  const scored = history.runs.filter((r) => r.scores).length;
  const change = history.f1Change ? ` Fine-tuned F1 moved ${formatPoints(history.f1Change.points)} points from run ${history.f1Change.fromRunId} to run ${history.f1Change.toRunId}.` : '';
  const best = history.bestRunId ? ` Highest fine-tuned F1: run ${history.bestRunId}.` : '';
  return `The last ${history.runs.length} run(s) of ${history.requestName} in environment ${history.environment} (at most ${history.limit}), oldest first; ${scored} were scored.${change}${best}`;
}

/** The chart: fine-tuned and base F1 of each scored run, by the run's position in the table. */
export function runHistoryChartSvg(history: RunHistory): string {
  const points = (pick: (s: NonNullable<RunHistoryEntry['scores']>) => number) =>
    history.runs.flatMap((r, i) => (r.scores ? [[i + 1, pick(r.scores)] as const] : []));
  const series: ChartSeries[] = [
    { label: 'Fine-tuned F1', points: points((s) => s.fineTunedF1), color: '#1f6feb' },
    { label: 'Base model F1', points: points((s) => s.baseF1), color: '#d9480f', dashed: true },
  ];
  return lossChartSvg(series, { width: 860, height: 320 }, { title: `SQuAD F1 over the last runs of ${history.requestName}`, xLabel: 'Run (# in the table, oldest first)', yLabel: 'F1' });
}

/** The history leaderboard as GitHub-flavoured Markdown. */
export function renderRunHistoryMarkdown(history: RunHistory): string {
  const md = escapeMarkdown;
  return [
    `# Runs of ${md(history.requestName)}: F1 over time`,
    '',
    md(headline(history)),
    '',
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => (NUMERIC.has(i) ? '---:' : '---')).join('|')}|`,
    ...history.runs.map((r, i) => `| ${cells(r, i).map((c) => md(c)).join(' | ')} |`),
    '',
    `_Generated ${md(history.generatedAt)}; history schema version ${history.schemaVersion}. leaderboard.html draws the F1 over these runs._`,
    '',
  ].join('\n');
}

/** The history leaderboard as a self-contained HTML document. */
export function renderRunHistoryHtml(history: RunHistory): string {
  const esc = escapeHtml;
  const head = HEADERS.map((h, i) => `<th${NUMERIC.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const rows = history.runs
    .map((r, i) => `<tr data-run-id="${esc(r.runId)}">${cells(r, i).map((c, j) => (j === 1 ? `<td><code>${esc(c)}</code></td>` : `<td${NUMERIC.has(j) ? ' class="num"' : ''}>${esc(c)}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Runs of ${esc(history.requestName)}: F1 over time</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Runs of ${esc(history.requestName)}: F1 over time</h1>
<p class="meta">${esc(headline(history))}</p>
</header>
<section>
<h2>SQuAD F1 over runs</h2>
<div class="chart">${runHistoryChartSvg(history)}</div>
</section>
<section>
<h2>Runs</h2>
<div class="table-wrap"><table class="history">
<thead><tr>${head}</tr></thead>
<tbody>
${rows}
</tbody></table></div>
</section>
<footer>Generated ${esc(history.generatedAt)}. History schema version ${history.schemaVersion}.</footer>
</main>
</body>
</html>
`;
}
