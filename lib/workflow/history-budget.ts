/**
 * Step Functions' execution history limit, and the worst-case history of the fine-tuning state
 * machine computed from its settings, checked at synth. The per-step event costs here are the
 * ones the offline runner counts (test/support/local-workflow/history-count.ts), so the check
 * and the runner agree. Pure.
 *
 * A Standard execution holds at most 25,000 history events: when event 25,000 is not
 * ExecutionSucceeded, the execution fails (AWS Step Functions best practices, "Avoid reaching
 * the history quota").
 */

/** Most events one execution's history holds. */
export const MAX_HISTORY_EVENTS = 25_000;

/**
 * Events the synthesized design may use at most: the limit less a 10% margin. The margin is for
 * what the budget below cannot bound by time: transient retries of a poll (3 events each,
 * with full jitter their wait may be near zero), about 800 of them.
 */
export const HISTORY_EVENT_BUDGET = MAX_HISTORY_EVENTS - 2_500;

/** How a state records history, by its kind. */
export type HistoryStateKind = 'task' | 'flow' | 'fail' | 'inline-map' | 'distributed-map' | 'parallel';

/** Moments of a state the offline interpreter reports (its event names). */
export type StateMoment = 'StateEntered' | 'StateExited' | 'StateFailed' | 'StateRetried' | 'StateCaught';

/**
 * History events Step Functions records at each moment of a state, by kind:
 * - task: TaskStateEntered + TaskScheduled + TaskStarted on entry; TaskSucceeded + TaskStateExited
 *   on exit; TaskFailed on failure; TaskScheduled + TaskStarted again on a retry.
 * - flow (Pass, Wait, Choice, Succeed): <Type>StateEntered, <Type>StateExited.
 * - fail: FailStateEntered (ExecutionFailed is counted with the execution).
 * - inline-map: MapStateEntered + MapStateStarted; MapStateSucceeded + MapStateExited; MapStateFailed;
 *   each iteration adds MapIterationStarted and MapIterationSucceeded (or Failed), and its states.
 * - distributed-map: MapStateEntered + MapRunStarted; MapRunSucceeded + MapStateExited; MapRunFailed.
 *   Its child executions have histories of their own.
 * - parallel: ParallelStateEntered + ParallelStateStarted; ParallelStateSucceeded + ParallelStateExited.
 */
export const HISTORY_EVENTS_AT: Readonly<Record<HistoryStateKind, Readonly<Record<StateMoment, number>>>> = {
  task: { StateEntered: 3, StateExited: 2, StateFailed: 1, StateRetried: 2, StateCaught: 0 },
  flow: { StateEntered: 1, StateExited: 1, StateFailed: 0, StateRetried: 0, StateCaught: 0 },
  fail: { StateEntered: 1, StateExited: 0, StateFailed: 0, StateRetried: 0, StateCaught: 0 },
  'inline-map': { StateEntered: 2, StateExited: 2, StateFailed: 1, StateRetried: 2, StateCaught: 0 },
  'distributed-map': { StateEntered: 2, StateExited: 2, StateFailed: 1, StateRetried: 2, StateCaught: 0 },
  parallel: { StateEntered: 2, StateExited: 2, StateFailed: 1, StateRetried: 2, StateCaught: 0 },
};

/** ExecutionStarted, and the event that ends the execution. */
export const EXECUTION_EVENTS = { started: 1, ended: 1 } as const;
/** MapIterationStarted and MapIterationSucceeded (or Failed) of one inline Map iteration. */
export const MAP_ITERATION_EVENTS = 2;

/** Events of one pass through a state that succeeds at its first attempt. */
export function passEvents(kind: HistoryStateKind): number {
  const at = HISTORY_EVENTS_AT[kind];
  return at.StateEntered + at.StateExited;
}
/** Events one retry adds (the failure, then the new attempt). */
export function retryEvents(kind: HistoryStateKind): number {
  const at = HISTORY_EVENTS_AT[kind];
  return at.StateFailed + at.StateRetried;
}

/** A loop of states that repeats until something ends, paced by a Wait state. */
export interface PollLoop {
  /** What it waits for, for messages (e.g. 'job status checks'). */
  readonly what: string;
  /** The settings that shape it, for messages. */
  readonly settings: readonly string[];
  /** Seconds each round waits. */
  readonly intervalSeconds: number;
  /** Most rounds it can take by its own limit (undefined: only the execution timeout ends it). */
  readonly maxRounds?: number;
  /** Events of one round. */
  readonly eventsPerRound: number;
}

/** The worst-case history of a design: one-pass events and the loops that share the execution's time. */
export interface HistoryDesign {
  /** Events of everything that runs at most once per execution (its retries included). */
  readonly onePassEvents: number;
  readonly loops: readonly PollLoop[];
  /** Longest an execution runs, in seconds. */
  readonly executionTimeoutSeconds: number;
}

/** The worst case, with what each loop contributes. */
export interface HistoryEstimate {
  readonly total: number;
  readonly onePassEvents: number;
  readonly loops: ReadonlyArray<PollLoop & { readonly rounds: number; readonly events: number }>;
}

/**
 * The most events an execution of `design` can record. The loops share the execution's time:
 * the loops that record the most events per second of waiting take the time first, each up to
 * its own limit of rounds (a greedy fill, which is the maximum for this shape).
 */
export function worstCaseHistoryEvents(design: HistoryDesign): HistoryEstimate {
  let secondsLeft = design.executionTimeoutSeconds;
  const byRate = [...design.loops].sort((a, b) => b.eventsPerRound / b.intervalSeconds - a.eventsPerRound / a.intervalSeconds);
  const rounds = new Map<PollLoop, number>();
  for (const loop of byRate) {
    // A round starts before its wait, so a loop given t seconds runs floor(t / interval) + 1 rounds.
    const byTime = secondsLeft > 0 ? Math.floor(secondsLeft / loop.intervalSeconds) + 1 : 0;
    const n = Math.min(byTime, loop.maxRounds ?? Number.POSITIVE_INFINITY);
    rounds.set(loop, n);
    secondsLeft -= n * loop.intervalSeconds;
  }
  const loops = design.loops.map((loop) => ({ ...loop, rounds: rounds.get(loop)!, events: rounds.get(loop)! * loop.eventsPerRound }));
  return { total: design.onePassEvents + loops.reduce((sum, l) => sum + l.events, 0), onePassEvents: design.onePassEvents, loops };
}

/** A state of a one-pass path: its kind and the most retries its retriers allow together. */
export interface OnePassState {
  readonly kind: HistoryStateKind;
  readonly maxRetries?: number;
}

/** Events of states that each run at most once, with every retry they allow. */
export function onePassEvents(states: readonly OnePassState[]): number {
  return EXECUTION_EVENTS.started + EXECUTION_EVENTS.ended + states.reduce((sum, s) => sum + passEvents(s.kind) + (s.maxRetries ?? 0) * retryEvents(s.kind), 0);
}
