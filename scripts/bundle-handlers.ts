/**
 * Build step (`npm run build`, after tsc): bundles every workflow handler,
 * lambda/<name>/index.ts, into dist/assets/<name>/index.js with its source map, using the
 * settings NodejsFunction uses when the library runs from source (lib/workflow/handler-code.ts).
 * The package ships these folders, so a consumer's `cdk synth` needs neither the handler
 * sources, nor esbuild, nor Docker.
 */
import * as fs from 'fs';
import * as path from 'path';
import { build, BuildOptions } from 'esbuild';
import { HANDLER_BUNDLING } from '../lib/workflow/handler-code';

const REPOSITORY_ROOT = path.resolve(__dirname, '..');
const HANDLER_ROOT = path.join(REPOSITORY_ROOT, 'lambda');
const ASSETS_ROOT = path.join(REPOSITORY_ROOT, 'dist', 'assets');

/** The handler folders under `handlerRoot`: every sub-folder with an index.ts (lambda/shared has none). */
export function handlerNames(handlerRoot: string): string[] {
  return fs
    .readdirSync(handlerRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(handlerRoot, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

/** esbuild options that write `<assetsRoot>/<name>/index.js` (+ .map) for each handler. Pure. */
export function bundleOptions(names: readonly string[], handlerRoot: string, assetsRoot: string): BuildOptions {
  return {
    entryPoints: names.map((name) => ({ in: path.join(handlerRoot, name, 'index.ts'), out: path.join(name, 'index') })),
    outdir: assetsRoot,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: HANDLER_BUNDLING.target,
    minify: HANDLER_BUNDLING.minify,
    sourcemap: HANDLER_BUNDLING.sourceMap,
    sourcesContent: HANDLER_BUNDLING.sourcesContent,
    // Nothing external: the AWS SDK goes into the bundle, as NodejsFunction does here.
    external: [],
    absWorkingDir: REPOSITORY_ROOT,
    logLevel: 'warning',
  };
}

async function main(): Promise<void> {
  const names = handlerNames(HANDLER_ROOT);
  if (names.length === 0) throw new Error(`No handlers (lambda/<name>/index.ts) found under ${HANDLER_ROOT}.`);
  fs.rmSync(ASSETS_ROOT, { recursive: true, force: true });
  const started = Date.now();
  await build(bundleOptions(names, HANDLER_ROOT, ASSETS_ROOT));
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
