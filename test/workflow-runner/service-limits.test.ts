import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { HANDLER_METADATA_KEY, WorkflowFunction } from '../../lib/workflow/workflow-function';
import { testApp, testStack } from '../support/cdk';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner, WorkflowEvent } from '../support/local-workflow';

const RECORDER_ENTRY = path.join(__dirname, '..', 'support', 'local-workflow', 'test-handlers', 'event-recorder.ts');
const KIB = 1024;

function recorderIn(stack: ReturnType<typeof testStack>): WorkflowFunction {
  const recorder = new WorkflowFunction(stack, 'Recorder', {
    handler: 'read-request',
    description: 'Answers with what it is asked for (runner tests)',
    environment: {},
    logRetention: logs.RetentionDays.ONE_DAY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    timeout: Duration.seconds(30),
  });
  (recorder.function.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, 'event-recorder');
  return recorder;
}

/**
 * Tiny state machines, one per limit, behind a Choice on `$.scenario`: a task result over
 * 256 KiB (caught by States.ALL, and by a catcher that names States.DataLimitExceeded), a state
 * output over it after ResultPath, an inline Map whose results are over it, a Pass/Choice loop
 * of `$.limit` rounds, and errors and causes over their lengths.
 */
function limitsTemplate(): Template {
  const stack = testStack(testApp(), 'RunnerLimits');
  const recorder = recorderIn(stack);
  const call = (id: string, payload: Record<string, unknown>, props: Partial<tasks.LambdaInvokeProps> = {}) =>
    new tasks.LambdaInvoke(stack, id, { lambdaFunction: recorder.function, payloadResponseOnly: true, payload: sfn.TaskInput.fromObject(payload), ...props });
  const done = (id: string) => new sfn.Succeed(stack, id);

  const bigResult = call('BigResult', { 'padBytes.$': '$.pad' }, { resultPath: '$.result' });
  bigResult.addRetry({ errors: ['States.ALL'], maxAttempts: 2, interval: Duration.seconds(1) });
  bigResult.addCatch(new sfn.Pass(stack, 'CaughtByAll').next(done('AfterCaughtByAll')), { errors: ['States.ALL'] });

  const explicitCatch = call('ExplicitCatch', { 'padBytes.$': '$.pad' }, { resultPath: '$.result' });
  explicitCatch.addCatch(new sfn.Pass(stack, 'CaughtByName').next(done('AfterCaughtByName')), { errors: ['States.DataLimitExceeded'], resultPath: '$.error' });
  explicitCatch.next(done('ExplicitNotNeeded'));

  const merge = call('MergeResult', { 'padBytes.$': '$.pad' }, { resultPath: '$.result' });
  merge.addCatch(new sfn.Pass(stack, 'MergeCaught').next(done('AfterMergeCaught')), { errors: ['States.ALL'] });
  merge.next(call('AfterMerge', {}, { resultPath: sfn.JsonPath.DISCARD })).next(done('MergeDone'));

  const eachItem = new sfn.Map(stack, 'EachItem', { itemsPath: '$.items', maxConcurrency: 4, resultPath: '$.results' });
  eachItem.itemProcessor(new tasks.LambdaInvoke(stack, 'PadItem', { lambdaFunction: recorder.function, payloadResponseOnly: true }));
  eachItem.addCatch(new sfn.Pass(stack, 'MapCaught').next(done('AfterMapCaught')), { errors: ['States.ALL'] });
  eachItem.next(done('MapDone'));

  const count = new sfn.Pass(stack, 'Count', { parameters: { 'i.$': 'States.MathAdd($.i, 1)', 'limit.$': '$.limit' } });
  const again = new sfn.Choice(stack, 'Again').when(sfn.Condition.numberLessThanJsonPath('$.i', '$.limit'), count).otherwise(done('LoopDone'));
  count.next(again);

  const longError = call('LongError', { 'throwName.$': '$.throwName', 'throwMessage.$': '$.throwMessage' });
  longError.addCatch(new sfn.Fail(stack, 'FailWithTaskError', { errorPath: '$.error.Error', causePath: '$.error.Cause' }), { errors: ['States.ALL'], resultPath: '$.error' });
  longError.next(done('NoError'));
  const longCause = new sfn.Fail(stack, 'FailWithLongCause', { error: 'LongCause', causePath: '$.longCause' });

  const scenario = (name: string) => sfn.Condition.stringEquals('$.scenario', name);
  const start = new sfn.Choice(stack, 'Scenario')
    .when(scenario('big-result'), bigResult)
    .when(scenario('explicit-catch'), explicitCatch)
    .when(scenario('merged-output'), merge)
    .when(scenario('map-output'), eachItem)
    .when(scenario('loop'), count)
    .when(scenario('long-error'), longError)
    .otherwise(longCause);
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(start) });
  return Template.fromStack(stack);
}

/** A Distributed Map over an S3 JSON array of items, each a child execution that calls the recorder. */
function distributedTemplate(options: { toleratedFailureCount?: number } = {}): Template {
  const stack = testStack(testApp(), 'RunnerDistributedMap');
  const recorder = recorderIn(stack);
  const items = new s3.Bucket(stack, 'Items');
  const spread = new sfn.DistributedMap(stack, 'Spread', {
    itemReader: new sfn.S3JsonItemReader({ bucket: items, key: sfn.JsonPath.stringAt('$.key') }),
    maxConcurrency: 2,
    toleratedFailureCount: options.toleratedFailureCount,
    resultPath: '$.mapped',
  });
  spread.itemProcessor(new tasks.LambdaInvoke(stack, 'Child', { lambdaFunction: recorder.function, payloadResponseOnly: true }));
  spread.addCatch(new sfn.Pass(stack, 'MapFailed').next(new sfn.Succeed(stack, 'AfterMapFailed')), { errors: ['States.ALL'], resultPath: '$.mapError' });
  spread.next(new sfn.Succeed(stack, 'Spread done'));
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(spread) });
  return Template.fromStack(stack);
}

describe('local workflow runner: Step Functions limits', () => {
  let aws: LocalAws;
  let runner: LocalWorkflowRunner;

  beforeAll(async () => {
    aws = await startLocalAws();
    runner = await LocalWorkflowRunner.create({ template: limitsTemplate(), aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY } });
  });
  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  test('a task result over 256 KiB fails the execution with States.DataLimitExceeded; States.ALL neither retries nor catches it', async () => {
    const before = runner.invocations('event-recorder').length;
    const outcome = await runner.run({ scenario: 'big-result', pad: 300 * KIB });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.DataLimitExceeded');
    expect(outcome.cause).toMatch(/The state\/task 'BigResult' returned a result with a size \(\d+ bytes\) exceeding the maximum number of bytes service limit \(262144\)/);
    expect(outcome.transitions).not.toContain('CaughtByAll');
    expect(runner.invocations('event-recorder').length - before).toBe(1);
    expect(outcome.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'States.DataLimitExceeded' });
  });

  test('just under the limit passes', async () => {
    const outcome = await runner.run({ scenario: 'big-result', pad: 250 * KIB });
    expect(outcome.status).toBe('SUCCEEDED');
  });

  test('a catcher that names States.DataLimitExceeded itself catches it', async () => {
    const outcome = await runner.run({ scenario: 'explicit-catch', pad: 300 * KIB });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toContain('CaughtByName');
    expect(outcome.output).toMatchObject({ error: { Error: 'States.DataLimitExceeded' } });
  });

  test('a state output over 256 KiB after ResultPath merges the result fails the execution before the next state runs', async () => {
    const before = runner.invocations('event-recorder').length;
    const outcome = await runner.run({ scenario: 'merged-output', pad: 140 * KIB, filler: 'y'.repeat(140 * KIB) });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.DataLimitExceeded');
    expect(outcome.cause).toContain("'MergeResult' produced an output");
    expect(outcome.transitions).not.toContain('AfterMerge');
    expect(outcome.transitions).not.toContain('MergeCaught');
    await runner.idle();
    expect(runner.invocations('event-recorder').length - before).toBe(1);
  });

  test('an inline Map whose results together exceed 256 KiB fails the execution; its States.ALL catcher does not catch it', async () => {
    const outcome = await runner.run({ scenario: 'map-output', items: [1, 2, 3, 4].map((i) => ({ item: i, padBytes: 70 * KIB })) });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.DataLimitExceeded');
    expect(outcome.cause).toContain("'EachItem'");
    expect(outcome.transitions).not.toContain('MapCaught');
  });

  test('the history is counted as Step Functions records it', async () => {
    const rounds = 50;
    const outcome = await runner.run({ scenario: 'loop', i: 0, limit: rounds });
    expect(outcome.status).toBe('SUCCEEDED');
    const awsHistory = [
      'ExecutionStarted',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      ...Array.from({ length: rounds }, () => ['PassStateEntered', 'PassStateExited', 'ChoiceStateEntered', 'ChoiceStateExited']).flat(),
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ];
    expect(outcome.historyEventCount).toBe(awsHistory.length);
  });

  test('an execution that would record more than 25,000 history events fails with States.Runtime at event 25,000', async () => {
    const outcome = await runner.run({ scenario: 'loop', i: 0, limit: 7_000 });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('States.Runtime');
    expect(outcome.cause).toBe('The execution reached the maximum number of history events (25000).');
    expect(outcome.historyEventCount).toBe(25_000);
    // About 6,250 rounds fit (4 events each), not 7,000.
    const rounds = outcome.transitions.filter((t) => t === 'Count').length;
    expect(rounds).toBeGreaterThan(6_200);
    expect(rounds).toBeLessThan(6_260);
  }, 120_000);

  test('an error name over 256 characters and a cause over 32,768 are cut to those lengths', async () => {
    const throwName = `E${'r'.repeat(299)}`;
    const throwMessage = 'm'.repeat(40_000);
    const outcome = await runner.run({ scenario: 'long-error', throwName, throwMessage });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe(throwName.slice(0, 256));
    expect(outcome.cause).toHaveLength(32_768);
    expect(outcome.cause!.startsWith('{"errorMessage":"mmm')).toBe(true);
  });

  test('a Fail state\'s cause over 32,768 characters is cut', async () => {
    const outcome = await runner.run({ scenario: 'long-cause', longCause: 'c'.repeat(40_000) });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('LongCause');
    expect(outcome.cause).toBe('c'.repeat(32_768));
  });

  test('the state machine role made no call its policy does not allow', () => {
    expect(runner.invocations('event-recorder').length).toBeGreaterThan(0);
    expect(runner.checkIam().denied).toEqual([]);
  });
});

describe('local workflow runner: Distributed Map', () => {
  let aws: LocalAws;
  let runner: LocalWorkflowRunner;
  let bucket: string;
  let template: Template;
  const putItems = (key: string, items: unknown[]) => aws.s3.putObject(bucket, key, JSON.stringify(items));
  const childEvents = (events: WorkflowEvent[]) => events.filter((e) => e.childExecution !== undefined);

  beforeAll(async () => {
    aws = await startLocalAws();
    template = distributedTemplate();
    runner = await LocalWorkflowRunner.create({ template, aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY } });
    bucket = runner.bucketName('Items');
  });
  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  test('reads the items from S3 as the state machine role and runs each in a child execution with its own history, at most MaxConcurrency at once', async () => {
    putItems('six.json', Array.from({ length: 6 }, (_, i) => ({ item: i, sleepMs: 40 })));
    const outcome = await runner.run({ key: 'six.json' });
    expect(outcome.status).toBe('SUCCEEDED');
    expect((outcome.output as { mapped: Array<{ item: number }> }).mapped.map((r) => r.item)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(outcome.childExecutions).toHaveLength(6);
    // ExecutionStarted, TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded, TaskStateExited, ExecutionSucceeded.
    for (const child of outcome.childExecutions) expect(child).toMatchObject({ status: 'SUCCEEDED', historyEventCount: 7, executionArn: expect.stringMatching(/:execution:.+\/Spread:/) });
    // ExecutionStarted, MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited, SucceedStateEntered, SucceedStateExited, ExecutionSucceeded.
    expect(outcome.historyEventCount).toBe(8);

    // Never more than two children at once, and two did run together.
    const spans = outcome.childExecutions.map((c) => {
      const own = childEvents(outcome.events).filter((e) => e.childExecution === c.executionArn);
      return { from: own.find((e) => e.type === 'StateEntered')!.timestamp, to: own.find((e) => e.type === 'StateExited')!.timestamp };
    });
    const overlapAt = (t: number) => spans.filter((s) => s.from <= t && t < s.to).length;
    const most = Math.max(...spans.map((s) => overlapAt(s.from)));
    expect(most).toBe(2);

    const machineRole = runner.physicalResource(Object.keys(template.findResources('AWS::IAM::Role')).find((id) => id.startsWith('MachineRole'))!).arn!;
    expect(aws.callLog.count({ action: 's3:GetObject', principal: machineRole } as never)).toBe(1);
    expect(aws.callLog.count({ action: 'states:StartExecution' } as never)).toBe(6);
  });

  test('the parent\'s history does not grow with the number of items', async () => {
    putItems('many.json', Array.from({ length: 40 }, (_, i) => ({ item: i })));
    const outcome = await runner.run({ key: 'many.json' });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.childExecutions).toHaveLength(40);
    expect(outcome.historyEventCount).toBe(8);
  });

  test('a failed child exceeds the default tolerated failure (none): the Map Run fails with States.ExceedToleratedFailureThreshold, which States.ALL catches', async () => {
    putItems('one-fails.json', [{ item: 0 }, { item: 1, throwName: 'Boom' }, { item: 2 }]);
    const outcome = await runner.run({ key: 'one-fails.json' });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toContain('MapFailed');
    expect((outcome.output as { mapError: { Error: string; Cause: string } }).mapError).toMatchObject({ Error: 'States.ExceedToleratedFailureThreshold', Cause: expect.stringContaining(':mapRun:') });
    expect(outcome.childExecutions.filter((c) => c.status === 'FAILED')).toEqual([expect.objectContaining({ error: 'Boom' })]);
  });

  test('a missing items object fails the Map Run with States.ItemReaderFailed', async () => {
    const outcome = await runner.run({ key: 'nope.json' });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.output).toMatchObject({ mapError: { Error: 'States.ItemReaderFailed', Cause: expect.stringContaining('nope.json') } });
  });

  test('aborting the parent stops its running children', async () => {
    putItems('slow.json', Array.from({ length: 4 }, (_, i) => ({ item: i, sleepMs: 3_000 })));
    const execution = runner.start({ key: 'slow.json' });
    const deadline = Date.now() + 20_000;
    while (childEvents(execution.events).filter((e) => e.type === 'StateEntered').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    execution.abort();
    const outcome = await execution.result;
    expect(outcome.status).toBe('ABORTED');
    await runner.idle();
    expect(outcome.childExecutions.length).toBeLessThanOrEqual(2);
    expect(outcome.childExecutions.every((c) => c.status === 'ABORTED')).toBe(true);
  });

  test('every call the state machine role made for the Map Runs is allowed by its synthesized policy', () => {
    expect(runner.checkIam().denied).toEqual([]);
  });
});

describe('local workflow runner: Distributed Map tolerating failures', () => {
  test('ToleratedFailureCount 1 lets one child fail; the state succeeds with the failed child\'s error in its place', async () => {
    const aws = await startLocalAws();
    const runner = await LocalWorkflowRunner.create({ template: distributedTemplate({ toleratedFailureCount: 1 }), aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY } });
    try {
      const bucket = runner.bucketName('Items');
      aws.s3.putObject(bucket, 'items.json', JSON.stringify([{ item: 0 }, { item: 1, throwName: 'Boom' }, { item: 2 }]));
      const tolerated = await runner.run({ key: 'items.json' });
      expect(tolerated.status).toBe('SUCCEEDED');
      expect(tolerated.transitions).not.toContain('MapFailed');
      aws.s3.putObject(bucket, 'two-fail.json', JSON.stringify([{ item: 0, throwName: 'Boom' }, { item: 1, throwName: 'Boom' }, { item: 2 }]));
      const notTolerated = await runner.run({ key: 'two-fail.json' });
      expect(notTolerated.transitions).toContain('MapFailed');
    } finally {
      await runner.stop();
      await aws.stop();
    }
  });
});
