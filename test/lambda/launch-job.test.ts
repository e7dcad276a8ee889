/**
 * The launch-job handler against LocalS3 and LocalBedrock with the real SDK clients: a job
 * created after the run already ended (its cleanup recorded a timeout or abort) is stopped at
 * once and the step fails with RunEnded.
 */
import { BedrockClient, ListTagsForResourceCommand } from '@aws-sdk/client-bedrock';
import { handler } from '../../lambda/launch-job';
import { jobNameFor } from '../../lambda/shared/job-names';
import { CUSTOMIZATION_ROLE_ARN, HandlerAws, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

describe('launch-job handler', () => {
  let aws: HandlerAws;

  beforeAll(async () => {
    aws = await startHandlerAws({ CUSTOMIZATION_ROLE_ARN });
    aws.bedrock.setJobScenario({ afterPolls: 'manual' });
  });
  afterAll(async () => aws?.stop());
  afterEach(() => aws.bedrock.clearFaults());

  async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected the launch to fail');
  }

  test('a running run: the job is created and recorded, and keeps training', async () => {
    const run = runContext('launch-running');
    storeRecord(aws, runningRecord(run));
    const job = await handler({ run });
    expect(job).toMatchObject({ jobName: jobNameFor(run), status: 'InProgress' });
    expect(aws.bedrock.job(job.jobArn)!.status).toBe('InProgress');
    expect(storedRecord(aws, run).job?.jobArn).toBe(job.jobArn);
    expect(aws.callLog.count({ operation: 'StopModelCustomizationJob' })).toBe(0);
  });

  test('the job and the custom model it makes carry the deployment tag the retention sweep selects by', async () => {
    process.env.DEPLOYMENT_ID = 'Stack-Finetuning-Workflow-ABCD1234';
    try {
      const run = runContext('launch-tagged');
      // No training data is uploaded here: the job completes without Bedrock's data checks.
      aws.bedrock.setJobScenario({ checkData: false }, { jobName: jobNameFor(run) });
      storeRecord(aws, runningRecord(run));
      const job = await handler({ run });
      const modelArn = aws.bedrock.completeJob(job.jobArn).outputModelArn!;
      const bedrock = new BedrockClient({});
      const tagsOf = async (arn: string) => (await bedrock.send(new ListTagsForResourceCommand({ resourceARN: arn }))).tags;
      for (const arn of [job.jobArn, modelArn]) {
        expect(await tagsOf(arn)).toEqual(
          expect.arrayContaining([
            { key: 'llama-finetune:deployment', value: 'Stack-Finetuning-Workflow-ABCD1234' },
            { key: 'llama-finetune:run-id', value: run.runId },
          ]),
        );
      }
      bedrock.destroy();
    } finally {
      delete process.env.DEPLOYMENT_ID;
    }
  });

  test('the run ended while the job was being created: the job is stopped at once and the step fails with RunEnded', async () => {
    const run = runContext('launch-ended');
    storeRecord(aws, { ...runningRecord(run), status: 'TIMED_OUT' });
    const error = await rejection(handler({ run }));
    expect(error.name).toBe('RunEnded');
    const [job] = aws.bedrock.jobs().filter((j) => j.jobName === jobNameFor(run));
    expect(job.status).toBe('Stopping');
    expect(error.message).toBe(`Run ${run.runId} had already ended (TIMED_OUT) when its customization job ${job.jobArn} was created; the job has been stopped. Nothing to do: the run's outcome is in its record.`);
    const record = storedRecord(aws, run);
    expect(record.status).toBe('TIMED_OUT');
    expect(record.job).toMatchObject({ jobArn: job.jobArn, status: 'Stopping' });
    expect(record.timeline.map((t) => t.event)).toEqual(['run started', 'job created', 'job stopped: the run had ended']);
  });

  test('the cleanup stopped the job first: Bedrock\'s conflict is no error, the step still fails with RunEnded', async () => {
    const run = runContext('launch-ended-stopped');
    storeRecord(aws, { ...runningRecord(run), status: 'ABORTED' });
    aws.bedrock.injectError(1, 'ConflictException', { operation: 'StopModelCustomizationJob', message: 'Model customization job is Stopping and cannot be stopped.' });
    const error = await rejection(handler({ run }));
    expect(error.name).toBe('RunEnded');
    expect(aws.callLog.entries({ operation: 'StopModelCustomizationJob' }).some((e) => e.errorCode === 'ConflictException')).toBe(true);
  });
});
