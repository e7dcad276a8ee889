/**
 * Bundles the workflow handlers from the repository's TypeScript sources, for a synthesis that
 * runs from the sources (tests, `cdk synth` in the repository). One esbuild call bundles every
 * handler with the very options the package's build step uses (scripts/bundle-handlers.ts), so
 * the functions synthesized here carry the code the package ships: one folder holding each
 * handler's module, `<name>.mjs`, and the chunks they share. NodejsFunction would start esbuild
 * once per function instead, which made a synthesis of the repository four times slower than a
 * one-function app.
 *
 * The bundles are kept (in the process, and in a cache folder under the system's temporary
 * folder for the next process) with the files they were made from: every file esbuild read,
 * node_modules included (the metafile's inputs). They are bundled again as soon as one of those
 * files changed by content, or a handler was added or removed, so a changed source is never
 * hidden by a stale bundle (one saved while esbuild ran counts as changed). The handlers share chunks, so they are always bundled together.
 * esbuild is a development dependency: it is loaded only here, and only when the library runs
 * from its sources (the package ships prebundled handlers).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { BuildOptions, BuildResult, OutputFile } from 'esbuild';
import { HANDLER_BUNDLING, HANDLER_MODULE_EXTENSION, handlerModuleFile } from './handler-code';

/** The handler folders under `handlerRoot`: every sub-folder with an index.ts (lambda/shared has none). */
export function handlerNames(handlerRoot: string): string[] {
  return fs
    .readdirSync(handlerRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && fs.existsSync(path.join(handlerRoot, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

/**
 * The folder the bundles are made for: dist/assets/ next to the handler sources, where the
 * package build puts them. esbuild writes the source maps' paths relative to the output folder
 * and names the chunks by a hash of their content, maps included, so the bundles are always made
 * for this one folder, whichever folder they are then written to ({@link writeHandlerBundles}):
 * the same bytes in the package and in a synthesis from the sources, on every machine.
 */
export function handlerBundleFolderOf(handlerRoot: string): string {
  return path.join(path.dirname(handlerRoot), 'dist', 'assets');
}

/**
 * esbuild options that make every handler of `names`: `<name>.mjs` (+ .map) and the chunks they
 * share under `chunks/`, with {@link HANDLER_BUNDLING}, kept in memory (`write: false`) for
 * {@link writeHandlerBundles}. The one definition of how the handlers are bundled, for the
 * package build and for a synthesis from the sources alike. Pure.
 */
export function handlerBundleOptions(names: readonly string[], handlerRoot: string): BuildOptions {
  return {
    entryPoints: names.map((name) => ({ in: path.join(handlerRoot, name, 'index.ts'), out: name })),
    outdir: handlerBundleFolderOf(handlerRoot),
    write: false,
    outExtension: { '.js': HANDLER_MODULE_EXTENSION },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: HANDLER_BUNDLING.format,
    splitting: HANDLER_BUNDLING.splitting,
    target: HANDLER_BUNDLING.target,
    minify: HANDLER_BUNDLING.minify,
    sourcemap: HANDLER_BUNDLING.sourceMap,
    sourcesContent: HANDLER_BUNDLING.sourcesContent,
    mainFields: [...HANDLER_BUNDLING.mainFields],
    // Nothing external: the AWS SDK goes into the bundle, so the code runs against the SDK it was tested with.
    external: [],
    absWorkingDir: path.dirname(handlerRoot),
    logLevel: 'warning',
  };
}

/**
 * Writes the files of an esbuild call made with {@link handlerBundleOptions} (or a variant of
 * them) into `destination` (a new or empty folder), at their places relative to the folder they
 * were made for; checks that every handler of `names` got its module.
 */
export function writeHandlerBundles(outputFiles: readonly OutputFile[], names: readonly string[], handlerRoot: string, destination: string, moduleFileOf: (name: string) => string = handlerModuleFile): void {
  const madeFor = handlerBundleFolderOf(handlerRoot);
  for (const output of outputFiles) {
    const relative = path.relative(madeFor, output.path);
    if (relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`esbuild wrote ${output.path}, outside of ${madeFor}.`);
    fs.mkdirSync(path.join(destination, path.dirname(relative)), { recursive: true });
    fs.writeFileSync(path.join(destination, relative), output.contents);
  }
  const missing = names.filter((name) => !fs.existsSync(path.join(destination, moduleFileOf(name))));
  if (missing.length > 0) throw new Error(`esbuild made no bundle for the ${missing.map((name) => `'${name}'`).join(', ')} workflow handler(s) (${handlerRoot}).`);
}

/** One file esbuild read, as last seen. */
interface InputSeen {
  readonly file: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly sha256: string;
}

/** The bundles of the handlers under one source root, and the files they were made from (manifest.json of the cache folder). */
interface BundleSet {
  /** Folder of the esbuild call that made them, relative to the cache folder. */
  readonly folder: string;
  /** The handlers bundled. */
  readonly handlers: readonly string[];
  /** Every file the esbuild call wrote (modules, shared chunks, source maps), relative to the folder. */
  readonly outputs: readonly string[];
  readonly inputs: InputSeen[];
}

/**
 * How far before a build's start a file's modification time still counts as "maybe saved while
 * esbuild read it": the coarsest timestamps a common file system keeps (FAT's 2 s).
 */
const MTIME_GRANULARITY_MS = 2_000;

/**
 * Whether a file esbuild read may have been saved while it ran: modified between the build's
 * start (less the file system's timestamp granularity) and the moment its stat was taken (plus
 * the same). A hash or stat taken after the build may then not describe the bytes the bundle was
 * made from. This compares the host's clock with the file system's: a file server whose clock is
 * more than 2 s off defeats it. A modification time further in the future is no save during the
 * build.
 */
export function mayHaveChangedWhileBundling(mtimeMs: number, buildStartedAtMs: number, statTakenAtMs: number): boolean {
  return mtimeMs >= buildStartedAtMs - MTIME_GRANULARITY_MS && mtimeMs <= statTakenAtMs + MTIME_GRANULARITY_MS;
}

/** Environment variable naming the cache folder (default: llama-finetune-handler-bundles-<uid> in the system's temporary folder). */
export const HANDLER_BUNDLE_CACHE_VARIABLE = 'LLAMA_FINETUNE_HANDLER_BUNDLE_CACHE';

/** Bundle sets of this process, by handler root, with their cache folder and the construct trees (apps) that checked them. */
const bundleSets = new Map<string, { cacheDir: string; set: BundleSet; checkedBy: WeakSet<object>; fresh?: boolean }>();
let builds = 0;

/** How many esbuild calls this process made for handler bundles (for tests and the bench). */
export function handlerBundleBuilds(): number {
  return builds;
}

/**
 * The folder holding every handler's bundle, `<name>.mjs` among them, bundled from
 * `<handlerRoot>/<name>/index.ts` (with every other handler under `handlerRoot`, in one esbuild
 * call). The first request of each construct tree (`treeRoot`, the app) checks that no file the
 * bundles were made from changed since, by this process or an earlier one (a cache folder in the
 * system's temporary folder, keyed by the bundling options, tsconfig.json and the esbuild
 * version), and bundles them again if one did; later requests of the same tree reuse the answer.
 */
export function handlerBundleDirectory(name: string, handlerRoot: string, treeRoot: object): string {
  const entry = path.join(handlerRoot, name, 'index.ts');
  if (!fs.existsSync(entry)) throw new Error(`No bundle for the '${name}' workflow handler: ${entry} does not exist. Check the handler name.`);
  let known = bundleSets.get(handlerRoot);
  if (known?.fresh && known.set.handlers.includes(name)) {
    // Bundled ahead a moment ago (prebundleHandlers): the first tree takes them unchecked. An
    // input saved while that build ran is marked unknown, so the next process bundles again.
    known.fresh = false;
    known.checkedBy.add(treeRoot);
  }
  if (!known || !known.checkedBy.has(treeRoot) || !known.set.handlers.includes(name)) {
    const esbuild = loadEsbuild();
    const check = checkBundles(handlerRoot, esbuild.version, known);
    const set = check.build ? check.build.store(esbuild.buildSync(check.build.options)) : check.set!;
    const checkedBy = known && known.set === set ? known.checkedBy : new WeakSet<object>();
    known = { cacheDir: check.cacheDir, set, checkedBy };
    bundleSets.set(handlerRoot, known);
    known.checkedBy.add(treeRoot);
  }
  return path.join(known.cacheDir, known.set.folder);
}

/**
 * Makes sure the bundles of the handlers under `handlerRoot` are current, bundling them if not
 * with esbuild's asynchronous API. esbuild works in its own process meanwhile, so a caller that
 * loads the library next (bin/synth.ts, before `cdk synth` constructs the app) has the two
 * overlap; the constructs then find the bundles ready.
 */
export async function prebundleHandlers(handlerRoot: string): Promise<void> {
  const esbuild = loadEsbuild();
  const check = checkBundles(handlerRoot, esbuild.version, undefined);
  const set = check.build ? check.build.store(await esbuild.build(check.build.options)) : check.set!;
  bundleSets.set(handlerRoot, { cacheDir: check.cacheDir, set, checkedBy: new WeakSet(), fresh: true });
}

/** What {@link checkBundles} found: the cache folder, and the bundle set if current, else the esbuild call that makes it so. */
interface BundleCheck {
  readonly cacheDir: string;
  readonly set: BundleSet | undefined;
  /** The call bundling the handlers (metafile on), and how to store its result; absent when the bundles are current. */
  readonly build?: { readonly options: BuildOptions; readonly store: (result: BuildResult) => BundleSet };
}

/**
 * Compares the bundles of the handlers under `handlerRoot` with their files: this process's set
 * first (`known`, its stats are the freshest), else the cache folder's manifest. The esbuild call
 * itself is the caller's, synchronous or not.
 */
function checkBundles(handlerRoot: string, esbuildVersion: string, known: { readonly cacheDir: string; readonly set: BundleSet } | undefined): BundleCheck {
  const cacheDir = known?.cacheDir ?? cacheDirectoryOf(handlerRoot, esbuildVersion);
  const set = known?.set ?? readManifest(cacheDir);
  const names = handlerNames(handlerRoot);
  if (set && isCurrent(cacheDir, set, names)) {
    markInUse(path.join(cacheDir, set.folder));
    return { cacheDir, set };
  }
  const options = handlerBundleOptions(names, handlerRoot);
  // The caller starts esbuild right after this returns.
  const buildStartedAtMs = Date.now();
  return { cacheDir, set, build: { options: { ...options, metafile: true }, store: (result) => storeBundles(cacheDir, result, names, handlerRoot, buildStartedAtMs) } };
}

/** Where the bundles of the handlers under `handlerRoot` are cached, for the options, tsconfig.json and esbuild version of this process. */
function cacheDirectoryOf(handlerRoot: string, esbuildVersion: string): string {
  const recipe = handlerBundleOptions([], handlerRoot);
  // esbuild reads tsconfig.json for how to compile TypeScript; it is no metafile input.
  const tsconfig = readOrEmpty(path.join(path.dirname(handlerRoot), 'tsconfig.json'));
  const cacheKey = crypto.createHash('sha256').update(JSON.stringify({ esbuild: esbuildVersion, recipe, tsconfig })).digest('hex').slice(0, 16);
  return path.join(process.env[HANDLER_BUNDLE_CACHE_VARIABLE] || path.join(os.tmpdir(), `llama-finetune-handler-bundles-${os.userInfo().uid}`), cacheKey);
}

/**
 * Whether `set` holds current bundles of exactly the handlers of `names` (none added or
 * removed): every file the build wrote is still there (a cleaner of the temporary folder may
 * have taken a chunk), and no file they were made from changed. Each file is looked at once, a
 * cheap stat first, its content hash only when the stat moved (a touched but unchanged file
 * keeps the bundles; its new stat is noted).
 */
function isCurrent(cacheDir: string, set: BundleSet, names: readonly string[]): boolean {
  if (set.handlers.length !== names.length || names.some((name) => !set.handlers.includes(name))) return false;
  if (set.outputs.some((file) => !fs.existsSync(path.join(cacheDir, set.folder, file)))) return false;
  return set.inputs.every((input, index) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input.file);
    } catch {
      return false; // deleted or moved: whatever imported it changed too
    }
    if (stat.mtimeMs === input.mtimeMs && stat.size === input.size) return true;
    if (sha256Of(input.file) !== input.sha256) return false;
    set.inputs[index] = { ...input, mtimeMs: stat.mtimeMs, size: stat.size };
    return true;
  });
}

/**
 * Writes freshly built bundles of `names` into a new folder of the cache and records them with
 * every file they are (so a missing one is seen) and every file esbuild read, including those
 * that gave the bundles no bytes (e.g. a module of types that another re-exports), so a change
 * that would give bytes is seen; writes the set as the cache's manifest.
 */
function storeBundles(cacheDir: string, result: BuildResult, names: readonly string[], handlerRoot: string, buildStartedAtMs: number): BundleSet {
  builds++;
  fs.mkdirSync(cacheDir, { recursive: true });
  const outdir = fs.mkdtempSync(path.join(cacheDir, 'bundles-'));
  writeHandlerBundles(result.outputFiles!, names, handlerRoot, outdir);
  const madeFor = handlerBundleFolderOf(handlerRoot);
  const set: BundleSet = {
    folder: path.basename(outdir),
    handlers: [...names],
    outputs: result.outputFiles!.map((output) => path.relative(madeFor, output.path)),
    inputs: Object.keys(result.metafile!.inputs).map((relative) => inputSeen(path.resolve(path.dirname(handlerRoot), relative), buildStartedAtMs)),
  };
  // Written aside and renamed, so a process reading the manifest never sees half of it.
  fs.writeFileSync(`${outdir}.manifest.json`, JSON.stringify(set));
  fs.renameSync(`${outdir}.manifest.json`, path.join(cacheDir, 'manifest.json'));
  removeSupersededBundles(cacheDir, set.folder);
  return set;
}

function loadEsbuild(): typeof import('esbuild') {
  // Loaded here only: a development dependency, absent where the package is installed.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('esbuild') as typeof import('esbuild');
}

function readManifest(cacheDir: string): BundleSet | undefined {
  try {
    const set = JSON.parse(fs.readFileSync(path.join(cacheDir, 'manifest.json'), 'utf8')) as BundleSet;
    // A manifest of an older layout (without outputs) is no manifest: bundle afresh.
    return typeof set.folder === 'string' && Array.isArray(set.handlers) && Array.isArray(set.outputs) && Array.isArray(set.inputs) ? set : undefined;
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

/** How long a cached bundle no process has taken stays: another process may still be copying or loading one it found. */
const UNUSED_BUNDLE_LIFETIME_MS = 10 * 60_000;

/**
 * Notes that a process is about to copy or load a cached bundle (a folder or a file): its
 * modification time becomes now, so no other process removes it as unused for the next ten
 * minutes ({@link removeIfUnused}).
 */
export function markInUse(bundle: string): void {
  const now = new Date();
  try {
    fs.utimesSync(bundle, now, now);
  } catch {
    // a read-only cache folder: the bundle is still there to use
  }
}

/** Removes a cached bundle (a folder or a file) that no process has taken for ten minutes ({@link markInUse}). */
export function removeIfUnused(bundle: string): void {
  try {
    if (Date.now() - fs.statSync(bundle).mtimeMs > UNUSED_BUNDLE_LIFETIME_MS) fs.rmSync(bundle, { recursive: true, force: true });
  } catch {
    // removed by another process meanwhile
  }
}

/** Removes the bundle folders the manifest no longer names that no process has used for ten minutes. */
function removeSupersededBundles(cacheDir: string, current: string): void {
  for (const entry of fs.readdirSync(cacheDir)) {
    if (!entry.startsWith('bundles-') || entry === current || entry.endsWith('.manifest.json')) continue;
    removeIfUnused(path.join(cacheDir, entry));
  }
}

/**
 * A file esbuild read, as seen now: hashed first, then its stat, so a save between the two shows
 * as a new modification time. One that may have been saved while esbuild ran is recorded as
 * unknown, which the next check takes for a change (one more build, never a stale bundle).
 */
function inputSeen(file: string, buildStartedAtMs: number): InputSeen {
  const sha256 = sha256Of(file);
  const stat = fs.statSync(file);
  if (mayHaveChangedWhileBundling(stat.mtimeMs, buildStartedAtMs, Date.now())) return { file, mtimeMs: -1, size: -1, sha256: '' };
  return { file, mtimeMs: stat.mtimeMs, size: stat.size, sha256 };
}

function sha256Of(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
