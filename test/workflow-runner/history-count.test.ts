import { HistoryStateKind } from '../../lib/workflow/history-budget';
import { historyEventCount, historyKindsOf } from '../support/local-workflow/history-count';
import { StatesDefinition } from '../support/local-workflow/state-machine-definition';

/**
 * The counter against the history Step Functions documents (HistoryEventType in the API
 * reference): each scenario lists the interpreter's events and the events AWS records for
 * the same run, by name.
 */
const definition: StatesDefinition = {
  StartAt: 'Work',
  States: {
    Work: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Next: 'Await' },
    Await: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken', TimeoutSeconds: 3600, Next: 'Pause' },
    Pause: { Type: 'Wait', Seconds: 1, Next: 'Decide' },
    Decide: { Type: 'Choice', Choices: [], Default: 'Each' },
    Each: { Type: 'Map', ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true } } }, Next: 'Spread' },
    Spread: {
      Type: 'Map',
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: 'Child', States: { Child: { Type: 'Pass', End: true } } },
      Next: 'Broken',
    },
    Broken: { Type: 'Fail', Error: 'E' },
  },
};
const ev = (type: string, state?: string) => ({ type, state });

describe('history event count', () => {
  const kinds = historyKindsOf(definition);

  test('states are classified as Step Functions records them; a Distributed Map\'s processor is not part of this history', () => {
    expect(Object.fromEntries(kinds)).toEqual<Record<string, HistoryStateKind>>({ Work: 'task', Await: 'token-task', Pause: 'flow', Decide: 'flow', Each: 'inline-map', Item: 'task', Spread: 'distributed-map', Broken: 'fail' });
  });

  test.each([
    [
      'a Lambda task that succeeds',
      [ev('StateEntered', 'Work'), ev('StateExited', 'Work')],
      ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited'],
    ],
    [
      'a Lambda task retried once, then caught',
      // The interpreter reports the caught state's exit (with the catcher's output) as StateExited.
      [ev('StateEntered', 'Work'), ev('StateFailed', 'Work'), ev('StateRetried', 'Work'), ev('StateFailed', 'Work'), ev('StateCaught', 'Work'), ev('StateExited', 'Work')],
      ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskScheduled', 'TaskStarted', 'TaskFailed', 'TaskStateExited'],
    ],
    [
      'a token wait that times out and is caught (a safety poll)',
      [ev('StateEntered', 'Await'), ev('StateFailed', 'Await'), ev('StateCaught', 'Await'), ev('StateExited', 'Await')],
      ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskTimedOut', 'TaskStateExited'],
    ],
    [
      'a token wait resumed with SendTaskSuccess',
      [ev('StateEntered', 'Await'), ev('StateExited', 'Await')],
      ['TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited'],
    ],
    [
      'a poll round: Wait, then Choice',
      [ev('StateEntered', 'Pause'), ev('StateExited', 'Pause'), ev('StateEntered', 'Decide'), ev('StateExited', 'Decide')],
      ['WaitStateEntered', 'WaitStateExited', 'ChoiceStateEntered', 'ChoiceStateExited'],
    ],
    [
      'an inline Map of two items',
      [
        ev('StateEntered', 'Each'),
        ...[0, 1].flatMap(() => [ev('MapIterationStarted', 'Each'), ev('StateEntered', 'Item'), ev('StateExited', 'Item'), ev('MapIterationSucceeded', 'Each')]),
        ev('StateExited', 'Each'),
      ],
      [
        'MapStateEntered',
        'MapStateStarted',
        ...[0, 1].flatMap(() => ['MapIterationStarted', 'TaskStateEntered', 'TaskScheduled', 'TaskStarted', 'TaskSucceeded', 'TaskStateExited', 'MapIterationSucceeded']),
        'MapStateSucceeded',
        'MapStateExited',
      ],
    ],
    [
      'a Distributed Map (its children have histories of their own)',
      [ev('StateEntered', 'Spread'), ev('StateExited', 'Spread')],
      ['MapStateEntered', 'MapRunStarted', 'MapRunSucceeded', 'MapStateExited'],
    ],
    [
      'an execution that ends in a Fail state',
      [ev('ExecutionStarted'), ev('StateEntered', 'Broken'), ev('ExecutionFailed')],
      ['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed'],
    ],
  ])('%s', (_what, interpreterEvents, awsHistory) => {
    expect(historyEventCount(interpreterEvents, kinds)).toBe(awsHistory.length);
  });
});
