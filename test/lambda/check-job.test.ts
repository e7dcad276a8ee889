/**
 * The check-job handler against LocalBedrock and LocalS3 with the real SDK clients: a job that
 * ended without a failure message from Bedrock still reports one, so the state machine can
 * always format the run's error.
 */
import { handler } from '../../lambda/check-job';
import { RunJob } from '../../lambda/shared/run-record';
import { BedrockClient, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { HandlerAws, createJob, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

describe('check-job handler', () => {
  let aws: HandlerAws;

  beforeAll(async () => {
    aws = await startHandlerAws();
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
});
