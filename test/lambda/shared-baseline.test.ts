/**
 * The shared baseline, handler by handler against LocalS3 and LocalBedrockRuntime with the real
 * SDK: the baseline piece (prepare-evaluation in baseline mode, infer-shard with purpose
 * 'baseline', record-baseline) asks the base model once per test record; each variant whose run
 * context carries the baseline asks only its fine-tuned model and scores the base side from the
 * stored answers; a baseline made for another evaluation is refused before anything bills.
 */
import { handler as infer, InferShardEvent } from '../../lambda/infer-shard';
import { handler as prepare, PrepareEvaluationResult } from '../../lambda/prepare-evaluation';
import { handler as recordBaseline } from '../../lambda/record-baseline';
import { handler as score } from '../../lambda/score-evaluation';
import { BaselineManifest, BaselineReference, baselineFor } from '../../lambda/shared/evaluation/baseline';
import { pinnedDataLocation } from '../../lambda/shared/pinned-data';
import { RunContext } from '../../lambda/shared/run-context';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { HandlerAws, createThroughput, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

const RECORDS = 12;
const TEST_VERSION = { key: 'data/test.jsonl', versionId: 'test-v1', etag: '"etag-1"', size: 1234 };

function testFile(lines: number, answer = (n: number) => `a${n}`): string {
  return (
    Array.from({ length: lines }, (_, i) =>
      JSON.stringify({
        schemaVersion: 'bedrock-conversation-2024',
        messages: [
          { role: 'user', content: [{ text: `q${i + 1}` }] },
          { role: 'assistant', content: [{ text: answer(i + 1) }] },
        ],
      }),
    ).join('\n') + '\n'
  );
}

/** Fine-tuned: always right. Base: right on even questions only. */
function respond(invocation: ConverseInvocation): string {
  const n = Number(/q(\d+)/.exec(invocation.lastUserText)?.[1]);
  if (invocation.target.kind === 'provisioned-model') return `a${n}`;
  return n % 2 === 0 ? `a${n}` : 'no idea';
}

describe('shared baseline (handlers)', () => {
  let aws: HandlerAws;
  let fineTunedArn: string;

  beforeAll(async () => {
    aws = await startHandlerAws({ SHARD_SIZE: '5', RECORD_CONCURRENCY: '2', MIN_ANSWERED_SHARE: '0.9' });
    aws.runtime.respond = respond;
    fineTunedArn = await createThroughput('eval-shared-baseline', 'meta.llama3-2-11b-instruct-v1:0:128k');
    aws.bedrock.markInService(fineTunedArn);
  });
  afterAll(async () => aws?.stop());

  /** A run context as read-request makes it, with pinned data versions and its pinned test copy stored. */
  function context(name: string, change: (run: RunContext) => RunContext = (r) => r, body = testFile(RECORDS)): RunContext {
    const base = runContext(name, 'llama3.2-11b');
    const run = change({ ...base, data: { ...base.data, versions: { test: TEST_VERSION } } });
    const copy = pinnedDataLocation(run, 'test');
    aws.s3.putObject(copy.bucket, copy.key, body);
    return run;
  }

  function shardsOf(prepared: PrepareEvaluationResult): Array<InferShardEvent['shard']> {
    return JSON.parse(aws.s3.getObject(prepared.manifest.bucket, prepared.manifest.key)!.toString()) as Array<InferShardEvent['shard']>;
  }

  async function computeBaseline(run: RunContext, models?: string[]): Promise<BaselineReference[]> {
    const prepared = await prepare({ run, baseline: models ? { models } : {} });
    for (const shard of shardsOf(prepared)) await infer({ run, shard, purpose: 'baseline' });
    return (await recordBaseline({ run, prepared: { itemsDigest: prepared.itemsDigest, recordCount: prepared.recordCount, baseModelIds: prepared.baseModelIds! } })).baselines;
  }

  async function evaluate(run: RunContext) {
    storeRecord(aws, runningRecord(run));
    const prepared = await prepare({ run });
    for (const shard of shardsOf(prepared)) await infer({ run, shard, fineTunedModelId: fineTunedArn, baseModelId: run.model.inferenceProfileId });
    return score({ run });
  }

  const calls = () => aws.runtime.invocations();
  const baseCalls = () => calls().filter((c) => c.targetKind === 'inference-profile').length;
  const fineTunedCalls = () => calls().filter((c) => c.targetKind === 'provisioned-model').length;

  test('baseline once + 3 variants: test records base calls and 3 x test records fine-tuned calls; scores equal a run without it', async () => {
    const before = { base: baseCalls(), tuned: fineTunedCalls() };
    const experiment = context('sweep');
    const [baseline] = await computeBaseline(experiment);
    expect(baseCalls() - before.base).toBe(RECORDS);
    expect(fineTunedCalls() - before.tuned).toBe(0);
    expect(baseline).toEqual({ bucket: experiment.artifacts.bucket, key: `${experiment.artifacts.prefix}baseline/us.meta.llama3-2-11b-instruct-v1-0/manifest.json`, baseModelId: 'us.meta.llama3-2-11b-instruct-v1:0', records: RECORDS });
    const manifest = JSON.parse(aws.s3.getObject(baseline.bucket, baseline.key)!.toString()) as BaselineManifest;
    expect(manifest).toMatchObject({ model: 'llama3.2-11b', baseModelId: 'us.meta.llama3-2-11b-instruct-v1:0', testData: TEST_VERSION, maxTokens: 512, records: RECORDS, answered: RECORDS });

    const results = [];
    for (const v of ['lr-a', 'lr-b', 'lr-c']) {
      const variant = context(`sweep-${v}`, (r) => ({ ...r, evaluation: { ...r.evaluation, baseline } }));
      results.push({ run: variant, scores: await evaluate(variant) });
    }
    expect(baseCalls() - before.base).toBe(RECORDS); // not one more base call
    expect(fineTunedCalls() - before.tuned).toBe(3 * RECORDS);

    // A run that asks both models itself scores the same.
    const single = context('single');
    const alone = await evaluate(single);
    expect(baseCalls() - before.base).toBe(2 * RECORDS);
    expect(alone.baseF1).toBeCloseTo(50, 6);
    for (const { run, scores } of results) {
      expect(scores.baseF1).toBeCloseTo(alone.baseF1, 6);
      expect(scores.fineTunedF1).toBeCloseTo(100, 6);
      const record = storedRecord(aws, run);
      expect(record.evaluation).toMatchObject({ records: RECORDS, baselineUri: `s3://${baseline.bucket}/${baseline.key}` });
      // The variant's own predictions hold only fine-tuned answers; its report counts no base tokens of its own.
      const own = aws.s3.listKeys(run.artifacts.bucket, `${run.artifacts.prefix}evaluation/predictions/`).flatMap((k) => aws.s3.getObject(run.artifacts.bucket, k)!.toString().trim().split('\n'));
      expect(own).toHaveLength(RECORDS);
      expect(own.every((l) => (JSON.parse(l) as { model: string }).model === 'fine-tuned')).toBe(true);
      const report = JSON.parse(aws.s3.getObject(run.artifacts.bucket, `${run.artifacts.prefix}report.json`)!.toString()) as { costs: { baseInputTokens: number; fineTunedInputTokens: number }; scores: { base: { count: number } } };
      expect(report.costs.baseInputTokens).toBe(0);
      expect(report.costs.fineTunedInputTokens).toBeGreaterThan(0);
      expect(report.scores.base.count).toBe(RECORDS);
    }
    expect(storedRecord(aws, single).evaluation?.baselineUri).toBeUndefined();
  });

  test('two models: one baseline per distinct base model, from one set of shards', async () => {
    const before = calls().length;
    const experiment = context('sweep-models');
    const baselines = await computeBaseline(experiment, ['llama3.2-11b', 'llama3.2-90b', 'llama3.2-11b']);
    expect(baselines.map((b) => b.baseModelId)).toEqual(['us.meta.llama3-2-11b-instruct-v1:0', 'us.meta.llama3-2-90b-instruct-v1:0']);
    const made = calls().slice(before);
    expect(made.filter((c) => c.modelId === 'us.meta.llama3-2-11b-instruct-v1:0')).toHaveLength(RECORDS);
    expect(made.filter((c) => c.modelId === 'us.meta.llama3-2-90b-instruct-v1:0')).toHaveLength(RECORDS);
    expect(aws.s3.listKeys(experiment.artifacts.bucket, `${experiment.artifacts.prefix}baseline/shards/`).filter((k) => k.endsWith('.jsonl'))).toHaveLength(3);
    // Each variant picks the baseline of its base model.
    expect(baselineFor(baselines, { inferenceProfileId: 'us.meta.llama3-2-90b-instruct-v1:0' })).toBe(baselines[1]);
    expect(baselineFor(baselines, { inferenceProfileId: 'us.meta.llama3-2-1b-instruct-v1:0' })).toBeUndefined();
    expect(baselineFor(baselines, { inferenceProfileId: 'us.meta.llama3-2-90b-instruct-v1:0' }, 'us.meta.llama3-2-11b-instruct-v1:0')).toBe(baselines[0]);
  });

  describe('a baseline made for another evaluation is refused before anything is paid for', () => {
    let baseline: BaselineReference;
    beforeAll(async () => {
      [baseline] = await computeBaseline(context('sweep-refusals'));
    });
    const withBaseline = (r: RunContext): RunContext => ({ ...r, evaluation: { ...r.evaluation, baseline } });

    test.each([
      ['maxTokens', (r: RunContext) => ({ ...withBaseline(r), evaluation: { ...withBaseline(r).evaluation, maxTokens: 64 } }), /maxTokens 512, this run 64/],
      ['maxRecords', (r: RunContext) => ({ ...withBaseline(r), evaluation: { ...withBaseline(r).evaluation, maxRecords: 5 } }), /maxRecords all, this run 5/],
      ['the model', (r: RunContext) => withBaseline({ ...r, model: { ...r.model, name: 'llama3.2-90b', inferenceProfileId: 'us.meta.llama3-2-90b-instruct-v1:0' } }), /base model us\.meta\.llama3-2-11b-instruct-v1:0 \(llama3\.2-11b\), this run asks us\.meta\.llama3-2-90b-instruct-v1:0 \(llama3\.2-90b\)/],
      ['the test file version', (r: RunContext) => withBaseline({ ...r, data: { ...r.data, versions: { test: { ...TEST_VERSION, versionId: 'test-v2', etag: '"etag-2"' } } } }), /test file data\/test\.jsonl \(version test-v1, ETag "etag-1", 1234 bytes\), this run data\/test\.jsonl \(version test-v2/],
    ])('another %s', async (_what, change, message) => {
      const before = calls().length;
      const run = context(`refused-${Math.random().toString(36).slice(2, 8)}`, change);
      const error = await prepare({ run }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.name).toBe('BaselineMismatch');
      expect(error?.message).toMatch(message);
      expect(error?.message).toContain(`s3://${baseline.bucket}/${baseline.key}`);
      expect(calls().length).toBe(before);
      // Nothing was prepared for inference.
      expect(aws.s3.listKeys(run.artifacts.bucket, `${run.artifacts.prefix}evaluation/`)).toEqual([]);
    });

    test('the same versions but other records (a copy that differs) are refused by the records\' digest', async () => {
      const run = context('refused-records', withBaseline, testFile(RECORDS, (n) => `other ${n}`));
      await expect(prepare({ run })).rejects.toThrow(/the test records themselves differ/);
    });

    test('a baseline that does not exist names where it was looked for', async () => {
      const run = context('refused-missing', (r) => ({ ...r, evaluation: { ...r.evaluation, baseline: { ...baseline, key: 'runs/nowhere/baseline/x/manifest.json' } } }));
      await expect(prepare({ run })).rejects.toThrow(`The shared baseline s3://${baseline.bucket}/runs/nowhere/baseline/x/manifest.json cannot be read`);
    });
  });

  test('a baseline the base model refused is not recorded (BaselineIncomplete), so no variant can look better against it', async () => {
    // Access to the base model is not enabled: every base call is refused.
    aws.runtime.setAuthorizer(({ resources }) => resources.some((r) => r.includes(':provisioned-model/')));
    try {
      const run = context('sweep-denied');
      const prepared = await prepare({ run, baseline: {} });
      for (const shard of shardsOf(prepared)) await infer({ run, shard, purpose: 'baseline' });
      const error = await recordBaseline({ run, prepared: { itemsDigest: prepared.itemsDigest, recordCount: prepared.recordCount, baseModelIds: prepared.baseModelIds! } }).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(error?.name).toBe('BaselineIncomplete');
      expect(error?.message).toContain(`the base model answered 0 of ${RECORDS} test records`);
      expect(aws.s3.listKeys(run.artifacts.bucket, `${run.artifacts.prefix}baseline/`).filter((k) => k.endsWith('manifest.json') && !k.includes('/shards/'))).toEqual([]);
    } finally {
      aws.runtime.setAuthorizer(undefined);
    }
  });
});
