/**
 * Build step (`npm run build`, after tsc): bundles every workflow handler,
 * lambda/<name>/index.ts, into dist/assets/<name>.mjs with its source map, and the chunks the
 * handlers share into dist/assets/chunks/, in one esbuild call with the options a synthesis
 * from the sources uses (lib/workflow/handler-bundles.ts). The package ships this folder, the
 * code asset of every workflow function, so a consumer's `cdk synth` needs neither the handler
 * sources, nor esbuild, nor Docker.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build } from 'esbuild';
import { handlerBundleFolderOf, handlerBundleOptions, handlerNames, writeHandlerBundles } from '../lib/workflow/handler-bundles';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const HANDLER_ROOT = path.join(REPOSITORY_ROOT, 'lambda');
const ASSETS_ROOT = path.join(REPOSITORY_ROOT, 'dist', 'assets');

async function main(): Promise<void> {
  const names = handlerNames(HANDLER_ROOT);
  if (names.length === 0) throw new Error(`No handlers (lambda/<name>/index.ts) found under ${HANDLER_ROOT}.`);
  fs.rmSync(ASSETS_ROOT, { recursive: true, force: true });
  const started = Date.now();
  if (handlerBundleFolderOf(HANDLER_ROOT) !== ASSETS_ROOT) throw new Error(`The handlers are bundled for ${handlerBundleFolderOf(HANDLER_ROOT)}, not for ${ASSETS_ROOT}.`);
  const { metafile, outputFiles } = await build({ ...handlerBundleOptions(names, HANDLER_ROOT), metafile: true });
  writeHandlerBundles(outputFiles!, names, HANDLER_ROOT, ASSETS_ROOT);
  const outputs = Object.entries(metafile!.outputs).filter(([file]) => !file.endsWith('.map'));
  const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
  const code = outputs.reduce((sum, [, output]) => sum + output.bytes, 0);
  process.stdout.write(`Bundled ${names.length} handlers into ${path.relative(REPOSITORY_ROOT, ASSETS_ROOT)}/ in ${Date.now() - started} ms: ${outputs.length} modules, ${kib(code)} of code without source maps.\n`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`bundle-handlers: ${err.message}\n`);
    process.exit(1);
  });
}
