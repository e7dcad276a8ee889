/**
 * How the run commands show a run: the progress line while it runs, the outcome when it ends,
 * and the table of `runs`. Pure formatting of run records (lambda/shared/run-record.ts).
 * Text that comes from a request or data (names, errors) is escaped before it reaches a terminal.
 */
import { safeText } from '../lambda/shared/display-text';
import { RunRecord } from '../lambda/shared/run-record';

/** `1h 02m`, `3m 05s`, `12s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** How long the run took (or has been running, at `now`). */
export function runDuration(record: RunRecord, now: number): number {
  const end = record.outcome ? Date.parse(record.outcome.finishedAt) : now;
  return end - Date.parse(record.createdAt);
}

/** The current step: the last event of the timeline. */
export function currentStep(record: RunRecord): string {
  return safeText(record.timeline.at(-1)?.event ?? 'started', { maxChars: 80 });
}

/** Where a run is: run id, step and job status (what changes, without the clock). */
export function progressState(record: RunRecord): string {
  const job = record.job ? ` | job ${safeText(record.job.status, { maxChars: 40 })}` : '';
  return `${record.runId}: ${currentStep(record)}${job}`;
}

/** The one line shown while a run goes on: run id, step, job status, elapsed time. */
export function progressLine(record: RunRecord, now: number): string {
  return `${progressState(record)} | ${formatDuration(runDuration(record, now))}`;
}

/** `41.2 -> 78.9` (base -> fine-tuned SQuAD F1), or `-` without an evaluation. */
export function f1Change(record: RunRecord): string {
  const e = record.evaluation;
  return e ? `${e.baseF1.toFixed(1)} -> ${e.fineTunedF1.toFixed(1)}` : '-';
}

/** What the user reads when a run ends: outcome, why (when it failed), scores, report. */
export function outcomeLines(record: RunRecord, reportCommand: string): string[] {
  const lines = [`Run ${record.runId} ${record.status} after ${formatDuration(runDuration(record, Date.now()))} (model ${safeText(record.run.model.name, { maxChars: 60 })}).`];
  if (record.status !== 'SUCCEEDED' && record.outcome) {
    lines.push(safeText(record.outcome.summary, { keepLineBreaks: true, maxChars: 2000 }));
  }
  if (record.validation && !record.validation.valid) {
    lines.push(`The data had ${record.validation.errorCount} error(s): ${record.validation.reportUri}`);
  }
  const e = record.evaluation;
  if (e) {
    const improvement = e.relativeImprovementPercent === null ? 'n/a' : `${e.relativeImprovementPercent >= 0 ? '+' : ''}${e.relativeImprovementPercent.toFixed(1)}%`;
    lines.push(`SQuAD F1 on ${e.records} test records: base ${e.baseF1.toFixed(1)} -> fine-tuned ${e.fineTunedF1.toFixed(1)} (${improvement})`);
    lines.push(`Exact match: base ${e.baseExactMatch.toFixed(1)} -> fine-tuned ${e.fineTunedExactMatch.toFixed(1)}`);
    if (e.gate.evaluated) lines.push(`Quality gate: ${e.gate.passed ? 'PASSED' : 'FAILED'}${e.gate.reasons.length ? ` (${e.gate.reasons.map((r) => safeText(r, { maxChars: 200 })).join('; ')})` : ''}`);
    lines.push(`Report: ${e.reportHtmlUri}`, `  fetch it with: ${reportCommand}`);
  } else if (record.status === 'SUCCEEDED') {
    lines.push('No evaluation: the request had no test data, or evaluation was disabled.');
  }
  if (record.job?.outputModelArn) lines.push(`Custom model: ${record.job.outputModelArn}`);
  return lines;
}

/** The table of `llama-finetune runs`: id, status, model, F1 base -> fine-tuned, started, duration. */
export function runsTable(records: readonly RunRecord[], now: number): string {
  const header = ['RUN ID', 'STATUS', 'MODEL', 'F1 BASE -> TUNED', 'STARTED (UTC)', 'DURATION'];
  const rows = records.map((r) => [
    r.runId,
    r.status,
    safeText(r.run.model.name, { maxChars: 40 }),
    f1Change(r),
    r.createdAt.replace('T', ' ').slice(0, 16),
    formatDuration(runDuration(r, now)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  return [header, ...rows].map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}
