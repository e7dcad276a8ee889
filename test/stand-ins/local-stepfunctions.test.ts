/**
 * LocalStepFunctions against the real @aws-sdk/client-sfn over loopback: task tokens resume a
 * waiting task once, and every other use answers as Step Functions documents.
 */
import { DescribeExecutionCommand, ExecutionDoesNotExist, InvalidArn, InvalidOutput, InvalidToken, SFNClient, StopExecutionCommand, SendTaskFailureCommand, SendTaskHeartbeatCommand, SendTaskSuccessCommand, TaskTimedOut } from '@aws-sdk/client-sfn';
import { AwsCallLog } from '../support/aws-call-log';
import { LocalStepFunctions, MAX_EXECUTION_ARN_LENGTH, MAX_TASK_CAUSE_LENGTH, MAX_TASK_ERROR_LENGTH, MAX_TASK_OUTPUT_BYTES, MAX_TASK_TOKEN_LENGTH } from '../support/local-stepfunctions';

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

  test('output is limited in UTF-8 bytes, not characters: 262,144 bytes go, one more does not', async () => {
    const issued = sfn.issueTaskToken(owner);
    // A JSON string of 2-byte characters: fewer characters than the limit, more bytes.
    const accented = JSON.stringify('é'.repeat(MAX_TASK_OUTPUT_BYTES / 2));
    expect(accented.length).toBeLessThan(MAX_TASK_OUTPUT_BYTES);
    await expect(client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: accented }))).rejects.toBeInstanceOf(InvalidOutput);
    const exact = JSON.stringify('x'.repeat(MAX_TASK_OUTPUT_BYTES - 2));
    expect(Buffer.byteLength(exact)).toBe(MAX_TASK_OUTPUT_BYTES);
    await client.send(new SendTaskSuccessCommand({ taskToken: issued.token, output: exact }));
    expect(sfn.isWaiting(issued.token)).toBe(false);
  });

  test('SendTaskFailure: error at most 256 and cause at most 32,768 characters; longer answers ValidationException and leaves the task waiting', async () => {
    const issued = sfn.issueTaskToken(owner);
    await expect(client.send(new SendTaskFailureCommand({ taskToken: issued.token, error: 'e'.repeat(MAX_TASK_ERROR_LENGTH + 1) }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new SendTaskFailureCommand({ taskToken: issued.token, error: 'JobFailed', cause: 'c'.repeat(MAX_TASK_CAUSE_LENGTH + 1) }))).rejects.toMatchObject({ name: 'ValidationException' });
    expect(sfn.isWaiting(issued.token)).toBe(true);
    await client.send(new SendTaskFailureCommand({ taskToken: issued.token, error: 'e'.repeat(MAX_TASK_ERROR_LENGTH), cause: 'c'.repeat(MAX_TASK_CAUSE_LENGTH) }));
    await expect(issued.outcome).resolves.toMatchObject({ kind: 'failure' });
  });

  test('task tokens are 1 to 2048 characters (API Reference): longer answers ValidationException, a 2048-character unknown token InvalidToken', async () => {
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: 'A'.repeat(MAX_TASK_TOKEN_LENGTH + 1) }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: 'A'.repeat(MAX_TASK_TOKEN_LENGTH) }))).rejects.toBeInstanceOf(InvalidToken);
    await expect(client.send(new SendTaskFailureCommand({ taskToken: 'AQforged' }))).rejects.toBeInstanceOf(InvalidToken);
  });

  test('a body that is not a JSON object, or an error that is not a string, answers SerializationException', async () => {
    const issued = sfn.issueTaskToken(owner);
    const post = (operation: string, body: string) => fetch(sfn.endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `AWSStepFunctions.${operation}` }, body });
    const array = await post('SendTaskHeartbeat', JSON.stringify([issued.token]));
    expect([array.status, array.headers.get('x-amzn-errortype')]).toEqual([400, 'SerializationException']);
    const numeric = await post('SendTaskFailure', JSON.stringify({ taskToken: issued.token, error: 42 }));
    expect([numeric.status, numeric.headers.get('x-amzn-errortype')]).toEqual([400, 'SerializationException']);
    expect(sfn.isWaiting(issued.token)).toBe(true);
    const unknown = await post('StartExecution', '{}');
    expect([unknown.status, ((await unknown.json()) as { message: string }).message]).toEqual([400, expect.stringContaining('test/support/local-stepfunctions.ts')]);
  });

  test('DescribeExecution and StopExecution answer from the attached executions; unknown and malformed ARNs answer as AWS does', async () => {
    const running = 'arn:aws:states:us-west-2:111122223333:execution:Machine:variant-a';
    const ended = 'arn:aws:states:us-west-2:111122223333:execution:Machine:variant-b';
    const stops: Array<[string, string | undefined]> = [];
    const views = new Map([
      [running, { executionArn: running, stateMachineArn: owner.stateMachineArn, name: 'variant-a', status: 'RUNNING' as const, startDate: new Date(1_000_000) }],
      [ended, { executionArn: ended, stateMachineArn: owner.stateMachineArn, name: 'variant-b', status: 'SUCCEEDED' as const, startDate: new Date(1_000_000), stopDate: new Date(2_000_000) }],
    ]);
    const detach = sfn.attachExecutions({ describe: (arn) => views.get(arn), stop: (arn, error) => void stops.push([arn, error]) });
    try {
      const described = await client.send(new DescribeExecutionCommand({ executionArn: running }));
      expect(described).toMatchObject({ executionArn: running, name: 'variant-a', status: 'RUNNING', startDate: new Date(1_000_000) });
      await client.send(new StopExecutionCommand({ executionArn: running, error: 'ExperimentEnded', cause: 'the experiment was aborted' }));
      // Stopping an execution that already ended changes nothing.
      await client.send(new StopExecutionCommand({ executionArn: ended }));
      expect(stops).toEqual([[running, 'ExperimentEnded']]);
      await expect(client.send(new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-west-2:111122223333:execution:Machine:never' }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
      await expect(client.send(new StopExecutionCommand({ executionArn: owner.stateMachineArn }))).rejects.toBeInstanceOf(InvalidArn);
      await expect(client.send(new StopExecutionCommand({ executionArn: running, error: 'x'.repeat(MAX_TASK_ERROR_LENGTH + 1) }))).rejects.toMatchObject({ name: 'ValidationException' });
      await expect(client.send(new DescribeExecutionCommand({ executionArn: `${running}${'x'.repeat(MAX_EXECUTION_ARN_LENGTH - running.length + 1)}` }))).rejects.toMatchObject({ name: 'ValidationException' });
      // Authorized on the execution.
      expect(callLog.entries().filter((c) => c.action === 'states:DescribeExecution').map((c) => c.resources)).toContainEqual([running]);
    } finally {
      detach();
    }
    // Detached: no executions are known.
    await expect(client.send(new DescribeExecutionCommand({ executionArn: running }))).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  });
});
