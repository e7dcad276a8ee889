/**
 * Workflow benchmarks (issue: launch and monitor):
 * - at the DEFAULT safety-poll interval of the synthesized state machine, the state transitions
 *   and Lambda invocations per hour of training when no event comes, and the worst-case delay
 *   between a job finishing and the run noticing when its event is missed (job-tracking-bench.ts
 *   measures the event path). The per-round counts are measured on a local run of the
 *   synthesized definition (a job that stays InProgress for N status reads), not assumed;
 * - the offline demo's wall time, as a ratio against its one-minute budget.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/workflow-bench.ts`.
 */
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../lib';
import { arithmeticRecords } from '../test/workflow/harness';
import { testStack } from '../test/support/cdk';
import { startLocalAws } from '../test/support/local-aws';
import { LocalWorkflowRunner } from '../test/support/local-workflow';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const POLLS = 12;

export async function runWorkflowBench(): Promise<BenchResult[]> {
  const aws = await startLocalAws();
  const stack = testStack(undefined, 'BenchStack');
  new LlamaFinetuning(stack, 'Finetuning'); // defaults: the poll interval users get
  const template = Template.fromStack(stack);
  const runner = await LocalWorkflowRunner.create({ template, aws, waitMs: 0, retryMs: 0 });
  try {
    // The safety poll: WaitForJobEnd's timeout (the runner times it out at once, waitMs 0).
    const waitState = runner.definition.States.WaitForJobEnd as unknown as { TimeoutSeconds: number };
    const pollSeconds = waitState.TimeoutSeconds;
    const datasets = runner.bucketName('FinetuningStorageDataset');
    aws.s3.putObject(datasets, 'data/train.jsonl', arithmeticRecords(120));
    aws.bedrock.setJobScenario({ afterPolls: POLLS });
    aws.s3.putObject(datasets, 'requests/bench.json', JSON.stringify({ name: 'bench', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' }));
    const { executions } = await runner.putS3ObjectCreated(datasets, 'requests/bench.json');
    const outcome = await executions[0].result;
    if (outcome.status !== 'SUCCEEDED') throw new Error(`bench run ${outcome.status}: ${outcome.error} ${outcome.cause}`);

    // Transitions of the monitoring loop: from the first WaitForJobEnd to the last JobStatus.
    const first = outcome.transitions.indexOf('WaitForJobEnd');
    const last = outcome.transitions.lastIndexOf('JobStatus');
    const loop = outcome.transitions.slice(first, last + 1);
    const polls = loop.filter((t) => t === 'WaitForJobEnd').length; // one safety poll each
    const transitionsPerPoll = loop.length / polls;
    const invocationsPerPoll = loop.filter((t) => t === 'WaitForJobEnd' || t === 'CheckJob').length / polls; // the loop's Lambda tasks
    const checks = outcome.events.filter((e) => e.state === 'WaitForJobEnd');
    const checkDurations: number[] = [];
    for (let i = 0; i < checks.length - 1; i++) if (checks[i].type === 'StateEntered' && checks[i + 1].type === 'StateExited') checkDurations.push(checks[i + 1].timestamp - checks[i].timestamp);
    const worstCheckSeconds = Math.max(...checkDurations) / 1000;
    const pollsPerHour = 3600 / pollSeconds;
    return [
      { name: `default safety-poll interval`, value: pollSeconds, unit: 's' },
      { name: `safety-poll loop: state transitions per round (measured over ${polls} rounds)`, value: roundTo(transitionsPerPoll, 2), unit: 'transitions' },
      { name: 'state transitions per hour of training (no event)', value: roundTo(pollsPerHour * transitionsPerPoll, 1), unit: 'transitions/h' },
      { name: 'Lambda invocations per hour of training (no event)', value: roundTo(pollsPerHour * invocationsPerPoll, 1), unit: 'invocations/h' },
      {
        name: 'worst-case delay between job end and the run noticing when its event is missed (safety interval + slowest check)',
        value: roundTo(pollSeconds + worstCheckSeconds, 1),
        unit: 's',
      },
      ...demoWallTime(),
    ];
  } finally {
    await runner.stop();
    await aws.stop();
  }
}

/** Runs `npm run demo`'s script in a child process and compares its wall time with the one-minute budget. */
function demoWallTime(): BenchResult[] {
  const started = Date.now();
  const run = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin'), '--transpile-only', path.join(__dirname, '..', 'demo', 'run-demo.ts')], { encoding: 'utf-8', cwd: path.join(__dirname, '..') });
  const seconds = (Date.now() - started) / 1000;
  const ok = run.status === 0;
  const ratio = roundTo(seconds / 60, 2);
  return [{ name: `offline demo wall time${ok ? '' : ' (demo FAILED)'}`, value: roundTo(seconds, 1), unit: 's', baseline: 60, ratio, target: '<= 1 (one minute)', pass: ok && ratio <= 1 }];
}

if (require.main === module) {
  runBenchAlone(runWorkflowBench);
}
