/**
 * The cleanup-run handler against LocalS3, LocalBedrock, LocalSns and LocalEventBridge with the
 * real SDK clients: what it stops and deletes when the run record does not (yet) name the job
 * or the Provisioned Throughput.
 */
import { handler } from '../../lambda/cleanup-run';
import { provisionedModelNameFor } from '../../lambda/shared/evaluation/provisioned-names';
import { jobNameFor } from '../../lambda/shared/job-names';
import { RunContext } from '../../lambda/shared/run-context';
import { RunRecord, executionPointerKey, runRecordKey } from '../../lambda/shared/run-record';
import { jobWaitKey } from '../../lambda/shared/job-wait';
import { ARTIFACTS, HandlerAws, RUNS_PREFIX, createJob, createThroughput, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

const TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:outcomes';
const VALID = { valid: true, errorCount: 0, warningCount: 0, reportUri: 's3://x/validation/report.json' };

describe('cleanup-run handler', () => {
  let aws: HandlerAws;

  beforeAll(async () => {
    aws = await startHandlerAws({ TOPIC_ARN, EVENT_BUS_NAME: 'default', JOB_WAITS_BUCKET: ARTIFACTS });
    // Jobs stay InProgress until stopped; completing one would check data these tests do not upload.
    aws.bedrock.setJobScenario({ afterPolls: 'manual' });
  });
  afterAll(async () => aws?.stop());
  afterEach(() => aws.s3.setAuthorizer(undefined));

  /** Stores the record and the execution's pointer, and returns the status change event of the execution. */
  function endedExecution(record: RunRecord, status: 'TIMED_OUT' | 'ABORTED' | 'FAILED' = 'TIMED_OUT') {
    const name = `exec-${record.runId}`;
    storeRecord(aws, record);
    aws.s3.putObject(ARTIFACTS, executionPointerKey(RUNS_PREFIX, name), JSON.stringify({ runId: record.runId, recordKey: runRecordKey(record.run), executionArn: record.executionArn }));
    return { detail: { executionArn: record.executionArn, name, status, error: status === 'TIMED_OUT' ? 'States.Timeout' : null, cause: null } };
  }
  const jobLookups = (identifier: string) => aws.callLog.entries({ operation: 'GetModelCustomizationJob' }).filter((e) => e.resources.some((r) => r.endsWith(`/${identifier}`)));

  test('a run that reached launching but whose record names no job: the job is found by its name and stopped', async () => {
    const run = runContext('unrecorded-job');
    const jobArn = await createJob(jobNameFor(run), run);
    const result = await handler(endedExecution(runningRecord(run, { validation: VALID })));
    expect(result).toEqual({ runId: run.runId, jobStopped: true, provisionedThroughputsDeleted: [], outcomeRecorded: true, announced: true });
    expect(aws.bedrock.job(jobArn)!.status).toBe('Stopping');
    const record = storedRecord(aws, run);
    expect(record.status).toBe('TIMED_OUT');
    expect(record.timeline).toEqual(expect.arrayContaining([expect.objectContaining({ event: 'job stopped by cleanup', detail: { jobArn } })]));
    expect(record.outcome?.summary).toContain('Its customization job was still training and has been stopped.');
    expect(aws.sns.messages(TOPIC_ARN).find((m) => m.message.includes(run.runId))?.subject).toContain('timed out');
  });

  test('a run that reached launching but created no job: the name is unknown to Bedrock, the outcome is still recorded', async () => {
    const run = runContext('no-job-yet');
    const result = await handler(endedExecution(runningRecord(run, { validation: VALID }), 'ABORTED'));
    expect(result).toMatchObject({ jobStopped: false, outcomeRecorded: true });
    expect(jobLookups(jobNameFor(run))).toHaveLength(1);
    expect(jobLookups(jobNameFor(run))[0].errorCode).toBe('ResourceNotFoundException');
    expect(storedRecord(aws, run).status).toBe('ABORTED');
    // An aborted run is part of its name's history too.
    const history = JSON.parse(aws.s3.getObject(ARTIFACTS, `${RUNS_PREFIX}history/no-job-yet/leaderboard.json`)!.toString()) as { runs: Array<{ runId: string; status: string }> };
    expect(history.runs.map((r) => [r.runId, r.status])).toEqual([[run.runId, 'ABORTED']]);
  });

  test('a run that never got past validation: no job is looked for', async () => {
    const run = runContext('not-validated');
    const result = await handler(endedExecution(runningRecord(run), 'FAILED'));
    expect(result).toMatchObject({ jobStopped: false, outcomeRecorded: true });
    expect(jobLookups(jobNameFor(run))).toHaveLength(0);
  });

  test('a job and a Provisioned Throughput recorded while the cleanup runs (after its look, before the outcome) are stopped and deleted too', async () => {
    const run = runContext('late-records');
    // Named unlike the run's own, so the cleanup's search by name cannot find them: only the record can.
    const jobArn = await createJob(`${run.runId}-late`, run);
    const ptArn = await createThroughput(`late-${run.runId}`, run.model.baseModelIdentifier);
    aws.bedrock.markInService(ptArn);
    const event = endedExecution(runningRecord(run, { validation: VALID }));
    // Just before the cleanup writes the outcome, the launch and provisioning steps record what they created.
    let raced = false;
    aws.s3.setAuthorizer(({ action, resources }) => {
      if (!raced && action === 's3:PutObject' && resources[0].endsWith(runRecordKey(run))) {
        raced = true;
        const current = storedRecord(aws, run);
        storeRecord(aws, {
          ...current,
          job: { jobArn, jobName: `${run.runId}-late`, customModelName: 'm', status: 'InProgress', outputS3Uri: 's3://x/', hyperParameters: {} },
          provisionedThroughput: { arn: ptArn, name: `late-${run.runId}`, modelUnits: 1, createdAt: new Date().toISOString() },
        });
      }
      return true;
    });
    const result = await handler(event);
    expect(raced).toBe(true);
    expect(result).toMatchObject({ jobStopped: true, provisionedThroughputsDeleted: [ptArn], outcomeRecorded: true });
    expect(aws.bedrock.job(jobArn)!.status).toBe('Stopping');
    expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).not.toContain(ptArn);
    const record = storedRecord(aws, run);
    expect(record.status).toBe('TIMED_OUT');
    expect(record.job?.status).toBe('Stopping');
    expect(record.provisionedThroughput).toMatchObject({ arn: ptArn, deletedAt: expect.any(String), hours: expect.any(Number) });
  });

  test('the run\'s Provisioned Throughput is deleted whether the record names it or only its name finds it; one already gone is no error', async () => {
    const run: RunContext = runContext('throughputs');
    const named = await createThroughput(provisionedModelNameFor(run), run.model.baseModelIdentifier);
    const gone = 'arn:aws:bedrock:us-west-2:111122223333:provisioned-model/alreadygone1';
    const result = await handler(endedExecution(runningRecord(run, { provisionedThroughput: { arn: gone, name: provisionedModelNameFor(run), modelUnits: 1, createdAt: new Date(Date.now() - 1_800_000).toISOString() } })));
    expect(result.provisionedThroughputsDeleted).toEqual([named]);
    expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).not.toContain(named);
    // The recorded one no longer bills either: the record says so, with the hours it was up.
    const pt = storedRecord(aws, run).provisionedThroughput!;
    expect(pt.deletedAt).toEqual(expect.any(String));
    expect(pt.hours).toBeGreaterThanOrEqual(0.5);
  });

  test('an outcome SNS refuses is still recorded, the job still stopped; the refusal is logged and counted, not thrown', async () => {
    const run = runContext('unannounced');
    const jobArn = await createJob(jobNameFor(run), run);
    aws.sns.failNext(1, { code: 'AuthorizationError', status: 403, message: 'not authorized to publish', operation: 'Publish' });
    const result = await handler(endedExecution(runningRecord(run, { validation: VALID })));
    expect(result).toEqual({ runId: run.runId, jobStopped: true, provisionedThroughputsDeleted: [], outcomeRecorded: true, announced: false });
    expect(aws.bedrock.job(jobArn)!.status).toBe('Stopping');
    expect(storedRecord(aws, run).status).toBe('TIMED_OUT');
    // The event still went out; the message did not.
    expect(aws.events.events({ source: 'llama-finetune' }).some((e) => (e.detail as { runId?: string }).runId === run.runId)).toBe(true);
    expect(aws.sns.messages(TOPIC_ARN).some((m) => m.message.includes(run.runId))).toBe(false);
    const lines = aws.logLines().filter((l) => l.runId === run.runId);
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'ERROR', message: 'run outcome not announced; the outcome is recorded and stands', channel: 'sns', error: 'AuthorizationErrorException' })]));
    expect(lines.find((l) => l.message === 'metrics')).toMatchObject({ NotificationFailures: 1 });
  });

  test('EventBridge refuses the outcome event (a failed entry): the message still goes out, the refusal is counted, nothing is thrown', async () => {
    const run = runContext('event-refused');
    aws.events.failNextEntries(1, 'InternalFailure', 'Internal failure');
    const result = await handler(endedExecution(runningRecord(run), 'ABORTED'));
    expect(result).toMatchObject({ outcomeRecorded: true, announced: false });
    expect(storedRecord(aws, run).status).toBe('ABORTED');
    expect(aws.sns.messages(TOPIC_ARN).some((m) => m.message.includes(run.runId))).toBe(true);
    const lines = aws.logLines().filter((l) => l.runId === run.runId);
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'ERROR', channel: 'eventbridge', error: 'InternalFailure' })]));
    expect(lines.find((l) => l.message === 'metrics')).toMatchObject({ NotificationFailures: 1 });
  });

  test("an aborted execution's job wait ends: its task token is deleted; a token another execution stored is kept", async () => {
    const run = runContext('aborted-token');
    const jobArn = await createJob(jobNameFor(run), run);
    const job = { jobArn, jobName: jobNameFor(run), customModelName: 'm', status: 'InProgress', outputS3Uri: `s3://${ARTIFACTS}/x/`, hyperParameters: {} };
    const record = runningRecord(run, { validation: VALID, job });
    const token = (executionArn: string) => JSON.stringify({ jobArn, taskToken: 't', executionArn, runId: run.runId, registeredAt: new Date().toISOString() });
    aws.s3.putObject(ARTIFACTS, jobWaitKey(jobArn), token('arn:aws:states:us-west-2:111122223333:execution:M:another'));
    await handler(endedExecution(record, 'ABORTED'));
    expect(aws.s3.getObject(ARTIFACTS, jobWaitKey(jobArn))).toBeDefined();
    const second = runContext('aborted-token-2');
    const secondArn = await createJob(jobNameFor(second), second);
    aws.s3.putObject(ARTIFACTS, jobWaitKey(secondArn), token(second.executionArn));
    await handler(endedExecution(runningRecord(second, { validation: VALID, job: { ...job, jobArn: secondArn, jobName: jobNameFor(second) } }), 'ABORTED'));
    expect(aws.s3.listKeys(ARTIFACTS, `job-waits/${secondArn.split('/').pop()}`)).toEqual([]);
  });

  test('an execution that does not own the run it points at stops, deletes and records nothing', async () => {
    const run = runContext('owned-elsewhere');
    const jobArn = await createJob(jobNameFor(run), run);
    const named = await createThroughput(provisionedModelNameFor(run), run.model.baseModelIdentifier);
    const record = runningRecord(run, { validation: VALID });
    const event = endedExecution(record, 'FAILED');
    const before = aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString();
    const result = await handler({ detail: { ...event.detail, executionArn: `${record.executionArn}-duplicate` } });
    expect(result).toEqual({ runId: run.runId, jobStopped: false, provisionedThroughputsDeleted: [], outcomeRecorded: false });
    expect(aws.bedrock.job(jobArn)!.status).toBe('InProgress');
    expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(named);
    expect(aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString()).toBe(before);
  });

  test('a deletion Bedrock keeps refusing: the outcome is still recorded (so the watch may sweep it), then the cleanup fails to be retried', async () => {
    const run = runContext('delete-refused');
    const pt = await createThroughput(provisionedModelNameFor(run), run.model.baseModelIdentifier);
    aws.bedrock.injectError('forever', 'ConflictException', { operation: 'DeleteProvisionedModelThroughput' });
    try {
      const error = await handler(endedExecution(runningRecord(run, { provisionedThroughput: { arn: pt, name: provisionedModelNameFor(run), modelUnits: 1, createdAt: new Date().toISOString() } }))).catch((err: Error) => err);
      expect((error as Error).name).toBe('ProvisionedThroughputNotDeleted');
      expect((error as Error).message).toContain(`Bedrock refused to delete the Provisioned Throughput of run ${run.runId}: ${pt} (ConflictException`);
    } finally {
      aws.bedrock.clearFaults();
    }
    const record = storedRecord(aws, run);
    expect(record.status).toBe('TIMED_OUT');
    expect(record.provisionedThroughput?.deletedAt).toBeUndefined();
    // Not silent: the record (and so the outcome message) names it, and a metric line counts it for the alarm.
    expect(record.provisionedThroughput?.deletionRefused).toEqual({ at: expect.any(String), error: expect.stringContaining('ConflictException') });
    const message = aws.sns.messages(TOPIC_ARN).find((m) => m.message.includes(run.runId))!;
    expect(message.message).toContain(`ACTION NEEDED: Provisioned Throughput ${pt} (${provisionedModelNameFor(run)}) could not be deleted`);
    expect(message.message).toContain(`aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${pt}`);
    expect(aws.logLines().filter((l) => l.runId === run.runId && l._aws !== undefined)).toEqual([expect.objectContaining({ UndeletedProvisionedThroughputs: 1, Environment: 'test' })]);
    expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(pt);
    // Each attempt of the deletion was retried before giving up.
    expect(aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.resources.includes(pt)).length).toBeGreaterThanOrEqual(5);
  }, 60_000);
});
