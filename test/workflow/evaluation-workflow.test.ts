import { BedrockClient, CreateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { Duration } from 'aws-cdk-lib';
import { WatchResult } from '../../lambda/provisioned-throughput-watch';
import { EvaluationReport } from '../../lambda/shared/report';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { pngImage } from '../support/images';
import { emfDocuments, metricValues } from '../support/emf';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness, waitFor, EVALUATION_INFER_SHARD, ZERO_JITTER } from './harness';

/** A test record that asks about an image: "What is a plus b?" with a chart image. */
function imageTestRecords(count: number, bucket: string): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'Answer with a number only.' }],
      messages: [
        {
          role: 'user',
          content: [
            { text: `What is ${i} plus ${i + 1}?` },
            { image: { format: 'png', source: { s3Location: { uri: `s3://${bucket}/images/chart-${i % 3}.png`, bucketOwner: '111122223333' } } } },
          ],
        },
        { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
      ],
    }),
  ).join('\n');
}

/**
 * Models whose answers are known by construction: the fine-tuned model is right unless the
 * first number is a multiple of 5; the base model says "the sum is N" (F1 0.5 against "N")
 * for even numbers and "no idea" (F1 0) otherwise.
 */
function respond(invocation: ConverseInvocation): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
  if (invocation.target.kind === 'provisioned-model') return a % 5 === 0 ? '0' : String(a + b);
  return a % 2 === 0 ? `The sum is ${a + b}.` : 'No idea.';
}
function expectedScores(count: number): { base: number; fineTuned: number } {
  let base = 0;
  let fineTuned = 0;
  for (let a = 0; a < count; a++) {
    fineTuned += a % 5 === 0 ? 0 : 1;
    base += a % 2 === 0 ? 0.5 : 0; // tokens {sum, is, N} vs {N}: precision 1/3, recall 1
  }
  return { base: (base / count) * 100, fineTuned: (fineTuned / count) * 100 };
}

const TEST_RECORDS = 30;

describe('evaluation stage (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const request = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    model: 'llama3.2-11b',
    trainingData: 'data/train.jsonl',
    testData: 'data/test.jsonl',
    evaluation: { maxTokens: 32 },
    ...extra,
  });
  const runOf = (name: string) => h.runRecords().find((r) => r.run.requestName === name)!;

  beforeAll(async () => {
    h = await startHarness({
      ...TEST_PROPS,
      evaluation: { shardSize: 7, maxConcurrency: 3, provisioningPollInterval: Duration.minutes(1), qualityGate: { minImprovementPercent: 50 } },
    }, ZERO_JITTER);
    h.aws.runtime.respond = respond;
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    for (let i = 0; i < 3; i++) h.aws.s3.putObject(h.datasets, `images/chart-${i}.png`, pngImage(64 + i, 48));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', imageTestRecords(TEST_RECORDS, h.datasets));
  });
  afterAll(async () => h?.stop());
  afterEach(() => {
    h.aws.bedrock.clearFaults();
    h.aws.bedrock.scenario.provisionedThroughput = {};
    h.aws.runtime.setLatency(0);
  });

  test('scores base and fine-tuned models on the test set, writes the report, and deletes the Provisioned Throughput', async () => {
    const { executions } = await h.upload('requests/eval.json', request('eval'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(expect.arrayContaining(['ShouldEvaluate', 'PrepareEvaluation', 'ProvisionModel', 'RunInference', 'InferShard', 'ScoreEvaluation', 'ReleaseModel', 'RecordSuccess']));

    // Zero Provisioned Throughputs left; exactly one was created, from the custom model.
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    const created = h.aws.bedrock.allProvisionedThroughputs();
    expect(created).toHaveLength(1);
    const record = runOf('eval');
    expect(created[0].modelArn).toBe(record.job!.outputModelArn);
    expect(record.provisionedThroughput).toMatchObject({ arn: created[0].provisionedModelArn, deletedAt: expect.any(String), hours: expect.any(Number) });

    // Every test record went to both models, once, with its image bytes and temperature 0.
    const calls = h.aws.runtime.invocations();
    expect(calls.filter((c) => c.targetKind === 'provisioned-model')).toHaveLength(TEST_RECORDS);
    expect(calls.filter((c) => c.targetKind === 'inference-profile' && c.modelId === 'us.meta.llama3-2-11b-instruct-v1:0')).toHaveLength(TEST_RECORDS);
    // 30 records in shards of 7 -> 5 shard invocations.
    const shards = h.runner.invocations(EVALUATION_INFER_SHARD).filter((i) => (i.event as { run: { runId: string } }).run.runId === record.runId);
    expect(shards.map((i) => (i.event as { shard: { index: number } }).shard.index).sort()).toEqual([1, 2, 3, 4, 5]);

    const expected = expectedScores(TEST_RECORDS);
    const report = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.json`)!.toString()) as EvaluationReport;
    expect(report.scores.base.f1).toBeCloseTo(expected.base, 6);
    expect(report.scores.fineTuned.f1).toBeCloseTo(expected.fineTuned, 6);
    expect(report.relativeImprovementPercent).toBeCloseTo(((expected.fineTuned - expected.base) / expected.base) * 100, 6);
    expect(report.records).toHaveLength(TEST_RECORDS);
    expect(report.lowest[0].fineTunedF1).toBe(0);
    expect(report.costs.modelUnits).toBe(1);
    expect(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.html`)!.toString()).toMatch(/<svg[\s\S]*<\/svg>/);
    expect(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.md`)!.toString()).toContain('| F1 |');

    // The record, the message and the event carry the scores and the gate (improvement >= 50%).
    expect(record.evaluation).toMatchObject({ baseF1: report.scores.base.f1, fineTunedF1: report.scores.fineTuned.f1, records: TEST_RECORDS, gate: { evaluated: true, passed: true } });
    const message = h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(record.runId))!;
    expect(message.message).toContain(`SQuAD F1 on ${TEST_RECORDS} test records: base ${expected.base.toFixed(1)} -> fine-tuned ${expected.fineTuned.toFixed(1)}`);
    expect(message.message).toContain('Quality gate: PASSED');
    expect(message.message).toContain(`Report: s3://${h.artifacts}/runs/${record.runId}/report.html`);
    const event = h.aws.events.events({ source: 'llama-finetune', detailType: 'Fine-tuning Run Finished' }).find((e) => (e.detail as { runId: string }).runId === record.runId)!;
    expect(event.detail).toMatchObject({ outcome: 'SUCCEEDED', qualityGate: 'PASSED', fineTunedF1: report.scores.fineTuned.f1 });

    // The scores are published as custom metrics: one EMF line in score-evaluation's log, with the run id.
    const metricsOfRun = () => emfDocuments(h.runner.functionLogs('score-evaluation').map((l) => l.line)).filter((d) => d.fields.runId === record.runId);
    await waitFor('score-evaluation\'s metrics line', () => metricsOfRun().length > 0);
    const emf = metricsOfRun();
    expect(emf).toHaveLength(1);
    expect(metricValues(emf, 'LlamaFinetune', 'BaseF1')).toEqual([report.scores.base.f1]);
    expect(metricValues(emf, 'LlamaFinetune', 'FineTunedF1')).toEqual([report.scores.fineTuned.f1]);
    expect(metricValues(emf, 'LlamaFinetune', 'RelativeImprovementPercent')).toEqual([report.relativeImprovementPercent]);
    expect(emf[0].metrics[0].dimensionSets).toEqual([{ Environment: 'test' }]);

    // The request name's history (record-outcome): the run in the name's leaderboard, and its F1 by request name for the dashboard.
    const history = JSON.parse(h.aws.s3.getObject(h.artifacts, 'runs/history/eval/leaderboard.json')!.toString()) as { runs: Array<{ runId: string; scores: { fineTunedF1: number } }> };
    expect(history.runs.map((r) => [r.runId, r.scores.fineTunedF1])).toEqual([[record.runId, report.scores.fineTuned.f1]]);
    const byName = () => emfDocuments(h.runner.functionLogs('record-outcome').map((l) => l.line)).filter((d) => d.fields.runId === record.runId).flatMap((d) => d.metrics);
    await waitFor('record-outcome\'s metrics line', () => byName().length > 0);
    expect(byName().map((m) => [m.name, m.values, m.dimensionSets])).toEqual([['FineTunedF1', [report.scores.fineTuned.f1], [{ Environment: 'test', RequestName: 'eval' }]]]);
  });

  test('throttling storms on inference are retried; the scores do not change', async () => {
    h.aws.runtime.throttleNext(25);
    const { executions } = await h.upload('requests/eval-throttled.json', request('eval-throttled'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    const expected = expectedScores(TEST_RECORDS);
    expect(runOf('eval-throttled').evaluation?.fineTunedF1).toBeCloseTo(expected.fineTuned, 6);
    expect(h.aws.callLog.count({ service: 'bedrock', errorCode: 'ThrottlingException' } as never)).toBeGreaterThanOrEqual(25);
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
  });

  test('Provisioned Throughput creation fails: the run fails, nothing is left billing', async () => {
    h.aws.bedrock.setProvisionedThroughputScenario({ outcome: 'Failed', failureMessage: 'Insufficient capacity for 1 model unit.' });
    const { executions } = await h.upload('requests/eval-pt-fails.json', request('eval-pt-fails'));
    const outcome = await executions[0].result;
    await h.runner.idle();
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('ProvisionedThroughputFailed');
    expect(outcome.cause).toContain('Insufficient capacity for 1 model unit.');
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    const record = runOf('eval-pt-fails');
    expect(record.outcome).toMatchObject({ status: 'FAILED', error: 'ProvisionedThroughputFailed' });
    expect(record.timeline.map((t) => t.event)).toContain('provisioned throughput deleted');
  });

  test('a shard\'s Lambda throws: its child execution fails, the Map Run fails, the model is released, then the run fails', async () => {
    // Reading a shard is denied: the inference function throws (not a retryable error).
    h.aws.s3.setAuthorizer(({ principal, action, resources }) => !(principal === h.runner.functionLogicalId(EVALUATION_INFER_SHARD) && action === 's3:GetObject' && resources[0].includes('/shard-00002')));
    try {
      const { executions } = await h.upload('requests/eval-shard-throws.json', request('eval-shard-throws'));
      const outcome = await executions[0].result;
      await h.runner.idle();
      expect(outcome.status).toBe('FAILED');
      // The shard's own error is its child execution's; the parent sees the Map Run fail.
      expect(outcome.error).toBe('States.ExceedToleratedFailureThreshold');
      expect(outcome.childExecutions.filter((c) => c.status === 'FAILED').map((c) => c.error)).toContain('AccessDenied');
      expect(outcome.transitions).toContain('ReleaseModelAfterFailure');
      expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
      expect(runOf('eval-shard-throws').outcome?.error).toBe('States.ExceedToleratedFailureThreshold');
    } finally {
      h.aws.s3.setAuthorizer(undefined);
    }
  });

  test('aborted during inference: the cleanup rule deletes the Provisioned Throughput', async () => {
    // Model calls are held (received, unanswered) until the run is aborted: the abort lands
    // during inference on any machine load, where a fixed latency raced the inference.
    const release = h.aws.runtime.hold();
    let outcome: Awaited<typeof execution.result>;
    const { executions } = await h.upload('requests/eval-aborted.json', request('eval-aborted'));
    const execution = executions[0];
    try {
      await waitFor('a model call in flight', () => h.aws.runtime.heldCalls() > 0);
      expect(execution.events.filter((e) => e.type === 'StateEntered').map((e) => e.state)).toContain('InferShard');
      expect(h.aws.bedrock.provisionedThroughputs()).toHaveLength(1);
      execution.abort();
      outcome = await execution.result;
    } finally {
      // The aborted shard's handler still waits for its answers; let it finish, as Lambda would.
      release();
    }
    expect(outcome.status).toBe('ABORTED');
    await h.runner.idle();
    const cleanup = outcome.ruleDeliveries.find((d) => (d.event.detail as { status: string }).status === 'ABORTED')!;
    expect(cleanup.invocation?.payload).toMatchObject({ provisionedThroughputsDeleted: [expect.stringContaining(':provisioned-model/')], outcomeRecorded: true });
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    const record = runOf('eval-aborted');
    expect(record.status).toBe('ABORTED');
    expect(record.provisionedThroughput?.deletedAt).toBeDefined();
  });

  test('Bedrock keeps refusing to delete the Provisioned Throughput: the run still succeeds with its scores, the record, report, message and a metric name the throughput, and the watch deletes it once Bedrock accepts', async () => {
    const refusal = 'The Provisioned Throughput is being updated; try again later.';
    h.aws.bedrock.injectError('forever', 'ConflictException', { operation: 'DeleteProvisionedModelThroughput', message: refusal });
    const { executions } = await h.upload('requests/eval-undeleted.json', request('eval-undeleted'));
    const outcome = await executions[0].result;
    await h.runner.idle();

    // A cleanup problem does not cost the user a trained, scored model.
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(expect.arrayContaining(['ScoreEvaluation', 'ReleaseModel', 'RecordModelNotReleased', 'EvaluationEnded', 'RecordSuccess', 'RunSucceeded']));
    expect(outcome.transitions).not.toContain('RecordFailure');
    const record = runOf('eval-undeleted');
    expect(record.status).toBe('SUCCEEDED');
    expect(record.evaluation?.fineTunedF1).toBeCloseTo(expectedScores(TEST_RECORDS).fineTuned, 6);
    // Every attempt was refused: the release step's first try and its 5 retries by Step Functions, one call each (no function
    // sleeps between them), then the recording step's last try with its own 5 attempts on ConflictException.
    const release = h.runner.functionLogicalId('provisioned-throughput');
    const refusedDeletes = h.aws.callLog.entries({ principal: release, operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.errorCode === 'ConflictException');
    expect(refusedDeletes).toHaveLength(1 + 5 + 5);

    // Still there, and billing: the record says which, why, and what deletes it.
    const [pt] = h.aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelName === `eval-${record.runId}`);
    expect(pt).toBeDefined();
    const arn = pt.provisionedModelArn;
    expect(record.provisionedThroughput).toMatchObject({ arn, deletionRefused: { at: expect.any(String), error: `ConflictException: ${refusal}`, watchIntervalMinutes: 15 } });
    expect(record.provisionedThroughput?.deletedAt).toBeUndefined();
    expect(record.timeline.map((t) => t.event)).toEqual(expect.arrayContaining(['evaluation scored', 'provisioned throughput not deleted', 'run succeeded']));
    const fix = `aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${arn}`;

    // The message says it plainly; the event names it for programs.
    const message = h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(record.runId))!;
    expect(message.subject).toBe(`[test] Llama fine-tuning run ${record.runId} succeeded`);
    expect(message.message).toContain(`ACTION NEEDED: Provisioned Throughput ${arn} (eval-${record.runId}) could not be deleted`);
    expect(message.message).toContain('It bills per hour for its 1 model unit until it is deleted.');
    expect(message.message).toContain('checks every 15 minutes and deletes the Provisioned Throughputs of ended runs');
    expect(message.message).toContain(fix);
    expect(message.message).toContain('Quality gate: PASSED');
    const event = h.aws.events.events({ source: 'llama-finetune', detailType: 'Fine-tuning Run Finished' }).find((e) => (e.detail as { runId: string }).runId === record.runId)!;
    expect(event.detail).toMatchObject({ outcome: 'SUCCEEDED', undeletedProvisionedThroughput: arn });

    // The report, written before the release, carries the notice at its top.
    const markdown = h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.md`)!.toString();
    expect(markdown.split('\n').slice(0, 4).join('\n')).toMatch(/^# Evaluation report: eval-undeleted\n\n> \*\*Provisioned Throughput not deleted: it bills per hour\.\*\* /);
    expect(markdown).toContain('| F1 |');
    const html = h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.html`)!.toString();
    expect(html).toMatch(/<\/header>\n<div class="cleanup-notice" role="alert"><strong>Provisioned Throughput not deleted: it bills per hour\.<\/strong> Provisioned Throughput arn:aws:bedrock:[^<]*could not be deleted/);
    expect(html).toContain(fix);

    // One metric line, with the run id, that the UndeletedProvisionedThroughputs alarm counts; and a warning with the fix.
    const releaseLines = () => h.runner.functionLogs('provisioned-throughput').filter((l) => l.stream === 'stdout').map((l) => l.line);
    const emfOfRun = () => emfDocuments(releaseLines()).filter((d) => d.fields.runId === record.runId);
    await waitFor('the release step\'s metrics line', () => emfOfRun().length > 0);
    expect(metricValues(emfOfRun(), 'LlamaFinetune', 'UndeletedProvisionedThroughputs')).toEqual([1]);
    expect(emfOfRun()[0].metrics[0]).toMatchObject({ unit: 'Count', dimensionSets: [{ Environment: 'test' }] });
    const warning = releaseLines().map((l) => JSON.parse(l)).find((l) => l.runId === record.runId && l.level === 'WARN' && l.provisionedModelArn === arn);
    expect(warning).toMatchObject({ fix, error: `ConflictException: ${refusal}` });

    // The watch, run as its schedule runs it: while Bedrock refuses, the throughput stays; once it accepts, the watch deletes it and marks the record.
    const schedule = Object.values(h.template.findResources('AWS::Scheduler::Schedule')).find((r) => JSON.stringify(r.Properties.Target.Input ?? '').includes('provisioned-throughput-watch'))!;
    const runWatch = async () => {
      const invocation = await h.runner.invoke('provisioned-throughput-watch', JSON.parse(schedule.Properties.Target.Input));
      expect(invocation.error).toBeUndefined();
      return invocation.payload as WatchResult;
    };
    expect((await runWatch()).deleted).toEqual([]);
    expect(h.aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(arn);
    h.aws.bedrock.clearFaults();
    expect((await runWatch()).deleted).toEqual([`eval-${record.runId}`]);
    expect(h.aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).not.toContain(arn);
    const after = runOf('eval-undeleted');
    expect(after.status).toBe('SUCCEEDED');
    expect(after.provisionedThroughput).toMatchObject({ arn, deletedAt: expect.any(String), hours: expect.any(Number), deletionRefused: expect.anything() });
    expect(after.timeline.map((t) => t.event)).toContain('provisioned throughput deleted by the watch');
  }, 180_000);

  test('a request that opts out of evaluation skips the stage', async () => {
    const { executions } = await h.upload('requests/no-eval.json', request('no-eval', { evaluation: { enabled: false } }));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).not.toContain('PrepareEvaluation');
    expect(runOf('no-eval').evaluation).toBeUndefined();
  });

  test('every call was allowed by the synthesized roles', () => {
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});

describe('evaluation on an existing Provisioned Throughput', () => {
  test('one that serves another model (here the base model) fails the run with ProvisionedModelMismatch and is left untouched', async () => {
    let existingArn = '';
    const h = await startHarness(async (aws) => {
      // The user's own Provisioned Throughput, created before the stack is deployed.
      const bedrock = new BedrockClient({});
      const created = await bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: 'team-shared', modelId: 'meta.llama3-2-1b-instruct-v1:0:128k', modelUnits: 1 }));
      bedrock.destroy();
      existingArn = created.provisionedModelArn!;
      aws.bedrock.markInService(existingArn);
      return { ...TEST_PROPS, evaluation: { provisionedModelArn: existingArn, qualityGate: { minF1: 99 } } };
    });
    try {
      h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
      h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(10, 1000));
      const { executions } = await h.upload('requests/existing.json', { name: 'existing', model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl' });
      const outcome = await executions[0].result;
      await h.runner.idle();
      expect(outcome.status).toBe('FAILED');
      expect(outcome.error).toBe('ProvisionedModelMismatch');
      const record = h.runRecords()[0];
      const served = h.aws.bedrock.provisionedThroughputs().find((p) => p.provisionedModelArn === existingArn)!.modelArn;
      expect(outcome.cause).toContain(`serves ${served}, not this run's custom model ${record.job!.outputModelArn}`);
      expect(outcome.cause).toContain('UpdateProvisionedModelThroughput');
      // Untouched: still there and in service, never deleted, no other created, nothing evaluated on it.
      expect(h.aws.bedrock.allProvisionedThroughputs().map((p) => p.provisionedModelArn)).toEqual([existingArn]);
      expect(h.aws.bedrock.provisionedThroughputs()).toEqual([expect.objectContaining({ provisionedModelArn: existingArn, status: 'InService' })]);
      expect(h.aws.callLog.count({ operation: 'DeleteProvisionedModelThroughput' })).toBe(0);
      expect(h.aws.runtime.invocations()).toEqual([]);
      expect(record.status).toBe('FAILED');
      expect(record.outcome?.error).toBe('ProvisionedModelMismatch');
      expect(record.evaluation).toBeUndefined();
      const message = h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(record.runId))!;
      expect(message.message).toContain('ProvisionedModelMismatch');
      expect(h.runner.checkIam().denied).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});
