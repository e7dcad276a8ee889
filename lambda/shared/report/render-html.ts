/**
 * The evaluation report as one self-contained HTML file: inline CSS, an inline SVG chart and
 * the examples' images as `data:` URIs; no scripts, fonts or images from anywhere, so it opens
 * from S3 or an e-mail attachment and reads the same without JavaScript. Every piece of text
 * from the input is escaped. Pure.
 */
import { costComparisonHtml } from './cost-comparison';
import { ChartSeries, lossChartSvg } from './loss-chart-svg';
import { escapeHtml } from './html-escape';
import {
  formatCount,
  formatDuration,
  formatLoss,
  formatMilliseconds,
  formatPercent,
  formatPoints,
  formatScore,
  truncateText,
} from './format-numbers';
import { gateVerdictText, missingAnswersText, provisionedThroughputText } from './report-phrases';
import { EvaluationReport, LatencyStats, ModelScores, ReportRecord } from './report-model';
import { DEFAULT_REPORT_IMAGE_LIMITS, ReportImage, ReportImageLimits, displaySize } from './report-images';
import { LossSummary } from '../training-metrics';

/** Longest answer or question text shown; the JSON report keeps the full text. */
const MAX_SHOWN_CHARS = 600;
const CHART_SIZE = { width: 760, height: 320 };

/** The report's style sheet; the leaderboards (lambda/shared/leaderboard) use it too, so every page the project writes looks alike. */
export const REPORT_STYLE = `
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --pass: #1a7f37; --fail: #cf222e; --accent: #1f6feb; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f4; color: var(--ink); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 24px auto; padding: 28px 32px; background: #fff; border: 1px solid var(--line); border-radius: 10px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 32px 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 0 0 8px; }
.meta { color: var(--muted); margin: 0; font-size: 14px; }
.meta code { font-size: 13px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft); padding: 1px 4px; border-radius: 4px; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 3px 10px; border-radius: 999px; font-weight: 600; font-size: 13px; color: #fff; vertical-align: middle; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); } .badge.none { background: var(--muted); }
.headline { display: flex; gap: 16px; flex-wrap: wrap; margin: 20px 0 8px; }
.figure { flex: 1 1 180px; border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; background: var(--soft); }
.figure .label { color: var(--muted); font-size: 13px; }
.figure .value { font-size: 28px; font-weight: 650; font-variant-numeric: tabular-nums; }
.figure .value.up { color: var(--pass); } .figure .value.down { color: var(--fail); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
.table-wrap { overflow-x: auto; margin: 8px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 7px 10px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; font-size: 14px; }
td.num, th.num { text-align: right; white-space: nowrap; }
ul.reasons { padding-left: 20px; margin: 8px 0; }
ul.reasons li.pass::marker { color: var(--pass); } ul.reasons li.fail::marker { color: var(--fail); }
.note { color: var(--muted); font-size: 14px; }
.chart { overflow-x: auto; margin: 8px 0 4px; }
.chart svg { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 6px; }
.example { border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 12px 0; }
.example dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 14px; margin: 0; }
.example dt { color: var(--muted); font-size: 14px; }
.example dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.score { display: inline-block; min-width: 56px; text-align: center; border-radius: 4px; padding: 0 6px; font-size: 13px; font-weight: 600; background: var(--soft); border: 1px solid var(--line); margin-right: 6px; font-variant-numeric: tabular-nums; }
.missing { color: var(--fail); font-style: italic; }
.empty { color: var(--muted); font-style: italic; }
footer { margin-top: 32px; color: var(--muted); font-size: 13px; }
.images { display: flex; flex-wrap: wrap; gap: 12px; margin: 4px 0; }
.images figure { margin: 0; max-width: 320px; }
.images img { display: block; max-width: 100%; max-height: 240px; width: auto; height: auto; outline: 1px solid var(--line); background: var(--soft); }
.images figcaption { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.image-placeholder .box { width: 240px; max-width: 100%; min-height: 96px; display: flex; align-items: center; justify-content: center; text-align: center; padding: 8px; border: 2px dashed var(--line); border-radius: 4px; color: var(--muted); font-size: 13px; background: var(--soft); }
.standin-banner { margin: 16px 0 0; padding: 12px 16px; border: 2px solid #bf8700; border-radius: 8px; background: #fff8c5; }
.cleanup-notice { margin: 16px 0 0; padding: 12px 16px; border: 2px solid #cf222e; border-radius: 8px; background: #ffebe9; }
.standin { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px; font-size: 12px; font-weight: 600; color: #7d4e00; vertical-align: middle; background: repeating-linear-gradient(135deg, #fff8c5 0 6px, #ffe58f 6px 12px); border: 1px solid #bf8700; }
@media (max-width: 640px) {
  main { margin: 0; padding: 16px; border: 0; border-radius: 0; }
  th, td { padding: 6px; }
  .example dl { grid-template-columns: 1fr; gap: 2px; }
  .example dd { margin-bottom: 6px; }
}
`;

function esc(text: string): string {
  return escapeHtml(truncateText(text, MAX_SHOWN_CHARS));
}

function answerHtml(value: string | null): string {
  if (value === null) return '<span class="missing">no answer (inference failed)</span>';
  return value.trim() === '' ? '<span class="empty">(empty answer)</span>' : esc(value);
}

function headlineHtml(report: EvaluationReport): string {
  const delta = report.absoluteDelta.f1;
  const trend = delta > 0 ? 'up' : delta < 0 ? 'down' : '';
  const figure = (label: string, value: string, cls = '') => `<div class="figure"><div class="label">${label}${standIn(report)}</div><div class="value ${cls}">${value}</div></div>`;
  return (
    '<div class="headline">' +
    figure('Base model F1', formatScore(report.scores.base.f1)) +
    figure('Fine-tuned model F1', formatScore(report.scores.fineTuned.f1)) +
    figure('Relative F1 improvement', escapeHtml(formatPercent(report.relativeImprovementPercent)), trend) +
    '</div>'
  );
}

function scoreTableHtml(report: EvaluationReport): string {
  const { base, fineTuned } = report.scores;
  const answered = (s: ModelScores) => `${formatCount(s.answered)} of ${formatCount(s.count)}`;
  const cmp = report.recordComparison;
  return `<div class="table-wrap"><table class="scores">
<thead><tr><th>Metric</th><th class="num">Base model</th><th class="num">Fine-tuned model</th><th class="num">Change</th></tr></thead>
<tbody>
<tr><td>F1</td><td class="num">${formatScore(base.f1)}</td><td class="num">${formatScore(fineTuned.f1)}</td><td class="num">${formatPoints(report.absoluteDelta.f1)} (${escapeHtml(formatPercent(report.relativeImprovementPercent))})</td></tr>
<tr><td>Exact match</td><td class="num">${formatScore(base.exactMatch)}</td><td class="num">${formatScore(fineTuned.exactMatch)}</td><td class="num">${formatPoints(report.absoluteDelta.exactMatch)}</td></tr>
<tr><td>Records answered</td><td class="num">${answered(base)}</td><td class="num">${answered(fineTuned)}</td><td></td></tr>
</tbody></table></div>
<p class="note">SQuAD F1 and exact match, 0–100, best match over each record's references. Per record the fine-tuned model scored higher on ${formatCount(cmp.improved)}, lower on ${formatCount(cmp.worsened)} and the same on ${formatCount(cmp.unchanged)} record(s).${
    report.relativeImprovementPercent === null ? ' The relative improvement is undefined because the base model scored 0.' : ''
  }</p>${missingAnswersText(report) ? `\n<p class="note missing">${escapeHtml(missingAnswersText(report)!)}</p>` : ''}`;
}

function badgeHtml(report: EvaluationReport): string {
  const cls = !report.gate.evaluated ? 'none' : report.gate.passed ? 'pass' : 'fail';
  const text = gateVerdictText(report);
  return `<span class="badge ${cls}">${escapeHtml(text.charAt(0).toUpperCase() + text.slice(1))}</span>`;
}

function gateHtml(report: EvaluationReport): string {
  if (!report.gate.evaluated) return '<p>Not configured: no minimum F1 or improvement was set.</p>';
  const items = report.gate.reasons.map((r) => `<li class="${r.startsWith('PASS') ? 'pass' : 'fail'}">${escapeHtml(r)}</li>`).join('\n');
  return `<p>${badgeHtml(report)}</p>\n<ul class="reasons">\n${items}\n</ul>`;
}

function lossRowHtml(name: string, loss: LossSummary | undefined): string {
  if (!loss) return `<tr><td>${name}</td><td colspan="3" class="note">not recorded</td></tr>`;
  return `<tr><td>${name}</td><td class="num">${formatLoss(loss.finalLoss)}</td><td class="num">${formatLoss(loss.bestLoss)} (step ${formatCount(loss.bestStep)})</td><td class="num">${formatCount(loss.steps)}</td></tr>`;
}

function trainingHtml(report: EvaluationReport): string {
  const training = report.training;
  if (!training || (!training.training && !training.validation)) return '<p class="note">No training metrics were recorded.</p>';
  const curves: ChartSeries[] = [];
  if (training.training) curves.push({ label: 'Training loss', points: training.training.curve, color: '#1f6feb' });
  if (training.validation) curves.push({ label: 'Validation loss', points: training.validation.curve, color: '#d9480f', dashed: true });
  const chart = lossChartSvg(curves, CHART_SIZE, { title: `Loss by training step for ${report.run.requestName}` });
  const epochs = [...new Set([...(training.training?.lossPerEpoch ?? []), ...(training.validation?.lossPerEpoch ?? [])].map((e) => e.epoch))].sort((a, b) => a - b);
  const meanOf = (loss: LossSummary | undefined, epoch: number) => {
    const found = loss?.lossPerEpoch.find((e) => e.epoch === epoch);
    return found ? formatLoss(found.meanLoss) : '–';
  };
  const epochRows = epochs.map((e) => `<tr><td class="num">${e}</td><td class="num">${meanOf(training.training, e)}</td><td class="num">${meanOf(training.validation, e)}</td></tr>`).join('\n');
  return `<div class="chart">${chart}</div>
<div class="table-wrap"><table>
<thead><tr><th>Loss</th><th class="num">Final</th><th class="num">Best (step)</th><th class="num">Steps</th></tr></thead>
<tbody>
${lossRowHtml('Training', training.training)}
${lossRowHtml('Validation', training.validation)}
</tbody></table></div>${
    epochRows
      ? `\n<div class="table-wrap"><table>\n<thead><tr><th class="num">Epoch</th><th class="num">Mean training loss</th><th class="num">Mean validation loss</th></tr></thead>\n<tbody>\n${epochRows}\n</tbody></table></div>`
      : ''
  }`;
}

/** Renders each image slot of the examples, embedded or as a placeholder, within the limits. */
class ImageSlots {
  private used = 0;
  constructor(
    private readonly images: ReadonlyMap<string, ReportImage> | undefined,
    private readonly limits: ReportImageLimits,
  ) {}

  html(record: ReportRecord): string {
    if (record.imageUris.length === 0) return '';
    const figures = record.imageUris.map((uri, i) => {
      const slot = this.used++;
      const image = this.images?.get(uri);
      const what = `Image${record.imageUris.length > 1 ? ` ${i + 1}` : ''} of ${record.line === null ? `record ${record.recordId}` : `line ${record.line}`}`;
      const caption = `<figcaption><code>${escapeHtml(uri)}</code></figcaption>`;
      if (slot < this.limits.maxImages && image?.kind === 'embedded') {
        const size = displaySize(image.width, image.height);
        const attributes = size ? ` width="${size.width}" height="${size.height}"` : '';
        return `<figure><img src="${escapeHtml(image.dataUri)}"${attributes} alt="${escapeHtml(what)}">${caption}</figure>`;
      }
      const reason =
        slot >= this.limits.maxImages
          ? `the report embeds at most ${this.limits.maxImages} image${this.limits.maxImages === 1 ? '' : 's'}`
          : image?.kind === 'placeholder'
            ? image.reason
            : 'the image was not read for this rendering';
      return `<figure class="image-placeholder"><div class="box" role="img" aria-label="${escapeHtml(`${what}: not embedded`)}">${escapeHtml(`${what} not embedded: ${reason}.`)}</div>${caption}</figure>`;
    });
    return `<dt>Image${record.imageUris.length > 1 ? 's' : ''}</dt><dd><div class="images">${figures.join('')}</div></dd>\n`;
  }
}

function exampleTitle(record: ReportRecord, index: number): string {
  const id = `record <code>${escapeHtml(record.recordId)}</code>`;
  if (record.line === null) return `${index + 1}. ${id.charAt(0).toUpperCase()}${id.slice(1)}`;
  // Records without a sidecar id are named by their line: say it once.
  return `${index + 1}. Line ${formatCount(record.line)} of the test file${record.recordId === String(record.line) ? '' : `, ${id}`}`;
}

function exampleHtml(record: ReportRecord, index: number, slots: ImageSlots): string {
  const references = record.references.map((r) => (r.trim() === '' ? '<span class="empty">(empty)</span>' : esc(r))).join('<br>');
  return `<article class="example">
<h3>${exampleTitle(record, index)}</h3>
<dl>
${slots.html(record)}<dt>Question</dt><dd>${esc(record.question)}</dd>
<dt>Reference${record.references.length > 1 ? 's' : ''}</dt><dd>${references}</dd>
<dt>Base answer</dt><dd><span class="score" title="base F1">F1 ${formatScore(record.baseF1)}</span>${answerHtml(record.basePrediction)}</dd>
<dt>Fine-tuned answer</dt><dd><span class="score" title="fine-tuned F1">F1 ${formatScore(record.fineTunedF1)}</span>${answerHtml(record.fineTunedPrediction)}</dd>
</dl>
</article>`;
}

function examplesHtml(report: EvaluationReport, options: ReportHtmlOptions): string {
  if (report.records.length === 0) return '<p class="note">No records were scored.</p>';
  if (report.lostPoints === 0) return `<p class="note">Every answer was exact: both models scored F1 100 on all ${formatCount(report.records.length)} record(s), so no example lost points.</p>`;
  const slots = new ImageSlots(options.images, options.imageLimits ?? DEFAULT_REPORT_IMAGE_LIMITS);
  const shown = report.lowest.length < report.lostPoints ? `the ${report.lowest.length} lowest of the ` : '';
  return (
    `<p class="note">Only records that lost points: ${shown}${formatCount(report.lostPoints)} record(s) where either model scored below F1 100, ordered by the fine-tuned model's F1, then the base model's.` +
    `${report.run.testDataUri ? ` Lines refer to <code>${escapeHtml(report.run.testDataUri)}</code>.` : ''}</p>\n` +
    report.lowest.map((record, i) => exampleHtml(record, i, slots)).join('\n')
  );
}

/** The mark on every figure that came from a stand-in (offline demo). */
function standIn(report: EvaluationReport): string {
  return report.madeWithStandIns ? '<span class="standin" title="from a local stand-in, not from Bedrock">stand-in</span>' : '';
}

function standInBannerHtml(report: EvaluationReport): string {
  if (!report.madeWithStandIns) return '';
  return `<div class="standin-banner" role="note"><strong>Offline demo: these are not real model results.</strong> The models' answers and so every score, the latency and token counts, the training loss and the Provisioned Throughput hours come from local stand-ins of Amazon Bedrock; they are marked ${standIn(report)}. Run times are real.</div>\n`;
}

function usageHtml(report: EvaluationReport): string {
  const { latency, tokens, costs } = report;
  const ms = (stats: LatencyStats | null, key: 'p50Ms' | 'p90Ms') => (stats ? formatMilliseconds(stats[key]) : '–');
  const row = (label: string, base: string, fineTuned: string) => `<tr><td>${label}</td><td class="num">${base}</td><td class="num">${fineTuned}</td></tr>`;
  return `<div class="table-wrap"><table>
<thead><tr><th></th><th class="num">Base model</th><th class="num">Fine-tuned model</th></tr></thead>
<tbody>
${row('Latency p50', ms(latency.base, 'p50Ms'), ms(latency.fineTuned, 'p50Ms'))}
${row('Latency p90', ms(latency.base, 'p90Ms'), ms(latency.fineTuned, 'p90Ms'))}
${row('Input tokens (answered records)', formatCount(tokens.base.input), formatCount(tokens.fineTuned.input))}
${row('Output tokens (answered records)', formatCount(tokens.base.output), formatCount(tokens.fineTuned.output))}
${row('Input tokens billed', formatCount(costs.baseInputTokens), formatCount(costs.fineTunedInputTokens))}
${row('Output tokens billed', formatCount(costs.baseOutputTokens), formatCount(costs.fineTunedOutputTokens))}
</tbody></table></div>
<p>Provisioned Throughput: ${escapeHtml(provisionedThroughputText(report))}.</p>
<p class="note">Prices are not applied: multiply these figures by your region's token prices and the hourly model-unit price.</p>`;
}

function runHtml(report: EvaluationReport): string {
  const { run } = report;
  const rows: Array<[string, string]> = [
    ['Run id', `<code>${escapeHtml(run.runId)}</code>`],
    ['Environment', escapeHtml(run.environment)],
    ['Model', `${escapeHtml(run.model.name)} (<code>${escapeHtml(run.model.baseModelIdentifier)}</code>)`],
    ...(run.model.customModelArn ? ([['Custom model', `<code>${escapeHtml(run.model.customModelArn)}</code>`]] as Array<[string, string]>) : []),
    ['Request', `<code>${escapeHtml(run.requestUri)}</code>`],
    ['Started', escapeHtml(run.startedAt)],
    ['Finished', `${escapeHtml(run.finishedAt)} (${formatDuration(run.durationSeconds)})`],
    ['Hyperparameters', Object.entries(run.hyperParameters).map(([k, v]) => `<code>${escapeHtml(k)}=${escapeHtml(String(v))}</code>`).join(' ') || 'none recorded'],
  ];
  return `<div class="table-wrap"><table>\n<tbody>\n${rows.map(([k, v]) => `<tr><th scope="row">${k}</th><td>${v}</td></tr>`).join('\n')}\n</tbody></table></div>`;
}

/** What {@link renderReportHtml} embeds besides the report. */
export interface ReportHtmlOptions {
  /** The examples' images by S3 URI (see report-images.ts); an image not here gets a placeholder. */
  readonly images?: ReadonlyMap<string, ReportImage>;
  /** @default DEFAULT_REPORT_IMAGE_LIMITS */
  readonly imageLimits?: ReportImageLimits;
}

/** Renders the report as a self-contained HTML document. */
export function renderReportHtml(report: EvaluationReport, options: ReportHtmlOptions = {}): string {
  const { run } = report;
  const mark = standIn(report);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${report.madeWithStandIns ? '[Offline demo, stand-in figures] ' : ''}Evaluation report: ${escapeHtml(run.requestName)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<main>
<header>
<h1>Evaluation report: ${escapeHtml(run.requestName)}</h1>
<p class="meta">${escapeHtml(run.model.name)} fine-tuned in <strong>${escapeHtml(run.environment)}</strong>, run <code>${escapeHtml(run.runId)}</code>, finished ${escapeHtml(run.finishedAt)} ${badgeHtml(report)}</p>
</header>
${standInBannerHtml(report)}${headlineHtml(report)}
<section>
<h2>Scores${mark}</h2>
${scoreTableHtml(report)}
</section>
<section>
<h2>Quality gate${mark}</h2>
${gateHtml(report)}
</section>
<section>
<h2>Training loss${mark}</h2>
${trainingHtml(report)}
</section>
<section>
<h2>Lowest-scoring examples (${report.lowest.length} of ${formatCount(report.records.length)})${mark}</h2>
${examplesHtml(report, options)}
</section>
<section>
<h2>Latency, tokens and cost figures${mark}</h2>
${usageHtml(report)}
</section>
${costComparisonHtml(report)}
<section>
<h2>Run</h2>
${runHtml(report)}
</section>
<footer>Report schema version ${report.schemaVersion}. Generated by llama-finetune from ${formatCount(report.records.length)} scored record(s).</footer>
</main>
</body>
</html>
`;
}
