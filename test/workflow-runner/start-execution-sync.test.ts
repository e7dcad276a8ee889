/**
 * The runner's `states:startExecution.sync:2` integration: a state machine that starts an
 * execution of itself (its ARN formatted from its fixed name, as CDK users do to avoid a
 * dependency cycle between the role's policy and the state machine) and waits for it.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { EXECUTION_EVENTS } from '../../lib/workflow/history-budget';
import { testApp, testStack } from '../support/cdk';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner } from '../support/local-workflow';

const MACHINE_NAME = 'RunnerSelfStart';

function selfStartingTemplate(): Template {
  const stack = testStack(testApp(), 'RunnerStartExecution');
  const ownArn = Stack.of(stack).formatArn({ service: 'states', resource: 'stateMachine', resourceName: MACHINE_NAME, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  const startChild = new tasks.StepFunctionsStartExecution(stack, 'StartChild', {
    stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Itself', ownArn),
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    name: sfn.JsonPath.stringAt('$.childName'),
    input: sfn.TaskInput.fromObject({ child: true, 'value.$': '$.value', 'fail.$': '$.fail' }),
    resultPath: '$.child',
  });
  startChild.addCatch(new sfn.Pass(stack, 'ChildFailed'), { errors: ['States.TaskFailed'], resultPath: '$.failure' });

  const child = new sfn.Choice(stack, 'ShouldFail')
    .when(sfn.Condition.booleanEquals('$.fail', true), new sfn.Fail(stack, 'ChildFails', { error: 'Child.Failed', cause: 'The input asked the child to fail.' }))
    .otherwise(new sfn.Wait(stack, 'ChildWaits', { time: sfn.WaitTime.duration(Duration.seconds(1)) }).next(new sfn.Pass(stack, 'ChildDone', { parameters: { 'doubled.$': 'States.MathAdd($.value, $.value)' } })));
  const definition = new sfn.Choice(stack, 'IsChild').when(sfn.Condition.isPresent('$.child'), child).otherwise(startChild);
  new sfn.StateMachine(stack, 'Machine', { stateMachineName: MACHINE_NAME, definitionBody: sfn.DefinitionBody.fromChainable(definition) });
  return Template.fromStack(stack);
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('local workflow runner: states:startExecution.sync:2', () => {
  let aws: LocalAws;
  let runner: LocalWorkflowRunner;

  beforeAll(async () => {
    aws = await startLocalAws();
    runner = await LocalWorkflowRunner.create({ template: selfStartingTemplate(), aws, waitOverrides: { ChildWaits: 0 } });
  });

  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  test('the child runs as an execution of its own; the state returns its description with Output as JSON; the synthesized role allows every call', async () => {
    const outcome = await runner.run({ childName: 'child-ok', value: 21, fail: false });
    await runner.idle();

    expect(outcome.status).toBe('SUCCEEDED');
    const child = (outcome.output as { child: Record<string, unknown> }).child;
    expect(child).toMatchObject({
      ExecutionArn: `arn:aws:states:${aws.region}:${aws.accountId}:execution:${MACHINE_NAME}:child-ok`,
      Name: 'child-ok',
      Status: 'SUCCEEDED',
      Input: { child: true, value: 21, fail: false },
      Output: { doubled: 42 },
      StateMachineArn: runner.stateMachineArn,
    });
    expect(typeof child.StartDate).toBe('number');
    // The child has its own history: the parent's holds none of the child's states.
    const childOutcome = await runner.executionNamed('child-ok')!.result;
    expect(childOutcome.transitions).toEqual(['IsChild', 'ShouldFail', 'ChildWaits', 'ChildDone']);
    expect(outcome.transitions).toEqual(['IsChild', 'StartChild']);
    // The job wait records TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted, TaskSucceeded, TaskStateExited.
    expect(outcome.historyEventCount).toBe(EXECUTION_EVENTS.started + 2 + 6 + EXECUTION_EVENTS.ended);
    expect(aws.callLog.entries().map((c) => c.action)).toEqual(expect.arrayContaining(['states:StartExecution', 'states:DescribeExecution', 'events:PutRule', 'events:PutTargets', 'events:DescribeRule']));
    expect(runner.checkIam().denied).toEqual([]);
  });

  test('a child that fails fails the state with States.TaskFailed, its description (Error, Cause) as the cause', async () => {
    const outcome = await runner.run({ childName: 'child-fails', value: 1, fail: true });

    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(['IsChild', 'StartChild', 'ChildFailed']);
    const failure = (outcome.output as { failure: { Error: string; Cause: string } }).failure;
    expect(failure.Error).toBe('States.TaskFailed');
    expect(JSON.parse(failure.Cause)).toMatchObject({ Name: 'child-fails', Status: 'FAILED', Error: 'Child.Failed', Cause: 'The input asked the child to fail.' });
    expect(JSON.parse(failure.Cause).Output).toBeUndefined();
  });

  test('a child name used before fails the state with StepFunctions.ExecutionAlreadyExistsException (which a States.TaskFailed catcher matches, as it matches every error but States.Timeout)', async () => {
    await runner.run({ childName: 'child-twice', value: 2, fail: false });
    const second = await runner.run({ childName: 'child-twice', value: 2, fail: false });

    expect(second.status).toBe('SUCCEEDED');
    expect(second.transitions).toEqual(['IsChild', 'StartChild', 'ChildFailed']);
    expect((second.output as { failure: { Error: string } }).failure.Error).toBe('StepFunctions.ExecutionAlreadyExistsException');
    expect(aws.callLog.entries().filter((c) => c.action === 'states:StartExecution' && c.errorCode === 'ExecutionAlreadyExists')).toHaveLength(1);
  });

  test('stopping the parent does not stop the child: it runs to its own end (a workflow must stop its children itself)', async () => {
    const slow = await LocalWorkflowRunner.create({ template: selfStartingTemplate(), aws, waitOverrides: { ChildWaits: 300 } });
    try {
      const parent = slow.start({ childName: 'child-orphan', value: 5, fail: false });
      await until(() => slow.executionNamed('child-orphan') !== undefined, 'the child to start');
      parent.abort({ error: 'Test.Stop', cause: 'stopped by the test' });
      const [parentOutcome, childOutcome] = await Promise.all([parent.result, slow.executionNamed('child-orphan')!.result]);

      expect(parentOutcome.status).toBe('ABORTED');
      expect(childOutcome.status).toBe('SUCCEEDED');
      expect(childOutcome.stopDate.getTime()).toBeGreaterThan(parentOutcome.stopDate.getTime());
    } finally {
      await slow.stop();
    }
  });

  test('an inline Map with MaxConcurrency 2 over 4 child starts runs at most 2 children at once, starting them in item order', async () => {
    const stack = testStack(testApp(), 'RunnerQueuedChildren');
    const ownArn = Stack.of(stack).formatArn({ service: 'states', resource: 'stateMachine', resourceName: 'RunnerQueued', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const startChild = new tasks.StepFunctionsStartExecution(stack, 'StartChild', {
      stateMachine: sfn.StateMachine.fromStateMachineArn(stack, 'Itself', ownArn),
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      name: sfn.JsonPath.stringAt('$.name'),
      input: sfn.TaskInput.fromObject({ child: true }),
    });
    const eachChild = new sfn.Map(stack, 'EachChild', { itemsPath: '$.children', maxConcurrency: 2 });
    eachChild.itemProcessor(startChild);
    const definition = new sfn.Choice(stack, 'IsChild').when(sfn.Condition.isPresent('$.child'), new sfn.Wait(stack, 'ChildWaits', { time: sfn.WaitTime.duration(Duration.seconds(1)) })).otherwise(eachChild);
    new sfn.StateMachine(stack, 'Machine', { stateMachineName: 'RunnerQueued', definitionBody: sfn.DefinitionBody.fromChainable(definition) });
    // Own stand-ins, so the IAM check sees this stack's calls alone.
    const ownAws = await startLocalAws();
    const queued = await LocalWorkflowRunner.create({ template: Template.fromStack(stack), aws: ownAws, waitOverrides: { ChildWaits: 150 } });
    try {
      const names = ['c1', 'c2', 'c3', 'c4'];
      const outcome = await queued.run({ children: names.map((name) => ({ name })) });
      const children = await Promise.all(names.map((name) => queued.executionNamed(name)!.result));

      expect(outcome.status).toBe('SUCCEEDED');
      expect(children.map((c) => c.status)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
      const byStart = [...children].sort((a, b) => a.startDate.getTime() - b.startDate.getTime());
      expect(byStart.map((c) => c.name)).toEqual(names);
      const mostAtOnce = Math.max(...children.map((c) => children.filter((o) => o.startDate <= c.startDate && o.stopDate > c.startDate).length));
      expect(mostAtOnce).toBe(2);
      expect(queued.checkIam().denied).toEqual([]);
    } finally {
      await queued.stop();
      await ownAws.stop();
    }
  });
});
