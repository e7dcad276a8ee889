import { App, Duration } from 'aws-cdk-lib';
import { LlamaFinetuning, LlamaFinetuningProps } from '../../lib';
import { HISTORY_EVENT_BUDGET } from '../../lib/workflow/history-budget';
import { LlamaFinetuningStack } from '../../app/llama-finetuning-stack';
import { ENVIRONMENTS_CONTEXT_KEY, parseEnvironmentSettings } from '../../app/environment-settings';
import { historyBudgetProblem, historyDesignOf, worstCaseHistoryEvents } from '../../lib/workflow/history-budget';
import { testStack } from '../support/cdk';
import { readCdkJsonContext } from '../support/cdk-json';

const build = (props: LlamaFinetuningProps = {}) => new LlamaFinetuning(testStack(), 'Finetuning', props);

describe('execution history budget (Step Functions keeps at most 25,000 events per execution)', () => {
  test('the defaults fit, with the safety poll and the Provisioned Throughput checks counted for the whole execution timeout', () => {
    const estimate = build().workflow._historyEstimate;
    expect(estimate.total).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET);
    const safetyPolls = estimate.loops.find((l) => l.what === 'safety polls of the job')!;
    // WaitForJobEnd timing out into itself (TaskStateEntered, TaskScheduled, TaskStarted, TaskSubmitted,
    // TaskTimedOut, TaskStateExited): 6 events a round, every hour for up to 7 days.
    expect(safetyPolls.eventsPerRound).toBe(6);
    expect(safetyPolls.intervalSeconds).toBe(3_600);
    // The Provisioned Throughput checks (more events per second of waiting) take their 121 minutes first.
    expect(safetyPolls.rounds).toBe(Math.floor((7 * 24 * 3600 - 121 * 60) / 3600) + 1);
  });

  test('at the defaults a run can wait for at least 30 days of training within the history limit', () => {
    expect(() => build({ executionTimeout: Duration.days(30) })).not.toThrow();
  });

  test('a token wait that times out into states leading back to it is a loop paced by its TimeoutSeconds', () => {
    const design = historyDesignOf(
      {
        StartAt: 'Wait',
        States: {
          Wait: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: 600, Next: 'Check', Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Check' }] },
          Check: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'Done?' },
          'Done?': { Type: 'Choice', Choices: [{ Next: 'End' }], Default: 'Wait' },
          End: { Type: 'Succeed' },
        },
      },
      { Wait: { what: 'safety polls', settings: ['x'] } },
      3_600,
    );
    expect(design.loops).toEqual([{ what: 'safety polls', settings: ['x'], intervalSeconds: 600, maxRounds: undefined, eventsPerRound: 6 + 5 + 2 }]);
    // One pass: execution (2) + token task (4 + 2) + task (5) + choice (2) + succeed (2).
    expect(design.onePassEvents).toBe(2 + 6 + 5 + 2 + 2);
  });

  test.each(Object.entries((readCdkJsonContext()[ENVIRONMENTS_CONTEXT_KEY] ?? {}) as Record<string, unknown>))('cdk.json environment %s fits', (name, raw) => {
    const settings = parseEnvironmentSettings(name, raw);
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new LlamaFinetuningStack(app, `LlamaFinetuning-${name}`, { environmentName: name, settings, env: { account: '111111111111', region: 'us-west-2' } });
    const workflow = stack.node.findAll().find((c) => (c as { _historyEstimate?: unknown })._historyEstimate !== undefined) as unknown as { _historyEstimate: { total: number } };
    expect(workflow._historyEstimate.total).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET);
  });

  test('a safety-poll interval too short for the execution timeout fails synth, naming both settings and what would fit', () => {
    expect(() => build({ pollInterval: Duration.minutes(1) })).toThrow(
      /FinetuningWorkflow: invalid prop 'pollInterval': an execution could record [\d,]+ history events \(safety polls of the job \(pollInterval, executionTimeout\): up to 9,9\d\d rounds of 6 events every 1 min.*over the 22,500 .* 25,000.*Make the interval of safety polls of the job \(pollInterval\) at least \d+ min, or executionTimeout at most \d+ h\./,
    );
  });

  test('a year-long execution timeout with the default safety-poll interval fails synth', () => {
    expect(() => build({ executionTimeout: Duration.days(365) })).toThrow(/invalid prop 'pollInterval'.*executionTimeout at most \d+ h\./);
  });

  test('Provisioned Throughput checks every few seconds for hours fail synth, naming the evaluation settings', () => {
    expect(() => build({ executionTimeout: Duration.days(1), evaluation: { provisioningPollInterval: Duration.seconds(2), provisioningTimeout: Duration.hours(12) } })).toThrow(
      /invalid prop 'evaluation\.provisioningPollInterval'.*Provisioned Throughput status checks \(evaluation\.provisioningPollInterval, evaluation\.provisioningTimeout\).*or its timeout \(evaluation\.provisioningTimeout\) at most/,
    );
  });

  test('the suggested settings fit', () => {
    expect(() => build({ pollInterval: Duration.hours(1), executionTimeout: Duration.days(7) })).not.toThrow();
    const message = (() => {
      try {
        build({ executionTimeout: Duration.days(365) });
        return '';
      } catch (err) {
        return (err as Error).message;
      }
    })();
    const minutes = Number(/at least (\d+) min/.exec(message)![1]);
    expect(() => build({ executionTimeout: Duration.days(365), pollInterval: Duration.minutes(minutes) })).not.toThrow();
  });

  test('loops share the execution\'s time: the fastest-recording loop takes it first, each up to its own limit', () => {
    const estimate = worstCaseHistoryEvents({
      onePassEvents: 100,
      executionTimeoutSeconds: 3_600,
      loops: [
        { what: 'slow', settings: ['a'], intervalSeconds: 300, eventsPerRound: 9 },
        { what: 'fast', settings: ['b'], intervalSeconds: 60, eventsPerRound: 9, maxRounds: 11 },
      ],
    });
    // fast: 11 rounds (its limit) use 660 s; slow: the remaining 2,940 s -> floor(2940 / 300) + 1 = 10 rounds.
    expect(estimate.loops.map((l) => l.rounds)).toEqual([10, 11]);
    expect(estimate.total).toBe(100 + 10 * 9 + 11 * 9);
    expect(historyBudgetProblem(estimate, 3_600)).toBeUndefined();
  });
});
