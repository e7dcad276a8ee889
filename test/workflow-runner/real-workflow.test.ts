import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../../lib';
import { testStack } from '../support/cdk';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { CfnTemplateJson } from '../support/local-workflow/cfn-template';
import { LocalWorkflowRunner } from '../support/local-workflow';

/** Training data Bedrock accepts: text-only records, enough of them (100 at least). */
function trainingData(records: number): string {
  return Array.from({ length: records }, (_, i) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'Answer with a number only.' }],
      messages: [
        { role: 'user', content: [{ text: `What is ${i} plus ${i + 1}?` }] },
        { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
      ],
    }),
  ).join('\n');
}

/**
 * The LlamaFinetuning workflow as synthesized, run offline: runs start by uploading a run
 * request; every function runs its real code against the stand-ins (LocalBedrock runs the
 * customization job). Assertions name only the start state and rely on the definition for
 * the rest, so the workflow can grow without rewriting them.
 */
describe('offline runner on the synthesized LlamaFinetuning workflow', () => {
  let aws: LocalAws;
  let template: Template;
  let runner: LocalWorkflowRunner;
  let datasets: string;

  beforeAll(async () => {
    aws = await startLocalAws();
    const stack = testStack();
    new LlamaFinetuning(stack, 'Finetuning');
    template = Template.fromStack(stack);
    runner = await LocalWorkflowRunner.create({ template, aws, waitMs: 5 });
    datasets = runner.bucketName('FinetuningStorageDataset');
    aws.s3.putObject(datasets, 'data/train.jsonl', trainingData(120));
  });

  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  /** Uploads a run request and delivers its S3 event to the template's rules. */
  async function upload(key: string, request: unknown) {
    const { versionId } = aws.s3.putObject(datasets, key, JSON.stringify(request));
    return { versionId, dispatch: await runner.putS3ObjectCreated(datasets, key) };
  }

  const stateType = (name: string) => {
    const found = Object.entries(runner.definition.States).find(([stateName]) => stateName === name);
    return found?.[1].Type;
  };

  test('the template buckets exist in LocalS3 and the definition is the synthesized one, tokens resolved', () => {
    expect(aws.s3.bucketNames()).toEqual(expect.arrayContaining([datasets, runner.bucketName('FinetuningStorageArtifacts')]));
    expect(aws.s3.putObject(datasets, 'probe.txt', 'x').versionId).toBeDefined();
    // An upload enters through RunKind (variants and promotions of experiments enter there too) and goes on to ReadRunRequest.
    expect(runner.definition.StartAt).toBe('RunKind');
    expect(JSON.stringify(runner.definition)).not.toMatch(/"Ref"|Fn::|unresolved/);
    // Every Wait state keeps its synthesized time; only the runner's wait is short.
    for (const state of Object.values(runner.definition.States).filter((s) => s.Type === 'Wait')) expect(state.Seconds).toBeGreaterThanOrEqual(60);
  });

  test('a valid request uploaded under requests/ runs to a Succeed state, and no cleanup rule fires', async () => {
    const { versionId, dispatch } = await upload('requests/sums.json', { name: 'sums', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' });
    expect(dispatch.executions).toHaveLength(1);
    const outcome = await dispatch.executions[0].result;

    expect({ status: outcome.status, error: outcome.error, cause: outcome.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    expect(outcome.transitions.slice(0, 2)).toEqual(['RunKind', 'ReadRunRequest']);
    expect(stateType(outcome.transitions[outcome.transitions.length - 1])).toBe('Succeed');
    // The rule passes the event's detail (InputPath $.detail) as the execution input.
    expect(outcome.input).toEqual(dispatch.event.detail);
    const readRequest = outcome.events.find((e) => e.type === 'StateExited' && e.state === 'ReadRunRequest')!;
    expect((readRequest.output as { run: { request: unknown } }).run.request).toMatchObject({ key: 'requests/sums.json', versionId });
    expect(outcome.ruleDeliveries).toEqual([]);
    expect(outcome.executionArn).toBe(`arn:aws:states:us-west-2:111122223333:execution:${runner.stateMachineName}:${outcome.name}`);
  });

  test('uploads outside the request pattern start nothing', async () => {
    expect((await upload('data/other.json', {})).dispatch.executions).toHaveLength(0);
    expect((await upload('requests/notes.txt', {})).dispatch.executions).toHaveLength(0);
  });

  test('the same event delivered twice starts two executions', async () => {
    aws.s3.putObject(datasets, 'requests/twice.json', JSON.stringify({ name: 'twice', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' }));
    const first = await runner.putS3ObjectCreated(datasets, 'requests/twice.json');
    const second = await runner.sendEvent(first.event);
    const outcomes = await Promise.all([...first.executions, ...second.executions].map((e) => e.result));
    expect(outcomes.map((o) => o.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(new Set(outcomes.map((o) => o.name)).size).toBe(2);
  });

  test('an invalid request fails the run with InvalidRunRequest and the problems in the cause; the cleanup rule sees the failure', async () => {
    const { dispatch } = await upload('requests/missing.json', { name: 'missing', model: 'llama3.2-1b', trainingData: 'data/nope.jsonl' });
    const outcome = await dispatch.executions[0].result;

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvalidRunRequest');
    expect(outcome.transitions.slice(0, 2)).toEqual(['RunKind', 'ReadRunRequest']);
    expect(stateType(outcome.transitions[outcome.transitions.length - 1])).toBe('Fail');
    expect(outcome.events.find((e) => e.type === 'StateCaught')).toMatchObject({ state: 'ReadRunRequest' });
    const cause = JSON.parse(outcome.cause!) as { errorType: string; errorMessage: string; trace: string[] };
    expect(cause.errorType).toBe('InvalidRunRequest');
    expect(cause.errorMessage).toContain(`s3://${datasets}/data/nope.jsonl does not exist`);
    expect(cause.errorMessage).toContain('[data-missing]');
    expect(Array.isArray(cause.trace)).toBe(true);

    // Rules on the execution's FAILED status change invoked their functions with the event.
    const failedDeliveries = outcome.ruleDeliveries.filter((d) => (d.event.detail as { status: string }).status === 'FAILED');
    expect(failedDeliveries.length).toBeGreaterThan(0);
    for (const delivery of failedDeliveries) {
      expect(delivery.target.kind).toBe('function');
      expect(delivery.invocation?.error).toBeUndefined();
      expect(delivery.input).toMatchObject({ source: 'aws.states', detail: { executionArn: outcome.executionArn, status: 'FAILED', error: 'InvalidRunRequest' } });
    }
  });

  test('an error the handler does not expect (S3 denies the read) fails the run with the SDK error name', async () => {
    aws.s3.putObject(datasets, 'requests/denied.json', JSON.stringify({ name: 'denied', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' }));
    aws.s3.failNext(1, { status: 403, code: 'AccessDenied', operation: 'GetObject' });
    const dispatch = await runner.putS3ObjectCreated(datasets, 'requests/denied.json');
    const outcome = await dispatch.executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('AccessDenied');
    expect(JSON.parse(outcome.cause!)).toMatchObject({ errorType: 'AccessDenied' });
  });

  test('every call of the runs, by the functions and by Bedrock for the customization role, is allowed by the synthesized roles', () => {
    const customizationRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('FinetuningCustomizationRole'))!;
    expect(aws.callLog.count({ principal: runner.physicalResource(customizationRole).arn })).toBeGreaterThan(0);
    expect(aws.callLog.count({ principal: runner.functionLogicalId('read-request') })).toBeGreaterThan(0);
    expect(runner.checkIam().denied).toEqual([]);
  });

  test('a role without a grant the code needs is reported, call by call', async () => {
    // The same template with the read-request role's statement for the data files removed.
    const json = JSON.parse(JSON.stringify(template.toJSON())) as CfnTemplateJson;
    for (const policy of Object.values(json.Resources ?? {}).filter((r) => r.Type === 'AWS::IAM::Policy')) {
      const document = policy.Properties!.PolicyDocument as { Statement: Array<{ Sid?: string }> };
      document.Statement = document.Statement.filter((s) => s.Sid !== 'CheckDataFilesExist');
    }
    const narrowed = await LocalWorkflowRunner.create({ template: json, aws });
    try {
      aws.callLog.clear();
      const key = 'requests/narrow.json';
      aws.s3.putObject(datasets, key, JSON.stringify({ name: 'narrow', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' }));
      const invocation = await narrowed.invoke('read-request', { bucket: { name: datasets }, object: { key }, executionArn: `arn:aws:states:${aws.region}:${aws.accountId}:execution:narrow:direct-invoke` });
      expect(invocation.error).toBeUndefined();
      const readRequest = narrowed.functionLogicalId('read-request');
      expect(narrowed.checkIam().denied).toEqual([
        expect.objectContaining({ principal: readRequest, operation: 'HeadObject', action: 's3:GetObject', resource: `arn:aws:s3:::${datasets}/data/train.jsonl` }),
      ]);
    } finally {
      await narrowed.stop();
    }
  });
});
