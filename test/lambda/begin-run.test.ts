/**
 * The begin-run handler against LocalS3 with the real S3 client: a retried step of the same
 * execution is the run, another execution with the same request version is a duplicate.
 */
import { handler } from '../../lambda/begin-run';
import { executionPointerKey, runRecordKey } from '../../lambda/shared/run-record';
import { ARTIFACTS, HandlerAws, RUNS_PREFIX, runContext, startHandlerAws, storedRecord } from './handler-fixtures';

describe('begin-run handler', () => {
  let aws: HandlerAws;
  const executionArn = (name: string) => `arn:aws:states:us-west-2:111122223333:execution:Workflow:${name}`;
  const pointer = (executionName: string) => aws.s3.getObject(ARTIFACTS, executionPointerKey(RUNS_PREFIX, executionName));

  beforeAll(async () => {
    aws = await startHandlerAws();
  });
  afterAll(async () => aws?.stop());

  test('the first execution creates the record and its pointer', async () => {
    const run = runContext('first');
    const result = await handler({ run, executionArn: executionArn('exec-first'), executionName: 'exec-first' });
    expect(result).toEqual({ duplicate: false, runId: run.runId, recordUri: `s3://${ARTIFACTS}/${runRecordKey(run)}` });
    expect(storedRecord(aws, run)).toMatchObject({ runId: run.runId, executionArn: executionArn('exec-first'), status: 'RUNNING' });
    expect(JSON.parse(pointer('exec-first')!.toString())).toEqual({ runId: run.runId, recordKey: runRecordKey(run), executionArn: executionArn('exec-first') });
  });

  test('a retry of the step in the same execution continues as the run, keeps the record and writes the pointer again', async () => {
    const run = runContext('retried');
    const event = { run, executionArn: executionArn('exec-retried'), executionName: 'exec-retried' };
    await handler(event);
    const recordBefore = aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString();
    // The first attempt wrote the record but its pointer was lost (e.g. the function timed out in between).
    aws.s3.deleteObject(ARTIFACTS, executionPointerKey(RUNS_PREFIX, 'exec-retried'));
    expect(pointer('exec-retried')).toBeUndefined();

    const retried = await handler(event);
    expect(retried.duplicate).toBe(false);
    expect(aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString()).toBe(recordBefore);
    expect(aws.s3.versionsOf(ARTIFACTS, runRecordKey(run)).filter((v) => !v.deleteMarker)).toHaveLength(1);
    expect(JSON.parse(pointer('exec-retried')!.toString())).toMatchObject({ runId: run.runId, executionArn: event.executionArn });
    // Retrying once more changes nothing either.
    expect((await handler(event)).duplicate).toBe(false);
  });

  test('another execution for the same request version is a duplicate: no pointer, the first run\'s record kept', async () => {
    const run = runContext('twice');
    await handler({ run, executionArn: executionArn('exec-a'), executionName: 'exec-a' });
    const recordBefore = aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString();
    const second = await handler({ run, executionArn: executionArn('exec-b'), executionName: 'exec-b' });
    expect(second).toEqual({ duplicate: true, runId: run.runId, recordUri: `s3://${ARTIFACTS}/${runRecordKey(run)}` });
    expect(pointer('exec-b')).toBeUndefined();
    expect(aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString()).toBe(recordBefore);
    expect(aws.logLines().find((l) => l.message === 'duplicate trigger: this request version already has a run; nothing to do' && l.runId === run.runId)).toMatchObject({
      executionArn: executionArn('exec-b'),
      recordExecutionArn: executionArn('exec-a'),
    });
  });
});
