/**
 * The history of a local execution: aws-local-stepfunctions' event log turned into plain
 * records (state entered, exited, failed, retried, caught; Map iterations; Parallel
 * branches), and the transitions (states entered, in order) tests assert on. Pure.
 */

/** One event of an execution's history. */
export interface WorkflowEvent {
  /** E.g. StateEntered, StateExited, StateFailed, StateRetried, StateCaught, ExecutionSucceeded, ExecutionTimedOut. */
  readonly type: string;
  readonly timestamp: number;
  /** The state (for Map iteration and Parallel branch events: the Map or Parallel state). */
  readonly state?: string;
  readonly stateType?: string;
  /** Map iteration index, for events inside a Map. */
  readonly index?: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Retry number (1 for the first retry), for StateRetried. */
  readonly retryAttempt?: number;
  /** The catcher's next state, for StateCaught. */
  readonly next?: string;
  /**
   * For events of a Distributed Map's child execution: its ARN. They are listed with the
   * parent's so transitions show the whole run, but count in the child's own history.
   */
  readonly childExecution?: string;
}

/** The fields of the interpreter's events that are read (its types are not exported). */
export interface InterpreterEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string; readonly type: string; readonly input?: unknown; readonly output?: unknown };
  readonly parentState?: { readonly name: string; readonly type: string };
  readonly index?: number;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly Error?: string;
  readonly Cause?: unknown;
  readonly retry?: { readonly attempt: number };
  readonly catch?: { readonly catcher: { readonly Next: string } };
}

/** How the runner ended an execution it aborted: by its timeout, or by failing it (a service limit). */
export type RunnerEnding = { readonly reason: 'timeout' } | { readonly reason: 'failure'; readonly error: string; readonly cause: string } | { readonly reason: 'abort' };

/**
 * Converts one interpreter event; `ending` renames the abort the runner used to end an
 * execution that timed out (ExecutionTimedOut) or that a service limit failed (ExecutionFailed).
 */
export function workflowEventOf(event: InterpreterEvent, ending?: RunnerEnding): WorkflowEvent {
  const state = event.state ?? event.parentState;
  let type = event.type === 'ExecutionTimeout' ? 'ExecutionTimedOut' : event.type;
  if (event.type === 'ExecutionAborted' && ending?.reason === 'timeout') type = 'ExecutionTimedOut';
  if (event.type === 'ExecutionAborted' && ending?.reason === 'failure') {
    return { type: 'ExecutionFailed', timestamp: event.timestamp, error: ending.error, cause: ending.cause };
  }
  const out: Record<string, unknown> = { type, timestamp: event.timestamp };
  if (state) {
    out.state = state.name;
    out.stateType = state.type;
  }
  if (event.index !== undefined) out.index = event.index;
  const input = event.state?.input ?? event.input;
  if (input !== undefined) out.input = input;
  const output = event.state?.output ?? event.output;
  if (output !== undefined) out.output = output;
  if (event.Error !== undefined) out.error = event.Error;
  if (event.Cause !== undefined) out.cause = typeof event.Cause === 'string' ? event.Cause : causeText(event.Cause);
  if (event.retry) out.retryAttempt = event.retry.attempt;
  if (event.catch) out.next = event.catch.catcher.Next;
  return out as unknown as WorkflowEvent;
}

/** The names of the states entered, in order (states inside Map and Parallel included). */
export function transitionsOf(events: readonly WorkflowEvent[]): string[] {
  return events.filter((e) => e.type === 'StateEntered' && e.state !== undefined).map((e) => e.state!);
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  try {
    return JSON.stringify(cause);
  } catch {
    return String(cause);
  }
}
