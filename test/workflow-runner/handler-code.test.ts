/**
 * What the runner's worker threads load: a workflow handler runs from the modules a synthesis
 * stages (the package's layout: ES modules sharing chunks), a test's own handler file from a
 * CommonJS bundle of its own.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { handlerBundleDirectory } from '../../lib/workflow/handler-bundles';
import { handlerModuleFile } from '../../lib/workflow/handler-code';
import { bundleHandler, isWorkflowHandlerEntry, removeCachedBundle } from '../support/local-workflow/lambda-bundler';
import { saveSource } from '../support/source-files';

const LAMBDA_ROOT = path.resolve(__dirname, '..', '..', 'lambda');
const RECORDER_ENTRY = path.join(__dirname, '..', 'support', 'local-workflow', 'test-handlers', 'event-recorder.ts');

describe('the code the local runner loads', () => {
  it('runs a workflow handler from the folder a synthesis stages as every function\'s code', async () => {
    const loaded = await bundleHandler(path.join(LAMBDA_ROOT, 'check-job', 'index.ts'));
    expect(loaded).toBe(path.join(handlerBundleDirectory('check-job', LAMBDA_ROOT, {}), handlerModuleFile('check-job')));
    // An ES module that imports the chunks it shares with the other handlers.
    expect(fs.readFileSync(loaded, 'utf8')).toMatch(/^import\b.*from"\.\/chunks\/chunk-[A-Z0-9]+\.mjs"/);
    // The others come from the same folder.
    expect(path.dirname(await bundleHandler(path.join(LAMBDA_ROOT, 'begin-run', 'index.ts')))).toBe(path.dirname(loaded));
  });

  it("bundles a test's own handler file on its own, as CommonJS", async () => {
    const loaded = await bundleHandler(RECORDER_ENTRY);
    expect(path.extname(loaded)).toBe('.js');
    expect(fs.readFileSync(loaded, 'utf8')).not.toMatch(/^import\b/m);
  });

  it("bundles a test's own index.ts in a folder of its own as CommonJS too: only lambda/<name>/index.ts is a workflow handler", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'own-handler-root-'));
    try {
      const entry = path.join(root, 'greeter', 'index.ts');
      fs.mkdirSync(path.dirname(entry));
      fs.writeFileSync(entry, 'export const handler = async () => "hello";\n');
      expect(isWorkflowHandlerEntry(entry)).toBe(false);
      expect(isWorkflowHandlerEntry(path.join(LAMBDA_ROOT, 'check-job', 'index.ts'))).toBe(true);
      const loaded = await bundleHandler(entry);
      expect(path.extname(loaded)).toBe('.js');
      expect(fs.readFileSync(loaded, 'utf8')).toContain('hello');
    } finally {
      // Its cached bundle would outlive the folder it was made from.
      removeCachedBundle(path.join(root, 'greeter', 'index.ts'));
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it("reuses a test handler's bundle from an earlier process until a file it was made from changes", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'own-handler-reuse-'));
    const entry = path.join(root, 'reused', 'handler.ts');
    /** The bundle a fresh copy of the bundler (a new process: nothing in memory) gives. */
    const inNewProcess = async () => {
      let fresh: typeof import('../support/local-workflow/lambda-bundler') | undefined;
      jest.isolateModules(() => (fresh = require('../support/local-workflow/lambda-bundler')));
      const file = await fresh!.bundleHandler(entry);
      return { file, code: fs.readFileSync(file, 'utf8') };
    };
    try {
      fs.mkdirSync(path.dirname(entry));
      saveSource(path.join(root, 'reused', 'word.ts'), "export const WORD = 'first-word';\n", 20);
      saveSource(entry, "import { WORD } from './word';\nexport const handler = async () => WORD;\n", 20);
      const first = await inNewProcess();
      expect(first.code).toContain('first-word');
      expect(await inNewProcess()).toEqual(first);

      saveSource(path.join(root, 'reused', 'word.ts'), "export const WORD = 'second-word';\n", 10);
      const second = await inNewProcess();
      expect(second.code).toContain('second-word');
      expect(second.file).not.toBe(first.file);
      expect(await inNewProcess()).toEqual(second);
    } finally {
      removeCachedBundle(entry);
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
