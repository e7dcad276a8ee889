/** The evaluation report as Markdown (for a pull request, a wiki page or the S3 console). Pure. */
import { costComparisonMarkdown } from './cost-comparison';
import { EvaluationReport, ReportRecord } from './report-model';
import { escapeMarkdown } from './markdown-escape';
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
import { LossSummary } from '../training-metrics';
import { missingAnswersText, provisionedThroughputText } from './report-phrases';

/** Longest answer or question text shown; the JSON report keeps the full text. */
const MAX_SHOWN_CHARS = 400;

function text(value: string): string {
  return escapeMarkdown(truncateText(value, MAX_SHOWN_CHARS));
}

function answer(value: string | null): string {
  if (value === null) return '_(no answer: inference failed)_';
  return value.trim() === '' ? '_(empty answer)_' : text(value);
}

function gateLines(report: EvaluationReport): string[] {
  const { gate } = report;
  if (!gate.evaluated) return ['Not configured: no minimum F1 or improvement was set.'];
  return [`**${gate.passed ? 'PASSED' : 'FAILED'}**`, '', ...gate.reasons.map((r) => `- ${escapeMarkdown(r)}`)];
}

function scoreTable(report: EvaluationReport): string[] {
  const { base, fineTuned } = report.scores;
  const answered = (s: typeof base) => `${formatCount(s.answered)} of ${formatCount(s.count)}`;
  return [
    '| Metric | Base model | Fine-tuned model | Change |',
    '|---|---:|---:|---:|',
    `| F1 | ${formatScore(base.f1)} | ${formatScore(fineTuned.f1)} | ${formatPoints(report.absoluteDelta.f1)} (${formatPercent(report.relativeImprovementPercent)}) |`,
    `| Exact match | ${formatScore(base.exactMatch)} | ${formatScore(fineTuned.exactMatch)} | ${formatPoints(report.absoluteDelta.exactMatch)} |`,
    `| Records answered | ${answered(base)} | ${answered(fineTuned)} | |`,
  ];
}

function lossRow(name: string, loss: LossSummary | undefined): string {
  if (!loss) return `| ${name} | not recorded | | |`;
  return `| ${name} | ${formatLoss(loss.finalLoss)} | ${formatLoss(loss.bestLoss)} (step ${formatCount(loss.bestStep)}) | ${formatCount(loss.steps)} |`;
}

function trainingLines(report: EvaluationReport): string[] {
  const training = report.training;
  if (!training || (!training.training && !training.validation)) return ['No training metrics were recorded.'];
  const lines = ['| Loss | Final | Best (step) | Steps |', '|---|---:|---:|---:|', lossRow('Training', training.training), lossRow('Validation', training.validation)];
  const epochs = [...new Set([...(training.training?.lossPerEpoch ?? []), ...(training.validation?.lossPerEpoch ?? [])].map((e) => e.epoch))].sort((a, b) => a - b);
  if (epochs.length > 0) {
    const meanOf = (loss: LossSummary | undefined, epoch: number) => {
      const found = loss?.lossPerEpoch.find((e) => e.epoch === epoch);
      return found ? formatLoss(found.meanLoss) : '–';
    };
    lines.push('', '| Epoch | Mean training loss | Mean validation loss |', '|---:|---:|---:|');
    for (const epoch of epochs) lines.push(`| ${epoch} | ${meanOf(training.training, epoch)} | ${meanOf(training.validation, epoch)} |`);
  }
  return lines;
}

function usageLines(report: EvaluationReport): string[] {
  const { latency, tokens, costs } = report;
  const latencyCell = (stats: typeof latency.base, key: 'p50Ms' | 'p90Ms') => (stats ? formatMilliseconds(stats[key]) : '–');
  return [
    '| | Base model | Fine-tuned model |',
    '|---|---:|---:|',
    `| Latency p50 | ${latencyCell(latency.base, 'p50Ms')} | ${latencyCell(latency.fineTuned, 'p50Ms')} |`,
    `| Latency p90 | ${latencyCell(latency.base, 'p90Ms')} | ${latencyCell(latency.fineTuned, 'p90Ms')} |`,
    `| Input tokens (answered records) | ${formatCount(tokens.base.input)} | ${formatCount(tokens.fineTuned.input)} |`,
    `| Output tokens (answered records) | ${formatCount(tokens.base.output)} | ${formatCount(tokens.fineTuned.output)} |`,
    '',
    `- Tokens billed: base model ${formatCount(costs.baseInputTokens)} input / ${formatCount(costs.baseOutputTokens)} output; ` +
      `fine-tuned model ${formatCount(costs.fineTunedInputTokens)} input / ${formatCount(costs.fineTunedOutputTokens)} output`,
    `- Provisioned Throughput: ${provisionedThroughputText(report)}`,
    "- Prices are not applied: multiply these figures by your region's token prices and the hourly model-unit price.",
  ];
}

function exampleLines(record: ReportRecord, index: number): string[] {
  const references = record.references.map((r) => (r.trim() === '' ? '_(empty)_' : text(r))).join(' · ');
  const where =
    record.line === null
      ? `Record ${escapeMarkdown(record.recordId)}`
      : `Line ${formatCount(record.line)}${record.recordId === String(record.line) ? '' : ` (record ${escapeMarkdown(record.recordId)})`}`;
  // Markdown viewers drop data: URIs, so the images are named; report.html shows them.
  const images = record.imageUris.map((uri, i) => `- **Image${record.imageUris.length > 1 ? ` ${i + 1}` : ''}:** ${escapeMarkdown(uri)}`);
  return [
    `### ${index + 1}. ${where}: fine-tuned F1 ${formatScore(record.fineTunedF1)}, base F1 ${formatScore(record.baseF1)}`,
    '',
    ...images,
    `- **Question:** ${text(record.question)}`,
    `- **Reference${record.references.length > 1 ? 's' : ''}:** ${references}`,
    `- **Base answer:** ${answer(record.basePrediction)}`,
    `- **Fine-tuned answer:** ${answer(record.fineTunedPrediction)}`,
    '',
  ];
}

/** Renders the report as GitHub-flavoured Markdown. */
export function renderReportMarkdown(report: EvaluationReport): string {
  const { run, recordComparison: cmp } = report;
  const mark = report.madeWithStandIns ? ' (stand-in)' : '';
  const lines = [
    `# Evaluation report: ${escapeMarkdown(run.requestName)}`,
    '',
    ...(report.madeWithStandIns
      ? [
          '> **Offline demo: these are not real model results.** The models\' answers and so every score, the latency and token counts, the training loss and the Provisioned Throughput hours come from local stand-ins of Amazon Bedrock; their sections are marked (stand-in). Run times are real.',
          '',
        ]
      : []),
    `- Run: \`${run.runId.replace(/`/g, "'")}\` in environment **${escapeMarkdown(run.environment)}**`,
    `- Model: ${escapeMarkdown(run.model.name)} (${escapeMarkdown(run.model.baseModelIdentifier)})${run.model.customModelArn ? `, custom model ${escapeMarkdown(run.model.customModelArn)}` : ''}`,
    `- Request: ${escapeMarkdown(run.requestUri)}`,
    `- Started ${escapeMarkdown(run.startedAt)}, finished ${escapeMarkdown(run.finishedAt)} (${formatDuration(run.durationSeconds)})`,
    `- Hyperparameters: ${Object.entries(run.hyperParameters).map(([k, v]) => `${escapeMarkdown(k)}=${escapeMarkdown(String(v))}`).join(', ') || 'none recorded'}`,
    '',
    `## Scores (SQuAD F1 and exact match, 0–100)${mark}`,
    '',
    ...scoreTable(report),
    '',
    `Relative F1 improvement: **${formatPercent(report.relativeImprovementPercent)}**${report.relativeImprovementPercent === null ? ' (the base model scored 0)' : ''}. ` +
      `Per record, the fine-tuned model scored higher on ${formatCount(cmp.improved)}, lower on ${formatCount(cmp.worsened)} and the same on ${formatCount(cmp.unchanged)}.`,
  ];
  const missing = missingAnswersText(report);
  if (missing) lines.push('', escapeMarkdown(missing));
  lines.push('', `## Quality gate${mark}`, '', ...gateLines(report), '', `## Training loss${mark}`, '', ...trainingLines(report), '', `## Latency, tokens and cost figures${mark}`, '', ...usageLines(report), '');
  lines.push(...costComparisonMarkdown(report));
  lines.push(`## Lowest-scoring examples (${report.lowest.length} of ${formatCount(report.records.length)})${mark}`, '');
  if (report.records.length === 0) lines.push('No records were scored.', '');
  else if (report.lostPoints === 0) lines.push(`Every answer was exact: both models scored F1 100 on all ${formatCount(report.records.length)} record(s), so no example lost points.`, '');
  else {
    const shown = report.lowest.length < report.lostPoints ? `the ${report.lowest.length} lowest of the ` : '';
    lines.push(
      `Only records that lost points: ${shown}${formatCount(report.lostPoints)} record(s) where either model scored below F1 100, ordered by the fine-tuned model's F1, then the base model's.` +
        (run.testDataUri ? ` Lines refer to ${escapeMarkdown(run.testDataUri)}.` : ''),
      '',
    );
  }
  report.lowest.forEach((record, i) => lines.push(...exampleLines(record, i)));
  lines.push(`_Report schema version ${report.schemaVersion}._`, '');
  return lines.join('\n');
}
