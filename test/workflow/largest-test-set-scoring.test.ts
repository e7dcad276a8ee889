import { EvaluationShard } from '../../lambda/prepare-evaluation';
import { ModelPredictionLine } from '../../lambda/shared/evaluation/model-prediction';
import { EvaluationItem, evaluationPredictionsKey, evaluationPredictionsPrefix } from '../../lambda/shared/evaluation/test-records';
import { pinnedDataLocation } from '../../lambda/shared/pinned-data';
import { EvaluationReport } from '../../lambda/shared/report';
import { RunContext } from '../../lambda/shared/run-context';
import { MAX_EVALUATION_RECORDS } from '../../lambda/shared/run-request';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/** The run's own evaluation functions (an experiment's shared baseline has a prepare function of its own). */
const PREPARE = 'FinetuningWorkflowEvaluationPrepareEvaluation';
const SCORE = 'FinetuningWorkflowEvaluationScoreEvaluation';

/**
 * Issue 10 case 4, the records' half: the largest test set a request may name (100,000 records)
 * goes through the synthesized PrepareEvaluation and ScoreEvaluation functions, each in its own
 * execution environment with the template's memory limit, so the shard files, the scoring and
 * the report of every record fit in what Lambda gives them.
 *
 * The shards' half (5,000 shards, one child execution each, state and history bounded) runs
 * end to end in large-test-set.test.ts. Between the two functions, this test writes each
 * shard's answers in infer-shard's format instead of sending 200,000 Converse calls (about 1.3
 * ms of CPU each): the fine-tuned answer is the reference, the base answer is wrong.
 */
describe(`the largest test set (${MAX_EVALUATION_RECORDS.toLocaleString('en-US')} records) through the synthesized evaluation functions`, () => {
  let h: WorkflowHarness;

  beforeAll(async () => {
    h = await startHarness(TEST_PROPS);
    h.aws.runtime.respond = (invocation) => (invocation.target.kind === 'provisioned-model' ? (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number).reduce((a, b) => a + b, 0).toString() : 'No idea.');
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(20, 1_000));
  }, 120_000);
  afterAll(async () => h?.stop());

  test('prepared in 5,000 shards, every record scored and in the report', async () => {
    // A real run first: the functions' events (run context, provisioned model) come from it.
    const { executions } = await h.upload('requests/run.json', { name: 'largest', model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 8 } });
    expect((await executions[0].result).status).toBe('SUCCEEDED');
    const prepareEvent = h.runner.invocations(PREPARE)[0].event as { run: RunContext };
    const scoreEvent = h.runner.invocations(SCORE)[0].event as { run: RunContext };
    const run = prepareEvent.run;

    // The run's copy of the test file now holds the largest test set, and its 20 answers are gone.
    const testCopy = pinnedDataLocation(run, 'test');
    h.aws.s3.putObject(testCopy.bucket, testCopy.key, arithmeticRecords(MAX_EVALUATION_RECORDS, 1_000));
    for (const key of h.aws.s3.listKeys(h.artifacts, evaluationPredictionsPrefix(run.artifacts.prefix))) h.aws.s3.deleteObject(h.artifacts, key);

    const prepared = await h.runner.invoke(PREPARE, prepareEvent);
    expect(prepared.error).toBeUndefined();
    const evaluation = prepared.payload as { recordCount: number; shardCount: number; manifest: { bucket: string; key: string } };
    expect(evaluation).toMatchObject({ recordCount: MAX_EVALUATION_RECORDS, shardCount: MAX_EVALUATION_RECORDS / 20 });
    expect(Buffer.byteLength(JSON.stringify(evaluation))).toBeLessThan(1024);

    // Each shard answered as infer-shard writes it: the fine-tuned model right, the base model wrong.
    const shards = JSON.parse(h.aws.s3.getObject(evaluation.manifest.bucket, evaluation.manifest.key)!.toString()) as EvaluationShard[];
    expect(shards).toHaveLength(MAX_EVALUATION_RECORDS / 20);
    for (const shard of shards) {
      const items = h.aws.s3.getObject(h.artifacts, shard.key)!.toString().trim().split('\n').map((line) => JSON.parse(line) as EvaluationItem);
      const lines = items.flatMap((item): ModelPredictionLine[] => {
        const answer = { recordId: item.recordId, line: item.line, question: item.question, references: item.references, latencyMs: 5, inputTokens: 20, outputTokens: 2 };
        return [
          { ...answer, model: 'base', modelId: run.model.inferenceProfileId, prediction: 'No idea.' },
          { ...answer, model: 'fine-tuned', modelId: 'provisioned', prediction: item.references[0] },
        ];
      });
      h.aws.s3.putObject(h.artifacts, evaluationPredictionsKey(run.artifacts.prefix, shard.index), lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    }

    const scored = await h.runner.invoke(SCORE, scoreEvent);
    expect(scored.error).toBeUndefined();
    expect(scored.payload).toMatchObject({ baseF1: 0, fineTunedF1: 100 });
    const report = JSON.parse(h.aws.s3.getObject(h.artifacts, `${run.artifacts.prefix}report.json`)!.toString()) as EvaluationReport;
    expect(report.records).toHaveLength(MAX_EVALUATION_RECORDS);
    expect({ base: report.scores.base.count, fineTuned: report.scores.fineTuned.count }).toEqual({ base: MAX_EVALUATION_RECORDS, fineTuned: MAX_EVALUATION_RECORDS });
    expect(h.runner.checkIam().denied).toEqual([]);
  }, 600_000);
});
