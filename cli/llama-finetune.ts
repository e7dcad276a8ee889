#!/usr/bin/env node
/**
 * `llama-finetune`: the command-line companion of the constructs. Each sub-command lives in
 * cli/commands/ and uses the same pure code (lambda/shared/) as the Lambda handlers.
 *
 * Exit codes (every command): 0 success, 1 the data (or the run) has errors, 2 bad usage,
 * 3 could not check (no region or credentials, AWS unreachable, access denied); see exit-codes.ts.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { safeText } from '../lambda/shared/display-text';
import { awsAccessProblem, EXIT, EXIT_CODES_LINE } from './exit-codes';

type Command = (args: string[]) => Promise<number>;

/**
 * The commands, with one line each for the overview (`<command> --help` has every option). Each
 * is loaded when it runs, so `--help`, `--version` and a usage error start without loading the
 * AWS SDK (`--version` took 0.33 s of CPU with it, 0.19 s without; Node's own start is 0.12 s).
 */
const COMMANDS: Record<string, { load: () => Promise<Command>; synopsis: string; summary: string }> = {
  prepare: { load: async () => (await import('./commands/prepare')).runPrepare, synopsis: 'prepare <input> --bucket <name> --out <dir> [--format ...]', summary: 'convert LLaVA, VQAv2, ChartQA or CSV data to Bedrock JSONL' },
  validate: { load: async () => (await import('./commands/validate')).runValidate, synopsis: 'validate <file.jsonl | s3://...> --model <name>', summary: "check data against Bedrock's rules, as the workflow does" },
  run: { load: async () => (await import('./commands/run')).runRun, synopsis: 'run <request.json> [--no-wait]', summary: 'validate, upload the data and the request, and follow the run' },
  follow: { load: async () => (await import('./commands/follow')).runFollow, synopsis: 'follow <run id>', summary: 'follow a run already started, to its end' },
  runs: { load: async () => (await import('./commands/runs')).runRuns, synopsis: 'runs', summary: 'list recent runs: status, model, F1 base -> fine-tuned, duration' },
  report: { load: async () => (await import('./commands/report')).runReport, synopsis: 'report <run id> [--open]', summary: "fetch a run's HTML report" },
  score: { load: async () => (await import('./commands/score')).runScore, synopsis: 'score <predictions.jsonl>', summary: 'SQuAD F1 and exact match of predictions' },
};

const SHORT_USAGE = `Usage: llama-finetune <${Object.keys(COMMANDS).join('|')}> [options]`;
const HELP_HINT = "Run 'llama-finetune --help' for the commands, 'llama-finetune <command> --help' for a command's options.";

/** The overview `--help` prints: one line per command, the exit codes, where the options are. */
export function usage(): string {
  const width = Math.max(...Object.values(COMMANDS).map((c) => c.synopsis.length));
  return [
    'Usage: llama-finetune <command> [options]',
    '',
    ...Object.values(COMMANDS).map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`),
    '',
    "  llama-finetune <command> --help   every option of a command",
    '  llama-finetune --version          the version',
    '',
    EXIT_CODES_LINE,
  ].join('\n');
}

/** The package's version, from the package.json above this file (source and built layouts alike). */
export function version(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'llama-finetune-cdk' && manifest.version) return manifest.version;
    } catch {
      // not here; look further up
    }
    if (path.dirname(dir) === dir) return 'unknown';
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return EXIT.OK;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`llama-finetune ${version()}\n`);
    return EXIT.OK;
  }
  if (!name) {
    process.stderr.write(`llama-finetune: name a command.\n${SHORT_USAGE}\n${HELP_HINT}\n`);
    return EXIT.USAGE;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`llama-finetune: unknown command '${safeText(name, { maxChars: 60 })}'.\n${SHORT_USAGE}\n${HELP_HINT}\n`);
    return EXIT.USAGE;
  }
  return (await command.load())(rest);
}

/** The last resort: an error no command handled, as one line (no stack trace unless LLAMA_FINETUNE_DEBUG=1). */
function reportUnexpected(err: unknown): number {
  const problem = awsAccessProblem(err);
  const text = problem ?? `could not finish: ${safeText((err as Error)?.message ?? String(err), { keepLineBreaks: true, maxChars: 4000 })}`;
  process.stderr.write(`llama-finetune: ${text}\n`);
  if (process.env.LLAMA_FINETUNE_DEBUG === '1' && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.CANNOT_CHECK;
}

if (require.main === module) {
  // The AWS SDK's own switch for its Node.js support banner, read when a client is created (so
  // before any is): a user on a Node this package supports should not read about SDK releases.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => process.exit(reportUnexpected(err)),
  );
}
