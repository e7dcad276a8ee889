import { BedrockClient, StopModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { Duration } from 'aws-cdk-lib';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness, waitFor, EVALUATION_INFER_SHARD } from './harness';

/**
 * Runs that go wrong, end to end and offline (the synthesized state machine, the real handlers,
 * the stand-ins): an evaluation whose base-model calls are all refused, a job stopped outside the
 * workflow, a failure while training, and a timeout during evaluation. Each must end with the
 * right error, recorded and announced, and with nothing left training or billing.
 */

const TEST_RECORDS = 20;
const EVALUATION = { shardSize: 5, maxConcurrency: 2, provisioningPollInterval: Duration.minutes(1), qualityGate: { minImprovementPercent: 5 } };
const request = (name: string) => ({ name, model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 16 } });

/** Both models answer every question right, unless the stand-in refuses the call. */
function answer(lastUserText: string): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(lastUserText) ?? []).slice(1).map(Number);
  return String(a + b);
}

async function stageData(h: WorkflowHarness): Promise<void> {
  h.aws.runtime.respond = (invocation) => answer(invocation.lastUserText);
  h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
  h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(TEST_RECORDS, 2000));
}

describe('runs that fail (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const runOf = (name: string) => h.runRecords().find((r) => r.run.requestName === name)!;
  const messageAbout = (runId: string) => h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(runId) || (m.subject ?? '').includes(runId));

  beforeAll(async () => {
    h = await startHarness({ ...TEST_PROPS, evaluation: EVALUATION });
    await stageData(h);
  });
  afterAll(async () => h?.stop());
  afterEach(() => {
    h.aws.runtime.setAuthorizer(undefined);
    h.aws.bedrock.setAuthorizer(undefined);
    h.aws.bedrock.clearFaults();
    h.aws.bedrock.scenario.job = {};
  });

  test('every base-model call refused: the run fails with EvaluationIncomplete before any report or gate, and the model is released', async () => {
    // The base model's inference profile is refused (as when model access was never enabled); the fine-tuned model answers.
    h.aws.runtime.setAuthorizer(({ resources }) => !resources.some((r) => r.includes(':inference-profile/')));
    const { executions } = await h.upload('requests/base-refused.json', request('base-refused'));
    const outcome = await executions[0].result;
    await h.runner.idle();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('EvaluationIncomplete');
    expect(outcome.transitions).toEqual(expect.arrayContaining(['ScoreEvaluation', 'ReleaseModelAfterFailure', 'RecordFailure', 'RunFailed']));
    const record = runOf('base-refused');
    // Every record went to both models; only the fine-tuned model answered.
    const calls = h.aws.runtime.invocations();
    expect(calls.filter((c) => c.targetKind === 'provisioned-model')).toHaveLength(TEST_RECORDS);
    expect(calls.filter((c) => c.targetKind === 'inference-profile')).toHaveLength(0);
    expect(outcome.cause).toContain(`the base model answered 0 of ${TEST_RECORDS} test records and the fine-tuned model ${TEST_RECORDS} of ${TEST_RECORDS}`);
    expect(outcome.cause).toContain(`base model, ${TEST_RECORDS} records: AccessDeniedException: User: ${h.runner.functionLogicalId(EVALUATION_INFER_SHARD)} is not authorized to perform: bedrock:InvokeModel`);
    expect(outcome.cause).toContain('What to do: for AccessDeniedException, enable access to the base model');

    // No report, no scores, no gate; nothing left billing.
    expect(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.json`)).toBeUndefined();
    expect(record.evaluation).toBeUndefined();
    expect(record.outcome).toMatchObject({ status: 'FAILED', error: 'EvaluationIncomplete' });
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    expect(record.provisionedThroughput?.deletedAt).toEqual(expect.any(String));
    const message = messageAbout(record.runId)!;
    expect(message.message).toContain('EvaluationIncomplete');
    const event = h.aws.events.events({ source: 'llama-finetune', detailType: 'Fine-tuning Run Finished' }).find((e) => (e.detail as { runId: string }).runId === record.runId)!;
    expect(event.detail).toMatchObject({ outcome: 'FAILED', error: 'EvaluationIncomplete' });
    expect((event.detail as { qualityGate?: string }).qualityGate).not.toBe('PASSED');
  });

  test('a job stopped outside the workflow: the run fails with JobFailed, recorded and notified', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const { executions } = await h.upload('requests/stopped-outside.json', request('stopped-outside'));
    const execution = executions[0];
    await waitFor('the job to be polled while training', () => h.aws.bedrock.jobs().some((j) => j.jobName.startsWith('stopped-outside-') && j.polls > 0));
    const [job] = h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith('stopped-outside-'));
    // Someone stops it in the console (or with the CLI): Bedrock gives a stopped job no failure message.
    const bedrock = new BedrockClient({});
    await bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: job.jobArn }));
    bedrock.destroy();
    const outcome = await execution.result;
    await h.runner.idle();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('JobFailed');
    expect(outcome.cause).toBe(`Bedrock customization job ${job.jobName} ended Stopped: the job was stopped`);
    expect(h.aws.bedrock.job(job.jobArn)!.status).toBe('Stopped');
    const record = runOf('stopped-outside');
    expect(record.job).toMatchObject({ status: 'Stopped', failureMessage: 'the job was stopped' });
    expect(record.outcome).toMatchObject({ status: 'FAILED', error: 'JobFailed', cause: outcome.cause });
    const message = messageAbout(record.runId)!;
    expect(message.subject).toBe(`[test] Llama fine-tuning run ${record.runId} failed`);
    expect(message.message).toContain('JobFailed');
    expect(message.message).toContain('ended Stopped: the job was stopped');
    // The cleanup found nothing left to stop.
    const cleanup = outcome.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'FAILED')!;
    expect(cleanup.invocation?.payload).toMatchObject({ jobStopped: false, outcomeRecorded: false });
  });

  test('a failure while training (the safety poll\'s job check refused): the run fails and the cleanup stops the job', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const checkJob = h.runner.functionLogicalId('wait-for-job-end');
    h.aws.bedrock.setAuthorizer(({ principal, action }) => !(principal === checkJob && action === 'bedrock:GetModelCustomizationJob'));
    const { executions } = await h.upload('requests/fails-training.json', request('fails-training'));
    const outcome = await executions[0].result;
    await h.runner.idle();

    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('AccessDeniedException');
    const [job] = h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith('fails-training-'));
    const cleanup = outcome.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'FAILED')!;
    expect(cleanup.invocation?.error).toBeUndefined();
    expect(cleanup.invocation?.payload).toMatchObject({ jobStopped: true });
    expect(['Stopping', 'Stopped']).toContain(h.aws.bedrock.job(job.jobArn)!.status);
    const record = runOf('fails-training');
    expect(record.outcome).toMatchObject({ status: 'FAILED', error: 'AccessDeniedException' });
    expect(record.timeline.map((t) => t.event)).toContain('job stopped by cleanup');
    expect(messageAbout(record.runId)?.message).toContain('AccessDeniedException');
  });

  test('every call of these runs was allowed by the synthesized roles', () => {
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});

describe('an execution that times out during evaluation (offline, as synthesized)', () => {
  let h: WorkflowHarness;

  beforeAll(async () => {
    h = await startHarness({ ...TEST_PROPS, evaluation: { ...EVALUATION, recordConcurrency: 1 } });
    await stageData(h);
  });
  afterAll(async () => h?.stop());

  test('ends TIMED_OUT; the cleanup deletes the Provisioned Throughput and records the timeout', async () => {
    // The model holds every call, so the evaluation is surely in flight when the time is up,
    // however fast or loaded the machine: the timeout is decided by that condition, not by a clock.
    const release = h.aws.runtime.hold();
    let outcome;
    try {
      const { executions } = await h.upload('requests/times-out.json', request('times-out'));
      const execution = executions[0];
      await waitFor('a model call of the evaluation to be in flight', () => h.aws.runtime.heldCalls() > 0);
      expect(execution.events.some((e) => e.type === 'StateEntered' && e.state === 'InferShard')).toBe(true);
      expect(h.aws.bedrock.provisionedThroughputs()).toHaveLength(1);
      execution.timeOut();
      release();
      outcome = await execution.result;
    } finally {
      release();
    }
    await h.runner.idle();

    expect(outcome.status).toBe('TIMED_OUT');
    expect(outcome.transitions).not.toContain('ScoreEvaluation');
    const [created] = h.aws.bedrock.allProvisionedThroughputs();
    expect(h.aws.bedrock.allProvisionedThroughputs()).toHaveLength(1);
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    const cleanup = outcome.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'TIMED_OUT')!;
    expect(cleanup.invocation?.error).toBeUndefined();
    expect(cleanup.invocation?.payload).toMatchObject({ provisionedThroughputsDeleted: [created.provisionedModelArn], outcomeRecorded: true });

    const record = h.runRecords().find((r) => r.run.requestName === 'times-out')!;
    expect(record.status).toBe('TIMED_OUT');
    expect(record.outcome?.status).toBe('TIMED_OUT');
    expect(record.provisionedThroughput).toMatchObject({ arn: created.provisionedModelArn, deletedAt: expect.any(String), hours: expect.any(Number) });
    expect(record.evaluation).toBeUndefined();
    const message = h.aws.sns.messages(h.topicArn).find((m) => (m.subject ?? '').includes(record.runId))!;
    expect(message.subject).toBe(`[test] Llama fine-tuning run ${record.runId} timed out`);
  });
});
