/**
 * Human-readable renderings of a validation report: a short summary (for an SNS message or
 * a Step Functions output, under 2,000 characters) and the full text the CLI prints.
 */
import { Distribution } from './histogram';
import { ValidationProblem } from './problems';
import { ValidationReport } from './report';

/** Options of {@link renderSummary}. */
export interface SummaryOptions {
  /** Where the full report lies, e.g. s3://bucket/runs/x/validation/report.json. */
  readonly reportUri?: string;
  /** Longest summary. @default 1900 */
  readonly maxChars?: number;
  /** Problems quoted with their messages. @default 5 */
  readonly examples?: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const count = (n: number, word: string) => `${fmt(n)} ${word}${n === 1 ? '' : 's'}`;

function verdict(report: ValidationReport): string {
  const { errors, warnings } = report.totals;
  const state = report.valid ? 'VALID' : 'INVALID';
  return `Dataset check for ${report.model.name}: ${state} (${count(errors, 'error')}, ${count(warnings, 'warning')}).`;
}

function distribution(label: string, d: Distribution, unit: string, limit?: number): string {
  if (d.count === 0) return `${label}: none.`;
  const limitText = limit !== undefined ? ` (limit ${fmt(limit)})` : '';
  return `${label}: min ${fmt(d.min)}, median ${fmt(d.p50)}, p90 ${fmt(d.p90)}, max ${fmt(d.max)} ${unit}${limitText}.`;
}

function recordsLine(report: ValidationReport): string {
  const t = report.totals;
  const share = `${(t.textOnlyShare * 100).toFixed(1)}%`;
  return (
    `Records: ${fmt(t.trainingAndValidationRecords)} training + validation (allowed ${fmt(report.limits.minRecords)}..${fmt(report.limits.maxRecords)}), ` +
    `${fmt(t.records)} in all files; ${fmt(t.imageRecords)} with images, text-only ${share}.`
  );
}

function problemLine(p: ValidationProblem, maxMessage = 220): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? ` line ${p.line}` : ''}` : 'dataset';
  const message = p.message.length > maxMessage ? `${p.message.slice(0, maxMessage - 3)}...` : p.message;
  return `- ${where} [${p.rule}]: ${message}`;
}

function hyperParametersLine(report: ValidationReport): string {
  const v = report.hyperParameters.values;
  return `Hyperparameters: epochCount ${v.epochCount}, batchSize ${v.batchSize}, learningRate ${v.learningRate}.`;
}

/** A short summary: verdict, counts, token statistics, rule counts and the first problems. */
export function renderSummary(report: ValidationReport, options: SummaryOptions = {}): string {
  const maxChars = options.maxChars ?? 1900;
  const head = [verdict(report), recordsLine(report), distribution('Tokens per record', report.statistics.tokensPerRecord, 'tokens', report.limits.maxTokensPerRecord)];
  const byRule = (severity: 'error' | 'warning') =>
    report.problems.byRule.filter((r) => r.severity === severity).map((r) => `${r.rule} x${fmt(r.count)}`).join(', ');
  if (report.totals.errors > 0) head.push(`Errors by rule: ${byRule('error')}.`);
  if (report.totals.warnings > 0) head.push(`Warnings by rule: ${byRule('warning')}.`);
  const tail = [hyperParametersLine(report)];
  if (options.reportUri) tail.push(`Full report: ${options.reportUri}`);

  const quoted = [...report.problems.errors, ...report.problems.warnings].slice(0, options.examples ?? 5).map((p) => problemLine(p, 200));
  // Drop quoted problems until the summary fits; then cut hard as a last resort.
  for (let n = quoted.length; n >= 0; n--) {
    const text = [...head, ...quoted.slice(0, n), ...tail].join('\n');
    if (text.length <= maxChars) return text;
  }
  const text = [...head, ...tail].join('\n');
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 3)}...`;
}

/** The full text report the CLI prints: files, statistics, every listed problem, hyperparameters. */
export function renderReportText(report: ValidationReport): string {
  const lines: string[] = [verdict(report), ''];
  lines.push('Files:');
  for (const f of report.files) {
    const state = f.found ? `${count(f.records, 'record')}, ${fmt(f.imageRecords)} with images, ${count(f.errors, 'error')}, ${count(f.warnings, 'warning')}` : 'not found';
    lines.push(`  ${f.role.padEnd(10)} ${f.name}: ${state}`);
  }
  lines.push('', recordsLine(report));
  lines.push(distribution('Tokens per record', report.statistics.tokensPerRecord, 'tokens', report.limits.maxTokensPerRecord));
  lines.push(distribution('Answer length', report.statistics.answerWords, 'words'));
  if (report.model.supportsImages && report.totals.imageReferences > 0) {
    if (report.checks.imageSource) {
      lines.push(`Images: ${count(report.totals.uniqueImagesChecked, 'distinct image')} read from ${report.checks.imageSource} (${count(report.checks.imageReads.rangeRequests, 'ranged read')}).`);
    }
    if (!report.checks.allowedImageLocations) lines.push('Image locations: not checked (no allowed locations given).');
    if (!report.checks.expectedAccountId) lines.push('Image bucket owner: account not checked (no expected account given).');
  }

  const section = (title: string, problems: readonly ValidationProblem[], omitted: number) => {
    if (problems.length === 0) return;
    lines.push('', `${title}:`);
    for (const p of problems) lines.push(problemLine(p, 10_000));
    if (omitted > 0) lines.push(`  ... and ${fmt(omitted)} more (only the first ${fmt(report.problems.maxListed)} are listed; counts by rule below).`);
  };
  section('Errors', report.problems.errors, report.problems.omittedErrors);
  section('Warnings', report.problems.warnings, report.problems.omittedWarnings);
  if (report.problems.byRule.length > 0) {
    lines.push('', 'Problems by rule:');
    for (const r of report.problems.byRule) lines.push(`  ${r.severity.padEnd(7)} ${r.rule.padEnd(28)} ${fmt(r.count)}`);
  }
  lines.push('', hyperParametersLine(report));
  for (const reason of report.hyperParameters.explanation) lines.push(`  ${reason}`);
  return lines.join('\n');
}
