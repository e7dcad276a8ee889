/**
 * Where a workflow function's code comes from. The published package ships every handler
 * already bundled (dist/assets/<name>.mjs and the chunks they share, made by
 * scripts/bundle-handlers.ts), so a
 * consumer's `cdk synth` needs neither the handler sources, nor esbuild, nor Docker. Run from
 * the repository's TypeScript sources (tests, `cdk synth` here), the handlers are bundled from
 * lambda/<name>/index.ts instead, so a change to a handler is never hidden by a stale build.
 *
 * This file is the one place that decides, and the one place that holds the bundling settings
 * both ways share.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The Node.js the handlers are built for (the esbuild target of the bundles the package ships)
 * and tested on: the oldest runtime the workflow functions get.
 */
export const HANDLER_BUILD_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * The runtime of the workflow functions: the newest `nodejsNN.x` that the aws-cdk-lib in use
 * knows, never older than {@link HANDLER_BUILD_RUNTIME}. It follows the user's aws-cdk-lib
 * because cdk-nag's AwsSolutions-L1 compares with `Runtime.ALL` of that aws-cdk-lib: a fixed
 * runtime would turn into a finding as soon as a newer aws-cdk-lib adds a Node.js version.
 * Code built for an older Node.js runs on a newer one; `NODEJS_LATEST` is not used, as it
 * lags behind (nodejs22.x in aws-cdk-lib 2.257.0, which knows nodejs24.x).
 * Read when a function is created, so it is the aws-cdk-lib loaded at synthesis.
 */
export function handlerRuntime(): lambda.Runtime {
  let newest = HANDLER_BUILD_RUNTIME;
  for (const runtime of lambda.Runtime.ALL) {
    if (runtime.family !== lambda.RuntimeFamily.NODEJS || runtime.isVariable) continue;
    if (nodeMajorOf(runtime) > nodeMajorOf(newest)) newest = runtime;
  }
  return newest;
}

/** The Node.js major version of `nodejsNN.x`, or 0 for other names (nodejs4.3, nodejs). */
function nodeMajorOf(runtime: lambda.Runtime): number {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  return match ? Number(match[1]) : 0;
}

/** The exported function of every handler's module. */
export const HANDLER_EXPORT = 'handler';

/** The extension of the bundled modules: ES modules (the bundles share chunks, which esbuild only splits out of ES modules). */
export const HANDLER_MODULE_EXTENSION = '.mjs';

/** The file of handler `name` in the bundle folder, named after the handler so that one folder holds them all. */
export function handlerModuleFile(name: string): string {
  return `${name}${HANDLER_MODULE_EXTENSION}`;
}

/** The Lambda `Handler` of handler `name`: its module file without the extension, and the export. */
export function lambdaHandlerOf(name: string): string {
  return `${name}.${HANDLER_EXPORT}`;
}

/**
 * Folder of the prebundled handlers (one asset every workflow function shares), next to the
 * compiled library: dist/lib/workflow/ -> dist/assets/. From the TypeScript sources this names <repo>/assets, which does not exist,
 * so the sources are always bundled afresh there.
 */
export const PREBUNDLED_HANDLERS_ROOT = path.resolve(__dirname, '..', '..', 'assets');

/** Folder of the handler sources: lambda/ (from lib/workflow/, or dist/lib/workflow/ in a repository build). */
export const HANDLER_SOURCE_ROOTS = [path.resolve(__dirname, '..', '..', 'lambda'), path.resolve(__dirname, '..', '..', '..', 'lambda')];

/**
 * Bundling settings of every handler bundle (the package build's and a synthesis from the
 * sources alike): minified, for the functions' runtime, with a source map (the functions run
 * with --enable-source-maps) that maps lines but leaves the sources out, which keeps the asset
 * and the package small. Every module is inlined, the AWS SDK included, so the code runs against
 * the SDK version it was tested with. Packages are read from their ES module builds where they
 * have one (`mainFields`), so esbuild leaves out the SDK code a handler never reaches.
 * The handlers are ES modules bundled together with code splitting: what several handlers use
 * (the SDK above all) is written once, as a chunk they import, instead of once per handler. One
 * esbuild call thus takes about a quarter of the time of 19 separate bundles, the folder is a
 * tenth of their size, and a function loads only the chunks its handler imports (the
 * cold-start bench). Every function gets the one folder as its code, with its own `Handler`.
 */
export const HANDLER_BUNDLING = {
  format: 'esm',
  splitting: true,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  target: esbuildTargetOf(HANDLER_BUILD_RUNTIME),
  mainFields: ['module', 'main'],
} as const;

/** The code of one handler: the prebundled asset folder holding its module, or a source entry to bundle. */
export type HandlerCode =
  | { readonly kind: 'prebundled'; readonly directory: string }
  | { readonly kind: 'source'; readonly entry: string };

/** Where to look; the defaults are the package's and the repository's layout. */
export interface HandlerCodeRoots {
  /**
   * Folder of the prebundled handlers: `<name>.mjs` of each, and the `chunks/` they import.
   * @default PREBUNDLED_HANDLERS_ROOT (the package's dist/assets/)
   */
  readonly prebundledRoot?: string;
  /**
   * Folders holding the handler sources as `<name>/index.ts`, looked in in order.
   * @default HANDLER_SOURCE_ROOTS (the repository's lambda/)
   */
  readonly sourceRoots?: readonly string[];
}

/** The esbuild target for a Lambda Node.js runtime, e.g. `nodejs24.x` -> `node24`. */
export function esbuildTargetOf(runtime: lambda.Runtime): string {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  if (!match) throw new Error(`Runtime ${runtime.name} is not a Node.js runtime; the workflow handlers need one (e.g. nodejs24.x).`);
  return `node${match[1]}`;
}

/**
 * Decides where handler `name` comes from: its prebundled asset when the library runs from
 * the package, else lambda/<name>/index.ts of the repository.
 */
export function resolveHandlerCode(name: string, roots: HandlerCodeRoots = {}): HandlerCode {
  const prebundledRoot = roots.prebundledRoot ?? PREBUNDLED_HANDLERS_ROOT;
  const prebundled = path.join(prebundledRoot, handlerModuleFile(name));
  if (fs.existsSync(prebundled)) return { kind: 'prebundled', directory: prebundledRoot };
  const sourceRoots = roots.sourceRoots ?? HANDLER_SOURCE_ROOTS;
  for (const root of sourceRoots) {
    const entry = path.join(root, name, 'index.ts');
    if (fs.existsSync(entry)) return { kind: 'source', entry };
  }
  throw new Error(
    `Code of the '${name}' workflow handler not found: neither the prebundled ${prebundled} nor ` +
      `${sourceRoots.map((root) => path.join(root, name, 'index.ts')).join(' or ')} exists. ` +
      'Installed from npm: reinstall llama-finetune-cdk (the package is incomplete). In the repository: check the handler name, or run `npm run build` for the assets.',
  );
}
