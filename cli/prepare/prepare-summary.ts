/**
 * The summary prepare prints when it is done: records per split, images, skipped examples, the
 * text-only share, where things went and the command that checks the result. Pure.
 */
import * as path from 'path';
import { imageRootForValidate, localImagePath } from './output-layout';
import { PrepareReport } from './prepare-dataset';
import { SPLIT_NAMES } from './split-assignment';
import { describeCsvDelimiter } from './csv-parser';
import { shellQuote } from './shell-quote';

/** Formats the report for people. */
export function formatPrepareSummary(report: PrepareReport): string {
  const lines: string[] = [];
  const delimiter = report.csvDelimiter ? `, delimiter ${describeCsvDelimiter(report.csvDelimiter.value)}${report.csvDelimiter.detected ? ' (detected; --delimiter to change)' : ''}` : '';
  lines.push(`Prepared ${report.records} record(s) from ${report.input} (${report.format}${delimiter}, ${report.examplesRead} example(s) read)`);
  for (const split of SPLIT_NAMES) {
    const s = report.splits[split];
    const where = s.file ? ` -> ${s.file}${s.referencesFile ? ` (+ references ${path.basename(s.referencesFile)})` : ''}` : ' (empty, not written)';
    lines.push(`  ${split.padEnd(10)} ${String(s.records).padStart(7)}${where}`);
  }
  const formats = Object.entries(report.images.byFormat).map(([format, n]) => `${format} ${n}`).join(', ');
  const imagesFolder = path.dirname(localImagePath(report.layout, 'x'));
  lines.push(`  images     ${String(report.images.distinct).padStart(7)}${report.images.distinct > 0 ? ` (${formats}) in ${imagesFolder}` : ''}`);
  lines.push(`  text-only  ${String(report.textOnlyRecords).padStart(7)} of ${report.records} record(s) (${percent(report.textOnlyRecords, report.records)})`);
  lines.push(`  skipped    ${String(report.skipped.records).padStart(7)} example(s) with a missing or unreadable image (${report.skipped.images} image(s))`);
  if (report.upload) {
    const { uploaded, skipped, bytesUploaded } = report.upload;
    lines.push(`Uploaded ${uploaded} object(s) (${formatBytes(bytesUploaded)}) to s3://${report.layout.bucket}/${report.layout.prefix}; ${skipped} already there with the same size`);
  }
  if (report.splits.train.file) lines.push(`Check it: ${validateCommand(report)}`);
  return lines.join('\n');
}

/**
 * The validate command for what was written, ready to paste: every split (so the cross-file
 * rules apply as in the workflow), the model, the account the image records name, the local
 * image mirror; paths quoted for the shell.
 */
export function validateCommand(report: PrepareReport): string {
  const words = ['llama-finetune', 'validate', report.splits.train.file!];
  if (report.splits.validation.file) words.push('--validation', report.splits.validation.file);
  if (report.splits.test.file) words.push('--test', report.splits.test.file);
  words.push('--model', report.model.name);
  if (report.account) words.push('--account', report.account);
  words.push('--image-root', imageRootForValidate(report.layout));
  return words.map(shellQuote).join(' ');
}

function percent(part: number, whole: number): string {
  return whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
