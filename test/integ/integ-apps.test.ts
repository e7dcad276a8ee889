/**
 * The integration test apps, synthesized offline the way integ-runner synthesizes a snapshot
 * (support/synthesize-integ-app.ts), without integ-runner: they synthesize, their test case is
 * what integ-runner expects, their assertions start a run the way a user does and check what
 * the test claims, the paid one refuses to synthesize for a deployment without the opt-in, and
 * a synthesis is the same every time (or the snapshot comparison would flap).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { resolveModel } from '../../lambda/shared/models/llama-models';
import { callsOf, DeployAssertCall, deployAssertCalls, responseReference, TemplateResource } from './support/deploy-assert-calls';
import { REAL_JOB_OPT_IN_VARIABLE, SNAPSHOT_ACCOUNT, INTEG_REGION } from './support/integ-environment';
import { SNAPSHOT_SYNTH_VARIABLES, synthesizeIntegApp } from './support/synthesize-integ-app';
import { TOO_FEW_RECORDS_RULE } from './support/tiny-text-dataset';

/** Synthesizing bundles the workflow's Lambda code with esbuild: allow for it. */
const SYNTH_TIMEOUT = 240_000;

interface Assembly {
  readonly outdir: string;
  readonly status: number | null;
  readonly stderr: string;
}

const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'integ-apps-'));
afterAll(() => fs.rmSync(workRoot, { recursive: true, force: true }));

function synthesize(file: string, name: string, variables: Record<string, string | undefined> = SNAPSHOT_SYNTH_VARIABLES): Assembly {
  const outdir = path.join(workRoot, name);
  const result = synthesizeIntegApp(file, { outdir, variables });
  return { outdir, status: result.status, stderr: result.stderr };
}

function readJson<T = any>(outdir: string, file: string): T {
  return JSON.parse(fs.readFileSync(path.join(outdir, file), 'utf8')) as T;
}

function resources(outdir: string, stack: string): Record<string, TemplateResource> {
  return readJson<{ Resources: Record<string, TemplateResource> }>(outdir, `${stack}.template.json`).Resources;
}

function only<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return items[0];
}

/** The test stack's trigger: the wildcard of request keys that start a run, as a RegExp. */
function requestKeyPattern(testResources: Record<string, TemplateResource>): RegExp {
  const rule = only(
    Object.values(testResources).filter((r) => r.Type === 'AWS::Events::Rule' && (r.Properties?.EventPattern as { source?: string[] })?.source?.[0] === 'aws.s3'),
    'S3 trigger rule',
  );
  const wildcard = (rule.Properties!.EventPattern as { detail: { object: { key: Array<{ wildcard: string }> } } }).detail.object.key[0].wildcard;
  return new RegExp(`^${wildcard.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Checks the two uploads and returns them with the decoded request. */
function checkUploads(calls: readonly DeployAssertCall[], testResources: Record<string, TemplateResource>, expectedRecords: number) {
  const [training, request] = callsOf(calls, 'S3', 'putObject');
  expect(callsOf(calls, 'S3', 'putObject')).toHaveLength(2);
  // The training file goes first: the request's upload starts the run.
  expect(request.dependsOn).toContain(training.logicalId);
  expect(String(training.parameters.Body).trimEnd().split('\n')).toHaveLength(expectedRecords);
  expect(request.parameters.Key).toMatch(requestKeyPattern(testResources));
  expect(training.parameters.Key).not.toMatch(requestKeyPattern(testResources));
  const document = JSON.parse(String(request.parameters.Body));
  expect(document.trainingData).toBe(training.parameters.Key);
  expect(JSON.stringify(request.parameters.Bucket)).toContain('DatasetBucket');
  return { training, request, document };
}

describe('integ.validation-failure.ts', () => {
  let assembly: Assembly;
  let calls: DeployAssertCall[];
  let testResources: Record<string, TemplateResource>;

  beforeAll(() => {
    assembly = synthesize('integ.validation-failure.ts', 'validation-failure');
    if (assembly.status !== 0) throw new Error(`synthesis failed:\n${assembly.stderr}`);
    calls = deployAssertCalls(resources(assembly.outdir, 'LlamaFinetuneIntegValidationFailureAssertions'));
    testResources = resources(assembly.outdir, 'LlamaFinetuneIntegValidationFailure');
  }, SYNTH_TIMEOUT);

  test('one test case: the LlamaFinetuning stack, its own assertion stack, no update workflow', () => {
    expect(readJson(assembly.outdir, 'integ.json').testCases).toEqual({
      'ValidationFailure/DefaultTest': {
        stacks: ['LlamaFinetuneIntegValidationFailure'],
        stackUpdateWorkflow: false,
        assertionStack: 'LlamaFinetuneIntegValidationFailureAssertions',
        assertionStackName: 'LlamaFinetuneIntegValidationFailureAssertions',
      },
    });
    const artifacts = readJson(assembly.outdir, 'manifest.json').artifacts;
    for (const stack of ['LlamaFinetuneIntegValidationFailure', 'LlamaFinetuneIntegValidationFailureAssertions']) {
      expect(artifacts[stack].environment).toBe(`aws://${SNAPSHOT_ACCOUNT}/${INTEG_REGION}`);
    }
  });

  test('uploads 5 records, then a request the trigger starts a run for', () => {
    const { document } = checkUploads(calls, testResources, 5);
    expect(document).toMatchObject({ model: 'llama3.2-1b', evaluation: { enabled: false } });
  });

  test("waits for the upload's execution to end, then asserts FAILED, InvalidDataset and the record-count rule", () => {
    const request = callsOf(calls, 'S3', 'putObject')[1];
    const list = only(callsOf(calls, 'SFN', 'listExecutions'), 'listExecutions call');
    expect(list.dependsOn).toContain(request.logicalId);
    expect(list.polls).toBe(true);
    expect(JSON.stringify(list.parameters.stateMachineArn)).toContain('StateMachine');
    expect(list.parameters.maxResults).toBe(1);
    expect(list.outputPaths).toContain('executions.0.executionArn');

    const describes = callsOf(calls, 'SFN', 'describeExecution');
    expect(Object.fromEntries(describes.map((d) => [d.actualPath, d.expected]))).toEqual({
      status: { $Exact: 'FAILED' },
      error: { $Exact: 'InvalidDataset' },
      cause: { $StringLike: TOO_FEW_RECORDS_RULE },
    });
    for (const d of describes) expect(d.parameters.executionArn).toEqual(responseReference(list, 'executions.0.executionArn'));
  });

  test('synthesizes the same templates and asset hashes every time', () => {
    const again = synthesize('integ.validation-failure.ts', 'validation-failure-again');
    expect(again.status).toBe(0);
    const assets = (dir: string) => fs.readdirSync(dir).filter((f) => f.startsWith('asset.')).sort();
    expect(assets(again.outdir)).toEqual(assets(assembly.outdir));
    expect(resources(again.outdir, 'LlamaFinetuneIntegValidationFailure')).toEqual(testResources);
  }, SYNTH_TIMEOUT);
});

describe('integ.real-finetuning.ts', () => {
  test('refuses to synthesize for a deployment without the opt-in, and writes nothing', () => {
    const refused = synthesize('integ.real-finetuning.ts', 'real-refused', { CDK_DEFAULT_ACCOUNT: '210987654321', CDK_DEFAULT_REGION: INTEG_REGION, [REAL_JOB_OPT_IN_VARIABLE]: undefined });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('costs money');
    expect(refused.stderr).toContain(`${REAL_JOB_OPT_IN_VARIABLE}=1`);
    expect(fs.existsSync(path.join(refused.outdir, 'manifest.json'))).toBe(false);
  }, SYNTH_TIMEOUT);

  describe('as a snapshot', () => {
    let assembly: Assembly;
    let calls: DeployAssertCall[];
    let assertionResources: Record<string, TemplateResource>;
    let testResources: Record<string, TemplateResource>;

    beforeAll(() => {
      assembly = synthesize('integ.real-finetuning.ts', 'real-finetuning');
      if (assembly.status !== 0) throw new Error(`synthesis failed:\n${assembly.stderr}`);
      assertionResources = resources(assembly.outdir, 'LlamaFinetuneIntegRealFinetuningAssertions');
      calls = deployAssertCalls(assertionResources);
      testResources = resources(assembly.outdir, 'LlamaFinetuneIntegRealFinetuning');
    }, SYNTH_TIMEOUT);

    test('one test case without update workflow', () => {
      expect(readJson(assembly.outdir, 'integ.json').testCases).toEqual({
        'RealFinetuning/DefaultTest': {
          stacks: ['LlamaFinetuneIntegRealFinetuning'],
          stackUpdateWorkflow: false,
          assertionStack: 'LlamaFinetuneIntegRealFinetuningAssertions',
          assertionStackName: 'LlamaFinetuneIntegRealFinetuningAssertions',
        },
      });
    });

    test('uploads 100 records and a one-epoch llama3.2-1b request without evaluation', () => {
      const { document } = checkUploads(calls, testResources, 100);
      expect(document).toMatchObject({ model: 'llama3.2-1b', hyperParameters: { epochCount: 1 }, evaluation: { enabled: false } });
    });

    test('listens before the run starts and waits, longer than a run may take, in a wait condition', () => {
      const [training, request] = callsOf(calls, 'S3', 'putObject');
      const id = (type: string) => only(Object.keys(assertionResources).filter((k) => assertionResources[k].Type === type), type);
      const waitId = id('AWS::CloudFormation::WaitCondition');
      const wait = assertionResources[waitId];
      expect(training.dependsOn).toEqual(expect.arrayContaining([id('AWS::Events::Rule'), id('AWS::Lambda::Permission'), expect.stringMatching(/^RunEndSignal/)]));
      expect(wait.DependsOn).toContain(request.logicalId);

      const timeout = Number(wait.Properties!.Timeout);
      const stateMachine = only(Object.values(testResources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine'), 'state machine');
      const runTimeout = Number(/\\"TimeoutSeconds\\":(\d+)/.exec(JSON.stringify(stateMachine.Properties!.DefinitionString))![1]);
      expect(timeout).toBeGreaterThan(runTimeout);
      expect(timeout).toBeLessThanOrEqual(12 * 3600);

      const list = only(callsOf(calls, 'SFN', 'listExecutions'), 'listExecutions call');
      expect(list.dependsOn).toContain(waitId);
      // The wait already saw the end: no polling custom resource, so no one-hour limit.
      expect(list.polls).toBe(false);
    });

    test('asserts SUCCEEDED, checks the custom model is a Llama 3.2 1B one, and deletes it', () => {
      const list = only(callsOf(calls, 'SFN', 'listExecutions'), 'listExecutions call');
      const describe = only(callsOf(calls, 'SFN', 'describeExecution'), 'describeExecution call');
      expect(describe).toMatchObject({ actualPath: 'status', expected: { $Exact: 'SUCCEEDED' } });
      expect(describe.parameters.executionArn).toEqual(responseReference(list, 'executions.0.executionArn'));
      expect(describe.outputPaths).toContain('output.job.outputModelArn');

      const getModel = only(callsOf(calls, 'Bedrock', 'getCustomModel'), 'getCustomModel call');
      const deleteModel = only(callsOf(calls, 'Bedrock', 'deleteCustomModel'), 'deleteCustomModel call');
      const modelArn = responseReference(describe, 'output.job.outputModelArn');
      expect(getModel.parameters.modelIdentifier).toEqual(modelArn);
      expect(deleteModel.parameters.modelIdentifier).toEqual(modelArn);
      expect(deleteModel.dependsOn).toContain(getModel.logicalId);
      expect(getModel.actualPath).toBe('baseModelArn');
      const pattern = (getModel.expected as { $StringLike: string }).$StringLike;
      expect(resolveModel('llama3.2-1b').baseModelIdentifier).toMatch(new RegExp(pattern));
      expect(resolveModel('llama3.2-3b').baseModelIdentifier).not.toMatch(new RegExp(pattern));
    });
  });
});
