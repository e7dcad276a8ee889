import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { HANDLER_METADATA_KEY, WorkflowFunction } from '../../lib/workflow/workflow-function';
import { testApp, testStack } from '../support/cdk';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner } from '../support/local-workflow';

const RECORDER_ENTRY = path.join(__dirname, '..', 'support', 'local-workflow', 'test-handlers', 'event-recorder.ts');
const SOURCE = 'llama-finetune.runner-test';

/**
 * A stack whose state machine uses the other service integrations the runner supports, in a
 * Parallel state: SNS publish, EventBridge putEvents (to a rule that invokes a function) and
 * an asynchronous Lambda invoke.
 */
function integrationsTemplate(): Template {
  const stack = testStack(testApp(), 'RunnerIntegrations');
  const topic = new sns.Topic(stack, 'Outcomes');
  const recorder = new WorkflowFunction(stack, 'Recorder', {
    handler: 'read-request',
    description: 'Records the events it receives (runner tests)',
    environment: {},
    logRetention: logs.RetentionDays.ONE_DAY,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    timeout: Duration.seconds(10),
  });
  (recorder.function.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, 'event-recorder');

  const fanOut = new sfn.Parallel(stack, 'FanOut', { resultPath: '$.results' });
  fanOut.branch(new tasks.SnsPublish(stack, 'Announce', { topic, subject: 'Run news', message: sfn.TaskInput.fromJsonPathAt('$.message') }));
  fanOut.branch(
    new tasks.EventBridgePutEvents(stack, 'Emit', {
      entries: [{ source: SOURCE, detailType: 'Run Finished', detail: sfn.TaskInput.fromObject({ 'message.$': '$.message' }) }],
    }),
  );
  fanOut.branch(new tasks.LambdaInvoke(stack, 'FireAndForget', { lambdaFunction: recorder.function, invocationType: tasks.LambdaInvocationType.EVENT }));
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(fanOut) });

  new events.Rule(stack, 'OnRunFinished', { eventPattern: { source: [SOURCE], detailType: ['Run Finished'] } }).addTarget(
    new targets.LambdaFunction(recorder.function, { event: events.RuleTargetInput.fromObject({ said: events.EventField.fromPath('$.detail.message') }) }),
  );
  return Template.fromStack(stack);
}

describe('local workflow runner service integrations', () => {
  let aws: LocalAws;
  let runner: LocalWorkflowRunner;

  beforeAll(async () => {
    aws = await startLocalAws();
    runner = await LocalWorkflowRunner.create({ template: integrationsTemplate(), aws, handlerEntries: { 'event-recorder': RECORDER_ENTRY } });
  });

  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  test('SNS publish, putEvents and an Event invoke in Parallel branches behave as their integrations', async () => {
    const outcome = await runner.run({ message: 'all done' });
    await runner.idle();

    expect(outcome.status).toBe('SUCCEEDED');
    expect([...outcome.transitions].sort()).toEqual(['Announce', 'Emit', 'FanOut', 'FireAndForget']);
    const [published, emitted, invoked] = (outcome.output as { results: Array<Record<string, unknown>> }).results;
    expect(published.MessageId).toEqual(expect.any(String));
    expect(emitted).toMatchObject({ FailedEntryCount: 0, Entries: [{ EventId: expect.any(String) }] });
    expect(invoked).toMatchObject({ StatusCode: 202 });

    expect(runner.notifications).toEqual([expect.objectContaining({ executionArn: outcome.executionArn, state: 'Announce', subject: 'Run news', message: 'all done' })]);
    expect(runner.putEvents).toEqual([expect.objectContaining({ source: SOURCE, 'detail-type': 'Run Finished', detail: { message: 'all done' } })]);
    // The rule on the emitted event invoked the function with the transformed input; the Event invoke ran too.
    const inputs = runner.invocations('event-recorder').map((i) => i.event);
    expect(inputs).toContainEqual({ said: 'all done' });
    expect(inputs).toContainEqual({ message: 'all done' });
    // The state machine role's calls went to the call log and its policy allows them.
    expect(runner.checkIam().denied).toEqual([]);
  });

  test('events put on LocalEventBridge by anyone reach the template rules', async () => {
    const client = new EventBridgeClient({});
    try {
      await client.send(new PutEventsCommand({ Entries: [{ Source: SOURCE, DetailType: 'Run Finished', Detail: JSON.stringify({ message: 'from outside' }) }] }));
    } finally {
      client.destroy();
    }
    await runner.idle();
    expect(runner.invocations('event-recorder').map((i) => i.event)).toContainEqual({ said: 'from outside' });
  });
});
