/**
 * Bundles the workflow handlers from the repository's TypeScript sources, for a synthesis that
 * runs from the sources (tests, `cdk synth` in the repository). One esbuild call bundles every
 * handler that needs it with the very options the package's build step uses
 * (scripts/bundle-handlers.ts), so the functions synthesized here carry the bundles the
 * package ships. NodejsFunction would start esbuild once per function instead, which made a
 * synthesis of the repository four times slower than a one-function app.
 *
 * The bundles are kept (in the process, and in a cache folder under the system's temporary
 * folder for the next process), each handler's with the files it was made from: every file
 * esbuild read that its entry point reaches (esbuild's metafile import graph, node_modules
 * included). A handler is bundled again as soon as one of those files changed by content, so
 * a changed source is never hidden by a stale bundle, and only then: after an edit, only the
 * handlers that reach the edited file are bundled again (esbuild bundles each entry point on
 * its own, so a handler's bundle is the same whether built alone or with the others).
 * esbuild is a development dependency: it is loaded only here, and only when the library runs
 * from its sources (the package ships prebundled handlers).
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
    mainFields: [...HANDLER_BUNDLING.mainFields],
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

/** One handler's bundle: the folder holding `<name>/index.js`, and the files it was made from. */
interface HandlerBundle {
  /** Folder of the esbuild call that made it, relative to the cache folder. */
  readonly folder: string;
  /** Indexes into {@link BundleSet.inputs}. */
  readonly inputs: readonly number[];
}

/** The bundles of the handlers under one source root, and the files they were made from (manifest.json of the cache folder). */
interface BundleSet {
  readonly inputs: InputSeen[];
  readonly handlers: Readonly<Record<string, HandlerBundle>>;
}

/** Environment variable naming the cache folder (default: llama-finetune-handler-bundles-<uid> in the system's temporary folder). */
export const HANDLER_BUNDLE_CACHE_VARIABLE = 'LLAMA_FINETUNE_HANDLER_BUNDLE_CACHE';

/** Bundle sets of this process, by handler root, with their cache folder and the construct trees (apps) that checked them. */
const bundleSets = new Map<string, { cacheDir: string; set: BundleSet; checkedBy: WeakSet<object> }>();
let builds = 0;
let handlersBundled = 0;

/** How many esbuild calls this process made for handler bundles (for tests and the bench). */
export function handlerBundleBuilds(): number {
  return builds;
}

/** How many handler bundles those calls made in all (for tests: an edit rebundles only the handlers that reach the edited file). */
export function handlerBundlesMade(): number {
  return handlersBundled;
}

/**
 * The folder holding handler `name`'s bundle (index.js and index.js.map), bundled from
 * `<handlerRoot>/<name>/index.ts` (with every other handler under `handlerRoot` that needs it,
 * in one esbuild call). The first request of each construct tree (`treeRoot`, the app) checks
 * that no handler's files changed since its bundle was made, by this process or an earlier one
 * (a cache folder in the system's temporary folder, keyed by the bundling options, tsconfig.json
 * and the esbuild version), and bundles the handlers whose files changed; later requests of the
 * same tree reuse the answer.
 */
export function handlerBundleDirectory(name: string, handlerRoot: string, treeRoot: object): string {
  const entry = path.join(handlerRoot, name, 'index.ts');
  if (!fs.existsSync(entry)) throw new Error(`No bundle for the '${name}' workflow handler: ${entry} does not exist. Check the handler name.`);
  let known = bundleSets.get(handlerRoot);
  if (!known || !known.checkedBy.has(treeRoot)) {
    const esbuild = loadEsbuild();
    const check = checkBundles(handlerRoot, esbuild.version, known);
    const set = check.build ? check.build.store(esbuild.buildSync(check.build.options).metafile!) : check.set!;
    const checkedBy = known && known.set === set ? known.checkedBy : new WeakSet<object>();
    known = { cacheDir: check.cacheDir, set, checkedBy };
    bundleSets.set(handlerRoot, known);
    known.checkedBy.add(treeRoot);
  }
  const bundle = known.set.handlers[name];
  return path.join(known.cacheDir, bundle.folder, name);
}

/**
 * Makes sure the bundles of every handler under `handlerRoot` are current, bundling the ones
 * that are not with esbuild's asynchronous API. esbuild works in its own process meanwhile, so
 * a caller that loads the library next (bin/synth.ts, before `cdk synth` constructs the app)
 * has the two overlap; the constructs then find the bundles ready.
 */
export async function prebundleHandlers(handlerRoot: string): Promise<void> {
  const esbuild = loadEsbuild();
  const check = checkBundles(handlerRoot, esbuild.version, undefined);
  const set = check.build ? check.build.store((await esbuild.build(check.build.options)).metafile!) : check.set!;
  bundleSets.set(handlerRoot, { cacheDir: check.cacheDir, set, checkedBy: new WeakSet() });
}

/** What {@link checkBundles} found: the cache folder, and the bundle set if current, else the esbuild call that makes it so. */
interface BundleCheck {
  readonly cacheDir: string;
  readonly set: BundleSet | undefined;
  /** The call bundling the stale handlers (metafile on), and how to store its result; absent when every bundle is current. */
  readonly build?: { readonly options: BuildOptions; readonly store: (metafile: Metafile) => BundleSet };
}

/**
 * Compares the bundles of every handler under `handlerRoot` with their files: this process's set
 * first (`known`, its stats are the freshest), else the cache folder's manifest. The esbuild call
 * itself is the caller's, synchronous or not.
 */
function checkBundles(handlerRoot: string, esbuildVersion: string, known: { readonly cacheDir: string; readonly set: BundleSet } | undefined): BundleCheck {
  const cacheDir = known?.cacheDir ?? cacheDirectoryOf(handlerRoot, esbuildVersion);
  const set = known?.set ?? readManifest(cacheDir);
  const stale = staleHandlers(cacheDir, set, handlerNames(handlerRoot));
  if (stale.length === 0) return { cacheDir, set };
  const { outdir, options } = newBuild(cacheDir, stale, handlerRoot);
  return { cacheDir, set, build: { options: { ...options, metafile: true }, store: (metafile) => storeBundles(cacheDir, set, outdir, stale, metafile, options.absWorkingDir!) } };
}

/** Where the bundles of the handlers under `handlerRoot` are cached, for the options, tsconfig.json and esbuild version of this process. */
function cacheDirectoryOf(handlerRoot: string, esbuildVersion: string): string {
  const recipe = handlerBundleOptions([], handlerRoot, '<outdir>');
  // esbuild reads tsconfig.json for how to compile TypeScript; it is no metafile input.
  const tsconfig = readOrEmpty(path.join(path.dirname(handlerRoot), 'tsconfig.json'));
  const cacheKey = crypto.createHash('sha256').update(JSON.stringify({ esbuild: esbuildVersion, recipe, tsconfig })).digest('hex').slice(0, 16);
  return path.join(process.env[HANDLER_BUNDLE_CACHE_VARIABLE] || path.join(os.tmpdir(), `llama-finetune-handler-bundles-${os.userInfo().uid}`), cacheKey);
}

/** A new folder for one esbuild call bundling `names`, and the options of that call. */
function newBuild(cacheDir: string, names: readonly string[], handlerRoot: string): { outdir: string; options: BuildOptions } {
  fs.mkdirSync(cacheDir, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(cacheDir, 'bundles-'));
  return { outdir, options: handlerBundleOptions(names, handlerRoot, outdir) };
}

/**
 * The handlers of `names` that `set` has no current bundle of: none yet, its index.js gone, or a
 * file it was made from changed. Each file is looked at once, a cheap stat first, its content
 * hash only when the stat moved (a touched but unchanged file keeps the bundles; its new stat
 * is noted).
 */
function staleHandlers(cacheDir: string, set: BundleSet | undefined, names: readonly string[]): string[] {
  if (!set) return [...names];
  const changed = set.inputs.map((input, index) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input.file);
    } catch {
      return true; // deleted or moved: whatever imported it changed too
    }
    if (stat.mtimeMs === input.mtimeMs && stat.size === input.size) return false;
    if (sha256Of(input.file) !== input.sha256) return true;
    set.inputs[index] = { ...input, mtimeMs: stat.mtimeMs, size: stat.size };
    return false;
  });
  return names.filter((name) => {
    const bundle = set.handlers[name];
    return !bundle || bundle.inputs.some((index) => changed[index]) || !fs.existsSync(path.join(cacheDir, bundle.folder, name, 'index.js'));
  });
}

/**
 * Records freshly built bundles of `built` (made in `outdir`) in the set, with the files each
 * one's entry point reaches, and writes the set as the cache's manifest.
 */
function storeBundles(cacheDir: string, previous: BundleSet | undefined, outdir: string, built: readonly string[], metafile: Metafile, workingDir: string): BundleSet {
  builds++;
  handlersBundled += built.length;
  const folder = path.basename(outdir);
  const inputs: InputSeen[] = [];
  const indexOf = new Map<string, number>();
  const keep = (input: InputSeen): number => {
    let index = indexOf.get(input.file);
    if (index === undefined) {
      index = inputs.push(input) - 1;
      indexOf.set(input.file, index);
    }
    return index;
  };
  // Fresh inputs first: a file this build read is recorded as it is now.
  const fresh = new Map<string, InputSeen>();
  const handlers: Record<string, HandlerBundle> = {};
  for (const name of built) {
    const reached = reachedInputs(metafile, name, workingDir, outdir);
    handlers[name] = {
      folder,
      inputs: reached.map((relative) => {
        const file = path.resolve(workingDir, relative);
        let input = fresh.get(file);
        if (!input) {
          input = inputSeen(file);
          fresh.set(file, input);
        }
        return keep(input);
      }),
    };
  }
  // The earlier bundles of the others, unless one of their files is no longer what they were made from
  // (a handler whose folder was away meanwhile, so it was not checked).
  for (const [name, bundle] of Object.entries(previous?.handlers ?? {})) {
    if (handlers[name] || !fs.existsSync(path.join(cacheDir, bundle.folder, name, 'index.js'))) continue;
    const madeFrom = bundle.inputs.map((index) => previous!.inputs[index]);
    if (madeFrom.some((input) => fresh.has(input.file) && fresh.get(input.file)!.sha256 !== input.sha256)) continue;
    handlers[name] = { folder: bundle.folder, inputs: madeFrom.map((input) => keep(fresh.get(input.file) ?? input)) };
  }
  const set: BundleSet = { inputs, handlers };
  // Written aside and renamed, so a process reading the manifest never sees half of it.
  fs.writeFileSync(`${outdir}.manifest.json`, JSON.stringify(set));
  fs.renameSync(`${outdir}.manifest.json`, path.join(cacheDir, 'manifest.json'));
  removeSupersededBundles(cacheDir, new Set(Object.values(handlers).map((bundle) => bundle.folder)));
  return set;
}

/**
 * The inputs (metafile keys, relative to `workingDir`) that handler `name`'s entry point
 * reaches through esbuild's import graph: every file its bundle was made from, also those that
 * gave it no bytes (e.g. a module of types that another re-exports), so a change that would
 * give bytes is seen.
 */
function reachedInputs(metafile: Metafile, name: string, workingDir: string, outdir: string): string[] {
  const output = metafile.outputs[path.relative(workingDir, path.join(outdir, name, 'index.js')).split(path.sep).join('/')];
  if (!output?.entryPoint) throw new Error(`esbuild wrote no bundle for the '${name}' workflow handler under ${outdir}.`);
  const reached = new Set<string>([output.entryPoint]);
  const pending = [output.entryPoint];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    for (const imported of metafile.inputs[file]?.imports ?? []) {
      if (imported.external || reached.has(imported.path)) continue;
      reached.add(imported.path);
      pending.push(imported.path);
    }
  }
  return [...reached];
}

function loadEsbuild(): typeof import('esbuild') {
  // Loaded here only: a development dependency, absent where the package is installed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('esbuild') as typeof import('esbuild');
}

function readManifest(cacheDir: string): BundleSet | undefined {
  try {
    const set = JSON.parse(fs.readFileSync(path.join(cacheDir, 'manifest.json'), 'utf8')) as BundleSet;
    return Array.isArray(set.inputs) && typeof set.handlers === 'object' ? set : undefined;
  } catch {
    return undefined; // none yet, or unreadable: bundle afresh
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Removes bundle folders the manifest no longer names, once they are ten minutes old: another
 * process may still be copying the ones it found a moment ago.
 */
function removeSupersededBundles(cacheDir: string, current: ReadonlySet<string>): void {
  for (const entry of fs.readdirSync(cacheDir)) {
    if (!entry.startsWith('bundles-') || current.has(entry) || entry.endsWith('.manifest.json')) continue;
    const folder = path.join(cacheDir, entry);
    try {
      if (Date.now() - fs.statSync(folder).mtimeMs > 10 * 60_000) fs.rmSync(folder, { recursive: true, force: true });
    } catch {
      // removed by another process meanwhile
    }
  }
}

function inputSeen(file: string): InputSeen {
  const stat = fs.statSync(file);
  return { file, mtimeMs: stat.mtimeMs, size: stat.size, sha256: sha256Of(file) };
}

function sha256Of(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
