/**
 * `llama-finetune prepare`: converts LLaVA, VQAv2, ChartQA or CSV data into Bedrock conversation
 * JSONL (train/validation/test), stages the images beside it and optionally uploads everything.
 * The work lives in cli/prepare/; this file maps its outcome to output and exit codes.
 */
import { safeText } from '../../lambda/shared/display-text';
import {
  PREPARE_USAGE as USAGE,
  PrepareDataError,
  PrepareIo,
  PrepareUsageError,
  UploadError,
  formatPrepareSummary,
  parsePrepareArgs,
  prepareDataset,
} from '../prepare';
import { EXIT } from '../exit-codes';

/** Usage text of the command. */
export const PREPARE_USAGE = USAGE;

/** Where the command writes; tests capture it. */
export interface PrepareCommandIo extends Partial<PrepareIo> {
  readonly stdout?: { write(text: string): unknown };
  readonly stderr?: { isTTY?: boolean; write(text: string): unknown };
}

/**
 * Runs the command.
 * @returns 0 when prepared, 1 when the data has errors, 2 on bad usage, 3 when the upload failed
 * (S3 unreachable, access denied, no region or credentials).
 */
export async function runPrepare(args: string[], io: PrepareCommandIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  try {
    const options = parsePrepareArgs(args);
    if (options === 'help') {
      stdout.write(`${PREPARE_USAGE}\n`);
      return 0;
    }
    const report = await prepareDataset(options, { progress: io.progress ?? stderr, createS3Client: io.createS3Client });
    for (const warning of report.warnings) stderr.write(`warning: ${shown(warning)}\n`);
    if (report.skipped.records > 0) {
      stderr.write(`warning: skipped ${report.skipped.records} example(s) with a missing or unreadable image:\n`);
      for (const line of report.skipped.first) stderr.write(`  ${shown(line)}\n`);
    }
    stdout.write(`${formatPrepareSummary(report)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof PrepareUsageError) {
      // The message names the flag and the fix; the full usage would bury it, so point to --help.
      stderr.write(`llama-finetune prepare: ${err.message}\nRun 'llama-finetune prepare --help' to see every option.\n`);
      return 2;
    }
    if (err instanceof PrepareDataError) {
      stderr.write(`llama-finetune prepare: ${shown(err.message)}\n${err.details.map((d) => `  ${shown(d)}\n`).join('')}`);
      return 1;
    }
    if (err instanceof UploadError) {
      stderr.write(`llama-finetune prepare: ${shown(err.message)}\n`);
      return EXIT.CANNOT_CHECK;
    }
    throw err;
  }
}

/** Data-derived text (names, values from the input) as the terminal shows it: escaped and bounded. */
function shown(text: string): string {
  return safeText(text, { keepLineBreaks: true, maxChars: 2000 });
}
