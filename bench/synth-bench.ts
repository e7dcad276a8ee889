/**
 * Synthesis benchmark (issue 16): `cdk synth` of the repository's app (every environment in
 * cdk.json, every handler bundled from the sources) against a one-function CDK app (one
 * NodejsFunction, its handler using the S3 client) built in the same run, through the same CDK
 * CLI, runs alternating, medians compared: with every handler bundled afresh (an empty bundle
 * cache), with the bundles of the previous synthesis reused, and after editing one handler
 * (a comment appended to its index.ts, restored afterwards: the handlers share chunks, so all
 * of them are bundled again, in one esbuild call). Offline: no notices, no telemetry.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/synth-bench.ts`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HANDLER_BUNDLE_CACHE_VARIABLE } from '../lib/workflow/handler-bundles';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const CDK_CLI = require.resolve('aws-cdk/bin/cdk');
const ROUNDS = 3;
/** The handler the "one handler edited" case edits. */
const EDITED_HANDLER = path.join(REPOSITORY_ROOT, 'lambda', 'check-job', 'index.ts');

const ONE_FUNCTION_APP = `import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
const app = new App();
const stack = new Stack(app, 'OneFunction', { env: { account: '111111111111', region: 'us-west-2' } });
new nodejs.NodejsFunction(stack, 'Handler', { entry: 'handler.ts', runtime: lambda.Runtime.NODEJS_24_X, architecture: lambda.Architecture.ARM_64 });
app.synth();
`;
const ONE_FUNCTION_HANDLER = `import { S3Client, HeadBucketCommand } from '@aws-sdk/client-s3';
const s3 = new S3Client({});
export const handler = async (event: { bucket: string }) => s3.send(new HeadBucketCommand({ Bucket: event.bucket }));
`;

/** A one-function CDK app in a temporary folder that uses the repository's node_modules. */
function oneFunctionApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-one-function-'));
  fs.symlinkSync(path.join(REPOSITORY_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'one-function-app', private: true }));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'one-function-app', lockfileVersion: 3, packages: {} }));
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'npx ts-node --transpile-only app.ts' }));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'commonjs', esModuleInterop: true, skipLibCheck: true } }));
  fs.writeFileSync(path.join(dir, 'app.ts'), ONE_FUNCTION_APP);
  fs.writeFileSync(path.join(dir, 'handler.ts'), ONE_FUNCTION_HANDLER);
  return dir;
}

/** Seconds one quiet `cdk synth` of the app in `cwd` takes; throws with its output when it fails or says anything. */
function synthSeconds(cwd: string, env: Record<string, string> = {}): number {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-out-'));
  try {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [CDK_CLI, 'synth', '--quiet', '--no-notices', '--output', outdir], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true', ...env },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) throw new Error(`cdk synth in ${cwd} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    return seconds;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** What a quiet `cdk synth` of the repository prints (should be nothing about bundling). */
function quietSynthOutput(): string {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-out-'));
  try {
    const run = spawnSync(process.execPath, [CDK_CLI, 'synth', '--quiet', '--no-notices', '--output', outdir], { cwd: REPOSITORY_ROOT, encoding: 'utf8', env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CI: 'true' } });
    return `${run.stdout}${run.stderr}`;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function runSynthBench(): Promise<BenchResult[]> {
  const baselineDir = oneFunctionApp();
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-bench-cache-'));
  try {
    const cold: number[] = [];
    const warm: number[] = [];
    const edited: number[] = [];
    const baseline: number[] = [];
    synthSeconds(baselineDir); // warms the file cache for both (ts-node, aws-cdk-lib)
    for (let round = 0; round < ROUNDS; round++) {
      // Cold: an empty bundle cache, as after editing a handler (every handler is bundled again, in one esbuild call).
      cold.push(synthSeconds(REPOSITORY_ROOT, { [HANDLER_BUNDLE_CACHE_VARIABLE]: path.join(cacheRoot, `cold-${round}`) }));
      baseline.push(synthSeconds(baselineDir));
      // Warm: the bundles of the previous synthesis, sources unchanged (checked by content).
      warm.push(synthSeconds(REPOSITORY_ROOT, { [HANDLER_BUNDLE_CACHE_VARIABLE]: path.join(cacheRoot, `cold-${round}`) }));
      // One handler edited: the bundles of the previous synthesis, one handler's source changed (all bundled again, in one call).
      const source = fs.readFileSync(EDITED_HANDLER);
      // Ctrl-C stops the synthesis (and so the bench) but not before the source is restored.
      const restoreFirst = () => undefined;
      process.on('SIGINT', restoreFirst);
      try {
        fs.appendFileSync(EDITED_HANDLER, `// synth-bench edit ${round}\n`);
        edited.push(synthSeconds(REPOSITORY_ROOT, { [HANDLER_BUNDLE_CACHE_VARIABLE]: path.join(cacheRoot, `cold-${round}`) }));
      } finally {
        fs.writeFileSync(EDITED_HANDLER, source);
        process.off('SIGINT', restoreFirst);
      }
    }
    const baselineMedian = roundTo(median(baseline), 2);
    const compare = (name: string, runs: number[]): BenchResult => {
      const value = roundTo(median(runs), 2);
      const ratio = roundTo(value / baselineMedian, 2);
      return { name: `cdk synth of the repository app (all environments, every handler), ${name}, vs a one-function app; medians of ${ROUNDS} alternating runs`, value, unit: 's', baseline: baselineMedian, ratio, target: '<= 1.5 (goal 1.2)', pass: ratio <= 1.5 };
    };
    const chatter = quietSynthOutput().split('\n').filter((line) => /bundling|esbuild/i.test(line));
    return [
      compare('every handler bundled afresh (empty bundle cache, one esbuild call)', cold),
      compare('handler bundles reused (sources unchanged)', warm),
      compare(`one handler edited (${path.basename(path.dirname(EDITED_HANDLER))}: every handler bundled again in one call)`, edited),
      { name: `bundling lines in a quiet synth of the repository${chatter.length ? `: ${chatter[0]}` : ''}`, value: chatter.length, unit: 'lines', pass: chatter.length === 0 },
    ];
  } finally {
    fs.rmSync(baselineDir, { recursive: true, force: true });
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
}

if (require.main === module) {
  runBenchAlone(runSynthBench);
}
