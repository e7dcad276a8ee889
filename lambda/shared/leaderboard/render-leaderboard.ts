/**
 * The experiment leaderboard as Markdown, as one self-contained HTML file (the report's style
 * sheet and chart; no scripts, fonts or remote images) and as a plain-text summary of at most
 * 1,000 characters for the notification and the outcome event. Every name and error is
 * untrusted text and is escaped for where it goes. Pure.
 */
import { safeText } from '../display-text';
import { REPORT_STYLE } from '../report/render-html';
import { ChartSeries, lossChartSvg } from '../report/loss-chart-svg';
import { escapeHtml } from '../report/html-escape';
import { escapeMarkdown } from '../report/markdown-escape';
import { formatCount, formatLoss, formatPercent, formatScore, truncateText } from '../report/format-numbers';
import { formatDollars } from '../cost-estimate';
import { Leaderboard, LeaderboardEntry, describeVariantCost } from './leaderboard-model';

/** Longest error text shown in a table cell; leaderboard.json keeps the full text. */
const MAX_ERROR_CHARS = 300;
/** Most characters of the summary (SNS subject lines are short; the message and event detail carry it). */
export const LEADERBOARD_SUMMARY_MAX_CHARS = 1000;
const CHART_SIZE = { width: 860, height: 360 };

/** "epochCount=2, learningRate=0.0001", or "defaults" when none is recorded. */
export function hyperParametersText(hyperParameters: Readonly<Record<string, number | string>>): string {
  const entries = Object.entries(hyperParameters);
  return entries.length === 0 ? 'none recorded' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** "passed", "failed", "no gate" or "–" (not evaluated). */
export function gateText(entry: Pick<LeaderboardEntry, 'gate'>): string {
  if (!entry.gate) return '–';
  if (!entry.gate.evaluated) return 'no gate';
  return entry.gate.passed ? 'passed' : 'failed';
}

function rankText(entry: LeaderboardEntry): string {
  if (entry.rank === null) return '–';
  return entry.tiedWith.length > 0 ? `=${entry.rank}` : String(entry.rank);
}

function statusText(entry: LeaderboardEntry): string {
  if (entry.standing === 'RANKED') return 'evaluated';
  if (entry.standing === 'NOT_EVALUATED') return 'succeeded, not evaluated';
  return `${entry.status.toLowerCase().replace('_', ' ')}: ${truncateText(entry.error ?? '', MAX_ERROR_CHARS)}`;
}

function loss(value: number | null): string {
  return value === null ? '–' : formatLoss(value);
}

/** The cells of one row, as plain text (each renderer escapes them). */
function cells(entry: LeaderboardEntry): string[] {
  const s = entry.scores;
  return [
    rankText(entry),
    entry.name,
    statusText(entry),
    entry.model ?? '–',
    hyperParametersText(entry.hyperParameters),
    s ? formatScore(s.fineTunedF1) : '–',
    s ? formatScore(s.fineTunedExactMatch) : '–',
    s ? formatPercent(s.relativeImprovementPercent) : '–',
    loss(entry.finalTrainingLoss),
    loss(entry.finalValidationLoss),
    gateText(entry),
    describeVariantCost(entry.cost),
  ];
}

const HEADERS = ['Rank', 'Variant', 'Status', 'Model', 'Hyperparameters', 'Fine-tuned F1', 'Exact match', 'F1 vs base', 'Final training loss', 'Final validation loss', 'Quality gate', 'Cost'];
const NUMERIC = new Set([0, 5, 6, 7, 8, 9]);

function baselineText(board: Leaderboard): string {
  const b = board.baseline;
  if (!b) return 'No variant was evaluated, so there is no baseline to compare with.';
  return b.shared
    ? `Base model (shared baseline of every variant): F1 ${formatScore(b.f1)}, exact match ${formatScore(b.exactMatch)}. "F1 vs base" is each variant's relative F1 improvement over it.`
    : `The variants' base-model scores differ (no shared baseline); "F1 vs base" is each variant's improvement over its own base score. First ranked: F1 ${formatScore(b.f1)}, exact match ${formatScore(b.exactMatch)}.`;
}

function bestText(board: Leaderboard): string {
  return board.best ? `Best variant: ${board.best.name} (run ${board.best.runId}). ${board.bestReason}` : `No best variant. ${board.bestReason}`;
}

function tiesText(board: Leaderboard): string[] {
  return board.ties.map((group) => `Tie: ${group.join(', ')} have the same fine-tuned F1 and exact match (at two decimals); they share a rank and are listed in request order.`);
}

function totalsText(board: Leaderboard): string {
  const t = board.totals;
  const dollars = t.estimatedDollars !== undefined ? `, ${formatDollars(t.estimatedDollars)}` : '';
  return `${t.variants} variant(s): ${t.ranked} ranked, ${t.failed} failed or missing. Estimated before training, over every variant: ${formatCount(t.estimatedTokens)} tokens${dollars}.`;
}

/** Renders the leaderboard as GitHub-flavoured Markdown. */
export function renderLeaderboardMarkdown(board: Leaderboard): string {
  const md = escapeMarkdown;
  const row = (values: string[]) => `| ${values.map((v) => md(v)).join(' | ')} |`;
  const lines = [
    `# Leaderboard: ${md(board.requestName)}`,
    '',
    `- Experiment run: \`${board.experimentRunId.replace(/`/g, "'")}\``,
    `- Generated: ${md(board.generatedAt)}`,
    `- ${md(totalsText(board))}`,
    '',
    `**${md(bestText(board))}**`,
    '',
    `_${md(board.bestRule)}_`,
    '',
    '## Ranking',
    '',
    md(baselineText(board)),
    '',
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map((_, i) => (NUMERIC.has(i) ? '---:' : '---')).join('|')}|`,
    ...board.entries.map((e) => row(cells(e))),
    '',
    ...tiesText(board).flatMap((t) => [md(t), '']),
    'Ranked by fine-tuned SQuAD F1, then exact match (0–100, compared at the two decimals shown); variants that were not evaluated follow, then those that failed, with their error.',
    '',
  ];
  const reports = board.entries.filter((e) => e.reportHtmlUri);
  if (reports.length > 0) {
    lines.push('## Reports', '', ...reports.map((e) => `- ${md(e.name)}: ${md(e.reportHtmlUri!)}`), '');
  }
  lines.push(`_Leaderboard schema version ${board.schemaVersion}._`, '');
  return lines.join('\n');
}

const LEADERBOARD_STYLE = `
.best { margin: 16px 0; padding: 12px 16px; border: 2px solid var(--pass); border-radius: 8px; background: #dafbe1; }
.best.none { border-color: var(--muted); background: var(--soft); }
tr.failed td { color: var(--muted); }
tr.failed td.status { color: var(--fail); }
td.status { max-width: 320px; overflow-wrap: anywhere; }
`;

/** The loss chart: each variant's training loss as one line (dashed from the fifth on, so lines differ by more than colour). */
export function leaderboardChartSvg(board: Leaderboard): string {
  const curves: ChartSeries[] = board.entries.map((e, i) => ({ label: e.name, points: e.trainingLossCurve, dashed: i >= 4 }));
  // Legend rows: 8 names of up to 20 characters need 3 rows at this width.
  return lossChartSvg(curves, CHART_SIZE, { title: `Training loss by step, one line per variant of ${board.requestName}` });
}

/** Renders the leaderboard as a self-contained HTML document. */
export function renderLeaderboardHtml(board: Leaderboard): string {
  const esc = escapeHtml;
  const head = HEADERS.map((h, i) => `<th${NUMERIC.has(i) ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = board.entries
    .map((e) => {
      const tds = cells(e)
        .map((c, i) => {
          const cls = NUMERIC.has(i) ? ' class="num"' : i === 2 ? ' class="status"' : '';
          return i === 1 ? `<td><strong>${esc(c)}</strong><br><code>${esc(e.runId)}</code></td>` : `<td${cls}>${esc(c)}</td>`;
        })
        .join('');
      return `<tr class="${e.standing === 'FAILED' ? 'failed' : e.standing === 'RANKED' ? 'ranked' : 'not-evaluated'}" data-variant="${esc(e.name)}">${tds}</tr>`;
    })
    .join('\n');
  const ties = tiesText(board).map((t) => `<p class="note">${esc(t)}</p>`).join('\n');
  const reports = board.entries.filter((e) => e.reportHtmlUri).map((e) => `<li>${esc(e.name)}: <code>${esc(e.reportHtmlUri!)}</code></li>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Leaderboard: ${esc(board.requestName)}</title>
<style>${REPORT_STYLE}${LEADERBOARD_STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Leaderboard: ${esc(board.requestName)}</h1>
<p class="meta">Experiment run <code>${esc(board.experimentRunId)}</code>, generated ${esc(board.generatedAt)}. ${esc(totalsText(board))}</p>
</header>
<div class="best${board.best ? '' : ' none'}" role="note"><strong>${esc(bestText(board))}</strong><br><span class="note">${esc(board.bestRule)}</span></div>
<section>
<h2>Ranking</h2>
<p>${esc(baselineText(board))}</p>
<div class="table-wrap"><table class="leaderboard">
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table></div>
${ties}
<p class="note">Ranked by fine-tuned SQuAD F1, then exact match (0–100, compared at the two decimals shown); variants that were not evaluated follow, then those that failed, with their error.</p>
</section>
<section>
<h2>Training loss</h2>
<div class="chart">${leaderboardChartSvg(board)}</div>
</section>
${reports.length > 0 ? `<section>\n<h2>Reports</h2>\n<ul>\n${reports.join('\n')}\n</ul>\n</section>\n` : ''}<footer>Leaderboard schema version ${board.schemaVersion}. Generated by llama-finetune.</footer>
</main>
</body>
</html>
`;
}

/**
 * A plain-text summary of at most {@link LEADERBOARD_SUMMARY_MAX_CHARS} characters: the best
 * variant, the ranking and the failures. Control and bidi characters of names and errors are
 * shown escaped.
 */
export function renderLeaderboardSummary(board: Leaderboard): string {
  const safe = (text: string, max = 200) => safeText(text, { maxChars: max });
  const t = board.totals;
  const parts = [`Experiment ${safe(board.requestName, 60)} (run ${safe(board.experimentRunId, 80)}): ${t.variants} variant(s), ${t.ranked} ranked, ${t.failed} failed.`];
  if (board.best) {
    const best = board.entries.find((e) => e.name === board.best!.name)!;
    const s = best.scores!;
    parts.push(`Best: ${safe(best.name, 40)}, fine-tuned F1 ${formatScore(s.fineTunedF1)} (exact match ${formatScore(s.fineTunedExactMatch)}, ${formatPercent(s.relativeImprovementPercent)} vs base F1 ${formatScore(s.baseF1)}), gate ${gateText(best)}.`);
  } else {
    parts.push(`No best variant: ${board.bestReason}`);
  }
  const ranked = board.entries.filter((e) => e.rank !== null);
  if (ranked.length > 0) parts.push(`Ranking: ${ranked.map((e) => `${rankText(e)}. ${safe(e.name, 40)} F1 ${formatScore(e.scores!.fineTunedF1)}`).join('; ')}.`);
  const failed = board.entries.filter((e) => e.standing === 'FAILED');
  if (failed.length > 0) parts.push(`Failed: ${failed.map((e) => `${safe(e.name, 40)} (${safe(e.error ?? e.status, 120)})`).join('; ')}.`);
  return truncateText(parts.join(' '), LEADERBOARD_SUMMARY_MAX_CHARS);
}
