/**
 * Cold-start benchmark (issue 16), the closest honest proxy offline: the time a fresh Node.js
 * process takes to load a handler's module (what Lambda's init phase spends on our code), for
 * - the handlers as shipped (one esbuild call, ES modules sharing chunks, AWS SDK inside,
 *   minified, source maps beside them, --enable-source-maps),
 * - the same without --enable-source-maps (what shipping no source map would save at load),
 * - one CommonJS bundle per handler, each with its own copy of the SDK (the layout shipped before),
 * - one bundle per handler made from the packages' CommonJS builds (esbuild's default
 *   `mainFields` for Node.js), which esbuild cannot tree-shake,
 * - the shipped layout leaving the AWS SDK out, loading it from node_modules as a function using
 *   the runtime's own SDK would (Lambda's Node.js runtimes carry one under /var/runtime/node_modules).
 * Each variant is loaded in alternating fresh processes; medians compared. It measures loading
 * on this machine, not Lambda's init duration, and says so.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/cold-start-bench.ts`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { buildSync, BuildOptions, Metafile } from 'esbuild';
import { handlerBundleFolderOf, handlerBundleOptions, handlerNames, writeHandlerBundles } from '../lib/workflow/handler-bundles';
import { handlerModuleFile } from '../lib/workflow/handler-code';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const HANDLER_ROOT = path.join(REPOSITORY_ROOT, 'lambda');
/** A handler that creates AWS SDK clients at load, as most do. */
const HANDLER = 'check-job';
const ROUNDS = 15;

/** Milliseconds a fresh process takes to load `file`: imported as an ES module (.mjs), else required, as Lambda's runtime does. */
function loadMilliseconds(file: string, nodeOptions: string): number {
  const load = file.endsWith('.mjs') ? `import(${JSON.stringify(pathToFileURL(file).href)})` : `Promise.resolve(require(${JSON.stringify(file)}))`;
  const script = `const t=process.hrtime.bigint();${load}.then(()=>process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6)));`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: REPOSITORY_ROOT, env: { ...process.env, NODE_OPTIONS: nodeOptions, AWS_REGION: 'us-west-2' } });
  if (run.status !== 0) throw new Error(`loading ${file} failed: ${run.stderr}`);
  return Number(run.stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Bytes a cold start of `entry` (an output of `metafile`) loads: its module and the chunks it imports statically, not those it may import later. */
function bytesLoadedAtStart(metafile: Metafile, entry: string): number {
  const seen = new Set<string>([entry]);
  const pending = [entry];
  let bytes = 0;
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    bytes += metafile.outputs[file].bytes;
    for (const imported of metafile.outputs[file].imports) {
      if (imported.external || imported.kind !== 'import-statement' || seen.has(imported.path)) continue;
      seen.add(imported.path);
      pending.push(imported.path);
    }
  }
  return bytes;
}

/** Builds every handler with `options` into `folder`; returns the file of {@link HANDLER} and the bytes its cold start loads. */
function buildVariant(folder: string, options: BuildOptions, moduleFileOf: (name: string) => string): { file: string; kib: number } {
  const names = handlerNames(HANDLER_ROOT);
  const result = buildSync({ ...options, metafile: true });
  writeHandlerBundles(result.outputFiles!, names, HANDLER_ROOT, folder, moduleFileOf);
  const entry = path.relative(REPOSITORY_ROOT, path.join(handlerBundleFolderOf(HANDLER_ROOT), moduleFileOf(HANDLER))).split(path.sep).join('/');
  return { file: path.join(folder, moduleFileOf(HANDLER)), kib: Math.round(bytesLoadedAtStart(result.metafile!, entry) / 1024) };
}

export async function runColdStartBench(): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(REPOSITORY_ROOT, '.bench-tmp-cold-start-'));
  try {
    const names = handlerNames(HANDLER_ROOT);
    const shippedOptions = handlerBundleOptions(names, HANDLER_ROOT);
    const shipped = buildVariant(path.join(dir, 'shipped'), shippedOptions, handlerModuleFile);
    // Inside the repository, so the left-out SDK resolves from its node_modules.
    const runtimeSdk = buildVariant(path.join(dir, 'runtime-sdk'), { ...shippedOptions, external: ['@aws-sdk/*', '@smithy/*'] }, handlerModuleFile);
    const perHandlerOptions: BuildOptions = { ...shippedOptions, format: 'cjs', splitting: false, outExtension: { '.js': '.js' } };
    const commonJsFile = (name: string) => `${name}.js`;
    const perHandler = buildVariant(path.join(dir, 'per-handler'), perHandlerOptions, commonJsFile);
    const commonJsBuilds = buildVariant(path.join(dir, 'commonjs-builds'), { ...perHandlerOptions, mainFields: ['main', 'module'] }, commonJsFile);
    const times = { shipped: [] as number[], noMaps: [] as number[], perHandler: [] as number[], commonJsBuilds: [] as number[], runtimeSdk: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      times.shipped.push(loadMilliseconds(shipped.file, '--enable-source-maps'));
      times.noMaps.push(loadMilliseconds(shipped.file, ''));
      times.perHandler.push(loadMilliseconds(perHandler.file, '--enable-source-maps'));
      times.commonJsBuilds.push(loadMilliseconds(commonJsBuilds.file, '--enable-source-maps'));
      times.runtimeSdk.push(loadMilliseconds(runtimeSdk.file, '--enable-source-maps'));
    }
    const shippedMs = roundTo(median(times.shipped), 1);
    const compare = (name: string, runs: number[]): BenchResult => {
      const value = roundTo(median(runs), 1);
      return { name, value, unit: 'ms', baseline: shippedMs, ratio: roundTo(value / shippedMs, 2) };
    };
    return [
      { name: `${HANDLER} as shipped (ES modules sharing chunks, SDK bundled from its ES module builds; ${shipped.kib} KiB loaded at start, --enable-source-maps): load time in a fresh process, median of ${ROUNDS}`, value: shippedMs, unit: 'ms' },
      compare('the same without --enable-source-maps', times.noMaps),
      compare(`one CommonJS bundle per handler, the layout shipped before (${perHandler.kib} KiB)`, times.perHandler),
      compare(`one bundle per handler from the packages' CommonJS builds, not tree-shaken (${commonJsBuilds.kib} KiB)`, times.commonJsBuilds),
      compare(`SDK left out, loaded from node_modules as the runtime's SDK would be (${runtimeSdk.kib} KiB of our code loaded at start)`, times.runtimeSdk),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runBenchAlone(runColdStartBench);
}
