/**
 * A synthesis from the repository's sources bundles every handler with ONE esbuild call, with
 * the options the package build uses (so the functions carry the bundles the package ships, one
 * folder they all share), reuses the bundles in the process, rebundles when any input changed,
 * and says nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import * as esbuild from 'esbuild';
import { LlamaFinetuning } from '../../lib';
import * as handlerBundles from '../../lib/workflow/handler-bundles';
import {
  HANDLER_BUNDLE_CACHE_VARIABLE,
  handlerBundleBuilds,
  handlerBundleDirectory,
  handlerBundleOptions,
  handlerNames,
  mayHaveChangedWhileBundling,
  prebundleHandlers,
  writeHandlerBundles,
} from '../../lib/workflow/handler-bundles';
import { handlerModuleFile, lambdaHandlerOf } from '../../lib/workflow/handler-code';
import { HANDLER_METADATA_KEY } from '../../lib/workflow/workflow-function';
import { testStack } from '../support/cdk';
import { saveSource } from '../support/source-files';

const LAMBDA_ROOT = path.resolve(__dirname, '..', '..', 'lambda');

/**
 * The code handler `name` loads from a bundle folder: its module and every chunk it imports,
 * directly or through another chunk (what a shared source gives lands in a chunk).
 */
function loadedCodeOf(folder: string, name: string): string {
  const seen = new Set<string>();
  const pending = [path.join(folder, handlerModuleFile(name))];
  let code = '';
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    code += text;
    for (const match of text.matchAll(/["'](\.\.?\/[^"']+\.mjs)["']/g)) pending.push(path.resolve(path.dirname(file), match[1]));
  }
  return code;
}

interface SynthesizedFunctions {
  /** handler name -> the asset folder of its function in the cloud assembly */
  readonly assets: Map<string, string>;
  /** handler name -> its function's Handler property */
  readonly handlers: Map<string, string>;
  /** what the synthesis wrote to stderr */
  readonly stderr: string;
}

/** Synthesizes one LlamaFinetuning stack with bundling on (CDK's default), capturing stderr. */
function synthesizeWithBundling(outdir: string): SynthesizedFunctions {
  let stderr = '';
  const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  try {
    const app = new App({ outdir });
    new LlamaFinetuning(testStack(app, 'Bundled'), 'Finetuning');
    const stack = app.synth().getStackByName('Bundled');
    const assets = new Map<string, string>();
    const handlers = new Map<string, string>();
    type FunctionResource = { Type: string; Metadata: Record<string, string>; Properties: { Code: { S3Key: string }; Handler: string } };
    for (const resource of Object.values(stack.template.Resources as Record<string, FunctionResource>)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      // The code's S3 key is <asset hash>.zip; the cloud assembly holds the folder as asset.<asset hash>.
      assets.set(resource.Metadata[HANDLER_METADATA_KEY], path.join(outdir, `asset.${path.basename(resource.Properties.Code.S3Key, '.zip')}`));
      handlers.set(resource.Metadata[HANDLER_METADATA_KEY], resource.Properties.Handler);
    }
    return { assets, handlers, stderr };
  } finally {
    write.mockRestore();
  }
}

/** A handler's code as a fresh copy of the module (a new process) sees it, and how many esbuild calls that took. */
function inNewProcessOf(root: string, name: string): { code: string; builds: number } {
  let seen: { code: string; builds: number } | undefined;
  jest.isolateModules(() => {
    const fresh = require('../../lib/workflow/handler-bundles') as typeof handlerBundles;
    const code = loadedCodeOf(fresh.handlerBundleDirectory(name, root, {}), name);
    seen = { code, builds: fresh.handlerBundleBuilds() };
  });
  return seen!;
}

describe('mayHaveChangedWhileBundling', () => {
  const start = 1_000_000;
  const seen = start + 500;
  it('counts a modification from 2 s before the build began until 2 s after the stat, and nothing outside', () => {
    expect(mayHaveChangedWhileBundling(start + 100, start, seen)).toBe(true);
    expect(mayHaveChangedWhileBundling(start - 2_000, start, seen)).toBe(true);
    expect(mayHaveChangedWhileBundling(seen + 2_000, start, seen)).toBe(true);
    expect(mayHaveChangedWhileBundling(start - 2_001, start, seen)).toBe(false);
    // Far in the future: a skewed checkout, not a save during the build (no rebuild on every check).
    expect(mayHaveChangedWhileBundling(seen + 60_000, start, seen)).toBe(false);
  });
});

describe('handler bundles of a synthesis from the sources', () => {
  let workDir: string;
  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-bundles-test-'));
    // A cache of this test's own, so bundles of earlier runs do not count.
    process.env[HANDLER_BUNDLE_CACHE_VARIABLE] = path.join(workDir, 'cache');
  });
  afterAll(() => {
    delete process.env[HANDLER_BUNDLE_CACHE_VARIABLE];
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('bundles every handler in one esbuild call into one asset, the very folder the package build writes, quietly, and reuses it for the next app', () => {
    const buildsBefore = handlerBundleBuilds();
    const first = synthesizeWithBundling(path.join(workDir, 'first'));
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
    expect(first.assets.size).toBeGreaterThan(5);
    expect(first.stderr).toBe('');

    // Every function has the one asset as its code, and its own module as its Handler.
    expect(new Set(first.assets.values()).size).toBe(1);
    const [asset] = new Set(first.assets.values());
    for (const [name, handler] of first.handlers) {
      expect({ name, handler }).toEqual({ name, handler: lambdaHandlerOf(name) });
      expect(fs.existsSync(path.join(asset, handlerModuleFile(name)))).toBe(true);
      expect(fs.existsSync(path.join(asset, `${handlerModuleFile(name)}.map`))).toBe(true);
    }

    // What `npm run bundle` ships for the same sources: the same files, byte for byte.
    const packaged = path.join(workDir, 'packaged');
    writeHandlerBundles(esbuild.buildSync(handlerBundleOptions(handlerNames(LAMBDA_ROOT), LAMBDA_ROOT)).outputFiles!, handlerNames(LAMBDA_ROOT), LAMBDA_ROOT, packaged);
    const filesOf = (folder: string) => Object.fromEntries((fs.readdirSync(folder, { recursive: true }) as string[]).sort().filter((file) => fs.statSync(path.join(folder, file)).isFile()).map((file) => [file, fs.readFileSync(path.join(folder, file), 'utf8')]));
    const shipped = filesOf(packaged);
    expect(Object.keys(shipped).some((file) => file.startsWith(`chunks${path.sep}`))).toBe(true);
    expect(filesOf(asset)).toEqual(shipped);
    // ES module output has no `require`: a CommonJS dependency requiring anything would get
    // esbuild's stand-in, which throws "Dynamic require of ... is not supported" when reached on
    // Lambda (and only then, e.g. in a credential provider the tests never take).
    expect(Object.keys(shipped).filter((file) => shipped[file].includes('Dynamic require of'))).toEqual([]);

    const second = synthesizeWithBundling(path.join(workDir, 'second'));
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
    expect([...second.assets.keys()]).toEqual([...first.assets.keys()]);
    expect(second.stderr).toBe('');
  });

  it('rebundles when a file a handler imports changed, and only then', () => {
    const root = path.join(workDir, 'repo', 'lambda');
    fs.mkdirSync(path.join(root, 'shared'), { recursive: true });
    fs.mkdirSync(path.join(root, 'greet'));
    saveSource(path.join(root, 'shared', 'greeting.ts'), "export const GREETING = 'first-version';\n");
    saveSource(path.join(root, 'greet', 'index.ts'), "import { GREETING } from '../shared/greeting';\nexport const handler = async () => GREETING;\n");
    const codeOf = (app: object) => loadedCodeOf(handlerBundleDirectory('greet', root, app), 'greet');
    const buildsBefore = handlerBundleBuilds();

    expect(codeOf({})).toContain('first-version');
    expect(codeOf({})).toContain('first-version');
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);

    saveSource(path.join(root, 'shared', 'greeting.ts'), "export const GREETING = 'second-version, longer';\n");
    expect(codeOf({})).toContain('second-version, longer');
    expect(handlerBundleBuilds() - buildsBefore).toBe(2);

    // Touched but unchanged: the content hash keeps the bundle.
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(root, 'shared', 'greeting.ts'), later, later);
    expect(codeOf({})).toContain('second-version, longer');
    expect(handlerBundleBuilds() - buildsBefore).toBe(2);
  });

  it('lets the next process reuse the bundles of an earlier one, unless an input changed meanwhile', () => {
    const root = path.join(workDir, 'repo-across-processes', 'lambda');
    fs.mkdirSync(path.join(root, 'greet'), { recursive: true });
    saveSource(path.join(root, 'greet', 'index.ts'), "export const handler = async () => 'first-version';\n");
    const inNewProcess = () => inNewProcessOf(root, 'greet');

    expect(inNewProcess()).toEqual({ code: expect.stringContaining('first-version'), builds: 1 });
    expect(inNewProcess()).toEqual({ code: expect.stringContaining('first-version'), builds: 0 });
    saveSource(path.join(root, 'greet', 'index.ts'), "export const handler = async () => 'second-version';\n");
    expect(inNewProcess()).toEqual({ code: expect.stringContaining('second-version'), builds: 1 });
    expect(inNewProcess()).toEqual({ code: expect.stringContaining('second-version'), builds: 0 });
  });

  it('bundles ahead with esbuild\'s asynchronous API (as bin/synth.ts does), so the constructs find the bundles ready', async () => {
    const root = path.join(workDir, 'repo-ahead', 'lambda');
    fs.mkdirSync(path.join(root, 'greet'), { recursive: true });
    saveSource(path.join(root, 'greet', 'index.ts'), "export const handler = async () => 'bundled-ahead';\n");
    const buildsBefore = handlerBundleBuilds();
    await prebundleHandlers(root);
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
    expect(loadedCodeOf(handlerBundleDirectory('greet', root, {}), 'greet')).toContain('bundled-ahead');
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
  });

  it('after an edit, bundles every handler again in one call (also after an edit of a file that gave no bytes), the same bytes as a fresh build', () => {
    const root = path.join(workDir, 'repo-incremental', 'lambda');
    for (const folder of ['shared', 'greet', 'count', 'typed']) fs.mkdirSync(path.join(root, folder), { recursive: true });
    saveSource(path.join(root, 'shared', 'greeting.ts'), "export const GREETING = 'hello';\n");
    saveSource(path.join(root, 'shared', 'counting.ts'), "export const START = 'count-from-1';\n");
    saveSource(path.join(root, 'shared', 'shapes.ts'), 'export interface Shape { readonly sides: number }\n');
    saveSource(path.join(root, 'greet', 'index.ts'), "import { GREETING } from '../shared/greeting';\nexport const handler = async () => GREETING;\n");
    saveSource(path.join(root, 'count', 'index.ts'), "import { START } from '../shared/counting';\nexport const handler = async () => START;\n");
    saveSource(path.join(root, 'shared', 'barrel.ts'), "export * from './shapes';\nexport const TYPED = 'typed';\n");
    saveSource(path.join(root, 'typed', 'index.ts'), "import { TYPED } from '../shared/barrel';\nexport const handler = async () => TYPED;\n");
    const codeOf = (name: string) => loadedCodeOf(handlerBundleDirectory(name, root, {}), name);
    const buildsBefore = handlerBundleBuilds();
    const firstFolder = handlerBundleDirectory('greet', root, {});
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
    expect(handlerBundleDirectory('count', root, {})).toBe(firstFolder);

    saveSource(path.join(root, 'shared', 'counting.ts'), "export const START = 'count-from-41';\n");
    expect(codeOf('count')).toContain('count-from-41');
    expect(handlerBundleBuilds() - buildsBefore).toBe(2);
    expect(handlerBundleDirectory('greet', root, {})).not.toBe(firstFolder);

    // A module that gave the bundle no bytes (types only, re-exported) still counts: the edit below gives it some.
    saveSource(path.join(root, 'shared', 'shapes.ts'), "export interface Shape { readonly sides: number }\nconsole.log('shapes loaded');\n");
    expect(codeOf('typed')).toContain('shapes loaded');
    expect(handlerBundleBuilds() - buildsBefore).toBe(3);

    // A handler added is bundled with the others.
    fs.mkdirSync(path.join(root, 'added'));
    saveSource(path.join(root, 'added', 'index.ts'), "export const handler = async () => 'added-later';\n");
    expect(codeOf('added')).toContain('added-later');
    expect(handlerBundleBuilds() - buildsBefore).toBe(4);

    // A handler removed leaves the folder too.
    fs.rmSync(path.join(root, 'added'), { recursive: true });
    const withoutAdded = handlerBundleDirectory('greet', root, {});
    expect(handlerBundleBuilds() - buildsBefore).toBe(5);
    expect(fs.existsSync(path.join(withoutAdded, handlerModuleFile('added')))).toBe(false);

    // The cached folder holds exactly what a fresh build writes.
    const full = path.join(workDir, 'incremental-full');
    writeHandlerBundles(esbuild.buildSync(handlerBundleOptions(handlerNames(root), root)).outputFiles!, handlerNames(root), root, full);
    for (const name of handlerNames(root)) {
      expect({ name, code: codeOf(name) }).toEqual({ name, code: loadedCodeOf(full, name) });
    }
  });

  it('never serves a bundle made before a shared file changed while its handler was away', () => {
    const root = path.join(workDir, 'repo-away', 'lambda');
    for (const folder of ['shared', 'first', 'second']) fs.mkdirSync(path.join(root, folder), { recursive: true });
    saveSource(path.join(root, 'shared', 'word.ts'), "export const WORD = 'old-word';\n");
    for (const name of ['first', 'second']) saveSource(path.join(root, name, 'index.ts'), "import { WORD } from '../shared/word';\nexport const handler = async () => WORD;\n");
    const codeOf = (name: string) => loadedCodeOf(handlerBundleDirectory(name, root, {}), name);
    expect(codeOf('second')).toContain('old-word');

    fs.renameSync(path.join(root, 'second'), path.join(workDir, 'second-away'));
    saveSource(path.join(root, 'shared', 'word.ts'), "export const WORD = 'new-word';\n");
    expect(codeOf('first')).toContain('new-word');
    fs.renameSync(path.join(workDir, 'second-away'), path.join(root, 'second'));
    expect(codeOf('second')).toContain('new-word');
  });

  it('bundles again when a file the bundles are made of is gone from the cache (a chunk a temp-folder cleaner took)', () => {
    const root = path.join(workDir, 'repo-cleaned', 'lambda');
    for (const folder of ['shared', 'first', 'second']) fs.mkdirSync(path.join(root, folder), { recursive: true });
    saveSource(path.join(root, 'shared', 'word.ts'), "export const WORD = 'shared-word';\n");
    for (const name of ['first', 'second']) saveSource(path.join(root, name, 'index.ts'), "import { WORD } from '../shared/word';\nexport const handler = async () => WORD;\n");
    const buildsBefore = handlerBundleBuilds();
    const folder = handlerBundleDirectory('first', root, {});
    const chunks = fs.readdirSync(path.join(folder, 'chunks'));
    expect(chunks.length).toBeGreaterThan(0);
    fs.rmSync(path.join(folder, 'chunks', chunks[0]));

    const again = handlerBundleDirectory('first', root, {});
    expect(handlerBundleBuilds() - buildsBefore).toBe(2);
    expect(fs.readdirSync(path.join(again, 'chunks'))).toEqual(chunks);
    expect(loadedCodeOf(again, 'first')).toContain('shared-word');
  });

  it('bundles again after a build during which an input may have been saved (modified since the build began, within the timestamp granularity)', () => {
    const root = path.join(workDir, 'repo-racy', 'lambda');
    fs.mkdirSync(path.join(root, 'greet'), { recursive: true });
    const source = path.join(root, 'greet', 'index.ts');
    // Saved just now: its hash, taken after esbuild returned, need not be what esbuild read.
    fs.writeFileSync(source, "export const handler = async () => 'racy';\n");
    const buildsBefore = handlerBundleBuilds();
    expect(loadedCodeOf(handlerBundleDirectory('greet', root, {}), 'greet')).toContain('racy');
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
    handlerBundleDirectory('greet', root, {});
    expect(handlerBundleBuilds() - buildsBefore).toBe(2);

    // Once its modification time is clearly before a build's start, its hash is trusted again:
    // at most one more build (none if the second build already began 2 s after the save).
    const before = new Date(Date.now() - 10_000);
    fs.utimesSync(source, before, before);
    handlerBundleDirectory('greet', root, {});
    const settled = handlerBundleBuilds();
    expect(settled - buildsBefore).toBeLessThanOrEqual(3);
    handlerBundleDirectory('greet', root, {});
    expect(handlerBundleBuilds()).toBe(settled);
  });

  it('after bundling ahead, the first app takes those bundles without a second build, even with an input saved just before', async () => {
    const root = path.join(workDir, 'repo-ahead-racy', 'lambda');
    fs.mkdirSync(path.join(root, 'greet'), { recursive: true });
    // Saved just now, as under `cdk watch`: the build marks it unknown for the next process.
    fs.writeFileSync(path.join(root, 'greet', 'index.ts'), "export const handler = async () => 'ahead-racy';\n");
    const buildsBefore = handlerBundleBuilds();
    await prebundleHandlers(root);
    expect(loadedCodeOf(handlerBundleDirectory('greet', root, {}), 'greet')).toContain('ahead-racy');
    expect(handlerBundleBuilds() - buildsBefore).toBe(1);
    // The cache on disk keeps the mark: the next process bundles again.
    expect(inNewProcessOf(root, 'greet')).toEqual({ code: expect.stringContaining('ahead-racy'), builds: 1 });
  });

  it('removes a superseded bundle folder once no process has used it for ten minutes, and not before', () => {
    const root = path.join(workDir, 'repo-superseded', 'lambda');
    const source = path.join(root, 'greet', 'index.ts');
    fs.mkdirSync(path.dirname(source), { recursive: true });
    saveSource(source, "export const handler = async () => 'first-version';\n");
    const first = handlerBundleDirectory('greet', root, {});
    const unusedFor = (folder: string, minutes: number) => {
      const then = new Date(Date.now() - minutes * 60_000);
      fs.utimesSync(folder, then, then);
    };

    // Made 20 minutes ago, but a process took its bundles just now (it may be copying them).
    unusedFor(first, 20);
    expect(inNewProcessOf(root, 'greet')).toEqual({ code: expect.stringContaining('first-version'), builds: 0 });
    saveSource(source, "export const handler = async () => 'second-version';\n");
    expect(inNewProcessOf(root, 'greet')).toEqual({ code: expect.stringContaining('second-version'), builds: 1 });
    expect(fs.existsSync(path.join(first, handlerModuleFile('greet')))).toBe(true);

    // Unused for 20 minutes: the next build removes it.
    unusedFor(first, 20);
    saveSource(source, "export const handler = async () => 'third-version';\n");
    expect(inNewProcessOf(root, 'greet')).toEqual({ code: expect.stringContaining('third-version'), builds: 1 });
    expect(fs.existsSync(first)).toBe(false);
  });

  it('names the handler and the file it looked for when a handler has no sources', () => {
    expect(() => handlerBundleDirectory('no-such-handler', LAMBDA_ROOT, {})).toThrow(`No bundle for the 'no-such-handler' workflow handler: ${path.join(LAMBDA_ROOT, 'no-such-handler', 'index.ts')} does not exist`);
  });
});
