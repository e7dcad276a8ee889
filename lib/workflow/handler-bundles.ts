/**
 * Bundles the workflow handlers from the repository's TypeScript sources, for a synthesis that
 * runs from the sources (tests, `cdk synth` in the repository). One esbuild call bundles every
 * handler with the very options the package's build step uses (scripts/bundle-handlers.ts), so
 * the functions synthesized here carry the bundles the package ships. NodejsFunction would
 * start esbuild once per function instead, which made a synthesis of the repository four times
 * slower than a one-function app.
 *
 * The bundles are kept (in the process, and in a cache folder under the system's temporary
 * folder for the next process) and rebuilt as soon as any file esbuild read (esbuild's
 * metafile inputs, node_modules included) changed by content, so a changed handler is never
 * hidden by a stale bundle. esbuild is a development dependency: it is loaded only here,
 * and only when the library runs from its sources (the package ships prebundled handlers).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BuildOptions, Metafile } from 'esbuild';
import { HANDLER_BUNDLING } from './handler-code';

/** The handler folders under `handlerRoot`: every sub-folder with an index.ts (lambda/shared has none). */
export function handlerNames(handlerRoot: string): string[] {
  return fs
    .readdirSync(handlerRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(handlerRoot, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

/**
 * esbuild options that write `<outdir>/<name>/index.js` (+ .map) for each handler, with
 * {@link HANDLER_BUNDLING}. The one definition of how a handler is bundled, for the package
 * build and for a synthesis from the sources alike. Pure.
 */
export function handlerBundleOptions(names: readonly string[], handlerRoot: string, outdir: string): BuildOptions {
  return {
    entryPoints: names.map((name) => ({ in: path.join(handlerRoot, name, 'index.ts'), out: path.join(name, 'index') })),
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: HANDLER_BUNDLING.target,
    minify: HANDLER_BUNDLING.minify,
    sourcemap: HANDLER_BUNDLING.sourceMap,
    sourcesContent: HANDLER_BUNDLING.sourcesContent,
    // Nothing external: the AWS SDK goes into the bundle, so the code runs against the SDK it was tested with.
    external: [],
    // Paths in the source maps are relative to the repository root.
    absWorkingDir: path.dirname(handlerRoot),
    logLevel: 'warning',
  };
}

/** One file esbuild read, as last seen. */
interface InputSeen {
  readonly file: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly sha256: string;
}

/** The bundles of every handler under one source root, and what they were made from. */
interface HandlerBundleSet {
  readonly outdir: string;
  readonly names: readonly string[];
  readonly inputs: InputSeen[];
}

/** What the cache folder records about its current bundles (manifest.json). */
interface CacheManifest {
  /** Folder of the bundles, relative to the cache folder. */
  readonly bundles: string;
  readonly names: readonly string[];
  readonly inputs: InputSeen[];
}

/** Environment variable naming the cache folder (default: llama-finetune-handler-bundles-<uid> in the system's temporary folder). */
export const HANDLER_BUNDLE_CACHE_VARIABLE = 'LLAMA_FINETUNE_HANDLER_BUNDLE_CACHE';

/** Bundle sets of this process, by handler root, with the construct trees (apps) that checked them. */
const bundleSets = new Map<string, { set: HandlerBundleSet; checkedBy: WeakSet<object> }>();
let builds = 0;

/** How many esbuild calls this process made for handler bundles (for tests and the bench). */
export function handlerBundleBuilds(): number {
  return builds;
}

/**
 * The folder holding handler `name`'s bundle (index.js and index.js.map), bundled from
 * `<handlerRoot>/<name>/index.ts` together with every other handler under `handlerRoot`. The
 * first request of each construct tree (`treeRoot`, the app) checks that no input changed
 * since the bundles were made, by this process or an earlier one (a cache folder in the
 * system's temporary folder, keyed by the bundling options and the esbuild version); later
 * requests of the same tree reuse the answer.
 */
export function handlerBundleDirectory(name: string, handlerRoot: string, treeRoot: object): string {
  const entry = path.join(handlerRoot, name, 'index.ts');
  if (!fs.existsSync(entry)) throw new Error(`No bundle for the '${name}' workflow handler: ${entry} does not exist. Check the handler name.`);
  let known = bundleSets.get(handlerRoot);
  if (!known || !known.checkedBy.has(treeRoot)) {
    const names = handlerNames(handlerRoot);
    const set = known && isCurrent(known.set, names) ? known.set : cachedOrNewBundles(handlerRoot, names);
    known = { set, checkedBy: known?.set === set ? known.checkedBy : new WeakSet() };
    bundleSets.set(handlerRoot, known);
    known.checkedBy.add(treeRoot);
  }
  return path.join(known.set.outdir, name);
}

/** Where the bundles of `names` under `handlerRoot` are cached, for the options and esbuild version of this process. */
function cacheDirectoryOf(handlerRoot: string, names: readonly string[], esbuildVersion: string): string {
  const recipe = handlerBundleOptions(names, handlerRoot, '<outdir>');
  const cacheKey = crypto.createHash('sha256').update(JSON.stringify({ esbuild: esbuildVersion, recipe })).digest('hex').slice(0, 16);
  return path.join(process.env[HANDLER_BUNDLE_CACHE_VARIABLE] || path.join(os.tmpdir(), `llama-finetune-handler-bundles-${os.userInfo().uid}`), cacheKey);
}

/** The cached bundles, when they were made from the files as they are now. */
function currentCachedBundles(cacheDir: string, names: readonly string[]): HandlerBundleSet | undefined {
  const cached = readManifest(path.join(cacheDir, 'manifest.json'));
  if (!cached) return undefined;
  const set = { outdir: path.join(cacheDir, cached.bundles), names: cached.names, inputs: cached.inputs };
  return isCurrent(set, names) ? set : undefined;
}

/** Records freshly built bundles as the cache's current ones. */
function storeBundles(cacheDir: string, outdir: string, names: readonly string[], metafile: Metafile, workingDir: string): HandlerBundleSet {
  builds++;
  const set: HandlerBundleSet = { outdir, names, inputs: inputsOf(metafile, workingDir) };
  // Written aside and renamed, so a process reading the manifest never sees half of it.
  const manifest: CacheManifest = { bundles: path.basename(outdir), names, inputs: set.inputs };
  fs.writeFileSync(`${outdir}.manifest.json`, JSON.stringify(manifest));
  fs.renameSync(`${outdir}.manifest.json`, path.join(cacheDir, 'manifest.json'));
  removeSupersededBundles(cacheDir, path.basename(outdir));
  return set;
}

/** The cached bundles when they were made from the files as they are now, else new ones (cached for the next process). */
function cachedOrNewBundles(handlerRoot: string, names: readonly string[]): HandlerBundleSet {
  const esbuild = loadEsbuild();
  const cacheDir = cacheDirectoryOf(handlerRoot, names, esbuild.version);
  const cached = currentCachedBundles(cacheDir, names);
  if (cached) return cached;
  fs.mkdirSync(cacheDir, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(cacheDir, 'bundles-'));
  const options = handlerBundleOptions(names, handlerRoot, outdir);
  const result = esbuild.buildSync({ ...options, metafile: true });
  return storeBundles(cacheDir, outdir, names, result.metafile!, options.absWorkingDir!);
}

/**
 * Makes sure the bundles of every handler under `handlerRoot` are current, bundling them with
 * esbuild's asynchronous API when they are not. esbuild works in its own process meanwhile, so a
 * caller that loads the library next (bin/synth.ts, before `cdk synth` constructs the app) has
 * the two overlap; the constructs then find the bundles ready.
 */
export async function prebundleHandlers(handlerRoot: string): Promise<void> {
  const names = handlerNames(handlerRoot);
  const esbuild = loadEsbuild();
  const cacheDir = cacheDirectoryOf(handlerRoot, names, esbuild.version);
  let set = currentCachedBundles(cacheDir, names);
  if (!set) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const outdir = fs.mkdtempSync(path.join(cacheDir, 'bundles-'));
    const options = handlerBundleOptions(names, handlerRoot, outdir);
    const result = await esbuild.build({ ...options, metafile: true });
    set = storeBundles(cacheDir, outdir, names, result.metafile!, options.absWorkingDir!);
  }
  bundleSets.set(handlerRoot, { set, checkedBy: new WeakSet() });
}

function loadEsbuild(): typeof import('esbuild') {
  // Loaded here only: a development dependency, absent where the package is installed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('esbuild') as typeof import('esbuild');
}

function readManifest(file: string): CacheManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as CacheManifest;
  } catch {
    return undefined; // none yet, or unreadable: bundle afresh
  }
}

/**
 * Removes bundles an earlier build superseded, once they are ten minutes old: another process
 * may still be copying the ones it found a moment ago.
 */
function removeSupersededBundles(cacheDir: string, current: string): void {
  for (const entry of fs.readdirSync(cacheDir)) {
    if (!entry.startsWith('bundles-') || entry === current || entry.endsWith('.manifest.json')) continue;
    const folder = path.join(cacheDir, entry);
    try {
      if (Date.now() - fs.statSync(folder).mtimeMs > 10 * 60_000) fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}

function inputsOf(metafile: Metafile, workingDir: string): InputSeen[] {
  return Object.keys(metafile.inputs).map((relative) => {
    const file = path.resolve(workingDir, relative);
    const stat = fs.statSync(file);
    return { file, mtimeMs: stat.mtimeMs, size: stat.size, sha256: sha256Of(file) };
  });
}

/**
 * Whether `set` bundles exactly the handlers `names` from the files as they are now: a cheap
 * stat of each input first, its content hash only when the stat moved.
 */
function isCurrent(set: HandlerBundleSet, names: readonly string[]): boolean {
  if (set.names.join('\n') !== names.join('\n') || !names.every((name) => fs.existsSync(path.join(set.outdir, name, 'index.js')))) return false;
  for (const [index, input] of set.inputs.entries()) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input.file);
    } catch {
      return false; // deleted or moved: whatever imported it changed too
    }
    if (stat.mtimeMs === input.mtimeMs && stat.size === input.size) continue;
    if (sha256Of(input.file) !== input.sha256) return false;
    set.inputs[index] = { ...input, mtimeMs: stat.mtimeMs, size: stat.size };
  }
  return true;
}

function sha256Of(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
