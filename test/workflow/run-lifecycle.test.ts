import { Duration } from 'aws-cdk-lib';
import { CONFLICT_RETRY } from '../../lambda/shared/run-record';
import { emfDocuments, metricValues } from '../support/emf';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness, waitFor, ZERO_JITTER } from './harness';

/**
 * How a run holds up against AWS as it really behaves (issue 10), end to end and offline: the
 * synthesized state machine, the real handlers, the stand-ins. A notification SNS refuses, a
 * duplicate delivery that meets S3's 409 while the genuine run trains, and a throttling storm
 * on the job's status checks must each leave the genuine run with its result.
 */

const EVALUATION = { shardSize: 5, maxConcurrency: 2, provisioningPollInterval: Duration.minutes(1) };
/** A run name of the longest length allowed (40), which makes the full outcome subject 100 characters in `production-west`. */
const longName = (prefix: string) => prefix.padEnd(40, '0');
const trainingRequest = (name: string, trainingData = 'data/train.jsonl') => ({ name, model: 'llama3.2-1b', trainingData });

describe('run lifecycle against AWS behaviour (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const runOf = (name: string) => h.runRecords().find((r) => r.run.requestName === name)!;
  const messagesAbout = (runId: string) => h.aws.sns.messages(h.topicArn).filter((m) => m.message.includes(runId) || (m.subject ?? '').includes(runId));
  const outcomeEvents = (runId: string) => h.aws.events.events({ source: 'llama-finetune', detailType: 'Fine-tuning Run Finished' }).filter((e) => (e.detail as { runId?: string }).runId === runId);
  const metricsOf = (step: string, runId: string) => emfDocuments(h.runner.functionLogs(step).map((l) => l.line)).filter((d) => d.fields.runId === runId);

  beforeAll(async () => {
    h = await startHarness({ ...TEST_PROPS, environmentName: 'production-west', evaluation: EVALUATION }, { ...ZERO_JITTER, printLogs: process.env.PRINT_LOGS === '1' });
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    // Too few records: validation fails the run with InvalidDataset.
    h.aws.s3.putObject(h.datasets, 'data/too-small.jsonl', arithmeticRecords(5));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(10, 2000));
    // Both models answer every question right.
    h.aws.runtime.respond = (invocation) => {
      const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
      return String(a + b);
    };
  });
  afterAll(async () => h?.stop());
  afterEach(() => {
    h.aws.sns.clearFaults();
    h.aws.s3.clearFaults();
    h.aws.bedrock.clearFaults();
    h.aws.bedrock.scenario.job = {};
  });

  describe('case 1: outcome notifications', () => {
    test('production-west, a 40-character run name, failed: the outcome message is delivered with a subject SNS accepts', async () => {
      const name = longName('subject-failed');
      const { executions } = await h.upload(`requests/${name}.json`, trainingRequest(name, 'data/too-small.jsonl'));
      const outcome = await executions[0].result;
      await h.runner.idle();

      expect(outcome.status).toBe('FAILED');
      expect(outcome.error).toBe('InvalidDataset');
      const record = runOf(name);
      expect(record.outcome?.status).toBe('FAILED');
      const [message] = messagesAbout(record.runId);
      expect(message).toBeDefined();
      expect(message.subject!.length).toBeLessThan(100);
      expect(message.subject).toBe(`[production-west] Run ${record.runId} failed`);
      expect(outcomeEvents(record.runId)).toHaveLength(1);
    });

    test('SNS refuses the outcome of a trained model: the run still succeeds, recorded SUCCEEDED, the event sent, the refusal counted', async () => {
      const name = longName('publish-refused');
      // As when the topic's key policy no longer lets the function publish.
      h.aws.sns.failNext('forever', { code: 'AuthorizationError', message: 'User is not authorized to perform: SNS:Publish', operation: 'Publish' });
      const { executions } = await h.upload(`requests/${name}.json`, trainingRequest(name));
      const outcome = await executions[0].result;
      await h.runner.idle();

      expect(outcome.status).toBe('SUCCEEDED');
      expect(outcome.transitions).toEqual(expect.arrayContaining(['RecordSuccess', 'RunSucceeded']));
      const record = runOf(name);
      expect(record.status).toBe('SUCCEEDED');
      expect(record.outcome?.status).toBe('SUCCEEDED');
      expect(record.job?.status).toBe('Completed');
      expect(messagesAbout(record.runId)).toEqual([]);
      // Programs are still told: the event does not depend on the message.
      expect(outcomeEvents(record.runId)).toEqual([expect.objectContaining({ detail: expect.objectContaining({ outcome: 'SUCCEEDED' }) })]);
      // Counted as the metric the NotificationFailures alarm watches, in this environment.
      // A worker's stdout reaches the runner after its result: wait for the metrics line.
      await waitFor('record-outcome\'s metrics line', () => metricsOf('record-outcome', record.runId).length > 0);
      const emf = metricsOf('record-outcome', record.runId);
      expect(metricValues(emf, 'LlamaFinetune', 'NotificationFailures')).toEqual([1]);
      expect(emf[0].metrics[0].dimensionSets).toEqual([{ Environment: 'production-west' }]);
      const refusal = h.runner.functionLogs('record-outcome').map((l) => l.line).find((l) => l.includes('run outcome not announced') && l.includes(record.runId));
      expect(refusal).toContain('AuthorizationError');
      // Nothing was stopped: the execution did not fail, so the cleanup never ran.
      expect(outcome.ruleDeliveries.filter((d) => (d.event.detail as { status: string }).status !== 'RUNNING' && d.invocation)).toEqual([]);
    });
  });

  describe('case 2: a duplicate delivery that meets S3\'s 409 ConditionalRequestConflict', () => {
    /** Starts the genuine run and waits until its job trains (and is being polled), with nothing of it writing. */
    async function genuineRunTraining(name: string) {
      h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
      const key = `requests/${name}.json`;
      const { executions } = await h.upload(key, trainingRequest(name));
      await waitFor('the genuine job to be polled while training', () => h.aws.bedrock.jobs().some((j) => j.jobName.startsWith(`${name}-`) && j.polls > 0));
      const [job] = h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith(`${name}-`));
      return { genuine: executions[0], key, job, record: runOf(name) };
    }

    async function finishGenuine(genuine: { result: Promise<{ status: string }> }, jobArn: string) {
      h.aws.bedrock.completeJob(jobArn);
      const outcome = await genuine.result;
      await h.runner.idle();
      return outcome;
    }

    test('one 409 in the duplicate\'s BeginRun is retried: the duplicate is recognized, the genuine run is untouched and succeeds', async () => {
      const name = 'duplicate-one-conflict';
      const { genuine, key, job, record } = await genuineRunTraining(name);
      const recordKey = `runs/${record.runId}/run.json`;
      const before = h.aws.s3.getObject(h.artifacts, recordKey)!.toString();

      // S3 answers 409 only to conditional writes (the genuine run's token writes are not).
      h.aws.s3.failNext(1, { status: 409, code: 'ConditionalRequestConflict', operation: 'PutObject', conditionalOnly: true });
      const { executions } = await h.runner.putS3ObjectCreated(h.datasets, key);
      const duplicate = await executions[0].result;
      expect(duplicate.status).toBe('SUCCEEDED');
      expect(duplicate.transitions).toContain('DuplicateRequest');
      expect(duplicate.transitions).not.toContain('RecordFailure');
      expect(h.aws.s3.getObject(h.artifacts, recordKey)!.toString()).toBe(before);

      const outcome = await finishGenuine(genuine, job.jobArn);
      expect(outcome.status).toBe('SUCCEEDED');
      expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('Completed');
      expect(runOf(name).status).toBe('SUCCEEDED');
      expect(outcomeEvents(record.runId).map((e) => (e.detail as { outcome: string }).outcome)).toEqual(['SUCCEEDED']);
    });

    test('409s outlast the duplicate\'s retries: the duplicate fails alone; the genuine run is never marked, announced or stopped, and succeeds', async () => {
      const name = 'duplicate-conflict-storm';
      const { genuine, key, job, record } = await genuineRunTraining(name);
      const recordKey = `runs/${record.runId}/run.json`;
      const before = h.aws.s3.getObject(h.artifacts, recordKey)!.toString();

      // Every attempt of the duplicate's conditional create answers 409; nothing of the genuine run writes meanwhile.
      h.aws.s3.failNext(CONFLICT_RETRY.attempts, { status: 409, code: 'ConditionalRequestConflict', operation: 'PutObject', conditionalOnly: true });
      const { executions } = await h.runner.putS3ObjectCreated(h.datasets, key);
      // (Not runner.idle(): the genuine run is still training.) The result includes the cleanup's invocation.
      const duplicate = await executions[0].result;
      expect(duplicate.status).toBe('FAILED');
      expect(duplicate.error).toBe('ConditionalRequestConflict');
      expect(duplicate.transitions).toEqual(expect.arrayContaining(['BeginRun', 'RecordFailure', 'RunFailed']));
      // The genuine run's record is byte for byte what it was; nobody was told it failed.
      expect(h.aws.s3.getObject(h.artifacts, recordKey)!.toString()).toBe(before);
      expect(messagesAbout(record.runId)).toEqual([]);
      expect(outcomeEvents(record.runId)).toEqual([]);
      // The duplicate's cleanup finds no run of its own: the genuine job trains on.
      const cleanup = duplicate.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'FAILED')!;
      expect(cleanup.invocation?.payload).toMatchObject({ jobStopped: false, provisionedThroughputsDeleted: [], outcomeRecorded: false });
      expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('InProgress');

      const outcome = await finishGenuine(genuine, job.jobArn);
      expect(outcome.status).toBe('SUCCEEDED');
      expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('Completed');
      const final = runOf(name);
      expect(final.status).toBe('SUCCEEDED');
      expect(final.timeline.map((t) => t.event)).not.toContain('run failed');
      expect(messagesAbout(record.runId).map((m) => m.subject)).toEqual([`[production-west] Llama fine-tuning run ${record.runId} succeeded`]);
    });
  });

  describe('case 3: a throttling and 5xx storm while the job trains', () => {
    test('many consecutive failed checks of the job: the run keeps waiting, the job keeps training, and the run succeeds', async () => {
      const name = 'check-storm';
      h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
      const { executions } = await h.upload(`requests/${name}.json`, trainingRequest(name));
      await waitFor('the job to be polled while training', () => h.aws.bedrock.jobs().some((j) => j.jobName.startsWith(`${name}-`) && j.polls > 0));
      const [job] = h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith(`${name}-`));
      const checksBefore = h.aws.callLog.count({ action: 'bedrock:GetModelCustomizationJob' });

      // Far more than Step Functions' retries of one check (7 invocations of 3 SDK attempts each) ever absorbed.
      const STORM = 45;
      h.aws.bedrock.throttleNext(20, { operation: 'GetModelCustomizationJob' });
      h.aws.bedrock.internalErrorNext(15, { operation: 'GetModelCustomizationJob' });
      h.aws.bedrock.injectError(10, 'ServiceUnavailableException', { operation: 'GetModelCustomizationJob' });
      await waitFor('the storm to pass', () => h.aws.callLog.count({ action: 'bedrock:GetModelCustomizationJob' }) >= checksBefore + STORM + 1, 120_000);
      expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('InProgress');
      h.aws.bedrock.completeJob(job.jobArn);
      const outcome = await executions[0].result;
      await h.runner.idle();

      expect(outcome.status).toBe('SUCCEEDED');
      expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('Completed');
      const record = runOf(name);
      expect(record.status).toBe('SUCCEEDED');
      expect(record.timeline.map((t) => t.event)).not.toContain('job stopped by cleanup');
      // The failed checks (the safety polls') were logged with the last known status, not raised.
      const kept = h.runner.functionLogs('wait-for-job-end').map((l) => l.line).filter((l) => l.includes('could not check the job') && l.includes(record.runId));
      expect(kept.length).toBeGreaterThan(1);
      expect(kept.some((l) => l.includes('"status":"InProgress"'))).toBe(true);
    }, 180_000);
  });

  describe('case 10: Bedrock refuses the first deletions of a Provisioned Throughput', () => {
    test('ConflictException on the first deletes: the release retries, the throughput is deleted and the run succeeds', async () => {
      const name = 'release-refused';
      h.aws.bedrock.injectError(2, 'ConflictException', { operation: 'DeleteProvisionedModelThroughput', message: 'The Provisioned Throughput is being updated; try again later.' });
      const { executions } = await h.upload(`requests/${name}.json`, { ...trainingRequest(name), testData: 'data/test.jsonl', evaluation: { maxTokens: 16 } });
      const outcome = await executions[0].result;
      await h.runner.idle();

      expect(outcome.status).toBe('SUCCEEDED');
      expect(outcome.transitions).toEqual(expect.arrayContaining(['ReleaseModel', 'RecordSuccess']));
      const record = runOf(name);
      const refusedDeletes = h.aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.errorCode === 'ConflictException');
      expect(refusedDeletes).toHaveLength(2);
      expect(h.aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelName === `eval-${record.runId}`)).toEqual([]);
      expect(record.provisionedThroughput).toMatchObject({ deletedAt: expect.any(String), hours: expect.any(Number) });
      expect(record.status).toBe('SUCCEEDED');
    });
  });

  test('every call of these runs was allowed by the synthesized roles', () => {
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});
