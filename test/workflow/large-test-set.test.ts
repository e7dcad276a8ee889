import { EvaluationReport } from '../../lambda/shared/report';
import { MAX_HISTORY_EVENTS } from '../support/local-workflow/history-count';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/** The most test records a run request may name (evaluation.maxRecords, lambda/shared/run-request.ts). */
const LARGEST_TEST_SET = 100_000;
/** Step Functions' payload limit (256 KiB of UTF-8 JSON). */
const MAX_PAYLOAD_BYTES = 262_144;

/**
 * Issue 10 case 4: the largest test set a request may name runs end to end. With the shard list
 * carried in the state (5,000 descriptors at the default shard size, over 256 KiB) and an inline
 * Map of 5,000 iterations (about 35,000 history events), it failed with States.DataLimitExceeded,
 * which States.ALL does not catch, so the failure was not even recorded.
 */
describe('evaluation of the largest allowed test set (offline, as synthesized)', () => {
  let h: WorkflowHarness;

  beforeAll(async () => {
    // Two shards at a time, each asking 16 records' pairs of questions at once: 64 model calls in
    // flight keep both cores busy. The runner gives each concurrent shard its own execution
    // environment (a worker thread that loads and warms up the bundle and the SDK); at 40 shards,
    // those environments cost 2.5 times the CPU time of the whole run at 2 (10,000 records: 70 s vs 27.5 s).
    h = await startHarness({ ...TEST_PROPS, evaluation: { maxConcurrency: 2, recordConcurrency: 16 } });
    // Both models answer at once; the fine-tuned one is right, the base one never is.
    h.aws.runtime.respond = (invocation) => {
      const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
      return invocation.target.kind === 'provisioned-model' ? String(a + b) : 'No idea.';
    };
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/test-100k.jsonl', arithmeticRecords(LARGEST_TEST_SET, 1_000));
  }, 120_000);
  afterAll(async () => h?.stop());

  test(`${LARGEST_TEST_SET.toLocaleString('en-US')} test records: no state payload grows with them, the history stays bounded, the report scores every record`, async () => {
    const { executions } = await h.upload('requests/large.json', {
      name: 'large',
      model: 'llama3.2-1b',
      trainingData: 'data/train.jsonl',
      testData: 'data/test-100k.jsonl',
      evaluation: { maxTokens: 8, maxRecords: LARGEST_TEST_SET },
    });
    const outcome = await executions[0].result;
    expect({ status: outcome.status, error: outcome.error, cause: outcome.cause?.slice(0, 300) }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });

    // Every state's input and output stayed far below the limit, whatever the test set's size.
    const largest = Math.max(...outcome.events.filter((e) => e.childExecution === undefined).map((e) => Buffer.byteLength(JSON.stringify(e.output ?? e.input ?? null))));
    expect(largest).toBeLessThan(MAX_PAYLOAD_BYTES / 8);
    const prepared = outcome.events.find((e) => e.type === 'StateExited' && e.state === 'PrepareEvaluation')!.output as { evaluation: Record<string, unknown> };
    expect(prepared.evaluation).toEqual({ itemsDigest: expect.stringMatching(/^[0-9a-f]{64}$/), recordCount: LARGEST_TEST_SET, shardCount: 5_000, manifest: { bucket: h.artifacts, key: expect.stringMatching(/evaluation\/shards\/manifest\.json$/) }, resultsPrefix: expect.any(String) });

    // One child execution per shard, each with a short history of its own; the parent's stays small.
    expect(outcome.childExecutions).toHaveLength(5_000);
    expect(Math.max(...outcome.childExecutions.map((c) => c.historyEventCount))).toBeLessThan(100);
    expect(outcome.historyEventCount).toBeLessThan(MAX_HISTORY_EVENTS / 10);

    const record = h.runRecords().find((r) => r.run.requestName === 'large')!;
    const report = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.json`)!.toString()) as EvaluationReport;
    expect(report.records).toHaveLength(LARGEST_TEST_SET);
    expect(report.scores.fineTuned.f1).toBeCloseTo(100, 6);
    expect(report.scores.base.f1).toBe(0);
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    expect(h.runner.checkIam().denied).toEqual([]);
  }, 1_200_000);
});
