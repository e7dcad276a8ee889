/**
 * LocalStepFunctions against the real @aws-sdk/client-sfn over loopback: task tokens resume a
 * waiting task once, and every other use answers as Step Functions documents.
 */
import { InvalidOutput, InvalidToken, SFNClient, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { AwsCallLog } from '../support/aws-call-log';
import { LocalStepFunctions, MAX_TASK_OUTPUT_BYTES } from '../support/local-stepfunctions';

describe('LocalStepFunctions with the AWS SDK', () => {
  let sfn: LocalStepFunctions;
  let client: SFNClient;
  const callLog = new AwsCallLog();
  const owner = { stateMachineArn: 'arn:aws:states:us-west-2:111122223333:stateMachine:Machine', executionArn: 'arn:aws:states:us-west-2:111122223333:execution:Machine:run-1', stateName: 'WaitForJobEnd' };

  beforeAll(async () => {
    sfn = await LocalStepFunctions.start({ callLog });
    client = new SFNClient({ endpoint: sfn.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'JobEventFn', secretAccessKey: 'x' }, maxAttempts: 1 });
  });
  afterAll(async () => {
    client.destroy();
    await sfn.stop();
  });

  test('SendTaskSuccess resumes the task with the parsed output, once; a second resume answers TaskTimedOut', async () => {
    const issued = sfn.issueTaskToken(owner);
    expect(sfn.isWaiting(issued.token)).toBe(true);
    await client.send(new SendTaskHeartbeatCommand({ taskToken: issued.token }));
    await client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: JSON.stringify({ wokenBy: 'event' }) }));
    await expect(issued.outcome).resolves.toEqual({ kind: 'success', output: { wokenBy: 'event' } });
    expect(sfn.isWaiting(issued.token)).toBe(false);
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    // Authorized on the token's state machine, as the caller.
    expect(callLog.entries().filter((c) => c.action === 'states:SendTaskSuccess').map((c) => [c.resources, c.principal, c.status, c.errorCode])).toEqual([
      [[owner.stateMachineArn], 'JobEventFn', 200, undefined],
      [[owner.stateMachineArn], 'JobEventFn', 400, 'TaskTimedOut'],
    ]);
  });

  test('SendTaskFailure fails the task with its error and cause', async () => {
    const issued = sfn.issueTaskToken(owner);
    await client.send(new SendTaskFailureCommand({ taskToken: issued.token, error: 'JobFailed', cause: 'because' }));
    await expect(issued.outcome).resolves.toEqual({ kind: 'failure', error: 'JobFailed', cause: 'because' });
  });

  test('a closed task (timed out, or its execution ended) answers TaskTimedOut to every call', async () => {
    const issued = sfn.issueTaskToken(owner);
    issued.close();
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: '{}' }))).rejects.toBeInstanceOf(TaskTimedOut);
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: issued.token }))).rejects.toBeInstanceOf(TaskTimedOut);
  });

  test('a token it never issued answers InvalidToken', async () => {
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: 'AQforged', output: '{}' }))).rejects.toBeInstanceOf(InvalidToken);
    expect(callLog.entries().at(-1)).toMatchObject({ resources: ['*'], errorCode: 'InvalidToken' });
  });

  test('output that is not JSON or over 256 KiB answers InvalidOutput and leaves the task waiting', async () => {
    const issued = sfn.issueTaskToken(owner);
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: 'not json' }))).rejects.toBeInstanceOf(InvalidOutput);
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: JSON.stringify('x'.repeat(MAX_TASK_OUTPUT_BYTES)) }))).rejects.toBeInstanceOf(InvalidOutput);
    expect(sfn.isWaiting(issued.token)).toBe(true);
  });
});
