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
export type HistoryStateKind = 'task' | 'token-task' | 'flow' | 'fail' | 'inline-map' | 'distributed-map' | 'parallel';

/** Moments of a state the offline interpreter reports (its event names). */
export type StateMoment = 'StateEntered' | 'StateExited' | 'StateFailed' | 'StateRetried' | 'StateCaught';

/**
 * History events Step Functions records at each moment of a state, by kind:
 * - task: TaskStateEntered + TaskScheduled + TaskStarted on entry; TaskSucceeded + TaskStateExited
 *   on exit; TaskFailed on failure; TaskScheduled + TaskStarted again on a retry; a caught failure
 *   exits with TaskStateExited only.
 * - token-task (a `.waitForTaskToken` Task, or a `.sync` job wait such as
 *   `states:startExecution.sync:2`, whose submitted job the service watches): as task, plus TaskSubmitted once the call that
 *   hands out the token returned (counted on entry, and with each retry); its end is TaskSucceeded
 *   + TaskStateExited when resumed, TaskTimedOut (or TaskFailed) otherwise.
 * - flow (Pass, Wait, Choice, Succeed): <Type>StateEntered, <Type>StateExited.
 * - fail: FailStateEntered (ExecutionFailed is counted with the execution).
 * - inline-map: MapStateEntered + MapStateStarted; MapStateSucceeded + MapStateExited; MapStateFailed;
 *   each iteration adds MapIterationStarted and MapIterationSucceeded (or Failed), and its states.
 * - distributed-map: MapStateEntered + MapRunStarted; MapRunSucceeded + MapStateExited; MapRunFailed.
 *   Its child executions have histories of their own.
 * - parallel: ParallelStateEntered + ParallelStateStarted; ParallelStateSucceeded + ParallelStateExited.
 */
export const HISTORY_EVENTS_AT: Readonly<Record<HistoryStateKind, Readonly<Record<StateMoment, number>>>> = {
  // A caught failure exits with TaskStateExited alone (no TaskSucceeded): the interpreter reports
  // StateCaught and then StateExited (2), so StateCaught takes the TaskSucceeded back.
  task: { StateEntered: 3, StateExited: 2, StateFailed: 1, StateRetried: 2, StateCaught: -1 },
  'token-task': { StateEntered: 4, StateExited: 2, StateFailed: 1, StateRetried: 3, StateCaught: -1 },
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

/** A loop of states that repeats until something ends, paced by a Wait state or by the timeout of a token wait. */
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

/** The fields of a definition's states the budget reads. */
interface BudgetState {
  readonly Type: string;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly Next?: string;
  readonly Default?: string;
  readonly Choices?: ReadonlyArray<{ readonly Next?: string }>;
  readonly Catch?: ReadonlyArray<{ readonly ErrorEquals?: readonly string[]; readonly Next?: string }>;
  readonly Retry?: ReadonlyArray<{ readonly MaxAttempts?: number }>;
  readonly Seconds?: number;
  readonly ItemProcessor?: { readonly ProcessorConfig?: { readonly Mode?: string }; readonly States: Record<string, BudgetState> };
  readonly Iterator?: unknown;
  readonly Branches?: unknown;
}

/** A states definition, as synthesized. */
export interface BudgetDefinition {
  readonly StartAt: string;
  readonly States: Record<string, BudgetState>;
}

/** What bounds a poll loop other than the execution's time, by the name of its Wait state (or token wait). */
export interface LoopBound {
  /** What it waits for, for messages. */
  readonly what: string;
  /** The settings that shape it, for messages. */
  readonly settings: readonly string[];
  /** Most rounds it can take (its own timeout), if any. */
  readonly maxRounds?: number;
}

/** Whether a Task state waits for a task token (its Resource ends in `.waitForTaskToken`). */
export function isTokenWait(state: { readonly Type: string; readonly Resource?: unknown }): boolean {
  return state.Type === 'Task' && typeof state.Resource === 'string' && state.Resource.endsWith('.waitForTaskToken');
}

/** Whether a Task state runs a job and waits for it (Run a Job: its Resource ends in `.sync` or `.sync:2`). */
export function isJobWait(state: { readonly Type: string; readonly Resource?: unknown }): boolean {
  return state.Type === 'Task' && typeof state.Resource === 'string' && /\.sync(:2)?$/.test(state.Resource);
}

function kindOf(state: BudgetState): HistoryStateKind {
  if (isTokenWait(state) || isJobWait(state)) return 'token-task';
  if (state.Type === 'Task') return 'task';
  if (state.Type === 'Fail') return 'fail';
  if (state.Type === 'Parallel') return 'parallel';
  if (state.Type === 'Map') return state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED' ? 'distributed-map' : 'inline-map';
  return 'flow';
}

/** Most retries a state's retriers allow together (MaxAttempts defaults to 3). */
function maxRetriesOf(state: BudgetState): number {
  return (state.Retry ?? []).reduce((sum, r) => sum + (r.MaxAttempts ?? 3), 0);
}

/**
 * The worst-case history design of a definition: every state counted once with all its
 * retries (an upper bound of any path through states that run once), plus one loop per Wait
 * state that leads back to itself, each round costing the states on that cycle. States inside
 * a Distributed Map run in child executions and are budgeted by {@link childHistoryEvents}.
 * An inline Map is bounded by its most iterations (`inlineMapIterations`, by state name), each
 * running its states once with their retries; Parallel branches are not bounded here.
 */
export function historyDesignOf(
  definition: BudgetDefinition,
  bounds: Readonly<Record<string, LoopBound>>,
  executionTimeoutSeconds: number,
  inlineMapIterations: Readonly<Record<string, number>> = {},
): HistoryDesign {
  const states = definition.States;
  let iterations = 0;
  for (const [name, state] of Object.entries(states)) {
    if (kindOf(state) === 'parallel' || (kindOf(state) === 'inline-map' && inlineMapIterations[name] === undefined)) {
      throw new Error(`The history budget cannot bound state '${name}' (${state.Type} with inline iterations); extend lib/workflow/history-budget.ts.`);
    }
    if (kindOf(state) === 'inline-map') {
      // Each iteration: its start and end, and every state of the iteration once with all its retries.
      const inner = Object.values(state.ItemProcessor?.States ?? {});
      if (inner.some((s) => s.Type === 'Wait' || s.Type === 'Map' || s.Type === 'Parallel')) throw new Error(`The history budget cannot bound the iterations of '${name}': they loop or nest; extend lib/workflow/history-budget.ts.`);
      iterations += inlineMapIterations[name] * (MAP_ITERATION_EVENTS + onePassEvents(inner.map((s) => ({ kind: kindOf(s), maxRetries: maxRetriesOf(s) }))) - EXECUTION_EVENTS.started - EXECUTION_EVENTS.ended);
    }
  }
  const onePass = onePassEvents(Object.values(states).map((s) => ({ kind: kindOf(s), maxRetries: maxRetriesOf(s) }))) + iterations;
  const loops: PollLoop[] = [];
  for (const [name, state] of Object.entries(states)) {
    if (state.Type === 'Wait') {
      const cycle = cycleThrough(name, states);
      if (!cycle) continue;
      const bound = boundOf(bounds, name, 'Wait');
      loops.push({
        what: bound.what,
        settings: bound.settings,
        intervalSeconds: Math.max(1, state.Seconds ?? 1),
        maxRounds: bound.maxRounds,
        eventsPerRound: cycle.reduce((sum, s) => sum + passEvents(kindOf(states[s])), 0),
      });
    } else if (isTokenWait(state)) {
      // A token wait that times out into states leading back to it is a poll loop paced by its
      // TimeoutSeconds: each round, it enters, times out, and the cycle's other states pass once.
      const onTimeout = (state.Catch ?? []).find((c) => (c.ErrorEquals ?? []).some((e) => e === 'States.Timeout' || e === 'States.ALL'))?.Next;
      const cycle = onTimeout === undefined ? undefined : onTimeout === name ? [] : pathBack(onTimeout, name, states);
      if (!cycle) continue;
      if (state.TimeoutSeconds === undefined) throw new Error(`Token wait '${name}' loops on its timeout but has no TimeoutSeconds; give it one.`);
      const bound = boundOf(bounds, name, 'Token wait');
      const at = HISTORY_EVENTS_AT['token-task'];
      loops.push({
        what: bound.what,
        settings: bound.settings,
        intervalSeconds: Math.max(1, state.TimeoutSeconds),
        maxRounds: bound.maxRounds,
        // Entered (4), TaskTimedOut (1), caught: TaskStateExited (1); then the cycle's other states.
        eventsPerRound: at.StateEntered + at.StateFailed + at.StateCaught + at.StateExited + cycle.reduce((sum, s) => sum + passEvents(kindOf(states[s])), 0),
      });
    }
  }
  return { onePassEvents: onePass, loops, executionTimeoutSeconds };
}

function boundOf(bounds: Readonly<Record<string, LoopBound>>, name: string, what: string): LoopBound {
  const bound = bounds[name];
  if (!bound) throw new Error(`${what} state '${name}' loops, but the history budget has no bound for it; add one where the budget is checked.`);
  return bound;
}

/** The states of the shortest cycle from `start` back to itself (following Next, Choices and Default), or undefined. */
function cycleThrough(start: string, states: Record<string, BudgetState>): string[] | undefined {
  return pathBack(start, start, states);
}

/** The states of the shortest path from `from` to `to` (`to` excluded, `from` included), following Next, Choices and Default. */
function pathBack(from: string, to: string, states: Record<string, BudgetState>): string[] | undefined {
  const successors = (name: string) => {
    const s = states[name];
    return [s.Next, s.Default, ...(s.Choices ?? []).map((c) => c.Next)].filter((n): n is string => n !== undefined && n in states);
  };
  const queue: string[][] = [[from]];
  const seen = new Set<string>([from]);
  while (queue.length > 0) {
    const path = queue.shift()!;
    for (const next of successors(path[path.length - 1])) {
      if (next === to) return path;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push([...path, next]);
    }
  }
  return undefined;
}

/** The most events a child execution of each Distributed Map state records, by state name. */
export function childHistoryEvents(definition: BudgetDefinition): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (kindOf(state) !== 'distributed-map') continue;
    const processor = state.ItemProcessor!.States;
    out[name] = onePassEvents(Object.values(processor).map((s) => ({ kind: kindOf(s), maxRetries: maxRetriesOf(s) })));
  }
  return out;
}

/** Why an estimate is over the budget, and what to change; undefined when it is within. */
export interface HistoryBudgetProblem {
  /** The setting to name first: that of the loop that records the most. */
  readonly prop: string;
  readonly problem: string;
  readonly fix: string;
}

/** Explains an estimate over {@link HISTORY_EVENT_BUDGET}, loop by loop, with the changes that would fit. */
export function historyBudgetProblem(estimate: HistoryEstimate, executionTimeoutSeconds: number): HistoryBudgetProblem | undefined {
  if (estimate.total <= HISTORY_EVENT_BUDGET) return undefined;
  const fmt = (n: number) => n.toLocaleString('en-US');
  const human = (seconds: number) => (seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);
  // Suggestions in whole minutes (at least) and whole hours or minutes (at most), so they are easy to set.
  const atLeast = (seconds: number) => human(seconds <= 60 ? seconds : Math.ceil(seconds / 60) * 60);
  const atMost = (seconds: number) => human(seconds >= 7200 ? Math.floor(seconds / 3600) * 3600 : seconds >= 60 ? Math.floor(seconds / 60) * 60 : seconds);
  const loops = [...estimate.loops].filter((l) => l.rounds > 0).sort((a, b) => b.events - a.events);
  const parts = loops.map((l) => `${l.what} (${l.settings.join(', ')}): up to ${fmt(l.rounds)} rounds of ${l.eventsPerRound} events every ${human(l.intervalSeconds)} = ${fmt(l.events)}`);
  const main = loops[0];
  // Rounds the main loop may take for the total to fit, the others unchanged.
  const others = estimate.total - main.events;
  const roundsThatFit = Math.floor((HISTORY_EVENT_BUDGET - others) / main.eventsPerRound);
  const fixes: string[] = [];
  if (roundsThatFit >= 2) {
    fixes.push(`make the interval of ${main.what} (${main.settings[0]}) at least ${atLeast(Math.ceil(executionTimeoutSeconds / (roundsThatFit - 1)))}`);
    if (main.maxRounds === undefined) fixes.push(`or executionTimeout at most ${atMost(Math.max(1, (roundsThatFit - 1) * main.intervalSeconds))}`);
    else fixes.push(`or its timeout (${main.settings[1] ?? main.settings[0]}) at most ${atMost((roundsThatFit - 1) * main.intervalSeconds)}`);
  } else {
    fixes.push(`lengthen the intervals of ${loops.map((l) => l.what).join(' and ')}`);
  }
  return {
    prop: main.settings[0],
    problem:
      `an execution could record ${fmt(estimate.total)} history events (${parts.join('; ')}; other states ${fmt(estimate.onePassEvents)}), ` +
      `over the ${fmt(HISTORY_EVENT_BUDGET)} this library allows of Step Functions' ${fmt(MAX_HISTORY_EVENTS)} (the rest is kept for retried polls); ` +
      'past 25,000 the execution fails and the cleanup stops the job',
    fix: `${fixes.join(', ')}.`.replace(/^./, (c) => c.toUpperCase()),
  };
}
