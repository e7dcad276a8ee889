/**
 * Benchmarks of SQuAD scoring, reported as ratios:
 *
 * 1. Throughput: scoring 100,000 generated (prediction, references) pairs with the library
 *    (lambda/shared/metrics) against a baseline measured in the same run: a straightforward
 *    port of the official script that normalizes with several regular-expression passes and
 *    builds arrays and a Map per pair (below, `baselineScore`). Both must agree on the result.
 *    Target: library >= 3 x baseline pairs/s (a normalize-once regex port is about 3x slower
 *    too, so the margin is not only the baseline repeating work).
 * 2. Peak memory (max RSS) of `llama-finetune score` on a 100,000-record file versus a
 *    10,000-record file, each in its own child process. Target: <= 1.3x (the file is streamed,
 *    so memory must not grow with it). The sampled peak heap ratio is printed for information.
 *
 * Child processes run an esbuild bundle of this file (fast start, no compiler in the measured
 * process). Run alone: `npx ts-node bench/scoring-bench.ts`.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runScore } from '../cli/commands/score';
import { ScoreAccumulator, ScoreSummary } from '../lambda/shared/metrics';
import { BenchResult, peakRssKiB, roundTo, runBenchAlone } from './bench-result';
import { seededRandom } from '../test/support/seeded-random';

const CHILD_MODE_VARIABLE = 'SCORING_BENCH_CHILD';
const PAIR_COUNT = 100_000;
const THROUGHPUT_REPEATS = 5;
const THROUGHPUT_TARGET = 3;
const MEMORY_TARGET = 1.3;

interface Pair {
  readonly prediction: string;
  readonly references: readonly string[];
}

// ---------------------------------------------------------------- data


const VOCABULARY = [
  'the', 'a', 'an', 'The', 'blue', 'bar', 'is', 'tallest', 'chart', 'shows', 'Paris', 'France', '12.5%', '2019', 'yes', 'no',
  'increase', 'decrease', 'revenue', 'U.S.', "company's", 'about', 'approximately', 'million', 'café', 'Zürich', 'value', 'of',
  'in', 'and', '(estimated)', 'total:', 'red', 'line', 'highest', 'lowest', 'three', '3', 'theory', 'answer',
];

/**
 * Chart-QA-like pairs: short references; predictions that are often right, sometimes verbose
 * (a sentence around the answer), sometimes wrong; 1 to 3 references.
 */
function generatePairs(count: number, seed: number): Pair[] {
  const random = seededRandom(seed);
  const word = () => VOCABULARY[Math.floor(random() * VOCABULARY.length)];
  const phrase = (min: number, max: number) => Array.from({ length: min + Math.floor(random() * (max - min + 1)) }, word).join(' ');
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const references = Array.from({ length: 1 + Math.floor(random() * 3) }, () => phrase(1, 4));
    const kind = random();
    let prediction: string;
    if (kind < 0.4) prediction = references[0].toUpperCase() + '.';
    else if (kind < 0.7) prediction = `The answer is ${references[0]}, ${phrase(2, 8)}.`;
    else if (kind < 0.95) prediction = phrase(1, 6);
    else prediction = phrase(20, 60);
    pairs.push({ prediction, references });
  }
  return pairs;
}

// ---------------------------------------------------------------- baseline

/**
 * BASELINE: the official script ported as plainly as possible. Four passes (lowercase, strip
 * punctuation, drop articles, collapse whitespace), then split, a Map of counts per pair, and
 * the prediction normalized again for every reference.
 */
function baselineNormalize(text: string): string {
  let s = text.toLowerCase();
  s = s.replace(/[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g, '');
  s = s.replace(/(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu, ' ');
  return s.split(/\s+/).filter((t) => t !== '').join(' ');
}

function baselineF1(prediction: string, reference: string): number {
  const predicted = baselineNormalize(prediction).split(' ').filter((t) => t !== '');
  const expected = baselineNormalize(reference).split(' ').filter((t) => t !== '');
  if (predicted.length === 0 || expected.length === 0) return predicted.length === expected.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of expected) counts.set(token, (counts.get(token) ?? 0) + 1);
  let common = 0;
  for (const token of predicted) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      counts.set(token, left - 1);
      common++;
    }
  }
  if (common === 0) return 0;
  const precision = common / predicted.length;
  const recall = common / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

function baselineScore(pairs: readonly Pair[]): ScoreSummary {
  let f1 = 0;
  let exactMatch = 0;
  for (const pair of pairs) {
    f1 += Math.max(...pair.references.map((r) => baselineF1(pair.prediction, r)));
    exactMatch += Math.max(...pair.references.map((r) => (baselineNormalize(pair.prediction) === baselineNormalize(r) ? 1 : 0)));
  }
  return { f1: (100 * f1) / pairs.length, exactMatch: (100 * exactMatch) / pairs.length, count: pairs.length };
}

// ---------------------------------------------------------------- library

function libraryScore(pairs: readonly Pair[]): ScoreSummary {
  const accumulator = new ScoreAccumulator();
  for (const pair of pairs) accumulator.add(pair.prediction, pair.references);
  return accumulator.result();
}

function bestTimeMs(run: () => ScoreSummary): { ms: number; result: ScoreSummary } {
  const started = process.hrtime.bigint();
  const result = run();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, result };
}

function throughputBench(): BenchResult {
  const pairs = generatePairs(PAIR_COUNT, 42);
  let baselineMs = Infinity;
  let libraryMs = Infinity;
  let baselineResult: ScoreSummary | undefined;
  let libraryResult: ScoreSummary | undefined;
  // Alternate the two so neither benefits from running later (warmer caches, settled JIT); keep the best.
  for (let i = 0; i < THROUGHPUT_REPEATS; i++) {
    const baseline = bestTimeMs(() => baselineScore(pairs));
    const library = bestTimeMs(() => libraryScore(pairs));
    baselineMs = Math.min(baselineMs, baseline.ms);
    libraryMs = Math.min(libraryMs, library.ms);
    baselineResult = baseline.result;
    libraryResult = library.result;
  }
  if (Math.abs(baselineResult!.f1 - libraryResult!.f1) > 1e-9 || Math.abs(baselineResult!.exactMatch - libraryResult!.exactMatch) > 1e-9) {
    throw new Error(`library and baseline disagree: ${JSON.stringify(libraryResult)} vs ${JSON.stringify(baselineResult)}`);
  }
  const libraryRate = PAIR_COUNT / (libraryMs / 1000);
  const baselineRate = PAIR_COUNT / (baselineMs / 1000);
  const ratio = libraryRate / baselineRate;
  return {
    name: `scoring throughput, ${PAIR_COUNT.toLocaleString('en-US')} pairs (library / regex-pass baseline)`,
    value: Math.round(libraryRate),
    unit: 'pairs/s',
    baseline: Math.round(baselineRate),
    ratio: roundTo(ratio, 2),
    target: `>= ${THROUGHPUT_TARGET}`,
    pass: ratio >= THROUGHPUT_TARGET,
  };
}

// ---------------------------------------------------------------- memory (child side)

/** What a memory child reports. */
interface MemoryMeasurement {
  readonly records: number;
  /** Peak resident memory (VmHWM), in KiB. */
  readonly maxRssKiB: number;
  /** Largest heapUsed sampled every 2 ms, in bytes. */
  readonly peakHeapBytes: number;
}

/** Writes `count` prediction lines as the workflow's evaluation would (ids, questions, latencies included). */
function writePredictionsFile(file: string, count: number): void {
  const pairs = generatePairs(count, 7);
  const lines = pairs.map((pair, i) =>
    JSON.stringify({
      recordId: `rec-${i}`,
      question: `Question ${i}: what does the chart show for series ${i % 97}? Consider the labels and the legend carefully.`,
      prediction: pair.prediction,
      references: pair.references,
      latencyMs: 400 + (i % 900),
    }),
  );
  writeFileSync(file, lines.join('\n') + '\n');
}

async function runMemoryChild(file: string): Promise<void> {
  let peak = process.memoryUsage().heapUsed;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
  let out = '';
  const code = await runScore([file, '--json'], { stdout: (t) => void (out += t), stderr: (t) => process.stderr.write(t) });
  clearInterval(timer);
  if (code !== 0) throw new Error(`score exited with ${code}`);
  const summary = JSON.parse(out) as ScoreSummary;
  const measurement: MemoryMeasurement = {
    records: summary.count,
    maxRssKiB: peakRssKiB(),
    peakHeapBytes: Math.max(peak, process.memoryUsage().heapUsed),
  };
  process.stdout.write(JSON.stringify(measurement) + '\n');
}

// ---------------------------------------------------------------- memory (parent side)

/** Bundles this file so children start without a TypeScript compiler. */
function bundleSelf(outDir: string): string {
  const outfile = path.join(outDir, 'scoring-bench-child.js');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ entryPoints: [path.resolve(__dirname, 'scoring-bench.ts')], bundle: true, platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
  return outfile;
}

function measureInChild(bundle: string, file: string): MemoryMeasurement {
  const result = spawnSync(process.execPath, [bundle, file], { env: { ...process.env, [CHILD_MODE_VARIABLE]: 'memory' }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`bench child for ${file} failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as MemoryMeasurement;
}

function memoryBench(): BenchResult[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'scoring-bench-'));
  try {
    const bundle = bundleSelf(dir);
    const measured: Record<number, MemoryMeasurement> = {};
    for (const count of [10_000, 100_000]) {
      const file = path.join(dir, `predictions-${count}.jsonl`);
      writePredictionsFile(file, count);
      measured[count] = measureInChild(bundle, file);
      if (measured[count].records !== count) throw new Error(`expected ${count} records scored, got ${measured[count].records}`);
    }
    const [small, large] = [measured[10_000], measured[100_000]];
    const rss = large.maxRssKiB / small.maxRssKiB;
    return [
      {
        name: '`score` peak memory (max RSS), 100,000 vs 10,000 records',
        value: roundTo(large.maxRssKiB / 1024, 1),
        unit: 'MiB',
        baseline: roundTo(small.maxRssKiB / 1024, 1),
        ratio: roundTo(rss, 2),
        target: `<= ${MEMORY_TARGET}`,
        pass: rss <= MEMORY_TARGET,
      },
      {
        name: '`score` peak sampled heap, 100,000 vs 10,000 records (information)',
        value: roundTo(large.peakHeapBytes / 1024 / 1024, 1),
        unit: 'MiB',
        baseline: roundTo(small.peakHeapBytes / 1024 / 1024, 1),
        ratio: roundTo(large.peakHeapBytes / small.peakHeapBytes, 2),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the scoring benchmarks (about ten seconds) and returns the results. */
export async function runScoringBench(): Promise<BenchResult[]> {
  return [throughputBench(), ...memoryBench()];
}

const childMode = process.env[CHILD_MODE_VARIABLE];
if (childMode === 'memory') {
  runMemoryChild(process.argv[2]).catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
} else if (require.main === module) {
  runBenchAlone(runScoringBench);
}
