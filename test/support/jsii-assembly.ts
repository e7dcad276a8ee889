/**
 * The package's jsii compile, as `npm test` leaves it before jest starts (`npm run compile:jsii`):
 * the assembly (`.jsii`) and the JavaScript and declarations under dist/. Nothing in the suite
 * rewrites them (the package test packs a copy of the repository), but a developer may have
 * edited the library since: the checks here fail, naming the newer file, rather than test stale
 * output.
 */
import * as fs from 'fs';
import * as path from 'path';

const REPOSITORY = path.resolve(__dirname, '..', '..');
export const ASSEMBLY_FILE = path.join(REPOSITORY, '.jsii');

/** What to do when the compile's output is missing or stale. */
const COMPILE_AGAIN = 'compile it again with `npm run compile:jsii` (npm test does, before jest)';

/** The assembly's text; fails with what to do when there is none, or when it is older than the library's sources. */
export function readAssemblyText(file = ASSEMBLY_FILE): string {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: ${COMPILE_AGAIN}`);
  assertCompileCurrent(file);
  return fs.readFileSync(file, 'utf8');
}

/**
 * Fails when a TypeScript file the jsii compile reads (lib/, and the pure shared code it
 * compiles in: the model catalogue lives in lambda/shared) is newer than `output`.
 */
export function assertCompileCurrent(output = ASSEMBLY_FILE): void {
  const newest = [newestSourceFile(path.join(REPOSITORY, 'lib')), newestSourceFile(path.join(REPOSITORY, 'lambda', 'shared'))].sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  if (newest.mtimeMs > fs.statSync(output).mtimeMs) throw new Error(`${output} is older than ${path.relative(REPOSITORY, newest.file)}: ${COMPILE_AGAIN}`);
}

function newestSourceFile(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSourceFile(full) : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? { file: full, mtimeMs: fs.statSync(full).mtimeMs } : newest;
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}
