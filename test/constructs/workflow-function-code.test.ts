import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { esbuildTargetOf, HANDLER_SOURCE_ROOTS, HandlerCodeRoots, handlerModuleFile, resolveHandlerCode } from '../../lib/workflow/handler-code';
import { HANDLER_METADATA_KEY, WorkflowFunction } from '../../lib/workflow/workflow-function';
import { testApp, testStack } from '../support/cdk';

const HANDLER = 'read-request';

/** A temporary folder laid out like the package's dist/assets/, with one handler's module. */
function fakePrebundledRoot(handler: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prebundled-handlers-'));
  fs.writeFileSync(path.join(root, handlerModuleFile(handler)), 'export const handler = async () => ({});\n');
  return root;
}

/** A stack with one WorkflowFunction using every prop that reaches the function. */
function workflowFunctionStack(codeRoots?: HandlerCodeRoots): { template: Record<string, unknown>; fn: WorkflowFunction } {
  const stack = testStack(testApp(), 'CodeParity');
  const fn = new WorkflowFunction(stack, 'Step', {
    handler: HANDLER,
    description: 'Reads the run request',
    environment: { RUNS_PREFIX: 'runs/' },
    timeout: Duration.seconds(45),
    memorySize: 1024,
    logRetention: logs.RetentionDays.ONE_MONTH,
    logEncryptionKey: new kms.Key(stack, 'LogKey'),
    logRemovalPolicy: RemovalPolicy.DESTROY,
    deadLetterQueue: new sqs.Queue(stack, 'Dlq'),
    codeRoots,
  });
  return { template: Template.fromStack(stack).toJSON(), fn };
}

/** The template without what may differ between the two code sources: the code's location. */
function withoutCodeLocation(template: Record<string, unknown>): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(template)) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }> };
  for (const resource of Object.values(copy.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    delete resource.Properties.Code;
    for (const key of Object.keys(resource.Metadata ?? {})) if (key.startsWith('aws:asset:')) delete resource.Metadata![key];
  }
  return copy;
}

describe('resolveHandlerCode', () => {
  let prebundledRoot: string;
  beforeAll(() => {
    prebundledRoot = fakePrebundledRoot(HANDLER);
  });
  afterAll(() => fs.rmSync(prebundledRoot, { recursive: true, force: true }));

  it('bundles from lambda/<name>/index.ts when the library runs from its TypeScript sources', () => {
    const code = resolveHandlerCode(HANDLER);
    expect(code).toEqual({ kind: 'source', entry: path.join(HANDLER_SOURCE_ROOTS[0], HANDLER, 'index.ts') });
  });

  it('prefers the prebundled asset folder when it holds the handler', () => {
    expect(resolveHandlerCode(HANDLER, { prebundledRoot })).toEqual({ kind: 'prebundled', directory: prebundledRoot });
  });

  it('falls back to the sources for a handler the prebundled folder lacks', () => {
    expect(resolveHandlerCode('begin-run', { prebundledRoot })).toEqual({ kind: 'source', entry: path.join(HANDLER_SOURCE_ROOTS[0], 'begin-run', 'index.ts') });
  });

  it('names both places it looked, and what to do, when the handler is nowhere', () => {
    const sourceRoot = path.join(prebundledRoot, 'no-sources-here');
    const lookup = () => resolveHandlerCode('no-such-handler', { prebundledRoot, sourceRoots: [sourceRoot] });
    expect(lookup).toThrow(path.join(prebundledRoot, 'no-such-handler.mjs'));
    expect(lookup).toThrow(path.join(sourceRoot, 'no-such-handler', 'index.ts'));
    expect(lookup).toThrow(/reinstall llama-finetune-cdk/);
  });

  it('derives the esbuild target from the Lambda runtime and refuses other languages', () => {
    expect(esbuildTargetOf(lambda.Runtime.NODEJS_22_X)).toBe(`node${lambda.Runtime.NODEJS_22_X.name.match(/\d+/)![0]}`);
    expect(() => esbuildTargetOf(lambda.Runtime.PYTHON_3_13)).toThrow(/python3\.13 is not a Node\.js runtime/);
  });
});

describe('WorkflowFunction code source', () => {
  let prebundledRoot: string;
  beforeAll(() => {
    prebundledRoot = fakePrebundledRoot(HANDLER);
  });
  afterAll(() => fs.rmSync(prebundledRoot, { recursive: true, force: true }));

  it('creates the same function, role, log group and metadata from a prebundled asset as from the sources', () => {
    const fromSource = workflowFunctionStack();
    const fromAsset = workflowFunctionStack({ prebundledRoot });

    expect(withoutCodeLocation(fromAsset.template)).toEqual(withoutCodeLocation(fromSource.template));
    // Only the code's location differs, and the offline runner still finds the handler by name.
    const functionOf = (template: Record<string, unknown>) =>
      Object.values((template as { Resources: Record<string, { Type: string; Properties: { Code: unknown }; Metadata: Record<string, unknown> }> }).Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
    expect(functionOf(fromAsset.template).Metadata[HANDLER_METADATA_KEY]).toBe(HANDLER);
    expect(functionOf(fromAsset.template).Properties.Code).not.toEqual(functionOf(fromSource.template).Properties.Code);
  });
});
