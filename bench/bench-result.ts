/**
 * The shape every benchmark returns, and one way to print it. Shared by the bench files so a
 * runner can collect and print them together.
 */
import { readFileSync } from 'fs';

/** One benchmark number; `ratio` compares `value` with `baseline`. */
export interface BenchResult {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly ratio?: number;
  /** The goal for `ratio`, e.g. ">= 0.5". */
  readonly target?: string;
  readonly pass?: boolean;
}

/** Formats results as one line each: verdict, name, ratio with its target, value vs baseline. */
export function formatBenchResults(results: readonly BenchResult[]): string {
  return results
    .map((r) => {
      const verdict = r.pass === undefined ? '    ' : r.pass ? 'PASS' : 'FAIL';
      const compare = r.ratio !== undefined ? `ratio ${r.ratio}${r.target ? ` (target ${r.target})` : ''}; ${r.value} ${r.unit} vs ${r.baseline} ${r.unit}` : `${r.value} ${r.unit}`;
      return `${verdict} ${r.name}: ${compare}`;
    })
    .join('\n');
}

/** Rounds to `digits` decimals for display. */
export function roundTo(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Runs one benchmark as a program: prints its results and exits 1 when a target is missed. */
export function runBenchAlone(run: () => Promise<readonly BenchResult[]>): void {
  run().then(
    (results) => {
      process.stdout.write(formatBenchResults(results) + '\n');
      process.exit(results.every((r) => r.pass !== false) ? 0 : 1);
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}

/**
 * Peak resident memory of this process in KiB. On Linux it reads VmHWM, which belongs to the
 * address space and so starts afresh in a spawned child; getrusage's maxRSS would carry the
 * parent's high-water mark across fork and exec, and make children of a large bench process
 * look as large as their parent.
 */
export function peakRssKiB(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    if (match) return Number(match[1]);
  } catch {
    // not Linux: fall back below
  }
  return process.resourceUsage().maxRSS;
}
