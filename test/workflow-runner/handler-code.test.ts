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
import { bundleHandler, isWorkflowHandlerEntry } from '../support/local-workflow/lambda-bundler';

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
    let loaded: string | undefined;
    try {
      const entry = path.join(root, 'greeter', 'index.ts');
      fs.mkdirSync(path.dirname(entry));
      fs.writeFileSync(entry, 'export const handler = async () => "hello";\n');
      expect(isWorkflowHandlerEntry(entry)).toBe(false);
      expect(isWorkflowHandlerEntry(path.join(LAMBDA_ROOT, 'check-job', 'index.ts'))).toBe(true);
      loaded = await bundleHandler(entry);
      expect(path.extname(loaded)).toBe('.js');
      expect(fs.readFileSync(loaded, 'utf8')).toContain('hello');
    } finally {
      // Its cached bundle would outlive the folder it was made from.
      if (loaded) for (const file of [loaded, `${loaded}.inputs.json`]) fs.rmSync(file, { force: true });
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
