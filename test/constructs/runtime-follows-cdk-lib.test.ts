/**
 * The workflow functions run on the newest Node.js runtime the aws-cdk-lib in use knows, so
 * cdk-nag's AwsSolutions-L1 (which compares with that aws-cdk-lib's Runtime.ALL) stays clean
 * when a user installs an aws-cdk-lib newer than the one the library was tested with. Runs in
 * both jest projects (the aws-cdk-lib floor and the newest); a Node.js version newer than any
 * aws-cdk-lib knows today is registered the way aws-cdk-lib registers its own.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../bin/app';
import { ENVIRONMENTS_CONTEXT_KEY } from '../../app/environment-settings';
import { HANDLER_BUILD_RUNTIME, handlerRuntime } from '../../lib/workflow/handler-code';
import { HANDLER_METADATA_KEY } from '../../lib/workflow/workflow-function';
import { readCdkJsonContext } from '../support/cdk-json';

function nodeMajors(): number[] {
  return lambda.Runtime.ALL.flatMap((r) => {
    const match = /^nodejs(\d+)\.x$/.exec(r.name);
    return match ? [Number(match[1])] : [];
  });
}

test('the runtime is the newest nodejsNN.x this aws-cdk-lib knows, and never older than the build target', () => {
  expect(handlerRuntime().name).toBe(`nodejs${Math.max(...nodeMajors())}.x`);
  expect(Number(/\d+/.exec(handlerRuntime().name)![0])).toBeGreaterThanOrEqual(Number(/\d+/.exec(HANDLER_BUILD_RUNTIME.name)![0]));
});

test('an aws-cdk-lib that knows a newer Node.js gets it on every workflow function, and AwsSolutions-L1 stays clean', () => {
  // What a future aws-cdk-lib release does for each new Node.js: a static Runtime, which joins Runtime.ALL
  // (nodejs26.x: the next one; the newest aws-cdk-lib's CloudFormation spec already lists it).
  const future = new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
  expect(lambda.Runtime.ALL).toContain(future);
  const context = readCdkJsonContext() as Record<string, Record<string, unknown>>;
  const app = buildApp(new App({ context: { ...context, [ENVIRONMENTS_CONTEXT_KEY]: { dev: context[ENVIRONMENTS_CONTEXT_KEY].dev } } }));
  const stack = app.node.findChild('LlamaFinetuning-dev') as import('aws-cdk-lib').Stack;
  // The library's own functions (aws-cdk-lib's custom resource providers choose their runtime themselves, and are no CfnFunction for L1).
  const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).filter((f) => f.Metadata?.[HANDLER_METADATA_KEY]);
  expect(functions.length).toBeGreaterThan(5);
  expect(new Set(functions.map((f) => f.Properties.Runtime))).toEqual(new Set(['nodejs26.x']));

  const report = new AwsSolutionsChecks(app).validateScope(app);
  expect(report.violations.filter((v) => v.ruleName === 'AwsSolutions-L1')).toEqual([]);
});
