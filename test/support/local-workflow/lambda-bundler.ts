/**
 * Bundles a handler the way deployment does (esbuild: bundle, platform node, CommonJS,
 * minified, every dependency included) into a file a worker thread can `require`.
 *
 * Bundles are cached in memory for the test process and on disk in the temp directory,
 * keyed by entry and options; a disk entry is reused only while every input file esbuild
 * read (sources and node_modules alike) still has the size and modification time it had,
 * so an edited handler is always rebuilt.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';

/** Node.js version the bundle targets: the one the tests run on (deployment targets the Lambda runtime's). */
export const LOCAL_BUNDLE_TARGET = 'node20';

const CACHE_DIR = path.join(os.tmpdir(), 'llama-finetune-local-workflow-bundles');
const inMemory = new Map<string, Promise<string>>();

interface CacheManifest {
  readonly inputs: Array<{ readonly file: string; readonly size: number; readonly mtimeMs: number }>;
}

/** The path of a CommonJS bundle of `entry` (absolute path of a .ts or .js handler). */
export function bundleHandler(entry: string): Promise<string> {
  const absolute = path.resolve(entry);
  let pending = inMemory.get(absolute);
  if (!pending) {
    pending = buildOrReuse(absolute);
    // A failed build is not cached, so fixing the handler and re-running works.
    pending.catch(() => inMemory.delete(absolute));
    inMemory.set(absolute, pending);
  }
  return pending;
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
  const key = createHash('sha256').update(JSON.stringify({ entry, esbuild: esbuild.version, options: buildOptions(entry, '') })).digest('hex').slice(0, 20);
  const bundleFile = path.join(CACHE_DIR, `${path.basename(path.dirname(entry))}-${key}.js`);
  const manifestFile = `${bundleFile}.inputs.json`;
  if (isFresh(bundleFile, manifestFile)) return bundleFile;

  fs.mkdirSync(CACHE_DIR, { recursive: true });
  // Build to a private name and rename, so parallel Jest workers never read a half-written bundle.
  const temporary = `${bundleFile}.${process.pid}.${Date.now()}.tmp`;
  let result: esbuild.BuildResult;
  try {
    result = await esbuild.build({ ...buildOptions(entry, temporary), absWorkingDir: process.cwd() });
  } catch (err) {
    const messages = ((err as { errors?: esbuild.Message[] }).errors ?? []).map((m) => `${m.location?.file ?? entry}:${m.location?.line ?? '?'}: ${m.text}`);
    throw new Error(`Bundling ${entry} with esbuild failed:\n${messages.join('\n') || (err as Error).message}`);
  }
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((file) => {
    const absolute = path.resolve(process.cwd(), file);
    const stat = fs.statSync(absolute);
    return { file: absolute, size: stat.size, mtimeMs: stat.mtimeMs };
  });
  fs.renameSync(temporary, bundleFile);
  fs.writeFileSync(manifestFile, JSON.stringify({ inputs } satisfies CacheManifest));
  return bundleFile;
}

/** Whether a cached bundle was built from exactly the files that exist now. */
function isFresh(bundleFile: string, manifestFile: string): boolean {
  try {
    if (!fs.existsSync(bundleFile)) return false;
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf-8')) as CacheManifest;
    return manifest.inputs.length > 0 && manifest.inputs.every((input) => {
      const stat = fs.statSync(input.file, { throwIfNoEntry: false });
      return stat !== undefined && stat.size === input.size && stat.mtimeMs === input.mtimeMs;
    });
  } catch {
    return false;
  }
}
