/**
 * Benchmarks of the dataset validation engine, reported as ratios:
 *
 * 1. Throughput on generated 10,000- and 100,000-record files (text and image records; image
 *    files are not read here) against a baseline measured in the same run: stream the same
 *    file, split lines, JSON.parse each. Both run alternately in one child process and the
 *    best CPU time of each counts. Target: engine >= 0.5 x baseline records/s.
 * 2. Peak memory (max RSS) of validating 100,000 records versus 10,000, each in its own child
 *    process so runs do not pollute each other. Target: <= 1.3x (memory must not grow with
 *    the file). The sampled peak heap ratio is printed for information.
 * 3. Image checks: 10,000 images in LocalS3 (in a child process, so the server does not share
 *    the engine's CPU) with a fixed per-request latency, read with the engine's concurrency.
 *    Target: within 2x of count x latency / concurrency. Then 2,000 images longer than the
 *    first 16 KiB read, whose end (truncation check) needs a second GET: sent alongside the
 *    header read, it must keep them within the same target (sent after it, they would take 2x).
 *
 * Child processes run a bundle of this file built with esbuild (fast start, no compiler in
 * the measured process). Run alone: `npx ts-node bench/validation-bench.ts`.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { createInterface } from 'readline';
import { resolveModel } from '../lambda/shared/models/llama-models';
import { createS3ClientForImageReads, localDatasetSource, S3ImageByteSource, validateDataset } from '../lambda/shared/validation';
import { imageBytes } from '../test/support/images';
import { LocalS3 } from '../test/support/local-s3';
import { BenchResult, peakRssKiB, runBenchAlone } from './bench-result';

const CHILD_MODE_VARIABLE = 'VALIDATION_BENCH_CHILD';
const IMAGE_BUCKET = 'bench-images';
const IMAGE_COUNT = 10_000;
/** Images longer than the first read (their end needs its own GET). */
const LONG_IMAGE_COUNT = 2_000;
/** Per-request latency of LocalS3: high enough that the client CPU per request (about 1 ms in a sandbox with costly syscalls) does not dominate. */
const IMAGE_LATENCY_MS = 80;
const IMAGE_CONCURRENCY = 32;
/** Timed repeats per throughput child (best kept): more for the small file, whose runs are short and JIT-dominated. */
const THROUGHPUT_REPEATS: Record<number, number> = { 10_000: 12, 100_000: 4 };

/** What a memory child reports. */
interface MemoryMeasurement {
  readonly records: number;
  /** Peak resident memory (VmHWM), in KiB. */
  readonly maxRssKiB: number;
  /** Largest heapUsed sampled every 2 ms, in bytes. */
  readonly peakHeapBytes: number;
}

/** What a throughput child reports: best CPU times of baseline and engine runs, interleaved. */
interface ThroughputMeasurement {
  readonly records: number;
  readonly baselineMs: number;
  readonly engineMs: number;
}

// ---------------------------------------------------------------- data

/** Writes `count` records: 60% with one image, 40% text only, varied lengths and answers. */
function writeDataset(file: string, count: number): void {
  const lines: string[] = [];
  const answers = ['yes', 'no', '2', 'The blue bar is the tallest.', '12.5%', 'Paris'];
  for (let i = 0; i < count; i++) {
    const question = `Question ${i}: what does the chart show for series ${i % 97}? ${'Consider the labels carefully. '.repeat(1 + (i % 5))}`;
    const user: object[] = [{ text: question }];
    if (i % 5 < 3) {
      user.push({ image: { format: 'png', source: { s3Location: { uri: `s3://${IMAGE_BUCKET}/charts/${i}.png`, bucketOwner: '111122223333' } } } });
    }
    lines.push(
      JSON.stringify({
        schemaVersion: 'bedrock-conversation-2024',
        system: [{ text: 'You answer questions about charts.' }],
        messages: [
          { role: 'user', content: user },
          { role: 'assistant', content: [{ text: answers[i % answers.length] }] },
        ],
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

// ---------------------------------------------------------------- child side

function startHeapSampler(): { stop: () => number } {
  let peak = process.memoryUsage().heapUsed;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 2);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().heapUsed);
    },
  };
}

/** The baseline: stream the file, split lines, JSON.parse each (no checks at all). */
async function baselineRead(file: string): Promise<number> {
  let records = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, encoding: 'utf8' })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (nl > start) {
        JSON.parse(text.slice(start, nl));
        records++;
      }
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest.trim() !== '') {
    JSON.parse(rest);
    records++;
  }
  return records;
}

async function engineRead(file: string): Promise<number> {
  const report = await validateDataset({ model: resolveModel('llama3.2-11b'), files: [{ role: 'training', source: localDatasetSource(file) }] });
  return report.totals.records;
}

/**
 * Runs baseline and engine alternately and keeps each best time. Time is the process's CPU
 * time (user + system): both workloads are single-threaded, and CPU time does not count the
 * time other processes on a shared machine take, which would otherwise swamp the ratio.
 */
async function runThroughputChild(file: string, repeats: number): Promise<void> {
  let baselineMs = Infinity;
  let engineMs = Infinity;
  let records = 0;
  const timed = async (run: () => Promise<number>) => {
    const started = process.cpuUsage();
    records = await run();
    const used = process.cpuUsage(started);
    return (used.user + used.system) / 1000;
  };
  for (let i = 0; i < repeats; i++) {
    baselineMs = Math.min(baselineMs, await timed(() => baselineRead(file)));
    engineMs = Math.min(engineMs, await timed(() => engineRead(file)));
  }
  const measurement: ThroughputMeasurement = { records, baselineMs, engineMs };
  process.stdout.write(JSON.stringify(measurement) + '\n');
}

/** Validates once while sampling the heap, then reports peak memory. */
async function runMemoryChild(file: string): Promise<void> {
  const sampler = startHeapSampler();
  const records = await engineRead(file);
  const measurement: MemoryMeasurement = { records, maxRssKiB: peakRssKiB(), peakHeapBytes: sampler.stop() };
  process.stdout.write(JSON.stringify(measurement) + '\n');
}

/** Serves IMAGE_COUNT small PNGs with a fixed latency; prints the endpoint, stops on stdin end. */
async function runLocalS3Child(latencyMs: number): Promise<void> {
  const s3 = await LocalS3.start();
  s3.createBucket(IMAGE_BUCKET);
  for (let i = 0; i < IMAGE_COUNT; i++) s3.putObject(IMAGE_BUCKET, `charts/${i}.png`, imageBytes('png', 600 + (i % 50), 400));
  for (let i = 0; i < LONG_IMAGE_COUNT; i++) s3.putObject(IMAGE_BUCKET, `photos/${i}.png`, imageBytes('png', 600 + (i % 50), 400, { paddingBytes: 24 * 1024 }));
  s3.setLatency(latencyMs);
  process.stdout.write(JSON.stringify({ endpoint: s3.endpoint }) + '\n');
  process.stdin.resume();
  process.stdin.on('end', () => void s3.stop().then(() => process.exit(0)));
}

async function runChild(mode: string): Promise<void> {
  const [arg, extra] = process.argv.slice(2);
  if (mode === 'local-s3') return runLocalS3Child(Number(arg));
  if (mode === 'throughput') return runThroughputChild(arg, Number(extra));
  if (mode === 'memory') return runMemoryChild(arg);
  throw new Error(`unknown bench child mode ${mode}`);
}

// ---------------------------------------------------------------- parent side

/** Bundles this file so children start without a TypeScript compiler. */
function bundleSelf(outDir: string): string {
  const outfile = path.join(outDir, 'validation-bench-child.js');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const esbuild = require('esbuild') as typeof import('esbuild');
  esbuild.buildSync({ entryPoints: [path.resolve(__dirname, 'validation-bench.ts')], bundle: true, platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
  return outfile;
}

function measureInChild<T>(bundle: string, mode: 'throughput' | 'memory', file: string, repeats = 1): T {
  const result = spawnSync(process.execPath, [bundle, file, String(repeats)], {
    env: { ...process.env, [CHILD_MODE_VARIABLE]: mode },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`bench child ${mode} ${file} failed: ${result.stderr}`);
  const line = result.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as T;
}

function startLocalS3Child(bundle: string, latencyMs: number): Promise<{ endpoint: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [bundle, String(latencyMs)], { env: { ...process.env, [CHILD_MODE_VARIABLE]: 'local-s3' }, stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve({ endpoint: (JSON.parse(line) as { endpoint: string }).endpoint, child }));
    child.once('exit', (code) => reject(new Error(`LocalS3 child exited with ${code}`)));
  });
}

async function imageCheckBench(bundle: string, dir: string): Promise<BenchResult[]> {
  const { endpoint, child } = await startLocalS3Child(bundle, IMAGE_LATENCY_MS);
  const s3 = createS3ClientForImageReads(IMAGE_CONCURRENCY, {
    endpoint,
    region: 'us-west-2',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  /** Validates `count` records, each with its own image under `folder`; returns wall seconds and CPU ms per image. */
  const checkImages = async (folder: string, count: number) => {
    const file = path.join(dir, `images-${folder}.jsonl`);
    const lines = Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        schemaVersion: 'bedrock-conversation-2024',
        messages: [
          { role: 'user', content: [{ text: `Chart ${i}?` }, { image: { format: 'png', source: { s3Location: { uri: `s3://${IMAGE_BUCKET}/${folder}/${i}.png`, bucketOwner: '111122223333' } } } }] },
          { role: 'assistant', content: [{ text: String(i) }] },
        ],
      }),
    );
    writeFileSync(file, lines.join('\n') + '\n');
    const started = process.hrtime.bigint();
    const cpuBefore = process.cpuUsage();
    const report = await validateDataset({
      model: resolveModel('llama3.2-11b'),
      files: [{ role: 'training', source: localDatasetSource(file) }],
      imageSource: new S3ImageByteSource(s3),
      imageConcurrency: IMAGE_CONCURRENCY,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    if (report.totals.uniqueImagesChecked !== count || !report.valid) {
      throw new Error(`image bench: expected ${count} valid images, got ${report.totals.uniqueImagesChecked} (${report.totals.errors} errors)`);
    }
    return { seconds, cpuPerImageMs: (cpu.user + cpu.system) / 1000 / count };
  };
  const row = (name: string, count: number, seconds: number): BenchResult => {
    const ideal = (count * IMAGE_LATENCY_MS) / IMAGE_CONCURRENCY / 1000;
    const ratio = seconds / ideal;
    return {
      name: `${name}: ${count} images, ${IMAGE_LATENCY_MS} ms latency, concurrency ${IMAGE_CONCURRENCY} (time / ideal)`,
      value: round(seconds, 2),
      unit: 's',
      baseline: round(ideal, 2),
      ratio: round(ratio, 2),
      target: '<= 2',
      pass: ratio <= 2,
    };
  };
  try {
    const small = await checkImages('charts', IMAGE_COUNT);
    const long = await checkImages('photos', LONG_IMAGE_COUNT);
    return [
      row('image header checks', IMAGE_COUNT, small.seconds),
      {
        // The SDK's CPU cost per request bounds the image rate of one vCPU (information).
        name: 'client CPU per image check (SDK request + header parse; information)',
        value: round(small.cpuPerImageMs, 3),
        unit: 'ms',
      },
      row('image checks of images longer than the first read (header + end, two GETs each)', LONG_IMAGE_COUNT, long.seconds),
    ];
  } finally {
    s3.destroy();
    child.stdin!.end();
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Runs every validation benchmark (about half a minute) and returns the results. */
export async function runValidationBench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'validation-bench-'));
  try {
    const bundle = bundleSelf(dir);
    const results: BenchResult[] = [];
    const measured: Record<number, MemoryMeasurement> = {};
    for (const count of [10_000, 100_000]) {
      const file = path.join(dir, `dataset-${count}.jsonl`);
      writeDataset(file, count);
      const speed = measureInChild<ThroughputMeasurement>(bundle, 'throughput', file, THROUGHPUT_REPEATS[count]);
      if (speed.records !== count) throw new Error(`expected ${count} records, the engine saw ${speed.records}`);
      const engineRate = count / (speed.engineMs / 1000);
      const baselineRate = count / (speed.baselineMs / 1000);
      results.push({
        name: `validation throughput, ${count.toLocaleString('en-US')} records (engine / read+JSON.parse)`,
        value: Math.round(engineRate),
        unit: 'records/s',
        baseline: Math.round(baselineRate),
        ratio: round(engineRate / baselineRate, 2),
        target: '>= 0.5',
        pass: engineRate / baselineRate >= 0.5,
      });
      measured[count] = measureInChild<MemoryMeasurement>(bundle, 'memory', file);
      if (measured[count].records !== count) throw new Error(`expected ${count} records, the engine saw ${measured[count].records}`);
    }
    const rss = measured[100_000].maxRssKiB / measured[10_000].maxRssKiB;
    results.push({
      name: 'peak memory (max RSS), 100,000 vs 10,000 records',
      value: round(measured[100_000].maxRssKiB / 1024, 1),
      unit: 'MiB',
      baseline: round(measured[10_000].maxRssKiB / 1024, 1),
      ratio: round(rss, 2),
      target: '<= 1.3',
      pass: rss <= 1.3,
    });
    results.push({
      name: 'peak sampled heap, 100,000 vs 10,000 records (information)',
      value: round(measured[100_000].peakHeapBytes / 1024 / 1024, 1),
      unit: 'MiB',
      baseline: round(measured[10_000].peakHeapBytes / 1024 / 1024, 1),
      ratio: round(measured[100_000].peakHeapBytes / measured[10_000].peakHeapBytes, 2),
    });
    results.push(...(await imageCheckBench(bundle, dir)));
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const childMode = process.env[CHILD_MODE_VARIABLE];
if (childMode) {
  runChild(childMode).catch((err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
} else if (require.main === module) {
  runBenchAlone(runValidationBench);
}
