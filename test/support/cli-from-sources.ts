import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as path from 'path';

/** The repository's root: the CLI from the sources runs there. */
export const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');

/** The command README gives for running the CLI from this repository (types stripped by esbuild, as `npm run` scripts do). */
export const CLI_FROM_SOURCES = ['node', '-r', './scripts/esbuild-register.js', 'cli/llama-finetune.ts'] as const;

/** Runs `llama-finetune <args>` from the sources in the repository's root, with this Node.js. */
export function runCliFromSources(args: readonly string[]): SpawnSyncReturns<string> {
  const [, ...nodeArgs] = CLI_FROM_SOURCES;
  return spawnSync(process.execPath, [...nodeArgs, ...args], { cwd: REPOSITORY_ROOT, encoding: 'utf8', timeout: 110_000 });
}
