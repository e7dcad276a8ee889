/**
 * LocalBedrock driven by the real @aws-sdk/client-bedrock: input rules, idempotency, the
 * scripted job lifecycle, the files a completed job writes, Provisioned Throughput, injected
 * faults and the call log.
 */
import {
  AccessDeniedException,
  BedrockClient,
  BedrockServiceException,
  ConflictException,
  CreateModelCustomizationJobCommand,
  CreateModelCustomizationJobCommandInput,
  CreateProvisionedModelThroughputCommand,
  DeleteProvisionedModelThroughputCommand,
  GetCustomModelCommand,
  GetModelCustomizationJobCommand,
  GetProvisionedModelThroughputCommand,
  InternalServerException,
  ListModelCustomizationJobsCommand,
  ListProvisionedModelThroughputsCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  StopModelCustomizationJobCommand,
  TagResourceCommand,
  ThrottlingException,
  TooManyTagsException,
  ValidationException,
} from '@aws-sdk/client-bedrock';
import { JobStateChangeEvent, LocalBedrock, MAX_TAGS_PER_RESOURCE } from '../support/local-bedrock';
import { LocalS3 } from '../support/local-s3';
import { fastRetries } from '../support/stand-ins/fast-retries';

const ROLE = 'arn:aws:iam::111122223333:role/llama-finetune-bedrock';
const BASE_MODEL = 'meta.llama3-2-11b-instruct-v1:0:128k';

async function rejectionOf(promise: Promise<unknown>): Promise<BedrockServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as BedrockServiceException;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** JSONL with `count` conversation records; every record may reference an image. */
function dataset(count: number, imageUri?: string): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: `question ${i}` }, ...(imageUri ? [{ image: { format: 'png', source: { s3Location: { uri: imageUri } } } }] : [])] },
        { role: 'assistant', content: [{ text: `answer ${i}` }] },
      ],
    }),
  ).join('\n');
}

function csvRows(csv: string): string[][] {
  return csv.trim().split('\n').map((line) => line.split(','));
}

describe('LocalBedrock with the AWS SDK', () => {
  let s3: LocalS3;
  let bedrock: LocalBedrock;
  let client: BedrockClient;
  let jobCounter = 0;

  const newClient = (maxAttempts = 3) =>
    new BedrockClient({ endpoint: bedrock.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'AKIDLAUNCHER', secretAccessKey: 'test' }, retryStrategy: fastRetries(maxAttempts) });

  /** A valid request with unique names; `overrides` replace members. */
  const jobInput = (overrides: Partial<CreateModelCustomizationJobCommandInput> = {}): CreateModelCustomizationJobCommandInput => {
    jobCounter += 1;
    return {
      jobName: `ft-job-${jobCounter}`,
      customModelName: `ft-model-${jobCounter}`,
      roleArn: ROLE,
      baseModelIdentifier: BASE_MODEL,
      trainingDataConfig: { s3Uri: 's3://ft-data/train/train.jsonl' },
      outputDataConfig: { s3Uri: 's3://ft-output/runs/' },
      hyperParameters: { epochCount: '2', batchSize: '1', learningRate: '0.00005' },
      ...overrides,
    };
  };

  const poll = (jobIdentifier: string) => client.send(new GetModelCustomizationJobCommand({ jobIdentifier }));

  beforeAll(async () => {
    s3 = await LocalS3.start();
    bedrock = await LocalBedrock.start({ s3 });
    client = newClient();
    s3.createBucket('ft-data');
    s3.createBucket('ft-output');
    s3.createBucket('ft-images');
    s3.putObject('ft-data', 'train/train.jsonl', dataset(120));
    s3.putObject('ft-data', 'validation/validation.jsonl', dataset(30));
    s3.putObject('ft-images', 'charts/1.png', Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  });

  afterAll(async () => {
    client.destroy();
    await bedrock.stop();
    await s3.stop();
  });

  beforeEach(() => {
    bedrock.scenario = { job: {}, jobsByName: {}, provisionedThroughput: {} };
    bedrock.clearFaults();
    bedrock.setAuthorizer(undefined);
    s3.setAuthorizer(undefined);
    bedrock.callLog.clear();
  });

  describe('CreateModelCustomizationJob input rules', () => {
    it.each<[string, Partial<CreateModelCustomizationJobCommandInput>, RegExp]>([
      ['a jobName with a space', { jobName: 'my job' }, /at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern/],
      ['a jobName starting with a hyphen', { jobName: '-job' }, /'jobName'/],
      ['a 64-character jobName', { jobName: 'j'.repeat(64) }, /at 'jobName' failed to satisfy constraint: Member must have length less than or equal to 63/],
      ['a customModelName with a dot', { customModelName: 'model.v1' }, /at 'customModelName' failed to satisfy constraint/],
      ['a customModelName with two underscores in a row', { customModelName: 'model__v1' }, /'customModelName'/],
      ['a roleArn that is not an IAM role', { roleArn: 'arn:aws:iam::111122223333:user/alice' }, /at 'roleArn'/],
      ['an S3 URI with upper-case bucket', { trainingDataConfig: { s3Uri: 's3://FT-Data/train.jsonl' } }, /at 'trainingDataConfig.s3Uri'/],
      ['an S3 URI with a space in the key', { outputDataConfig: { s3Uri: 's3://ft-output/my runs/' } }, /at 'outputDataConfig.s3Uri'/],
      ['more than 10 validators', { validationDataConfig: { validators: Array.from({ length: 11 }, () => ({ s3Uri: 's3://ft-data/v.jsonl' })) } }, /validationDataConfig.validators/],
      ['a model that cannot be customized', { baseModelIdentifier: 'anthropic.claude-3-haiku-20240307-v1:0' }, /model identifier is invalid/],
      ['the base model without the :128k suffix', { baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0' }, /context-length suffix/],
      ['epochCount above 10', { hyperParameters: { epochCount: '11' } }, /epochCount must be between 1 and 10/],
      ['batchSize 2', { hyperParameters: { batchSize: '2' } }, /batchSize/],
      ['learningRate above 0.1', { hyperParameters: { learningRate: '0.5' } }, /learningRate must be between/],
      ['Nova-only learningRateWarmupSteps', { hyperParameters: { learningRateWarmupSteps: '10' } }, /learningRateWarmupSteps.*Nova/],
      ['continued pre-training', { customizationType: 'CONTINUED_PRE_TRAINING' }, /FINE_TUNING only/],
    ])('rejects %s with ValidationException', async (_label, overrides, message) => {
      const err = await rejectionOf(client.send(new CreateModelCustomizationJobCommand(jobInput(overrides))));
      expect(err).toBeInstanceOf(ValidationException);
      expect(err.$metadata.httpStatusCode).toBe(400);
      expect(err.message).toMatch(message);
    });

    it('reports every broken member at once, as AWS does', async () => {
      const err = await rejectionOf(client.send(new CreateModelCustomizationJobCommand(jobInput({ jobName: 'bad name', customModelName: 'bad name' }))));
      expect(err.message).toMatch(/^2 validation errors detected: /);
    });

    it('accepts the foundation-model ARN of a catalogue model and fills in default hyperparameters', async () => {
      const input = jobInput({ baseModelIdentifier: `arn:aws:bedrock:us-west-2::foundation-model/${BASE_MODEL}`, hyperParameters: {} });
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
      const job = await poll(jobArn!);
      expect(job.baseModelArn).toBe(`arn:aws:bedrock:us-west-2::foundation-model/${BASE_MODEL}`);
      expect(job.hyperParameters).toEqual({ epochCount: '5', batchSize: '1', learningRate: '0.0001' });
    });
  });

  describe('idempotency and uniqueness', () => {
    it('returns the same job for a repeated clientRequestToken without creating a second one', async () => {
      const input = jobInput({ clientRequestToken: 'launch-run-42' });
      const before = bedrock.jobs().length;
      const first = await client.send(new CreateModelCustomizationJobCommand(input));
      const second = await client.send(new CreateModelCustomizationJobCommand(input));
      expect(second.jobArn).toBe(first.jobArn);
      expect(bedrock.jobs().length).toBe(before + 1);
    });

    it('refuses a reused token with a different request (ConflictException)', async () => {
      const input = jobInput({ clientRequestToken: 'launch-run-43' });
      await client.send(new CreateModelCustomizationJobCommand(input));
      const err = await rejectionOf(client.send(new CreateModelCustomizationJobCommand({ ...input, jobName: `${input.jobName}-b` })));
      expect(err).toBeInstanceOf(ConflictException);
    });

    it('refuses a job name that is already used (ValidationException, as Bedrock answers)', async () => {
      const input = jobInput();
      await client.send(new CreateModelCustomizationJobCommand(input));
      const err = await rejectionOf(client.send(new CreateModelCustomizationJobCommand({ ...input, customModelName: `${input.customModelName}-b` })));
      expect(err).toBeInstanceOf(ValidationException);
      expect(err.message).toMatch(/job name is currently in use/);
    });

    it('can answer a duplicate job name with ConflictException instead', async () => {
      const conflicting = await LocalBedrock.start({ duplicateJobNameError: 'ConflictException' });
      const other = new BedrockClient({ endpoint: conflicting.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 1 });
      try {
        const input = jobInput();
        await other.send(new CreateModelCustomizationJobCommand(input));
        const err = await rejectionOf(other.send(new CreateModelCustomizationJobCommand({ ...input, customModelName: 'another-model' })));
        expect(err).toBeInstanceOf(ConflictException);
      } finally {
        other.destroy();
        await conflicting.stop();
      }
    });
  });

  describe('job lifecycle', () => {
    it('stays InProgress for afterPolls polls, then completes with a custom model', async () => {
      bedrock.scenario.job = { outcome: 'Completed', afterPolls: 3 };
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      const statuses: string[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await poll(jobArn!)).status!);
      expect(statuses).toEqual(['InProgress', 'InProgress', 'InProgress', 'Completed', 'Completed']);

      const job = await poll(jobArn!);
      expect(job.outputModelArn).toMatch(/^arn:aws:bedrock:us-west-2:111122223333:custom-model\//);
      expect(job.endTime).toBeInstanceOf(Date);
      expect(job.trainingMetrics?.trainingLoss).toBeGreaterThan(0);
      const model = await client.send(new GetCustomModelCommand({ modelIdentifier: job.outputModelArn! }));
      expect(model.modelName).toBe(job.outputModelName);
      expect(model.jobArn).toBe(jobArn);
      expect(bedrock.customModels().map((m) => m.modelArn)).toContain(job.outputModelArn);
    });

    it('writes step-wise training metrics with one row per step and a falling loss', async () => {
      bedrock.scenario.job = { afterPolls: 0 };
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ hyperParameters: { epochCount: '3' } })));
      await poll(jobArn!);
      const view = bedrock.job(jobArn!)!;
      const key = `runs/model-customization-job-${view.jobId}/training_artifacts/step_wise_training_metrics.csv`;
      const rows = csvRows(s3.getObject('ft-output', key)!.toString());
      expect(rows[0]).toEqual(['step_number', 'epoch_number', 'training_loss', 'perplexity']);
      const data = rows.slice(1).map((r) => r.map(Number));
      // 120 training records, batch size 1, 3 epochs.
      expect(data).toHaveLength(360);
      expect(data[0].slice(0, 2)).toEqual([1, 1]);
      expect(data[359].slice(0, 2)).toEqual([360, 3]);
      expect(data[359][2]).toBeLessThan(data[0][2] / 2);
      data.forEach(([, , loss, perplexity]) => expect(perplexity).toBeCloseTo(Math.exp(loss), 2));
      expect(s3.listKeys('ft-output', `runs/model-customization-job-${view.jobId}/validation_artifacts/`)).toEqual([]);
    });

    it('writes validation metrics (one row per epoch) when validation data is given', async () => {
      bedrock.scenario.job = { afterPolls: 0 };
      const input = jobInput({ validationDataConfig: { validators: [{ s3Uri: 's3://ft-data/validation/validation.jsonl' }] } });
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
      const job = await poll(jobArn!);
      const view = bedrock.job(jobArn!)!;
      const csv = s3.getObject('ft-output', `runs/model-customization-job-${view.jobId}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`)!.toString();
      const rows = csvRows(csv);
      expect(rows[0]).toEqual(['step_number', 'epoch_number', 'validation_loss', 'perplexity']);
      expect(rows.slice(1).map((r) => Number(r[1]))).toEqual([1, 2]);
      expect(job.validationMetrics).toEqual([{ validationLoss: Number(rows[2][2]) }]);
    });

    it('fails with the scenario message', async () => {
      bedrock.setJobScenario({ outcome: 'Failed', afterPolls: 1, failureMessage: 'Out of capacity in us-west-2.' });
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      expect((await poll(jobArn!)).status).toBe('InProgress');
      const failed = await poll(jobArn!);
      expect(failed.status).toBe('Failed');
      expect(failed.failureMessage).toBe('Out of capacity in us-west-2.');
      expect(failed.outputModelArn).toBeUndefined();
    });

    it('applies a scenario to one job name only', async () => {
      const doomed = jobInput();
      bedrock.setJobScenario({ afterPolls: 0 });
      bedrock.setJobScenario({ outcome: 'Failed' }, { jobName: doomed.jobName });
      const a = await client.send(new CreateModelCustomizationJobCommand(doomed));
      const b = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      expect((await poll(a.jobArn!)).status).toBe('Failed');
      expect((await poll(b.jobArn!)).status).toBe('Completed');
    });

    it('waits for completeJob / failJob when afterPolls is manual', async () => {
      bedrock.scenario.job = { afterPolls: 'manual' };
      const one = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      const two = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      for (let i = 0; i < 4; i++) expect((await poll(one.jobArn!)).status).toBe('InProgress');
      bedrock.completeJob(one.jobArn!);
      bedrock.failJob(two.jobArn!, 'Stopped by the test.');
      expect((await poll(one.jobArn!)).status).toBe('Completed');
      expect(await poll(two.jobArn!)).toMatchObject({ status: 'Failed', failureMessage: 'Stopped by the test.' });
    });

    it('stops: InProgress -> Stopping -> Stopped, and refuses to stop a finished job', async () => {
      bedrock.scenario.job = { afterPolls: 'manual', stopAfterPolls: 1 };
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      await client.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn }));
      expect((await poll(jobArn!)).status).toBe('Stopping');
      expect((await poll(jobArn!)).status).toBe('Stopped');
      const err = await rejectionOf(client.send(new StopModelCustomizationJobCommand({ jobIdentifier: jobArn })));
      expect(err).toBeInstanceOf(ConflictException);
    });

    it('finds jobs by name as well as ARN, and answers ResourceNotFoundException otherwise', async () => {
      const input = jobInput();
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
      expect((await poll(input.jobName!)).jobArn).toBe(jobArn);
      expect(await rejectionOf(poll('no-such-job'))).toBeInstanceOf(ResourceNotFoundException);
    });

    it('sends a state-change event for every status change', async () => {
      bedrock.scenario.job = { afterPolls: 0 };
      const events: JobStateChangeEvent[] = [];
      const unsubscribe = bedrock.onJobStateChange((e) => events.push(e));
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      const job = await poll(jobArn!);
      unsubscribe();
      expect(events.map((e) => e.detail.jobStatus)).toEqual(['InProgress', 'Completed']);
      expect(events[1]).toMatchObject({ source: 'aws.bedrock', 'detail-type': 'Model Customization Job State Change', detail: { jobArn, outputModelArn: job.outputModelArn } });
    });
  });

  describe('data checks a completing job makes', () => {
    beforeEach(() => {
      bedrock.scenario.job = { afterPolls: 0 };
    });

    it('fails when the training file does not exist', async () => {
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: 's3://ft-data/train/missing.jsonl' } })));
      const job = await poll(jobArn!);
      expect(job.status).toBe('Failed');
      expect(job.failureMessage).toContain('s3://ft-data/train/missing.jsonl');
      expect(job.statusDetails?.validationDetails?.status).toBe('Failed');
    });

    it('fails when a referenced image does not exist, naming the line', async () => {
      s3.putObject('ft-data', 'img/train.jsonl', dataset(110, 's3://ft-images/charts/404.png'));
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: 's3://ft-data/img/train.jsonl' } })));
      const job = await poll(jobArn!);
      expect(job.status).toBe('Failed');
      expect(job.failureMessage).toMatch(/s3:\/\/ft-images\/charts\/404\.png.*line 1/);
    });

    it('reads every referenced image as the service role', async () => {
      s3.putObject('ft-data', 'img-ok/train.jsonl', dataset(100, 's3://ft-images/charts/1.png'));
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: 's3://ft-data/img-ok/train.jsonl' } })));
      expect((await poll(jobArn!)).status).toBe('Completed');
      expect(bedrock.callLog.count({ principal: ROLE, action: 's3:GetObject' })).toBe(101);
    });

    it('fails with fewer than 100 records in total', async () => {
      s3.putObject('ft-data', 'small/train.jsonl', dataset(60));
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: 's3://ft-data/small/train.jsonl' } })));
      const job = await poll(jobArn!);
      expect(job.status).toBe('Failed');
      expect(job.failureMessage).toMatch(/60 records/);
    });

    it('fails when the service role may not read the training data', async () => {
      s3.setAuthorizer(({ principal, action }) => !(principal === ROLE && action === 's3:GetObject'));
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      const job = await poll(jobArn!);
      expect(job.status).toBe('Failed');
      expect(job.failureMessage).toMatch(/not allowed s3:GetObject/);
    });

    it('skips the checks when the scenario says so', async () => {
      bedrock.scenario.job = { afterPolls: 0, checkData: false, stepsPerEpoch: 4 };
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: 's3://ft-data/not/there.jsonl' }, hyperParameters: { epochCount: '2' } })));
      expect((await poll(jobArn!)).status).toBe('Completed');
      const view = bedrock.job(jobArn!)!;
      const csv = s3.getObject('ft-output', `runs/model-customization-job-${view.jobId}/training_artifacts/step_wise_training_metrics.csv`)!.toString();
      expect(csvRows(csv)).toHaveLength(1 + 2 * 4);
    });
  });

  describe('listing', () => {
    it('filters by status and name and pages with nextToken', async () => {
      bedrock.scenario.job = { afterPolls: 'manual' };
      const names = [jobInput({ jobName: 'listing-alpha-1' }), jobInput({ jobName: 'listing-alpha-2' }), jobInput({ jobName: 'listing-beta-1' })];
      for (const input of names) await client.send(new CreateModelCustomizationJobCommand(input));
      bedrock.completeJob('listing-alpha-2');

      const alpha = await client.send(new ListModelCustomizationJobsCommand({ nameContains: 'listing-alpha' }));
      expect(alpha.modelCustomizationJobSummaries?.map((j) => j.jobName).sort()).toEqual(['listing-alpha-1', 'listing-alpha-2']);
      const completed = await client.send(new ListModelCustomizationJobsCommand({ nameContains: 'listing-', statusEquals: 'Completed' }));
      expect(completed.modelCustomizationJobSummaries?.map((j) => j.jobName)).toEqual(['listing-alpha-2']);

      const seen: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(new ListModelCustomizationJobsCommand({ nameContains: 'listing-', maxResults: 2, nextToken }));
        seen.push(...page.modelCustomizationJobSummaries!.map((j) => j.jobName!));
        nextToken = page.nextToken;
      } while (nextToken);
      expect(seen.sort()).toEqual(['listing-alpha-1', 'listing-alpha-2', 'listing-beta-1']);
    });
  });

  describe('fault injection', () => {
    it('throttles: the SDK retries, and raises ThrottlingException when attempts run out', async () => {
      bedrock.throttleNext(2, { operation: 'GetModelCustomizationJob' });
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      const ok = await poll(jobArn!);
      expect(ok.$metadata.attempts).toBe(3);

      bedrock.throttleNext(3);
      const err = await rejectionOf(poll(jobArn!));
      expect(err).toBeInstanceOf(ThrottlingException);
      expect(err.$metadata.httpStatusCode).toBe(429);
      expect(err.$metadata.attempts).toBe(3);
    });

    it('answers ServiceQuotaExceededException to every create while the quota is exhausted', async () => {
      bedrock.quotaExceeded({ times: 'forever' });
      for (let i = 0; i < 2; i++) {
        const err = await rejectionOf(client.send(new CreateModelCustomizationJobCommand(jobInput())));
        expect(err).toBeInstanceOf(ServiceQuotaExceededException);
        expect(err.$metadata.attempts).toBe(1);
      }
      await expect(client.send(new ListModelCustomizationJobsCommand({}))).resolves.toBeDefined();
    });

    it('enforces a concurrent-job quota', async () => {
      bedrock.scenario = { job: { afterPolls: 'manual' }, jobsByName: {}, provisionedThroughput: {}, maxConcurrentJobs: bedrock.jobs().filter((j) => j.status === 'InProgress').length + 1 };
      await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      expect(await rejectionOf(client.send(new CreateModelCustomizationJobCommand(jobInput())))).toBeInstanceOf(ServiceQuotaExceededException);
    });

    it('answers InternalServerException (500), which the SDK retries', async () => {
      const single = newClient(1);
      bedrock.internalErrorNext(1);
      const err = await rejectionOf(single.send(new ListModelCustomizationJobsCommand({})));
      expect(err).toBeInstanceOf(InternalServerException);
      expect(err.$metadata.httpStatusCode).toBe(500);
      bedrock.internalErrorNext(1);
      expect((await client.send(new ListModelCustomizationJobsCommand({}))).$metadata.attempts).toBe(2);
      single.destroy();
    });
  });

  describe('Provisioned Throughput', () => {
    let customModelArn: string;

    beforeAll(async () => {
      bedrock.scenario.job = { afterPolls: 0 };
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput()));
      customModelArn = (await poll(jobArn!)).outputModelArn!;
    });

    it('goes Creating -> InService, has no commitment when none is asked, and is gone after delete', async () => {
      const { provisionedModelArn } = await client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-1', modelId: customModelArn }));
      const get = () => client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
      const first = await get();
      expect(first.status).toBe('Creating');
      expect(first.commitmentDuration).toBeUndefined();
      expect(first.commitmentExpirationTime).toBeUndefined();
      expect(first.modelArn).toBe(customModelArn);
      expect(first.foundationModelArn).toBe(`arn:aws:bedrock:us-west-2::foundation-model/${BASE_MODEL}`);
      expect((await get()).status).toBe('InService');
      expect(bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(provisionedModelArn);

      await client.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
      expect(bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).not.toContain(provisionedModelArn);
      expect(bedrock.allProvisionedThroughputs().find((p) => p.provisionedModelArn === provisionedModelArn)?.deletedTime).toBeInstanceOf(Date);
      expect(await rejectionOf(get())).toBeInstanceOf(ResourceNotFoundException);
    });

    it('records a commitment when one is asked for', async () => {
      const { provisionedModelArn } = await client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-2', modelId: customModelArn, commitmentDuration: 'OneMonth' }));
      const pt = await client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
      expect(pt.commitmentDuration).toBe('OneMonth');
      expect(pt.commitmentExpirationTime!.getTime()).toBeGreaterThan(Date.now());
      await client.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: 'eval-pt-2' }));
    });

    it('fails by scenario, and refuses unknown models, bad units and duplicate names', async () => {
      bedrock.setProvisionedThroughputScenario({ outcome: 'Failed', afterPolls: 0, failureMessage: 'No capacity.' });
      const { provisionedModelArn } = await client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-3', modelId: customModelArn }));
      expect(await client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }))).toMatchObject({ status: 'Failed', failureMessage: 'No capacity.' });
      const missing = `arn:aws:bedrock:us-west-2:111122223333:custom-model/${BASE_MODEL}/aaaaaaaaaaaa`;
      expect(await rejectionOf(client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-4', modelId: missing })))).toBeInstanceOf(ResourceNotFoundException);
      expect(await rejectionOf(client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 0, provisionedModelName: 'eval-pt-5', modelId: customModelArn })))).toBeInstanceOf(ValidationException);
      expect(await rejectionOf(client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-3', modelId: customModelArn })))).toBeInstanceOf(ValidationException);
      await client.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
    });

    it('lists the live ones', async () => {
      const { provisionedModelArn } = await client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 2, provisionedModelName: 'eval-pt-6', modelId: customModelArn }));
      const listed = await client.send(new ListProvisionedModelThroughputsCommand({ nameContains: 'eval-pt-' }));
      expect(listed.provisionedModelSummaries?.map((p) => p.provisionedModelArn)).toEqual([provisionedModelArn]);
      expect(listed.provisionedModelSummaries?.[0].modelUnits).toBe(2);
      await client.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
    });

    it('answers ListTagsForResource with the tags given at creation, and ResourceNotFoundException once deleted', async () => {
      const tags = [{ key: 'llama-finetune:request', value: 's3://datasets/requests/r.json' }];
      const { provisionedModelArn } = await client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-7', modelId: customModelArn, tags }));
      expect((await client.send(new ListTagsForResourceCommand({ resourceARN: provisionedModelArn }))).tags).toEqual(tags);
      const untagged = await client.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'eval-pt-8', modelId: customModelArn }));
      expect((await client.send(new ListTagsForResourceCommand({ resourceARN: untagged.provisionedModelArn }))).tags).toEqual([]);
      for (const arn of [provisionedModelArn!, untagged.provisionedModelArn!]) await client.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }));
      expect(await rejectionOf(client.send(new ListTagsForResourceCommand({ resourceARN: provisionedModelArn })))).toBeInstanceOf(ResourceNotFoundException);
    });
  });

  describe('tags on jobs and custom models', () => {
    it('keeps jobTags on the job and customModelTags on the model it creates; TagResource adds and replaces', async () => {
      bedrock.scenario.job = { afterPolls: 0, checkData: false };
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ jobTags: [{ key: 'run', value: 'r1' }], customModelTags: [{ key: 'team', value: 'ml' }] })));
      expect((await client.send(new ListTagsForResourceCommand({ resourceARN: jobArn }))).tags).toEqual([{ key: 'run', value: 'r1' }]);
      await client.send(new TagResourceCommand({ resourceARN: jobArn, tags: [{ key: 'run', value: 'r2' }, { key: 'stage', value: 'eval' }] }));
      expect((await client.send(new ListTagsForResourceCommand({ resourceARN: jobArn }))).tags).toEqual([{ key: 'run', value: 'r2' }, { key: 'stage', value: 'eval' }]);
      const job = await poll(jobArn!);
      expect((await client.send(new ListTagsForResourceCommand({ resourceARN: job.outputModelArn }))).tags).toEqual([{ key: 'team', value: 'ml' }]);
      expect(bedrock.callLog.entries({ operation: 'TagResource' }).map((e) => [e.action, e.resources])).toEqual([['bedrock:TagResource', [jobArn]]]);
    });

    it('refuses unknown resources, a 51st tag and an empty key', async () => {
      const missing = 'arn:aws:bedrock:us-west-2:111122223333:model-customization-job/meta.llama3-2-1b-instruct-v1:0:128k/zzzzzzzzzzzz';
      expect(await rejectionOf(client.send(new TagResourceCommand({ resourceARN: missing, tags: [{ key: 'a', value: 'b' }] })))).toBeInstanceOf(ResourceNotFoundException);
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(jobInput({ jobTags: [{ key: 'k0', value: 'v' }] })));
      const fifty = Array.from({ length: MAX_TAGS_PER_RESOURCE }, (_, i) => ({ key: `k${i}`, value: 'v' }));
      await client.send(new TagResourceCommand({ resourceARN: jobArn, tags: fifty }));
      const tooMany = await rejectionOf(client.send(new TagResourceCommand({ resourceARN: jobArn, tags: [{ key: 'one-more', value: 'v' }] })));
      expect(tooMany).toBeInstanceOf(TooManyTagsException);
      expect(tooMany.message).toMatch(/50 tags per resource/);
      expect(await rejectionOf(client.send(new TagResourceCommand({ resourceARN: jobArn, tags: [{ key: '', value: 'v' }] })))).toBeInstanceOf(ValidationException);
      expect((await client.send(new ListTagsForResourceCommand({ resourceARN: jobArn }))).tags).toHaveLength(MAX_TAGS_PER_RESOURCE);
    });
  });

  describe('call log', () => {
    it('records the resources IAM evaluates, including iam:PassRole and the role\'s own S3 access', async () => {
      bedrock.scenario.job = { afterPolls: 0 };
      const input = jobInput({ jobTags: [{ key: 'run', value: 'r1' }] });
      const { jobArn } = await client.send(new CreateModelCustomizationJobCommand(input));
      const job = await poll(jobArn!);
      const created = bedrock.callLog.entries({ operation: 'CreateModelCustomizationJob' });
      expect(created.map((e) => [e.action, e.resources])).toEqual([
        ['bedrock:CreateModelCustomizationJob', [`arn:aws:bedrock:us-west-2::foundation-model/${BASE_MODEL}`, job.outputModelArn, jobArn]],
        ['iam:PassRole', [ROLE]],
        ['bedrock:TagResource', [jobArn]],
      ]);
      expect(created.every((e) => e.principal === 'AKIDLAUNCHER' && e.status === 201)).toBe(true);
      expect(bedrock.callLog.entries({ operation: 'GetModelCustomizationJob' })[0].resources).toEqual([jobArn]);
      expect(bedrock.callLog.actions({ principal: ROLE })).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
      expect(bedrock.callLog.entries({ principal: ROLE, action: 's3:PutObject' })[0].resources[0]).toMatch(/^arn:aws:s3:::ft-output\/runs\/model-customization-job-[a-z0-9]{12}\/training_artifacts\//);
    });

    it('denies through an authorizer: no iam:PassRole means AccessDeniedException and no job', async () => {
      bedrock.setAuthorizer(({ action }) => action !== 'iam:PassRole');
      const before = bedrock.jobs().length;
      const err = await rejectionOf(client.send(new CreateModelCustomizationJobCommand(jobInput())));
      expect(err).toBeInstanceOf(AccessDeniedException);
      expect(err.message).toContain(`iam:PassRole on resource: ${ROLE}`);
      expect(bedrock.jobs().length).toBe(before);
    });
  });
});
