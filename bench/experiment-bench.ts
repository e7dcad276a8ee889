/**
 * Experiment benchmark (issue 13), on the synthesized state machine run by the local runner
 * with the real handlers and the stand-ins; everything is COUNTED or timed on the runs:
 * - base-model calls: a 4-variant experiment (one shared baseline) against what 4 single runs
 *   make (4 x the calls counted on one single run), from the Bedrock Runtime stand-in's
 *   invocations;
 * - wall time of the experiment against one single run measured in the same process, with
 *   maxConcurrentJobs >= the variants (goal: at most 1.2 x), and with a quota of 2 jobs for 4
 *   variants (two waves, so about 2 x), where Bedrock's stand-in also refuses a third job.
 * Training takes TRAINING_MS of wall time per job (each job completes, and sends its event,
 * that long after it was created), standing for the hours a real job trains, so the ratios
 * show what an experiment adds around training (validation and baseline once, the variants'
 * steps side by side on two cores, the leaderboard); the overhead beyond training is printed
 * too. Run alone: `node -r ./scripts/esbuild-register.js bench/experiment-bench.ts`.
 */
import { LlamaFinetuningProps } from '../lib';
import { mostJobsAtOnce } from '../test/support/job-overlap';
import { arithmeticRecords, startHarness, TEST_PROPS, WorkflowHarness } from '../test/workflow/harness';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const VARIANTS = 4;
/** Wall time every training job takes (from CreateModelCustomizationJob to its end event). */
const TRAINING_MS = 8_000;
const TEST_RECORDS = 12;
const GRID = { learningRate: [0.0001, 0.0002], epochCount: [1, 2] } as const;

/** What one request's execution took, counted on the stand-ins. */
interface Measured {
  readonly wallMs: number;
  readonly baseCalls: number;
  readonly fineTunedCalls: number;
  /** Most Bedrock jobs training at once. */
  readonly mostJobsAtOnce: number;
  /** From the upload to the first job created (reading, validation, the baseline, planning). */
  readonly beforeTrainingMs: number;
  /** From the last job's end to the execution's end (evaluation, leaderboard, outcome). */
  readonly afterTrainingMs: number;
}

function harnessProps(maxConcurrentJobs: number): LlamaFinetuningProps {
  return { ...TEST_PROPS, evaluation: { shardSize: 6, maxConcurrency: 2 }, maxConcurrentJobs };
}

async function startBenchHarness(maxConcurrentJobs: number, bedrockQuota?: number): Promise<WorkflowHarness> {
  // The job's safety poll is far beyond the training time: its end event moves each run on.
  const h = await startHarness(harnessProps(maxConcurrentJobs), { waitMs: 20, retryMs: 20, tokenWaitOverrides: { WaitForJobEnd: 10 * TRAINING_MS } });
  h.aws.runtime.respond = (invocation) => (invocation.target.kind === 'provisioned-model' ? '3' : '4');
  h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
  h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(TEST_RECORDS, 1000));
  h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
  if (bedrockQuota !== undefined) h.aws.bedrock.scenario.maxConcurrentJobs = bedrockQuota;
  return h;
}

/** Uploads `request`, ends each job `trainingMs` after it was created, and times the execution. */
async function measure(h: WorkflowHarness, key: string, request: Record<string, unknown>, trainingMs = TRAINING_MS): Promise<Measured> {
  const callsBefore = h.aws.runtime.invocations().length;
  const jobsBefore = new Set(h.aws.bedrock.jobs().map((j) => j.jobArn));
  const clock = setInterval(() => {
    const training = h.aws.bedrock.jobs().filter((j) => !jobsBefore.has(j.jobArn) && j.status === 'InProgress');
    for (const job of training) if (Date.now() - job.creationTime.getTime() >= trainingMs) h.aws.bedrock.completeJob(job.jobArn);
  }, 10);
  const started = Date.now();
  try {
    const { executions } = await h.upload(key, request);
    if (executions.length !== 1) throw new Error(`${key}: the upload started ${executions.length} executions, expected 1`);
    const outcome = await executions[0].result;
    const wallMs = Date.now() - started;
    if (outcome.status !== 'SUCCEEDED') throw new Error(`${key}: execution ${outcome.status}: ${outcome.error} ${outcome.cause}`);
    const failed = h.runRecords().filter((r) => r.status !== 'SUCCEEDED' && r.status !== 'RUNNING');
    if (failed.length > 0) throw new Error(`${key}: runs not succeeded: ${failed.map((r) => `${r.runId} ${r.status}`).join(', ')}`);
    const calls = h.aws.runtime.invocations().slice(callsBefore);
    const jobs = h.aws.bedrock.jobs().filter((j) => !jobsBefore.has(j.jobArn));
    return {
      wallMs,
      baseCalls: calls.filter((c) => c.targetKind === 'inference-profile').length,
      fineTunedCalls: calls.filter((c) => c.targetKind === 'provisioned-model').length,
      mostJobsAtOnce: mostJobsAtOnce(jobs),
      beforeTrainingMs: Math.min(...jobs.map((j) => j.creationTime.getTime())) - started,
      afterTrainingMs: outcome.stopDate.getTime() - Math.max(...jobs.map((j) => j.endTime!.getTime())),
    };
  } finally {
    clearInterval(clock);
  }
}

function request(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 8 }, ...extra };
}

/**
 * Unmeasured runs without training time first, a single run and an experiment: the runner
 * loads a function's bundle in a new worker for each environment it needs (the first
 * invocation, and each one beyond those running at once), which costs about a second each on a
 * shared 2-core machine (about 10 s for a first run) where Lambda's cold starts take a fraction
 * of that. So both are measured warm, and the ratios compare the work, not the warm-up.
 */
async function warmUp(h: WorkflowHarness, experiment: boolean): Promise<void> {
  await measure(h, 'requests/warm-up.json', request('bench-warm-up'), 0);
  if (experiment) await measure(h, 'requests/warm-up-sweep.json', request('bench-warm-up-sweep', { experiment: { grid: GRID } }), 0);
}

export async function runExperimentBench(): Promise<BenchResult[]> {
  let single: Measured;
  let allAtOnce: Measured;
  let queued: Measured;
  const h = await startBenchHarness(VARIANTS);
  try {
    await warmUp(h, true);
    // The single run has the first variant's settings.
    single = await measure(h, 'requests/single.json', request('bench-single', { hyperParameters: { learningRate: GRID.learningRate[0], epochCount: GRID.epochCount[0] } }));
    allAtOnce = await measure(h, 'requests/sweep.json', request('bench-sweep', { experiment: { grid: GRID } }));
  } finally {
    await h.stop();
  }
  const q = await startBenchHarness(2, 2);
  try {
    await warmUp(q, true);
    queued = await measure(q, 'requests/sweep-queued.json', request('bench-queued', { experiment: { grid: GRID } }));
  } finally {
    await q.stop();
  }

  const singleRunsBaseCalls = VARIANTS * single.baseCalls;
  const ratio = (value: number, baseline: number) => roundTo(value / baseline, 2);
  const seconds = (ms: number) => roundTo(ms / 1000, 2);
  const wallRatio = ratio(allAtOnce.wallMs, single.wallMs);
  const queuedRatio = ratio(queued.wallMs, single.wallMs);
  return [
    {
      name: `base-model calls, ${VARIANTS}-variant experiment (shared baseline) vs ${VARIANTS} single runs (${VARIANTS} x ${single.baseCalls} counted on one)`,
      value: allAtOnce.baseCalls,
      unit: 'calls',
      baseline: singleRunsBaseCalls,
      ratio: ratio(allAtOnce.baseCalls, singleRunsBaseCalls),
      target: `1/${VARIANTS} (one baseline: ${single.baseCalls} calls)`,
      pass: allAtOnce.baseCalls === single.baseCalls,
    },
    { name: 'base-model calls saved by the shared baseline', value: singleRunsBaseCalls - allAtOnce.baseCalls, unit: 'calls' },
    {
      name: `fine-tuned calls, experiment vs ${VARIANTS} single runs (each variant is evaluated)`,
      value: allAtOnce.fineTunedCalls,
      unit: 'calls',
      baseline: VARIANTS * single.fineTunedCalls,
      ratio: ratio(allAtOnce.fineTunedCalls, VARIANTS * single.fineTunedCalls),
      target: '1',
      pass: allAtOnce.fineTunedCalls === VARIANTS * single.fineTunedCalls,
    },
    {
      name: `wall time, ${VARIANTS} variants with maxConcurrentJobs ${VARIANTS} vs one single run (training ${seconds(TRAINING_MS)} s per job)`,
      value: seconds(allAtOnce.wallMs),
      unit: 's',
      baseline: seconds(single.wallMs),
      ratio: wallRatio,
      target: '<= 1.2',
      pass: wallRatio <= 1.2 && allAtOnce.mostJobsAtOnce === VARIANTS,
    },
    {
      name: 'time beyond training, experiment vs single run',
      value: seconds(allAtOnce.wallMs - TRAINING_MS),
      unit: 's',
      baseline: seconds(single.wallMs - TRAINING_MS),
      ratio: ratio(allAtOnce.wallMs - TRAINING_MS, single.wallMs - TRAINING_MS),
    },
    {
      // (T + experiment's overhead) / (T + single run's overhead) <= 1.2 for every training time T from this one on.
      name: 'shortest training time per job for which the experiment stays within 1.2 x a single run (from the overheads above)',
      value: seconds(Math.max(0, (allAtOnce.wallMs - TRAINING_MS - 1.2 * (single.wallMs - TRAINING_MS)) / 0.2)),
      unit: 's',
    },
    { name: 'before the first job: experiment vs single run', value: seconds(allAtOnce.beforeTrainingMs), unit: 's', baseline: seconds(single.beforeTrainingMs), ratio: ratio(allAtOnce.beforeTrainingMs, single.beforeTrainingMs) },
    { name: 'after the last job: experiment vs single run', value: seconds(allAtOnce.afterTrainingMs), unit: 's', baseline: seconds(single.afterTrainingMs), ratio: ratio(allAtOnce.afterTrainingMs, single.afterTrainingMs) },
    {
      name: `wall time, ${VARIANTS} variants with maxConcurrentJobs 2 (Bedrock quota 2) vs one single run: two waves`,
      value: seconds(queued.wallMs),
      unit: 's',
      baseline: seconds(single.wallMs),
      ratio: queuedRatio,
      target: '<= 2.4 (2 x 1.2)',
      pass: queuedRatio <= 2.4,
    },
    { name: 'most jobs training at once with maxConcurrentJobs 2', value: queued.mostJobsAtOnce, unit: 'jobs', target: '2', pass: queued.mostJobsAtOnce === 2 },
  ];
}

if (require.main === module) {
  runBenchAlone(runExperimentBench);
}
