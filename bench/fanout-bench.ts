/**
 * Evaluation fan-out benchmark: 2,000 test records, a Bedrock Runtime stand-in that answers
 * after 200 ms, and a concurrency of 20 records at once (the Map runs 10 shards at a time, each
 * works on 2 records at a time, and each record asks both models in parallel). The RunInference state's wall time is printed as a
 * ratio against the ideal records x latency / concurrency = 20 s; target <= 1.25.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/fanout-bench.ts`.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../lib';
import { arithmeticRecords } from '../test/workflow/harness';
import { testStack } from '../test/support/cdk';
import { startLocalAws } from '../test/support/local-aws';
import { LocalWorkflowRunner } from '../test/support/local-workflow';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const RECORDS = 2000;
const LATENCY_MS = 200;
const SHARDS_AT_ONCE = 10;
const RECORDS_AT_ONCE_PER_SHARD = 2;
const CONCURRENCY = SHARDS_AT_ONCE * RECORDS_AT_ONCE_PER_SHARD;
const SHARD_SIZE = 50;

export async function runFanOutBench(): Promise<BenchResult[]> {
  const aws = await startLocalAws();
  const stack = testStack(undefined, 'FanOutBench');
  new LlamaFinetuning(stack, 'Finetuning', { evaluation: { shardSize: SHARD_SIZE, maxConcurrency: SHARDS_AT_ONCE, recordConcurrency: RECORDS_AT_ONCE_PER_SHARD } });
  const runner = await LocalWorkflowRunner.create({ template: Template.fromStack(stack), aws, waitMs: 0, retryMs: 0 });
  try {
    const datasets = runner.bucketName('FinetuningStorageDataset');
    aws.s3.putObject(datasets, 'data/train.jsonl', arithmeticRecords(120));
    aws.s3.putObject(datasets, 'data/test.jsonl', arithmeticRecords(RECORDS, 10_000));
    aws.runtime.respond = (inv) => (inv.target.kind === 'provisioned-model' ? '42' : 'unknown');
    aws.runtime.setLatency(LATENCY_MS);
    // Warm the execution environments first (each fails fast on an empty event), so the
    // measurement is the fan-out itself, not loading the bundle into fresh workers on this
    // machine's two cores (in Lambda, cold starts happen on separate hosts in parallel).
    await Promise.all(Array.from({ length: SHARDS_AT_ONCE }, () => runner.invoke('infer-shard', {})));
    aws.s3.putObject(datasets, 'requests/fanout.json', JSON.stringify({ name: 'fanout', model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 8 } }));
    const { executions } = await runner.putS3ObjectCreated(datasets, 'requests/fanout.json');
    const outcome = await executions[0].result;
    if (outcome.status !== 'SUCCEEDED') throw new Error(`fan-out run ${outcome.status}: ${outcome.error} ${outcome.cause}`);
    const entered = outcome.events.find((e) => e.type === 'StateEntered' && e.state === 'RunInference')!;
    const exited = outcome.events.find((e) => e.type === 'StateExited' && e.state === 'RunInference')!;
    const seconds = (exited.timestamp - entered.timestamp) / 1000;
    const ideal = (RECORDS * LATENCY_MS) / CONCURRENCY / 1000;
    const calls = aws.runtime.invocations().length;
    const ratio = roundTo(seconds / ideal, 3);
    return [
      {
        name: `fan-out: ${RECORDS} records x 2 models (${calls} Converse calls), ${LATENCY_MS} ms latency, concurrency ${CONCURRENCY}`,
        value: roundTo(seconds, 2),
        unit: 's',
        baseline: ideal,
        ratio,
        target: '<= 1.25 of records x latency / concurrency',
        pass: ratio <= 1.25 && calls === 2 * RECORDS,
      },
    ];
  } finally {
    await runner.stop();
    await aws.stop();
  }
}

if (require.main === module) {
  runBenchAlone(runFanOutBench);
}
