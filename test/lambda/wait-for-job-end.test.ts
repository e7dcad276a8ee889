/**
 * The wait-for-job-end handler (WaitForJobEnd's function: the registration and the safety poll)
 * against LocalS3, LocalBedrock and LocalStepFunctions with the real SDK clients.
 */
import { handler } from '../../lambda/wait-for-job-end';
import { jobWaitKey, parseJobWaitRecord } from '../../lambda/shared/job-wait';
import { ARTIFACTS, HandlerAws, createJob, drawJitterAsZero, runContext, startHandlerAws } from './handler-fixtures';

describe('wait-for-job-end handler', () => {
  let aws: HandlerAws;
  const owner = { stateMachineArn: 'arn:aws:states:us-west-2:111122223333:stateMachine:M', stateName: 'WaitForJobEnd' };

  let noJitter: jest.SpyInstance;

  beforeAll(async () => {
    aws = await startHandlerAws({ JOB_WAITS_BUCKET: ARTIFACTS, JOB_WATCH_ERROR_BUDGET_SECONDS: '3600' });
    aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    // The SDK's retries of the throttled checks below.
    noJitter = drawJitterAsZero();
  });
  afterAll(async () => {
    noJitter?.mockRestore();
    await aws?.stop();
  });

  async function waitingRun(name: string) {
    const run = runContext(name);
    const jobArn = await createJob(`${run.runId}-job`, run);
    const executionArn = `arn:aws:states:us-west-2:111122223333:execution:M:${name}`;
    const issue = () => aws.stepFunctions.issueTaskToken({ ...owner, executionArn });
    const event = (token: string) => ({ runId: run.runId, executionArn, jobArn, jobStatus: 'InProgress', taskToken: token });
    const stored = () => parseJobWaitRecord(aws.s3.getObject(ARTIFACTS, jobWaitKey(jobArn))!.toString())!;
    return { jobArn, issue, event, stored };
  }

  test('stores the token under job-waits/<job id>.json and leaves a training job to its event', async () => {
    const { jobArn, issue, event, stored } = await waitingRun('wait-training');
    const token = issue();
    expect(await handler(event(token.token))).toEqual({ registered: true, jobStatus: 'InProgress' });
    expect(stored()).toMatchObject({ jobArn, taskToken: token.token });
    expect(aws.stepFunctions.isWaiting(token.token)).toBe(true);
  });

  test('a job that already ended resumes the run itself', async () => {
    const { jobArn, issue, event } = await waitingRun('wait-ended');
    aws.bedrock.failJob(jobArn, 'bad data');
    const token = issue();
    expect(await handler(event(token.token))).toEqual({ registered: true, jobStatus: 'Failed' });
    await expect(token.outcome).resolves.toMatchObject({ kind: 'success', output: { wokenBy: 'registration', jobStatus: 'Failed' } });
    // A second round for the same ended job (its event resumed the run meanwhile) is harmless.
    token.close();
    const late = issue();
    late.close();
    expect(await handler(event(late.token))).toEqual({ registered: true, jobStatus: 'Failed' });
  });

  test('failed checks are a streak kept across rounds; a good check ends it; past the budget the step fails', async () => {
    const { jobArn, issue, event, stored } = await waitingRun('wait-streak');
    aws.bedrock.throttleNext(3, { operation: 'GetModelCustomizationJob' });
    expect(await handler(event(issue().token))).toEqual({ registered: true });
    expect(stored().watchErrors).toMatchObject({ count: 1, lastError: expect.stringContaining('ThrottlingException') });
    aws.bedrock.internalErrorNext(3, { operation: 'GetModelCustomizationJob' });
    await handler(event(issue().token));
    expect(stored().watchErrors).toMatchObject({ count: 2 });
    await handler(event(issue().token));
    expect(stored().watchErrors).toBeUndefined();

    // A streak older than the budget (1 h here) fails the step, naming the setting.
    const since = new Date(Date.now() - 3601_000).toISOString();
    aws.s3.putObject(ARTIFACTS, jobWaitKey(jobArn), JSON.stringify({ ...stored(), watchErrors: { since, count: 5, lastError: 'ThrottlingException: Rate exceeded' } }));
    aws.bedrock.injectError(3, 'ServiceUnavailableException', { operation: 'GetModelCustomizationJob' });
    await expect(handler(event(issue().token))).rejects.toMatchObject({ name: 'JobWatchErrorBudgetExceeded', message: expect.stringContaining(`6 failed checks since ${since}`) });
  });

  test('a wait ended while its round was checking the job (resumed by the event, token deleted) is not brought back by the round\'s rewrite', async () => {
    const { jobArn, issue, event, stored } = await waitingRun('wait-ended-meanwhile');
    aws.bedrock.throttleNext(3, { operation: 'GetModelCustomizationJob' });
    await handler(event(issue().token));
    expect(stored().watchErrors).toMatchObject({ count: 1 });
    // Next round: its check is throttled, and slow; meanwhile CheckJob (woken by the event) deletes the token.
    aws.bedrock.throttleNext(3, { operation: 'GetModelCustomizationJob' });
    aws.bedrock.setLatency(400);
    const round = issue();
    const registration = handler(event(round.token));
    try {
      for (let i = 0; i < 100 && !(aws.s3.getObject(ARTIFACTS, jobWaitKey(jobArn))?.toString().includes(round.token) ?? false); i++) await new Promise((r) => setTimeout(r, 10));
      expect(stored().taskToken).toBe(round.token);
      aws.s3.deleteObject(ARTIFACTS, jobWaitKey(jobArn));
    } finally {
      await registration.catch(() => undefined);
      aws.bedrock.setLatency(0);
    }
    await expect(registration).resolves.toEqual({ registered: true });
    expect(aws.s3.getObject(ARTIFACTS, jobWaitKey(jobArn))).toBeUndefined();
  });

  test("an error that is the caller's (access denied) fails the step at once", async () => {
    const { issue, event } = await waitingRun('wait-denied');
    aws.bedrock.injectError(1, 'AccessDeniedException', { operation: 'GetModelCustomizationJob' });
    await expect(handler(event(issue().token))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
