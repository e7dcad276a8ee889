import { Duration } from 'aws-cdk-lib';
import { LlamaFinetuning, LlamaFinetuningProps } from '../../lib';
import { testStack } from '../support/cdk';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/**
 * Issue 10 case 5: the synth-time worst case is never below what a run actually records. A job
 * that trains for 300 status checks at a 1-minute poll interval, within a 6-hour execution
 * timeout, is counted by the runner as Step Functions would (history-count.ts) and compared
 * with FinetuningWorkflow._historyEstimate for the same settings.
 */
describe('history budget against a recorded run', () => {
  const props: LlamaFinetuningProps = { ...TEST_PROPS, pollInterval: Duration.minutes(1), executionTimeout: Duration.hours(6), evaluation: { enabled: false } };
  const polls = 300;
  let h: WorkflowHarness;

  beforeAll(async () => {
    h = await startHarness(props);
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
  });
  afterAll(async () => h?.stop());

  test('a run whose job needs 300 status reads records no more than the computed worst case', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: polls });
    const { executions } = await h.upload('requests/long-poll.json', { name: 'long-poll', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' });
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    // Each safety-poll round is WaitForJobEnd timing out into itself; its function reads the job once.
    const checks = outcome.transitions.filter((t) => t === 'WaitForJobEnd').length;
    expect(checks).toBeGreaterThan(polls - 2);
    // A round that times out and is caught records 6 events.
    expect(outcome.historyEventCount).toBeGreaterThanOrEqual((checks - 1) * 6);

    const estimate = new LlamaFinetuning(testStack(), 'Finetuning', props).workflow._historyEstimate;
    const jobChecks = estimate.loops.find((l) => l.what === 'safety polls of the job')!;
    expect(jobChecks.rounds).toBe(361); // 6 h / 1 min + the first check
    expect(estimate.total).toBeGreaterThanOrEqual(outcome.historyEventCount);
    // The part of the run outside the loop is within the estimate's one-pass part, too.
    expect(estimate.onePassEvents).toBeGreaterThanOrEqual(outcome.historyEventCount - checks * jobChecks.eventsPerRound);
  }, 180_000);
});
