/**
 * The shared baseline through synthesized states, run by the offline runner against the
 * stand-ins: (a) the BaselineEvaluation piece computes the base model's answers once; (b) the
 * evaluation stage of a run whose context carries that baseline sends only fine-tuned calls,
 * scores the base side from the stored answers, and refuses (before any Provisioned
 * Throughput) a baseline made for another evaluation. The harness state machine chains exactly
 * the constructs the workflows chain (BaselineEvaluation, EvaluationStage), so these are the
 * states, payloads, Distributed Maps and IAM grants as synthesized.
 */
import { BedrockClient, CreateModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BaselineEvaluation } from '../../lib/workflow/baseline-evaluation';
import { EvaluationStage } from '../../lib/workflow/evaluation-stage';
import { BaselineManifest, BaselineReference } from '../../lambda/shared/evaluation/baseline';
import { pinnedDataLocation } from '../../lambda/shared/pinned-data';
import { RunContext, buildRunContext } from '../../lambda/shared/run-context';
import { RunRecord, runRecordKey } from '../../lambda/shared/run-record';
import { parseRunRequest } from '../../lambda/shared/run-request';
import { testStack } from '../support/cdk';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner } from '../support/local-workflow';
import { arithmeticRecords } from './harness';

const RECORDS = 11;
const SHARD_SIZE = 4;

/** Fine-tuned: always right. Base: right on even first numbers only. */
function respond(invocation: ConverseInvocation): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
  if (invocation.target.kind === 'provisioned-model') return String(a + b);
  return a % 2 === 0 ? String(a + b) : 'no idea';
}

describe('shared baseline through the synthesized states (offline)', () => {
  let aws: LocalAws;
  let runner: LocalWorkflowRunner;
  let datasets: string;
  let artifacts: string;
  let customModelArn: string;
  let baseline: BaselineReference;

  beforeAll(async () => {
    aws = await startLocalAws();
    aws.runtime.respond = respond;
    const stack = testStack();
    const datasetBucket = new s3.Bucket(stack, 'Dataset');
    const artifactsBucket = new s3.Bucket(stack, 'Artifacts');
    const states = new Construct(stack, 'States');
    const functionDefaults = { logRetention: logs.RetentionDays.ONE_DAY, logRemovalPolicy: RemovalPolicy.DESTROY };
    const common = { datasetBucket, dataPrefix: '', artifactsBucket, runsPrefix: 'runs/', functionDefaults, statesScope: states, addTransientRetry: () => undefined };
    const evaluationFailed = new sfn.Fail(states, 'EvaluationFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const baselineFailed = new sfn.Fail(states, 'BaselineFailed', { errorPath: '$.baselineError.Error', causePath: '$.baselineError.Cause' });
    const piece = new BaselineEvaluation(stack, 'Baseline', { ...common, shardSize: SHARD_SIZE, maxConcurrency: 2, modelsPath: '$.models', failure: baselineFailed });
    piece.endState.next(new sfn.Succeed(states, 'BaselineComputed'));
    const evaluation = new EvaluationStage(stack, 'Evaluation', { ...common, environmentName: 'test', shardSize: SHARD_SIZE, maxConcurrency: 2, recordFailure: evaluationFailed });
    evaluation.endState.next(new sfn.Succeed(states, 'Evaluated'));
    const start = new sfn.Choice(states, 'Step').when(sfn.Condition.stringEquals('$.step', 'baseline'), piece.startState).otherwise(evaluation.startState);
    new sfn.StateMachine(stack, 'Harness', { definitionBody: sfn.DefinitionBody.fromChainable(start) });

    runner = await LocalWorkflowRunner.create({ template: Template.fromStack(stack), aws, waitMs: 2, retryMs: 2 });
    datasets = runner.bucketName('Dataset');
    artifacts = runner.bucketName('Artifacts');
    aws.s3.putObject(datasets, 'data/train.jsonl', arithmeticRecords(120));

    // A trained custom model, as a run's job leaves it.
    const bedrock = new BedrockClient({});
    try {
      const { jobArn } = await bedrock.send(
        new CreateModelCustomizationJobCommand({
          jobName: 'shared-baseline-job',
          customModelName: 'shared-baseline-model',
          roleArn: 'arn:aws:iam::111122223333:role/customization',
          baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0:128k',
          trainingDataConfig: { s3Uri: `s3://${datasets}/data/train.jsonl` },
          outputDataConfig: { s3Uri: `s3://${artifacts}/job-output/` },
        }),
      );
      aws.bedrock.completeJob(jobArn!);
    } finally {
      bedrock.destroy();
    }
    customModelArn = aws.bedrock.customModels()[0].modelArn;
  });
  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  const TEST_VERSION = { key: 'data/test.jsonl', versionId: 'v1', etag: '"e1"', size: 999 };

  /** A run context as read-request builds it, with its pinned test copy and (for runs) its record. */
  function context(name: string, change: (run: RunContext) => RunContext = (r) => r): RunContext {
    const request = parseRunRequest(JSON.stringify({ name, model: 'llama3.2-11b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 32 } }), name, datasets);
    const built = buildRunContext(request, { bucket: datasets, key: `requests/${name}.json`, versionId: `v-${name}` }, datasets, artifacts, 'runs/', `arn:aws:states:us-west-2:111122223333:execution:Experiment:${name}`, { test: TEST_VERSION });
    const run = change(built);
    const copy = pinnedDataLocation(run, 'test');
    aws.s3.putObject(copy.bucket, copy.key, arithmeticRecords(RECORDS));
    const now = new Date().toISOString();
    const record: RunRecord = { schemaVersion: 1, runId: run.runId, executionArn: run.executionArn, createdAt: now, status: 'RUNNING', run, timeline: [{ at: now, event: 'run started' }] };
    aws.s3.putObject(artifacts, runRecordKey(run), JSON.stringify(record));
    return run;
  }
  const calls = () => aws.runtime.invocations();
  const baseCalls = () => calls().filter((c) => c.targetKind === 'inference-profile').length;
  const fineTunedCalls = () => calls().filter((c) => c.targetKind === 'provisioned-model').length;

  test('(a) the baseline piece asks the base model once per test record and records its manifest', async () => {
    const experiment = context('sweep');
    const outcome = await runner.run({ step: 'baseline', run: experiment, models: ['llama3.2-11b'] });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(expect.arrayContaining(['PrepareBaseline', 'RunBaselineInference', 'InferBaselineShard', 'RecordBaseline', 'BaselineComputed']));
    // 11 records in shards of 4: 3 child executions, each a base-only shard.
    expect(outcome.childExecutions).toHaveLength(3);
    expect(baseCalls()).toBe(RECORDS);
    expect(fineTunedCalls()).toBe(0);
    expect(aws.bedrock.allProvisionedThroughputs()).toEqual([]);
    const output = outcome.output as { baseline: { baselines: BaselineReference[] } };
    [baseline] = output.baseline.baselines;
    expect(output.baseline.baselines).toHaveLength(1);
    expect(baseline).toEqual({ bucket: artifacts, key: `${experiment.artifacts.prefix}baseline/us.meta.llama3-2-11b-instruct-v1-0/manifest.json`, baseModelId: 'us.meta.llama3-2-11b-instruct-v1:0', records: RECORDS });
    const manifest = JSON.parse(aws.s3.getObject(artifacts, baseline.key)!.toString()) as BaselineManifest;
    expect(manifest).toMatchObject({ records: RECORDS, answered: RECORDS, maxTokens: 32, testData: TEST_VERSION });
  });

  test('(b) variants reusing it send only fine-tuned calls: baseline once + 2 evaluations = 11 base + 2 x 11 fine-tuned calls', async () => {
    expect(baseline).toBeDefined();
    const before = { base: baseCalls(), tuned: fineTunedCalls() };
    for (const name of ['sweep-lr-a', 'sweep-lr-b']) {
      const variant = context(name, (r) => ({ ...r, evaluation: { ...r.evaluation, baseline } }));
      const outcome = await runner.run({ step: 'evaluate', run: variant, job: { outputModelArn: customModelArn } });
      expect(outcome.status).toBe('SUCCEEDED');
      expect(outcome.transitions).toEqual(expect.arrayContaining(['PrepareEvaluation', 'ProvisionModel', 'RunInference', 'InferShard', 'ScoreEvaluation', 'ReleaseModel', 'Evaluated']));
      const record = JSON.parse(aws.s3.getObject(artifacts, runRecordKey(variant))!.toString()) as RunRecord;
      // Base: 6 of 11 first numbers (0, 2, ..., 10) are even.
      expect(record.evaluation).toMatchObject({ records: RECORDS, fineTunedF1: 100, baselineUri: `s3://${artifacts}/${baseline.key}` });
      expect(record.evaluation!.baseF1).toBeCloseTo((6 / 11) * 100, 6);
    }
    expect(baseCalls() - before.base).toBe(0);
    expect(fineTunedCalls() - before.tuned).toBe(2 * RECORDS);
    expect(aws.bedrock.provisionedThroughputs()).toEqual([]);
  });

  test('(b) a baseline made for other settings fails the run with BaselineMismatch before any Provisioned Throughput', async () => {
    const createdBefore = aws.bedrock.allProvisionedThroughputs().length;
    const before = calls().length;
    const variant = context('sweep-long', (r) => ({ ...r, evaluation: { ...r.evaluation, maxTokens: 64, baseline } }));
    const outcome = await runner.run({ step: 'evaluate', run: variant, job: { outputModelArn: customModelArn } });
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('BaselineMismatch');
    expect(outcome.cause).toContain('maxTokens 32, this run 64');
    expect(outcome.transitions).not.toContain('ProvisionModel');
    expect(aws.bedrock.allProvisionedThroughputs()).toHaveLength(createdBefore);
    expect(calls().length).toBe(before);
  });

  test('a run without a baseline still asks both models (single runs unchanged)', async () => {
    const before = { base: baseCalls(), tuned: fineTunedCalls() };
    const single = context('single');
    const outcome = await runner.run({ step: 'evaluate', run: single, job: { outputModelArn: customModelArn } });
    expect(outcome.status).toBe('SUCCEEDED');
    expect(baseCalls() - before.base).toBe(RECORDS);
    expect(fineTunedCalls() - before.tuned).toBe(RECORDS);
    const record = JSON.parse(aws.s3.getObject(artifacts, runRecordKey(single))!.toString()) as RunRecord;
    expect(record.evaluation!.baseF1).toBeCloseTo((6 / 11) * 100, 6);
    expect(record.evaluation!.baselineUri).toBeUndefined();
  });

  test('every call was allowed by the synthesized roles (the baseline functions and the stage reading the baseline)', () => {
    const { denied, unused } = runner.checkIam();
    expect(denied).toEqual([]);
    // The baseline piece's functions use every action they are granted but prepare's ListBucket,
    // which only makes S3 answer 404 rather than 403 for a missing pinned copy.
    const baselineRoles = unused.filter((u) => u.role.startsWith('Baseline'));
    expect(baselineRoles).toEqual([{ role: expect.stringMatching(/^BaselinePrepareBaselineRole/), actions: ['s3:ListBucket'] }]);
  });
});
