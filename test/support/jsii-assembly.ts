/**
 * The package's jsii assembly (`.jsii`, written by `npx jsii`; npm test compiles it before jest),
 * read whole. Another test file may be rebuilding the package meanwhile (test/package's `npm pack`
 * runs the build, which rewrites `.jsii` in place), so a read that catches the file mid-write is
 * retried rather than failing on half a JSON document.
 */
import * as fs from 'fs';
import * as path from 'path';

export const ASSEMBLY_FILE = path.resolve(__dirname, '..', '..', '.jsii');

/** The assembly's text, once it parses; fails with what to do when there is none. */
export function readAssemblyText(file = ASSEMBLY_FILE): string {
  let lastProblem = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    if (attempt > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    if (!fs.existsSync(file)) {
      lastProblem = `${file} does not exist: compile the assembly with \`npx jsii\` (npm test does, before jest)`;
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    try {
      JSON.parse(text);
      return text;
    } catch (err) {
      lastProblem = `${file} is not valid JSON (${(err as Error).message}); is a build writing it?`;
    }
  }
  throw new Error(lastProblem);
}
