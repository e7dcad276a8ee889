/**
 * `llama-finetune score`: SQuAD F1 and exact match of a predictions JSONL file, computed by
 * the same code as the workflow's evaluation (lambda/shared/metrics). The file is streamed,
 * so its size does not matter.
 */
import { createReadStream, statSync } from 'fs';
import { DEFAULT_MAX_LISTED_PREDICTION_PROBLEMS, scorePredictionStream, ScoreSummary } from '../../lambda/shared/metrics';
import { EXIT } from '../exit-codes';

export const SCORE_USAGE = `llama-finetune score <predictions.jsonl> [--json]
  Scores model answers with SQuAD F1 and exact match (0..100, mean over the records).
  Each line: {"prediction": "<answer>", "references": ["<reference>", ...]}
  ("reference": "<one reference>" is accepted instead of "references"; other fields are
  ignored; blank lines are skipped). With several references the best one counts.
  --json                    print {"f1": ..., "exactMatch": ..., "count": ...} instead of text
  Exit codes: 0 scored, 1 malformed lines or no records (each reported as <file>:<line>: <problem>), 2 bad usage,
  3 could not check (the file could not be read).`;

/** Where the command writes (tests replace these). */
export interface ScoreIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const defaultIo: ScoreIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

class UsageError extends Error {}

interface ScoreArgs {
  readonly file: string;
  readonly json: boolean;
}

function parseArgs(args: readonly string[]): ScoreArgs {
  let json = false;
  const positional: string[] = [];
  for (const arg of args) {
    if (arg === '--json') json = true;
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`Unknown option '${arg}'.`);
    else positional.push(arg);
  }
  if (positional.length === 0) throw new UsageError('Name the predictions JSONL file to score.');
  if (positional.length > 1) throw new UsageError(`Score one file at a time; got ${positional.join(', ')}.`);
  return { file: positional[0], json };
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The text output: one line a reader can quote. */
export function formatScoreText(summary: ScoreSummary): string {
  return `F1 ${summary.f1.toFixed(2)}  exact match ${summary.exactMatch.toFixed(2)}  (${summary.count.toLocaleString('en-US')} records)`;
}

/** Runs the command; returns the exit code (0 scored, 1 malformed input, 2 bad usage, 3 unreadable file). */
export async function runScore(args: string[], io: ScoreIo = defaultIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(SCORE_USAGE + '\n');
    return 0;
  }
  let parsed: ScoreArgs;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`llama-finetune score: ${err.message}\nRun 'llama-finetune score --help' to see every option.\n`);
    return EXIT.USAGE;
  }
  if (!isFile(parsed.file)) {
    io.stderr(`llama-finetune score: file not found: ${parsed.file}\n`);
    return 2;
  }

  let result;
  try {
    // 64 KiB chunks keep little garbage alive between collections: faster and flatter in memory than 1 MiB chunks.
    result = await scorePredictionStream(createReadStream(parsed.file, { highWaterMark: 64 * 1024 }));
  } catch (err) {
    io.stderr(`llama-finetune score: cannot read ${parsed.file}: ${(err as Error).message}\n`);
    return EXIT.CANNOT_CHECK;
  }
  if (result.problemCount > 0) {
    const listed = result.problems.map((p) => `${parsed.file}:${p.line}: ${p.message}\n`).join('');
    const unlisted = result.problemCount - result.problems.length;
    const more = unlisted > 0 ? `... and ${unlisted.toLocaleString('en-US')} more malformed lines (the first ${DEFAULT_MAX_LISTED_PREDICTION_PROBLEMS} are listed).\n` : '';
    io.stderr(`${listed}${more}llama-finetune score: ${result.problemCount.toLocaleString('en-US')} malformed line(s); fix them and score again (no score is printed for a partly read file).\n`);
    return 1;
  }
  if (result.summary.count === 0) {
    io.stderr(`${parsed.file}: no records to score (the file is empty or holds only blank lines).\n`);
    return 1;
  }
  io.stdout((parsed.json ? JSON.stringify(result.summary) : formatScoreText(result.summary)) + '\n');
  return 0;
}
