/**
 * The code a function's worker thread loads. A workflow handler (`lambda/<name>/index.ts`) runs
 * from the very modules a synthesis stages and the package ships: the ES modules that
 * lib/workflow/handler-bundles.ts makes for every handler under the root in one esbuild call
 * (sharing chunks, AWS SDK inside), with its cache. Any other entry (a test's own handler
 * file) is bundled on its own, as CommonJS with the same minify and source-map settings.
 *
 * The CommonJS bundles are cached in memory for the test process and on disk in the temp
 * directory, keyed by entry and options; a disk entry is reused only while every input file
 * esbuild read (sources and node_modules alike) still has the size and modification time it
 * had, so an edited handler is always rebuilt (one saved while esbuild ran, too: its time is
 * recorded as unknown). Each entry's manifest names its current bundle; bundles no process took
 * for ten minutes are removed.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { handlerBundleDirectory, handlerNames, markInUse, mayHaveChangedWhileBundling, prebundleHandlers, removeIfUnused } from '../../../lib/workflow/handler-bundles';
import { HANDLER_SOURCE_ROOTS, handlerModuleFile } from '../../../lib/workflow/handler-code';

/** Node.js version the bundle targets: the one the tests run on (deployment targets the Lambda runtime's). */
export const LOCAL_BUNDLE_TARGET = 'node20';

const CACHE_DIR = path.join(os.tmpdir(), 'llama-finetune-local-workflow-bundles');
const inMemory = new Map<string, Promise<string>>();

let buildsHere = 0;

interface CacheManifest {
  /** The bundle's file name in the cache folder. */
  readonly bundle: string;
  readonly inputs: Array<{ readonly file: string; readonly size: number; readonly mtimeMs: number }>;
}

/** The file a worker loads for `entry` (absolute path of a .ts or .js handler): the shipped module of a workflow handler, else a CommonJS bundle. */
export function bundleHandler(entry: string): Promise<string> {
  const absolute = path.resolve(entry);
  let pending = inMemory.get(absolute);
  if (!pending) {
    pending = isWorkflowHandlerEntry(absolute) ? shippedModuleOf(absolute) : buildOrReuse(absolute);
    // A failed build is not cached, so fixing the handler and re-running works.
    pending.catch(() => inMemory.delete(absolute));
    inMemory.set(absolute, pending);
  }
  return pending;
}

/**
 * Whether `entry` is `<root>/<name>/index.ts` under a root the library takes workflow handlers
 * from (the repository's lambda/). Any other index.ts, a test's own handler in a folder of its
 * own, is bundled on its own like every other test handler file.
 */
export function isWorkflowHandlerEntry(entry: string): boolean {
  if (path.basename(entry) !== 'index.ts' || !fs.existsSync(entry)) return false;
  const root = path.dirname(path.dirname(entry));
  return HANDLER_SOURCE_ROOTS.some((handlerRoot) => path.resolve(handlerRoot) === root);
}

/** The folder of every handler's bundle, by handler root: checked (and bundled if not current) once per test process. */
const bundleFolders = new Map<string, Promise<string>>();
/** Stands for the construct tree in handlerBundleDirectory's once-per-tree check. */
const RUNNER_TREE = {};

/** The module of the handler at `<root>/<name>/index.ts` in the folder of every handler's bundle. */
async function shippedModuleOf(entry: string): Promise<string> {
  const root = path.dirname(path.dirname(entry));
  const name = path.basename(path.dirname(entry));
  if (!handlerNames(root).includes(name)) throw new Error(`Handler entry ${entry} is not a handler folder under ${root}.`);
  let folder = bundleFolders.get(root);
  if (!folder) {
    // esbuild's asynchronous API keeps the test process responsive while it bundles.
    folder = prebundleHandlers(root).then(() => handlerBundleDirectory(name, root, RUNNER_TREE));
    folder.catch(() => bundleFolders.delete(root));
    bundleFolders.set(root, folder);
  }
  return path.join(await folder, handlerModuleFile(name));
}

function buildOptions(entry: string, outfile: string): esbuild.BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LOCAL_BUNDLE_TARGET,
    minify: true,
    // Inline maps let `--enable-source-maps` (the functions' NODE_OPTIONS) show source lines in traces.
    sourcemap: 'inline',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
  };
}

async function buildOrReuse(entry: string): Promise<string> {
  if (!fs.existsSync(entry)) throw new Error(`Handler entry ${entry} does not exist; check the function's 'llama-finetune:handler' metadata or the runner's handlerEntries option.`);
  const cacheName = cacheNameOf(entry);
  const manifestFile = path.join(CACHE_DIR, `${cacheName}.json`);
  const cached = freshBundleOf(manifestFile);
  if (cached) return cached;

  fs.mkdirSync(CACHE_DIR, { recursive: true });
  // Every build writes a bundle of its own; the manifest, written aside and renamed, names the
  // bundle with the inputs it was made from, so parallel Jest workers never pair one build's
  // bundle with another's inputs, nor read a half-written file.
  const bundleFile = path.join(CACHE_DIR, `${cacheName}.${process.pid}-${++buildsHere}-${Date.now()}.js`);
  let result: esbuild.BuildResult;
  const startedAtMs = Date.now();
  try {
    result = await esbuild.build({ ...buildOptions(entry, bundleFile), absWorkingDir: process.cwd() });
  } catch (err) {
    const messages = ((err as { errors?: esbuild.Message[] }).errors ?? []).map((m) => `${m.location?.file ?? entry}:${m.location?.line ?? '?'}: ${m.text}`);
    throw new Error(`Bundling ${entry} with esbuild failed:\n${messages.join('\n') || (err as Error).message}`);
  }
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((file) => {
    const absolute = path.resolve(process.cwd(), file);
    const stat = fs.statSync(absolute);
    // Maybe saved while esbuild read it: unknown, so the next run bundles again.
    return { file: absolute, size: stat.size, mtimeMs: mayHaveChangedWhileBundling(stat.mtimeMs, startedAtMs, Date.now()) ? -1 : stat.mtimeMs };
  });
  const aside = `${bundleFile}.manifest.tmp`;
  fs.writeFileSync(aside, JSON.stringify({ bundle: path.basename(bundleFile), inputs } satisfies CacheManifest));
  fs.renameSync(aside, manifestFile);
  removeUnusedBundles(cacheName, bundleFile);
  return bundleFile;
}

/** Removes the cached bundle of `entry` (a test's own handler whose sources the test deletes). */
export function removeCachedBundle(entry: string): void {
  const cacheName = cacheNameOf(path.resolve(entry));
  inMemory.delete(path.resolve(entry));
  if (!fs.existsSync(CACHE_DIR)) return; // nothing was ever bundled
  for (const file of fs.readdirSync(CACHE_DIR)) {
    if (file.startsWith(`${cacheName}.`)) fs.rmSync(path.join(CACHE_DIR, file), { force: true });
  }
}

/** `<handler folder>-<hash of entry, esbuild version and options>`: the prefix of every cache file of `entry`. */
function cacheNameOf(entry: string): string {
  const key = createHash('sha256').update(JSON.stringify({ entry, esbuild: esbuild.version, options: buildOptions(entry, '') })).digest('hex').slice(0, 20);
  return `${path.basename(path.dirname(entry))}-${key}`;
}

/** Removes the other bundles of the same entry that no process has taken for ten minutes (a reuse marks the bundle). */
function removeUnusedBundles(cacheName: string, current: string): void {
  for (const file of fs.readdirSync(CACHE_DIR)) {
    const full = path.join(CACHE_DIR, file);
    if (file.startsWith(`${cacheName}.`) && file.endsWith('.js') && full !== current) removeIfUnused(full);
  }
}

/** The bundle the manifest names, if it was built from exactly the files that exist now (then marked in use); else undefined. */
function freshBundleOf(manifestFile: string): string | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf-8')) as CacheManifest;
    const bundleFile = path.join(path.dirname(manifestFile), manifest.bundle);
    if (!fs.existsSync(bundleFile) || manifest.inputs.length === 0) return undefined;
    const current = manifest.inputs.every((input) => {
      const stat = fs.statSync(input.file, { throwIfNoEntry: false });
      return stat !== undefined && stat.size === input.size && stat.mtimeMs === input.mtimeMs;
    });
    if (!current) return undefined;
    markInUse(bundleFile);
    return bundleFile;
  } catch {
    return undefined; // none yet, unreadable, or removed meanwhile: bundle afresh
  }
}
