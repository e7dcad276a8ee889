import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { HANDLER_METADATA_KEY, WorkflowFunction } from '../../lib/workflow/workflow-function';
import { testApp, testStack } from '../support/cdk';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { CfnTemplateJson } from '../support/local-workflow/cfn-template';
import { ExecutionOutcome, LocalWorkflowRunner, WorkflowExecution } from '../support/local-workflow';

const RECORDER_ENTRY = path.join(__dirname, '..', 'support', 'local-workflow', 'test-handlers', 'event-recorder.ts');

/**
 * A small stack that exercises what the product workflow does not (yet): a LambdaInvoke with
 * the full integration result, a Retry, the context object, a long Wait, an inline Map with MaxConcurrency, a
 * Choice, Fail states and a rule on the execution's status changes. Its function is a
 * WorkflowFunction whose metadata names the test recorder handler.
 */
function mechanicsTemplate(options: { grantWrite: boolean }): Template {
  const stack = testStack(testApp(), 'RunnerMechanics');
  const bucket = new s3.Bucket(stack, 'Records', { versioned: true });
  const recorder = new WorkflowFunction(stack, 'Recorder', {
    handler: 'read-request',
    description: 'Records the events it receives (runner tests)',
    environment: { RECORD_BUCKET: bucket.bucketName },
    logRetention: logs.RetentionDays.ONE_DAY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    timeout: Duration.seconds(30),
  });
  (recorder.function.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, 'event-recorder');
  if (options.grantWrite) recorder.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('*')] }));

  const recordingFailed = new sfn.Fail(stack, 'RecordingFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
  const record = new tasks.LambdaInvoke(stack, 'Record', {
    lambdaFunction: recorder.function,
    resultSelector: { 'recorded.$': '$.Payload.recorded', 'accessKeyId.$': '$.Payload.accessKeyId', 'statusCode.$': '$.StatusCode' },
    resultPath: '$.recording',
  });
  record.addRetry({ errors: ['Flaky'], interval: Duration.seconds(30), maxAttempts: 2, backoffRate: 2 });
  record.addCatch(recordingFailed, { errors: ['States.ALL'], resultPath: '$.error' });
  const describeExecution = new sfn.Pass(stack, 'DescribeExecution', {
    parameters: {
      'id.$': '$$.Execution.Id',
      'name.$': '$$.Execution.Name',
      'startTime.$': '$$.Execution.StartTime',
      'roleArn.$': '$$.Execution.RoleArn',
      'machineId.$': '$$.StateMachine.Id',
      'machineName.$': '$$.StateMachine.Name',
    },
    resultPath: '$.context',
  });
  const pause = new sfn.Wait(stack, 'Pause', { time: sfn.WaitTime.duration(Duration.hours(1)) });
  const eachItem = new sfn.Map(stack, 'EachItem', { itemsPath: '$.items', maxConcurrency: 2, itemSelector: { 'item.$': '$$.Map.Item.Value' }, resultPath: '$.itemResults' });
  eachItem.itemProcessor(new tasks.LambdaInvoke(stack, 'RecordItem', { lambdaFunction: recorder.function, payloadResponseOnly: true }));
  const decide = new sfn.Choice(stack, 'Decide')
    .when(sfn.Condition.and(sfn.Condition.isPresent('$.fail'), sfn.Condition.booleanEquals('$.fail', true)), new sfn.Fail(stack, 'AskedToFail', { error: 'AskedToFail', cause: 'The input asked the run to fail.' }))
    .otherwise(new sfn.Succeed(stack, 'Done'));
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(record.next(describeExecution).next(pause).next(eachItem).next(decide)),
    timeout: Duration.hours(2),
  });
  new events.Rule(stack, 'OnAbnormalEnd', {
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [machine.stateMachineArn] },
    },
  }).addTarget(new targets.LambdaFunction(recorder.function));
  return Template.fromStack(stack);
}

describe('local workflow runner mechanics', () => {
  let aws: LocalAws;
  let template: Template;
  let runner: LocalWorkflowRunner;
  let recordsBucket: string;
  let recorder: string;

  beforeAll(async () => {
    aws = await startLocalAws();
    template = mechanicsTemplate({ grantWrite: true });
    runner = await LocalWorkflowRunner.create({ template, aws, waitMs: 5, handlerEntries: { 'event-recorder': RECORDER_ENTRY } });
    recordsBucket = runner.bucketName('Records');
    recorder = runner.functionLogicalId('event-recorder');
  });

  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  const statusOf = (delivery: ExecutionOutcome['ruleDeliveries'][number]) => (delivery.event.detail as { status: string }).status;

  /** Resolves once the execution has entered `state`; throws when it ends first. */
  async function entered(execution: WorkflowExecution, state: string): Promise<void> {
    let ended = false;
    void execution.result.finally(() => (ended = true));
    while (!execution.events.some((e) => e.type === 'StateEntered' && e.state === state)) {
      if (ended) throw new Error(`The execution ended without entering ${state}: ${JSON.stringify(await execution.result)}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  test('runs the synthesized states: a Lambda task with the integration result shape, a Wait at its override, a Map of nested tasks, a Choice', async () => {
    const input = { record: true, items: ['a', 'b', 'c'] };
    const outcome = await runner.run(input);

    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(['Record', 'DescribeExecution', 'Pause', 'EachItem', 'RecordItem', 'RecordItem', 'RecordItem', 'Decide', 'Done']);
    const output = outcome.output as { recording: { recorded: string; accessKeyId: string; statusCode: number }; itemResults: Array<{ item: string }>; context: Record<string, string> };
    const machineRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('MachineRole'))!;
    expect(output.context).toEqual({
      id: outcome.executionArn,
      name: outcome.name,
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      roleArn: runner.physicalResource(machineRole).arn,
      machineId: runner.stateMachineArn,
      machineName: runner.stateMachineName,
    });
    // ResultSelector read $.StatusCode and $.Payload: the lambda:invoke integration's shape.
    expect(output.recording.statusCode).toBe(200);
    expect(output.recording.accessKeyId).toBe(recorder);
    expect(output.itemResults.map((r) => r.item)).toEqual(['a', 'b', 'c']);
    // The function's real S3 call reached LocalS3, under its own logical id.
    expect(JSON.parse(aws.s3.getObject(recordsBucket, output.recording.recorded)!.toString())).toEqual(input);
    expect(aws.callLog.entries({ operation: 'PutObject' }).map((c) => c.principal)).toContain(recorder);
    // The definition keeps its own one-hour Wait; only the runner waited briefly.
    expect(runner.definition.States.Pause.Seconds).toBe(3600);
    expect(outcome.ruleDeliveries).toEqual([]);
  });

  test('Map runs its iterations at most MaxConcurrency at a time', async () => {
    const outcome = await runner.run({ items: [1, 2, 3, 4, 5] });
    let running = 0;
    let most = 0;
    for (const event of outcome.events.filter((e) => e.state === 'RecordItem')) {
      if (event.type === 'StateEntered') most = Math.max(most, ++running);
      if (event.type === 'StateExited') running--;
    }
    expect(most).toBeLessThanOrEqual(2);
    expect(outcome.transitions.filter((t) => t === 'RecordItem')).toHaveLength(5);
  });

  test('a handler error fails the state with the error name as Error and the runtime report as Cause; the status rule invokes its function', async () => {
    const outcome = await runner.run({ throwName: 'QuotaMissing', throwMessage: 'no quota left', items: [] });

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('QuotaMissing');
    expect(outcome.transitions).toEqual(['Record', 'RecordingFailed']);
    const cause = JSON.parse(outcome.cause!);
    expect(cause).toEqual({ errorMessage: 'no quota left', errorType: 'QuotaMissing', trace: expect.any(Array) });
    expect(cause.trace[0]).toBe('QuotaMissing: no quota left');

    expect(outcome.ruleDeliveries.map(statusOf)).toEqual(['FAILED']);
    const delivery = outcome.ruleDeliveries[0];
    expect(delivery.target).toEqual({ kind: 'function', logicalId: recorder });
    const recorded = (delivery.invocation!.payload as { recorded: string }).recorded;
    const event = JSON.parse(aws.s3.getObject(recordsBucket, recorded)!.toString());
    expect(event).toMatchObject({ source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', account: aws.accountId, region: aws.region, resources: [outcome.executionArn] });
    expect(event.detail).toEqual({
      executionArn: outcome.executionArn,
      stateMachineArn: runner.stateMachineArn,
      name: outcome.name,
      status: 'FAILED',
      startDate: outcome.startDate.getTime(),
      stopDate: outcome.stopDate.getTime(),
      input: JSON.stringify(outcome.input),
      output: null,
      inputDetails: { included: true },
      outputDetails: null,
      error: 'QuotaMissing',
      cause: outcome.cause,
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
    });
  });

  test('retriers run with the short override interval and the history shows each retry', async () => {
    const outcome = await runner.run({ throwName: 'Flaky', items: [] });
    expect(outcome.error).toBe('Flaky');
    expect(outcome.events.filter((e) => e.type === 'StateRetried').map((e) => [e.state, e.retryAttempt])).toEqual([
      ['Record', 1],
      ['Record', 2],
    ]);
    const attempts = runner.invocations('event-recorder').filter((i) => (i.event as { throwName?: string }).throwName === 'Flaky');
    expect(attempts).toHaveLength(3);
    expect(runner.definition.States.Record.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: ['Flaky'], IntervalSeconds: 30 }));
  });

  test('an execution that runs past its timeout ends TIMED_OUT and the status rule sees it', async () => {
    const outcome = await runner.run({ items: [] }, { executionTimeoutMs: 50, waitOverrides: { Pause: 60_000 } });
    expect(outcome.status).toBe('TIMED_OUT');
    expect(outcome.error).toBe('States.Timeout');
    expect(outcome.events[outcome.events.length - 1].type).toBe('ExecutionTimedOut');
    expect(outcome.ruleDeliveries.map(statusOf)).toEqual(['TIMED_OUT']);
    expect(runner.definition.TimeoutSeconds).toBe(7200);
  });

  test('an aborted execution ends ABORTED with the given error and the status rule sees it', async () => {
    const execution = runner.start({ items: [] }, { waitOverrides: { Pause: 60_000 } });
    await entered(execution, 'Pause');
    execution.abort({ error: 'Operator', cause: 'stopped by the test' });
    const outcome = await execution.result;
    expect(outcome).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by the test' });
    expect(outcome.ruleDeliveries.map(statusOf)).toEqual(['ABORTED']);
  });

  test('a Fail state ends the execution with its own error and cause', async () => {
    const outcome = await runner.run({ items: [], fail: true });
    expect(outcome).toMatchObject({ status: 'FAILED', error: 'AskedToFail', cause: 'The input asked the run to fail.' });
  });

  test('the context object names the execution and state machine as Step Functions does', async () => {
    const execution = runner.start({ items: [] }, { executionName: 'named-run' });
    expect(execution.executionArn).toBe(`arn:aws:states:${aws.region}:${aws.accountId}:execution:${runner.stateMachineName}:named-run`);
    expect(runner.stateMachineArn).toBe(`arn:aws:states:${aws.region}:${aws.accountId}:stateMachine:${runner.stateMachineName}`);
    expect(() => runner.start({ items: [] }, { executionName: 'named-run' })).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    expect((await execution.result).status).toBe('SUCCEEDED');
  });

  test('functions run warm in their own environment, with their logical id as access key and the Lambda context', async () => {
    const first = await runner.invoke('event-recorder', {});
    const second = await runner.invoke(recorder, {});
    const payloadOf = (i: typeof first) => i.payload as { accessKeyId: string; functionName: string; hasTimeLeft: boolean; invocationsInEnvironment: number };
    expect(second.coldStart).toBe(false);
    expect(payloadOf(second).invocationsInEnvironment).toBe(payloadOf(first).invocationsInEnvironment + 1);
    expect(payloadOf(second)).toMatchObject({ accessKeyId: recorder, functionName: recorder, hasTimeLeft: true });
    // The test process keeps its own credentials.
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('test');
  });

  test("backoffJitter 'zero': Math.random() draws 0 inside the functions (their full-jitter waits are the shortest); by default it draws as usual", async () => {
    const randomOf = (i: { payload?: unknown }) => (i.payload as { random: number }).random;
    const usual = [await runner.invoke(recorder, {}), await runner.invoke(recorder, {})].map(randomOf);
    expect(usual.every((r) => r > 0 && r < 1)).toBe(true);
    expect(usual[0]).not.toBe(usual[1]);
    const zero = await LocalWorkflowRunner.create({ template, aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY }, backoffJitter: 'zero' });
    try {
      expect([await zero.invoke('event-recorder', {}), await zero.invoke('event-recorder', {})].map(randomOf)).toEqual([0, 0]);
    } finally {
      await zero.stop();
    }
    // The test process's own Math.random is untouched.
    expect(Math.random()).not.toBe(0);
  });

  test('a function that runs past its timeout fails with Sandbox.Timedout and its environment is replaced', async () => {
    // The timeout also bounds the replacement environment's first invocation (the rule's, which
    // creates an S3 client and writes to LocalS3): it must be far longer than that takes on a
    // loaded machine, and far shorter than the sleep that is meant to time out.
    const timeoutMs = 3_000;
    const short = await LocalWorkflowRunner.create({ template, aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY }, functionTimeoutMs: { 'event-recorder': timeoutMs } });
    try {
      const outcome = await short.run({ sleepMs: 60_000, items: [] });
      expect(outcome.status).toBe('FAILED');
      expect(outcome.error).toBe('Sandbox.Timedout');
      expect(JSON.parse(outcome.cause!)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: expect.stringMatching(/^RequestId: \S+ Error: Task timed out after 3\.00 seconds$/) });
      // The timed-out environment was destroyed (its handler would still be sleeping); the rule's invocation ran in a new one.
      expect(outcome.ruleDeliveries[0].invocation).toMatchObject({ coldStart: true, payload: { invocationsInEnvironment: 1 } });
      expect(short.liveEnvironments('event-recorder')).toBe(1);
    } finally {
      await short.stop();
    }
  });

  test('an upload to a bucket that does not send events to EventBridge starts nothing', async () => {
    aws.s3.putObject(recordsBucket, 'requests/x.json', '{}');
    expect(await runner.putS3ObjectCreated(recordsBucket, 'requests/x.json')).toMatchObject({ sent: false, executions: [] });
    await expect(runner.putS3ObjectCreated(recordsBucket, 'never-uploaded.json')).rejects.toThrow(/is not in LocalS3; store it first/);
  });

  test('the IAM check passes every call of these runs and leaves no grant unused', () => {
    expect(runner.checkIam()).toEqual({ denied: [], unused: [] });
  });

  test('the IAM check reports a call the role does not allow and a rule the function does not permit', async () => {
    const json = JSON.parse(JSON.stringify(mechanicsTemplate({ grantWrite: false }).toJSON())) as { Resources: Record<string, { Type: string }> };
    for (const [id, resource] of Object.entries(json.Resources)) if (resource.Type === 'AWS::Lambda::Permission') delete json.Resources[id];
    const narrow = await LocalWorkflowRunner.create({ template: json as CfnTemplateJson, aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY } });
    try {
      aws.callLog.clear();
      expect((await narrow.run({ record: true, items: [] })).status).toBe('SUCCEEDED');
      const failed = await narrow.run({ items: [], fail: true });
      expect(failed.status).toBe('FAILED');
      // EventBridge could not invoke the function, so it was not invoked.
      expect(failed.ruleDeliveries).toHaveLength(1);
      expect(failed.ruleDeliveries[0].refused).toContain('No AWS::Lambda::Permission');
      expect(failed.ruleDeliveries[0].invocation).toBeUndefined();
      const { denied } = narrow.checkIam();
      const functionArn = narrow.physicalResource(recorder).arn;
      expect(denied).toEqual([
        expect.objectContaining({ principal: 'events.amazonaws.com', action: 'lambda:InvokeFunction', resource: functionArn }),
        expect.objectContaining({ principal: recorder, operation: 'PutObject', action: 's3:PutObject', resource: expect.stringMatching(new RegExp(`^arn:aws:s3:::${recordsBucket}/events/`)) }),
      ]);
    } finally {
      await narrow.stop();
    }
  });
});
