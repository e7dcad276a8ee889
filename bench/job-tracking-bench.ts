/**
 * Job tracking benchmark (issue 11): a simulated 10-hour training job at the DEFAULT settings
 * (event-driven wait, safety poll every pollInterval = 1 h), run on the synthesized state
 * machine by the local runner with the real handlers, LocalBedrock's job events on
 * LocalEventBridge and task tokens through LocalStepFunctions. One simulated hour of waiting is
 * SCALE_MS of wall time (the runner times the token wait out after SCALE_MS, as Step Functions
 * would after TimeoutSeconds). Everything per hour is COUNTED on the run (state entries, and
 * history events as Step Functions records them, history-count.ts), not added up by hand:
 * - from the job's end to the run moving on (CheckJob entered): when the event arrives (real
 *   seconds: the event path runs at full speed), and when it is missed (simulated seconds);
 * - state transitions, Lambda invocations and history events per training hour, against the
 *   5-minute polling this replaced (36 transitions, 12 invocations, about 108 events);
 * - the longest training a run can wait for before its history reaches 25,000 events.
 * Run alone: `node -r ./scripts/esbuild-register.js bench/job-tracking-bench.ts`.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../lib';
import { arithmeticRecords, waitFor } from '../test/workflow/harness';
import { testStack } from '../test/support/cdk';
import { startLocalAws } from '../test/support/local-aws';
import { ExecutionOutcome, LocalWorkflowRunner, MAX_HISTORY_EVENTS } from '../test/support/local-workflow';
import { historyEventsOf, historyKindsOf } from '../test/support/local-workflow/history-count';
import { BenchResult, roundTo, runBenchAlone } from './bench-result';

const TRAINING_HOURS = 10;
/** Wall-clock ms per simulated hour of waiting. */
const SCALE_MS = 300;
/** Polling every 5 minutes, as before events (issue 11): per training hour. */
const POLLING = { transitions: 36, invocations: 12, historyEvents: 108 };

interface Simulation {
  readonly outcome: ExecutionOutcome;
  /** From the job's end to CheckJob entered, wall ms. */
  readonly delayMs: number;
}

export async function runJobTrackingBench(): Promise<BenchResult[]> {
  const aws = await startLocalAws();
  const stack = testStack(undefined, 'JobTrackingBench');
  new LlamaFinetuning(stack, 'Finetuning', { evaluation: { enabled: false } }); // default pollInterval and executionTimeout
  const runner = await LocalWorkflowRunner.create({ template: Template.fromStack(stack), aws, waitMs: 0, retryMs: 0, tokenWaitMs: SCALE_MS });
  try {
    const timeoutSeconds = (runner.definition.States.WaitForJobEnd as unknown as { TimeoutSeconds: number }).TimeoutSeconds;
    const datasets = runner.bucketName('FinetuningStorageDataset');
    aws.s3.putObject(datasets, 'data/train.jsonl', arithmeticRecords(120));
    aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const kinds = historyKindsOf(runner.definition);

    /** Trains for TRAINING_HOURS safety-poll rounds, then ends the job (its event lost or not). */
    const simulate = async (name: string, loseEvent: boolean): Promise<Simulation> => {
      const unlose = loseEvent ? aws.events.loseServiceEvents((e) => String((e.detail as { jobName?: string }).jobName).startsWith(`${name}-`)) : () => undefined;
      try {
        aws.s3.putObject(datasets, `requests/${name}.json`, JSON.stringify({ name, model: 'llama3.2-1b', trainingData: 'data/train.jsonl' }));
        const [execution] = (await runner.putS3ObjectCreated(datasets, `requests/${name}.json`)).executions;
        const timeouts = () => execution.events.filter((e) => e.type === 'StateFailed' && e.state === 'WaitForJobEnd').length;
        const registered = () => runner.invocations('wait-for-job-end').filter((i) => (i.event as { executionArn: string }).executionArn === execution.executionArn && i.payload !== undefined).length;
        await waitFor(`${TRAINING_HOURS} simulated hours of training`, () => timeouts() >= TRAINING_HOURS && registered() > TRAINING_HOURS, 600_000);
        const job = aws.bedrock.jobs().find((j) => j.jobName.startsWith(`${name}-`))!;
        // The job ends just after the run registered its wait: the worst case for a missed event.
        const endedAt = Date.now();
        aws.bedrock.completeJob(job.jobArn);
        const outcome = await execution.result;
        if (outcome.status !== 'SUCCEEDED') throw new Error(`bench run ${outcome.status}: ${outcome.error} ${outcome.cause}`);
        const movedOn = outcome.events.find((e) => e.type === 'StateEntered' && e.state === 'CheckJob' && e.timestamp >= endedAt)!;
        return { outcome, delayMs: movedOn.timestamp - endedAt };
      } finally {
        unlose();
      }
    };

    const onTime = await simulate('bench-event', false);
    const missed = await simulate('bench-missed', true);

    // The training wait: from the first WaitForJobEnd entered to the last JobStatus exited.
    const events = onTime.outcome.events;
    const first = events.findIndex((e) => e.type === 'StateEntered' && e.state === 'WaitForJobEnd');
    const last = events.map((e) => e.type === 'StateExited' && e.state === 'JobStatus').lastIndexOf(true);
    const wait = events.slice(first, last + 1);
    const transitions = wait.filter((e) => e.type === 'StateEntered').length;
    const invocations = wait.filter((e) => e.type === 'StateEntered' && (e.state === 'WaitForJobEnd' || e.state === 'CheckJob')).length + 1; // + JobEvent
    const historyEvents = wait.reduce((sum, e) => sum + historyEventsOf(e, kinds), 0);
    const perHour = (n: number) => roundTo(n / TRAINING_HOURS, 1);
    // The run outside the training wait, counted; the wait grows by its per-hour events.
    const outside = onTime.outcome.historyEventCount - historyEvents;
    const longestDays = roundTo((MAX_HISTORY_EVENTS - outside) / (historyEvents / TRAINING_HOURS) / 24, 1);
    const missedSimulatedSeconds = roundTo((missed.delayMs / SCALE_MS) * timeoutSeconds, 0);
    const ratio = (value: number, baseline: number) => roundTo(value / baseline, 3);
    return [
      { name: `safety-poll interval at defaults (WaitForJobEnd TimeoutSeconds)`, value: timeoutSeconds, unit: 's' },
      { name: 'job end -> run moves on, event arrives (wall time)', value: roundTo(onTime.delayMs / 1000, 2), unit: 's', target: '< 10 s', pass: onTime.delayMs < 10_000 },
      { name: 'job end -> run moves on, event missed (simulated time)', value: missedSimulatedSeconds, unit: 's', target: `<= one safety interval (${timeoutSeconds} s)`, pass: missedSimulatedSeconds <= timeoutSeconds * 1.1 },
      { name: `state transitions per training hour (counted over ${TRAINING_HOURS} h)`, value: perHour(transitions), unit: 'transitions/h', baseline: POLLING.transitions, ratio: ratio(perHour(transitions), POLLING.transitions), target: '<= 4', pass: perHour(transitions) <= 4 },
      { name: 'Lambda invocations per training hour', value: perHour(invocations), unit: 'invocations/h', baseline: POLLING.invocations, ratio: ratio(perHour(invocations), POLLING.invocations) },
      { name: 'history events per training hour', value: perHour(historyEvents), unit: 'events/h', baseline: POLLING.historyEvents, ratio: ratio(perHour(historyEvents), POLLING.historyEvents), target: '<= 12 (issue 11 goal)', pass: perHour(historyEvents) <= 12 },
      { name: `longest training waitable within ${MAX_HISTORY_EVENTS.toLocaleString('en-US')} history events`, value: longestDays, unit: 'days', target: '>= 30 days', pass: longestDays >= 30 },
    ];
  } finally {
    await runner.stop();
    await aws.stop();
  }
}

if (require.main === module) {
  runBenchAlone(runJobTrackingBench);
}
