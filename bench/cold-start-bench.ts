/**
 * Cold-start benchmark (issue 16), the closest honest proxy offline: the time a fresh Node.js
 * process takes to load a handler's bundle (what Lambda's init phase spends on our code), for
 * - the bundle as shipped (AWS SDK inside, minified, source map beside it, --enable-source-maps),
 * - the same bundle without --enable-source-maps (what shipping no source map would save at load),
 * - a bundle made from the packages' CommonJS builds (esbuild's default `mainFields` for Node.js),
 *   which esbuild cannot tree-shake, against the ES module builds the shipped bundles use,
 * - a bundle that leaves the AWS SDK out and loads it from node_modules, as a function using the
 *   runtime's own SDK would (Lambda's Node.js runtimes carry one under /var/runtime/node_modules).
 * Each variant is loaded in alternating fresh processes; medians compared. It measures loading
 * on this machine, not Lambda's init duration, and says so.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/cold-start-bench.ts`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { handlerBundleOptions } from '../lib/workflow/handler-bundles';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const HANDLER_ROOT = path.join(REPOSITORY_ROOT, 'lambda');
/** A handler that creates AWS SDK clients at load, as most do. */
const HANDLER = 'check-job';
const ROUNDS = 15;

function loadMilliseconds(file: string, nodeOptions: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: REPOSITORY_ROOT, env: { ...process.env, NODE_OPTIONS: nodeOptions, AWS_REGION: 'us-west-2' } });
  if (run.status !== 0) throw new Error(`loading ${file} failed: ${run.stderr}`);
  return Number(run.stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export async function runColdStartBench(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(REPOSITORY_ROOT, '.bench-tmp-cold-start-'));
  try {
    const shipped = path.join(dir, 'shipped');
    buildSync(handlerBundleOptions([HANDLER], HANDLER_ROOT, shipped));
    const runtimeSdk = path.join(dir, 'runtime-sdk');
    // Inside the repository, so the left-out SDK resolves from its node_modules.
    buildSync({ ...handlerBundleOptions([HANDLER], HANDLER_ROOT, runtimeSdk), external: ['@aws-sdk/*', '@smithy/*'] });
    const commonJs = path.join(dir, 'commonjs');
    buildSync({ ...handlerBundleOptions([HANDLER], HANDLER_ROOT, commonJs), mainFields: ['main', 'module'] });
    const shippedFile = path.join(shipped, HANDLER, 'index.js');
    const runtimeSdkFile = path.join(runtimeSdk, HANDLER, 'index.js');
    const commonJsFile = path.join(commonJs, HANDLER, 'index.js');
    const times = { shipped: [] as number[], noMaps: [] as number[], runtimeSdk: [] as number[], commonJs: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.shipped.push(loadMilliseconds(shippedFile, '--enable-source-maps'));
      times.noMaps.push(loadMilliseconds(shippedFile, ''));
      times.runtimeSdk.push(loadMilliseconds(runtimeSdkFile, '--enable-source-maps'));
      times.commonJs.push(loadMilliseconds(commonJsFile, '--enable-source-maps'));
    }
    const kib = (file: string) => Math.round(fs.statSync(file).size / 1024);
    const shippedMs = roundTo(median(times.shipped), 1);
    const compare = (name: string, runs: number[]): BenchResult => {
      const value = roundTo(median(runs), 1);
      return { name, value, unit: 'ms', baseline: shippedMs, ratio: roundTo(value / shippedMs, 2) };
    };
    return [
      { name: `${HANDLER} as shipped (SDK bundled from its ES module builds, ${kib(shippedFile)} KiB + ${kib(`${shippedFile}.map`)} KiB map, --enable-source-maps): load time in a fresh process, median of ${ROUNDS}`, value: shippedMs, unit: 'ms' },
      compare('the same bundle without --enable-source-maps', times.noMaps),
      compare(`SDK left out, loaded from node_modules as the runtime's SDK would be (${kib(runtimeSdkFile)} KiB)`, times.runtimeSdk),
      compare(`bundled from the packages' CommonJS builds, not tree-shaken (${kib(commonJsFile)} KiB + ${kib(`${commonJsFile}.map`)} KiB map)`, times.commonJs),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runBenchAlone(runColdStartBench);
}
