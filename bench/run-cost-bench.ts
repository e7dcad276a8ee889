/**
 * Run cost benchmark (issue 16): the state transitions and Lambda invocations an evaluated run
 * pays, COUNTED on a local run of the synthesized state machine (not added up by hand), split
 * into what every run pays once, what each poll of the training job and of the Provisioned
 * Throughput pays, and what each evaluation shard pays; then per hour at the synthesized poll
 * intervals. The README's cost table takes its figures from this output.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/run-cost-bench.ts`.
 */
import { startHarness, TEST_PROPS, arithmeticRecords } from '../test/workflow/harness';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const JOB_POLLS = 6;
const MODEL_POLLS = 5;
const TEST_RECORDS = 24;
const SHARD_SIZE = 6;

interface StateInfo {
  readonly Type: string;
  readonly Resource?: string;
  readonly Seconds?: number;
  readonly ItemProcessor?: { States: Record<string, StateInfo> };
  readonly Iterator?: { States: Record<string, StateInfo> };
}

/** Every state of the definition, nested ones (Map, Parallel) included, by name. */
function statesOf(states: Record<string, StateInfo>, into = new Map<string, StateInfo>()): Map<string, StateInfo> {
  for (const [name, state] of Object.entries(states)) {
    into.set(name, state);
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested) statesOf(nested.States, into);
    for (const branch of (state as { Branches?: Array<{ States: Record<string, StateInfo> }> }).Branches ?? []) statesOf(branch.States, into);
  }
  return into;
}

/** A Lambda task: the optimized integration (arn:...:states:::lambda:invoke) or a function ARN. */
function isLambdaTask(state: StateInfo | undefined): boolean {
  if (!state || state.Type !== 'Task') return false;
  const resource = JSON.stringify(state.Resource ?? '');
  return resource.includes('lambda:invoke') || resource.includes(':function:') || resource.includes('Fn::GetAtt');
}

/** The slice of `transitions` from the first `from` to the last `to`, and how often `poll` occurs in it. */
function loopOf(transitions: readonly string[], from: string, to: string, poll: string): { length: number; polls: number } {
  const first = transitions.indexOf(from);
  const last = transitions.lastIndexOf(to);
  if (first < 0 || last < first) throw new Error(`no ${from}..${to} loop in the run's transitions: ${transitions.join(' > ')}`);
  const loop = transitions.slice(first, last + 1);
  return { length: loop.length, polls: loop.filter((t) => t === poll).length };
}

export async function runRunCostBench(): Promise<BenchResult[]> {
  const h = await startHarness({ ...TEST_PROPS, evaluation: { shardSize: SHARD_SIZE, maxConcurrency: 2 } }, { waitMs: 0, retryMs: 0 });
  try {
    const states = statesOf(h.runner.definition.States as unknown as Record<string, StateInfo>);
    // The training job's safety poll is WaitForJobEnd's timeout (the runner times it out at once).
    const jobPollSeconds = (states.get('WaitForJobEnd') as { TimeoutSeconds?: number } | undefined)?.TimeoutSeconds;
    const modelPollSeconds = states.get('WaitForModel')?.Seconds;
    if (!jobPollSeconds || !modelPollSeconds) throw new Error('the definition has no WaitForJobEnd timeout / WaitForModel wait of fixed seconds');

    h.aws.runtime.respond = () => '3';
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(TEST_RECORDS, 1000));
    h.aws.bedrock.setJobScenario({ afterPolls: JOB_POLLS });
    h.aws.bedrock.setProvisionedThroughputScenario({ afterPolls: MODEL_POLLS });
    const { executions } = await h.upload('requests/cost.json', { name: 'cost', model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 8 } });
    const outcome = await executions[0].result;
    if (outcome.status !== 'SUCCEEDED') throw new Error(`cost bench run ${outcome.status}: ${outcome.error} ${outcome.cause}`);

    const transitions = outcome.transitions;
    const invocations = transitions.filter((name) => isLambdaTask(states.get(name)));
    const job = loopOf(transitions, 'WaitForJobEnd', 'JobStatus', 'WaitForJobEnd');
    const model = loopOf(transitions, 'WaitForModel', 'IsModelInService', 'CheckModel');
    // Each shard is one InferShard invocation; every transition inside the Map's iterations belongs to a shard.
    const shards = transitions.filter((t) => t === 'InferShard').length;
    const shardTransitions = outcome.events.filter((e) => e.type === 'StateEntered' && e.index !== undefined && e.stateType !== 'Map').length || shards;
    const jobInvocations = job.polls + 1; // WaitForJobEnd each round, CheckJob once at the end
    const modelInvocations = model.polls; // CheckModel is the provisioning loop's only Lambda task
    const fixedTransitions = transitions.length - job.length - model.length - shardTransitions;
    const fixedInvocations = invocations.length - jobInvocations - modelInvocations - shards;
    const perHour = (perPoll: number, seconds: number) => roundTo((3600 / seconds) * perPoll, 1);
    return [
      { name: `evaluated run, counted: state transitions in all (${job.polls} job polls, ${model.polls} Provisioned Throughput polls, ${shards} shards)`, value: transitions.length, unit: 'transitions' },
      { name: 'every run, once: state transitions (outside the polling loops and the shards)', value: fixedTransitions, unit: 'transitions' },
      { name: 'every run, once: Lambda invocations', value: fixedInvocations, unit: 'invocations' },
      { name: `training: per safety poll without an event (every ${jobPollSeconds} s; CheckJob and JobStatus once at the end)`, value: roundTo(job.length / job.polls, 2), unit: 'transitions and 1 invocation' },
      { name: 'training: per hour', value: perHour(job.length / job.polls, jobPollSeconds), unit: `transitions and ${perHour(1, jobPollSeconds)} invocations` },
      { name: `Provisioned Throughput provisioning: per poll (every ${modelPollSeconds} s)`, value: roundTo(model.length / model.polls, 2), unit: 'transitions and 1 invocation' },
      { name: 'Provisioned Throughput provisioning: per hour', value: perHour(model.length / model.polls, modelPollSeconds), unit: `transitions and ${perHour(1, modelPollSeconds)} invocations` },
      { name: 'evaluation: per shard', value: roundTo(shardTransitions / shards, 2), unit: 'transitions and 1 invocation (InferShard)' },
    ];
  } finally {
    await h.stop();
  }
}

if (require.main === module) {
  runBenchAlone(runRunCostBench);
}
