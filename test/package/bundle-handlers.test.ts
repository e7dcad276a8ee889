import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../../lib';
import { HANDLER_BUNDLING } from '../../lib/workflow/handler-code';
import { HANDLER_METADATA_KEY } from '../../lib/workflow/workflow-function';
import { handlerBundleOptions as bundleOptions, handlerNames } from '../../lib/workflow/handler-bundles';
import { testApp, testStack } from '../support/cdk';

const LAMBDA_ROOT = path.resolve(__dirname, '..', '..', 'lambda');

describe('bundle-handlers (the build step that makes dist/assets)', () => {
  it('bundles every handler the constructs create functions for', () => {
    const stack = testStack(testApp(), 'AllHandlers');
    new LlamaFinetuning(stack, 'Finetuning', {});
    const used = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .map((resource) => resource.Metadata?.[HANDLER_METADATA_KEY] as string | undefined)
      .filter((name): name is string => name !== undefined);
    expect(used.length).toBeGreaterThan(0);
    const bundled = handlerNames(LAMBDA_ROOT);
    expect(used.filter((name) => !bundled.includes(name))).toEqual([]);
    expect(bundled).not.toContain('shared');
  });

  it('writes <name>.mjs per handler and the chunks they share, with the settings a synthesis from the sources uses, inlining every module', () => {
    const options = bundleOptions(['begin-run', 'check-job'], LAMBDA_ROOT);
    expect(options.entryPoints).toEqual([
      { in: path.join(LAMBDA_ROOT, 'begin-run', 'index.ts'), out: 'begin-run' },
      { in: path.join(LAMBDA_ROOT, 'check-job', 'index.ts'), out: 'check-job' },
    ]);
    expect(options).toMatchObject({
      // Made for the package's folder wherever they go: source-map paths and chunk names depend on it.
      outdir: path.join(path.dirname(LAMBDA_ROOT), 'dist', 'assets'),
      write: false,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      platform: 'node',
      format: 'esm',
      splitting: true,
      target: HANDLER_BUNDLING.target,
      minify: HANDLER_BUNDLING.minify,
      sourcemap: HANDLER_BUNDLING.sourceMap,
      sourcesContent: HANDLER_BUNDLING.sourcesContent,
      mainFields: ['module', 'main'],
      external: [],
    });
  });
});
