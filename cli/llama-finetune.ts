#!/usr/bin/env node
/**
 * `llama-finetune`: the command-line companion of the constructs. Each sub-command lives in
 * cli/commands/ and uses the same pure code (lambda/shared/) as the Lambda handlers.
 *
 * Exit codes: 0 success, 1 the input has errors, 2 bad usage.
 */
import { safeText } from '../lambda/shared/display-text';
import { runPrepare, PREPARE_USAGE } from './commands/prepare';
import { runScore, SCORE_USAGE } from './commands/score';
import { runValidate, VALIDATE_USAGE } from './commands/validate';

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, { run: Command; usage: string }> = {
  validate: { run: runValidate, usage: VALIDATE_USAGE },
  prepare: { run: runPrepare, usage: PREPARE_USAGE },
  score: { run: runScore, usage: SCORE_USAGE },
};

export function usage(): string {
  return ['Usage: llama-finetune <command> [options]', '', ...Object.values(COMMANDS).map((c) => c.usage)].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command '${name}'.\n\n${usage()}\n`);
    return 2;
  }
  return command.run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`llama-finetune: ${safeText((err as Error).message, { keepLineBreaks: true, maxChars: 4000 })}\n`);
      process.exit(1);
    },
  );
}
