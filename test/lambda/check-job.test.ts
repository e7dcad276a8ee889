/**
 * The check-job handler against LocalBedrock and LocalS3 with the real SDK clients: a job that
 * ended without a failure message from Bedrock still reports one, so the state machine can
 * always format the run's error.
 */
import { handler } from '../../lambda/check-job';
import { RunJob } from '../../lambda/shared/run-record';
import { jobWaitKey } from '../../lambda/shared/job-wait';
import { BedrockClient, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { ARTIFACTS, HandlerAws, createJob, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

describe('check-job handler', () => {
  let aws: HandlerAws;

  beforeAll(async () => {
    aws = await startHandlerAws({ JOB_WAITS_BUCKET: ARTIFACTS });
    aws.bedrock.setJobScenario({ afterPolls: 'manual', stopAfterPolls: 0 });
  });
  afterAll(async () => aws?.stop());

  async function trainingRun(name: string) {
    const run = runContext(name);
    const jobArn = await createJob(`${run.runId}-job`, run);
    const job: RunJob = { jobArn, jobName: `${run.runId}-job`, customModelName: 'm', status: 'InProgress', outputS3Uri: `s3://x/${run.artifacts.prefix}bedrock-output/`, hyperParameters: {} };
    storeRecord(aws, runningRecord(run, { job }));
    return { run, job };
  }

  test('a job stopped outside the workflow: the status is Stopped and the message says it was stopped', async () => {
    const { run, job } = await trainingRun('check-stopped');
    const bedrock = new BedrockClient({});
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    bedrock.destroy();
    const checked = await handler({ run, job });
    expect(checked).toMatchObject({ status: 'Stopped', failureMessage: 'the job was stopped' });
    expect(storedRecord(aws, run).job).toMatchObject({ status: 'Stopped', failureMessage: 'the job was stopped' });
  });

  test("the job's end ends its wait: the run's own task token is deleted; another execution's, or a running job's, is kept", async () => {
    const { run, job } = await trainingRun('check-token');
    const key = jobWaitKey(job.jobArn);
    const token = (executionArn: string) => JSON.stringify({ jobArn: job.jobArn, taskToken: 't', executionArn, runId: run.runId, registeredAt: new Date().toISOString() });
    aws.s3.putObject(ARTIFACTS, key, token(run.executionArn));
    await handler({ run, job });
    expect(aws.s3.getObject(ARTIFACTS, key)).toBeDefined(); // still training
    aws.s3.putObject(ARTIFACTS, key, token('arn:aws:states:us-west-2:111122223333:execution:M:someone-else'));
    aws.bedrock.completeJob(job.jobArn);
    await handler({ run, job });
    expect(aws.s3.getObject(ARTIFACTS, key)).toBeDefined(); // a duplicate execution's wait is not ours to end
    aws.s3.putObject(ARTIFACTS, key, token(run.executionArn));
    await handler({ run, job: { ...job, status: 'Completed' } });
    expect(aws.s3.getObject(ARTIFACTS, key)).toBeUndefined();
    await handler({ run, job: { ...job, status: 'Completed' } }); // again, with nothing stored: harmless
  });

  test('a job that failed without a message (or a blank one): the message says Bedrock gave none', async () => {
    const { run, job } = await trainingRun('check-failed-blank');
    aws.bedrock.failJob(job.jobArn, '  ');
    expect(await handler({ run, job })).toMatchObject({ status: 'Failed', failureMessage: 'Bedrock gave no failure message' });
  });

  test('Bedrock\'s own message wins; a running job has none', async () => {
    const { run, job } = await trainingRun('check-failed-message');
    expect((await handler({ run, job })).failureMessage).toBeUndefined();
    aws.bedrock.failJob(job.jobArn, 'Training data line 3 is not valid JSON.');
    expect((await handler({ run, job })).failureMessage).toBe('Training data line 3 is not valid JSON.');
  });

  test('a throttled or failing check keeps the last known status and counts the streak; a good check ends it', async () => {
    const { run, job } = await trainingRun('check-throttled');
    const before = JSON.stringify(storedRecord(aws, run));
    // Each check is one SDK call with its own retries (3 attempts): 3 faults fail one check.
    aws.bedrock.throttleNext(3, { operation: 'GetModelCustomizationJob' });
    const first = await handler({ run, job });
    expect(first).toMatchObject({ status: 'InProgress', watchErrors: { count: 1, since: expect.any(String), lastError: expect.stringContaining('ThrottlingException') } });
    aws.bedrock.internalErrorNext(3, { operation: 'GetModelCustomizationJob' });
    const second = await handler({ run, job: first });
    expect(second.watchErrors).toMatchObject({ count: 2, since: first.watchErrors!.since, lastError: expect.stringContaining('InternalServerException') });
    // Nothing was written while the job could not be seen.
    expect(JSON.stringify(storedRecord(aws, run))).toBe(before);
    const third = await handler({ run, job: second });
    expect(third.status).toBe('InProgress');
    expect(third.watchErrors).toBeUndefined();
  });

  test('past jobWatchErrorBudget the check fails with JobWatchErrorBudgetExceeded, naming the setting', async () => {
    const { run, job } = await trainingRun('check-budget');
    process.env.JOB_WATCH_ERROR_BUDGET_SECONDS = '3600';
    try {
      const since = new Date(Date.now() - 3601_000).toISOString();
      aws.bedrock.injectError(3, 'ServiceUnavailableException', { operation: 'GetModelCustomizationJob' });
      const error = await handler({ run, job: { ...job, watchErrors: { since, count: 12, lastError: 'ThrottlingException: Rate exceeded' } } }).catch((err: Error) => err);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).name).toBe('JobWatchErrorBudgetExceeded');
      expect((error as Error).message).toContain(`Could not check the customization job ${job.jobArn} for 1 h (13 failed checks since ${since}`);
      expect((error as Error).message).toContain('jobWatchErrorBudget');
      expect((error as Error).message).toContain('jobWatchErrorBudgetHours');
      // Within the budget the same streak is still waited out.
      aws.bedrock.injectError(3, 'ServiceUnavailableException', { operation: 'GetModelCustomizationJob' });
      const recent = new Date(Date.now() - 60_000).toISOString();
      expect((await handler({ run, job: { ...job, watchErrors: { since: recent, count: 1, lastError: 'x' } } })).watchErrors?.count).toBe(2);
    } finally {
      delete process.env.JOB_WATCH_ERROR_BUDGET_SECONDS;
    }
  });

  test('an error that is the caller\'s (access denied) fails the check at once', async () => {
    const { run, job } = await trainingRun('check-denied');
    aws.bedrock.injectError(1, 'AccessDeniedException', { operation: 'GetModelCustomizationJob' });
    await expect(handler({ run, job })).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
