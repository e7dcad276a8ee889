/**
 * The report's "Cost: estimate and actual" section: the estimate made before the job was
 * created (run.json `costEstimate`, see cost-estimate.ts) beside what the evaluation used.
 * Kept apart from the other sections; the renderers call these two functions.
 */
import { compareEstimateWithActual, CostComparisonRow, describeTokens, formatDollars } from '../cost-estimate';
import { escapeHtml } from './html-escape';
import { escapeMarkdown } from './markdown-escape';
import { EvaluationReport } from './report-model';

function rowsOf(report: EvaluationReport): CostComparisonRow[] | undefined {
  const estimate = report.costEstimate;
  if (!estimate) return undefined;
  const { costs } = report;
  return compareEstimateWithActual(estimate, {
    provisionedThroughputHours: costs.provisionedThroughputHours,
    modelUnits: costs.modelUnits,
    baseInputTokens: costs.baseInputTokens,
    baseOutputTokens: costs.baseOutputTokens,
    fineTunedInputTokens: costs.fineTunedInputTokens,
    fineTunedOutputTokens: costs.fineTunedOutputTokens,
  });
}

function noteOf(report: EvaluationReport): string {
  const e = report.costEstimate!;
  const total = e.dollars.total !== undefined ? ` Estimated cost before the run: ${formatDollars(e.dollars.total)}${e.prices?.source ? ` (prices: ${e.prices.source})` : ''}.` : ' Dollars appear where the deployment sets prices.';
  return `Estimated before the job was created: ${describeTokens(e)}.${total}`;
}

/** Markdown lines of the section (none when the run has no estimate). */
export function costComparisonMarkdown(report: EvaluationReport): string[] {
  const rows = rowsOf(report);
  if (!rows) return [];
  return [
    '## Cost: estimate and actual',
    '',
    '| | Estimate | Actual |',
    '|---|---:|---:|',
    ...rows.map((r) => `| ${escapeMarkdown(r.item)} | ${escapeMarkdown(r.estimate)} | ${escapeMarkdown(r.actual)} |`),
    '',
    escapeMarkdown(noteOf(report)),
    '',
  ];
}

/** The HTML section (empty when the run has no estimate). */
export function costComparisonHtml(report: EvaluationReport): string {
  const rows = rowsOf(report);
  if (!rows) return '';
  const body = rows.map((r) => `<tr><td>${escapeHtml(r.item)}</td><td class="num">${escapeHtml(r.estimate)}</td><td class="num">${escapeHtml(r.actual)}</td></tr>`).join('\n');
  return `<section>
<h2>Cost: estimate and actual</h2>
<div class="table-wrap"><table>
<thead><tr><th></th><th class="num">Estimate</th><th class="num">Actual</th></tr></thead>
<tbody>
${body}
</tbody></table></div>
<p class="note">${escapeHtml(noteOf(report))}</p>
</section>`;
}
