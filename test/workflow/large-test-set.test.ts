import { EvaluationReport } from '../../lambda/shared/report';
import { MAX_HISTORY_EVENTS } from '../support/local-workflow/history-count';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/** Step Functions' payload limit (256 KiB of UTF-8 JSON). */
const MAX_PAYLOAD_BYTES = 262_144;
/** Shards of the largest test set (100,000 records) at the default shard size (20). */
const LARGEST_SHARD_COUNT = 5_000;
/** Records per shard here: 5,000 shards from a twentieth of the records, so a twentieth of the model calls. */
const SHARD_SIZE = 1;
const RECORDS = LARGEST_SHARD_COUNT * SHARD_SIZE;

/**
 * Issue 10 case 4: the shape of the largest test set a request may name runs end to end. With the
 * shard list carried in the state (5,000 descriptors at the default shard size, over 256 KiB) and
 * an inline Map of 5,000 iterations (about 35,000 history events), it failed with
 * States.DataLimitExceeded, which States.ALL does not catch, so the failure was not even recorded.
 *
 * What grows with the test set in the state machine is the number of shards, so this run has
 * the largest test set's 5,000 shards (1 record each instead of 20: every other figure is the
 * same, at a twentieth of the 200,000 model calls, which cost about 1.3 ms of CPU each through the
 * SDK and the stand-in). The 100,000 records themselves go through the same synthesized
 * functions, in their memory limits, in largest-test-set-scoring.test.ts.
 */
describe('evaluation with the largest test set\'s shard count (offline, as synthesized)', () => {
  let h: WorkflowHarness;

  beforeAll(async () => {
    // Two shards at a time, each asking its record's pair of questions. The runner gives each
    // concurrent shard its own execution environment (a worker thread that loads and warms up the
    // bundle and the SDK), so more shards at once would cost CPU, not prove more.
    h = await startHarness({ ...TEST_PROPS, evaluation: { maxConcurrency: 2, shardSize: SHARD_SIZE } });
    // Both models answer at once; the fine-tuned one is right, the base one never is.
    h.aws.runtime.respond = (invocation) => {
      const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
      return invocation.target.kind === 'provisioned-model' ? String(a + b) : 'No idea.';
    };
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/test-5k.jsonl', arithmeticRecords(RECORDS, 1_000));
  }, 120_000);
  afterAll(async () => h?.stop());

  test(`${LARGEST_SHARD_COUNT.toLocaleString('en-US')} shards: no state payload grows with them, the history stays bounded, the report scores every record`, async () => {
    const { executions } = await h.upload('requests/large.json', {
      name: 'large',
      model: 'llama3.2-1b',
      trainingData: 'data/train.jsonl',
      testData: 'data/test-5k.jsonl',
      evaluation: { maxTokens: 8 },
    });
    const outcome = await executions[0].result;
    expect({ status: outcome.status, error: outcome.error, cause: outcome.cause?.slice(0, 300) }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });

    // Every state's input and output stayed far below the limit, whatever the number of shards.
    const largest = Math.max(...outcome.events.filter((e) => e.childExecution === undefined).map((e) => Buffer.byteLength(JSON.stringify(e.output ?? e.input ?? null))));
    expect(largest).toBeLessThan(MAX_PAYLOAD_BYTES / 8);
    const prepared = outcome.events.find((e) => e.type === 'StateExited' && e.state === 'PrepareEvaluation')!.output as { evaluation: Record<string, unknown> };
    expect(prepared.evaluation).toEqual({ itemsDigest: expect.stringMatching(/^[0-9a-f]{64}$/), recordCount: RECORDS, shardCount: LARGEST_SHARD_COUNT, manifest: { bucket: h.artifacts, key: expect.stringMatching(/evaluation\/shards\/manifest\.json$/) }, resultsPrefix: expect.any(String) });

    // One child execution per shard, each with a short history of its own; the parent's stays small.
    expect(outcome.childExecutions).toHaveLength(LARGEST_SHARD_COUNT);
    expect(Math.max(...outcome.childExecutions.map((c) => c.historyEventCount))).toBeLessThan(100);
    expect(outcome.historyEventCount).toBeLessThan(MAX_HISTORY_EVENTS / 10);

    const record = h.runRecords().find((r) => r.run.requestName === 'large')!;
    const report = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.json`)!.toString()) as EvaluationReport;
    expect(report.records).toHaveLength(RECORDS);
    expect(report.scores.fineTuned.f1).toBeCloseTo(100, 6);
    expect(report.scores.base.f1).toBe(0);
    // Every record was asked of both models, once (the shards were not retried).
    expect(h.aws.runtime.invocations()).toHaveLength(2 * RECORDS);
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    expect(h.runner.checkIam().denied).toEqual([]);
  }, 1_200_000);
});
