/**
 * Build step (`npm run build`, after tsc): bundles every workflow handler,
 * lambda/<name>/index.ts, into dist/assets/<name>/index.js with its source map, in one esbuild
 * call with the options a synthesis from the sources uses (lib/workflow/handler-bundles.ts).
 * The package ships these folders, so a consumer's `cdk synth` needs neither the handler
 * sources, nor esbuild, nor Docker.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build } from 'esbuild';
import { handlerBundleOptions, handlerNames } from '../lib/workflow/handler-bundles';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const HANDLER_ROOT = path.join(REPOSITORY_ROOT, 'lambda');
const ASSETS_ROOT = path.join(REPOSITORY_ROOT, 'dist', 'assets');

async function main(): Promise<void> {
  const names = handlerNames(HANDLER_ROOT);
  if (names.length === 0) throw new Error(`No handlers (lambda/<name>/index.ts) found under ${HANDLER_ROOT}.`);
  fs.rmSync(ASSETS_ROOT, { recursive: true, force: true });
  const started = Date.now();
  await build(handlerBundleOptions(names, HANDLER_ROOT, ASSETS_ROOT));
  const missing = names.filter((name) => !fs.existsSync(path.join(ASSETS_ROOT, name, 'index.js')));
  if (missing.length > 0) throw new Error(`esbuild wrote no index.js for ${missing.join(', ')} under ${ASSETS_ROOT}.`);
  const kib = (name: string) => Math.round(fs.statSync(path.join(ASSETS_ROOT, name, 'index.js')).size / 1024);
  process.stdout.write(`Bundled ${names.length} handlers into ${path.relative(REPOSITORY_ROOT, ASSETS_ROOT)}/ in ${Date.now() - started} ms: ${names.map((n) => `${n} ${kib(n)} KiB`).join(', ')}\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bundle-handlers: ${err.message}\n`);
    process.exit(1);
  });
}
