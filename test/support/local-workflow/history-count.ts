/**
 * How many events Step Functions records in an execution's history for the interpreter's
 * events: the per-state costs are lib/workflow/history-budget.ts's, which the synth-time check
 * uses too. Child executions of a Distributed Map count in their own histories. Pure.
 */
import { EXECUTION_EVENTS, HISTORY_EVENTS_AT, HistoryStateKind, StateMoment, isJobWait, isTokenWait } from '../../../lib/workflow/history-budget';
import { WorkflowEvent } from './execution-events';
import { AslState, StatesDefinition } from './state-machine-definition';

export { MAX_HISTORY_EVENTS } from '../../../lib/workflow/history-budget';

/** How a state records history (Map states: inline or distributed). */
export function historyKindOf(state: AslState): HistoryStateKind {
  switch (state.Type) {
    case 'Task':
      return isTokenWait(state) || isJobWait(state) ? 'token-task' : 'task';
    case 'Fail':
      return 'fail';
    case 'Parallel':
      return 'parallel';
    case 'Map':
      return isDistributedMap(state) ? 'distributed-map' : 'inline-map';
    default:
      return 'flow';
  }
}

/** Whether a Map state runs its iterations as child executions. */
export function isDistributedMap(state: AslState): boolean {
  const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
  return state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/**
 * The kind of every state of the definition, by name (names are unique in a definition), the
 * states of Distributed Maps' processors excluded: they run in child executions.
 */
export function historyKindsOf(definition: StatesDefinition): Map<string, HistoryStateKind> {
  const kinds = new Map<string, HistoryStateKind>();
  const add = (def: StatesDefinition) => {
    for (const [name, state] of Object.entries(def.States)) {
      kinds.set(name, historyKindOf(state));
      if (isDistributedMap(state)) continue;
      const processor = state.ItemProcessor ?? state.Iterator;
      if (processor) add(processor);
      for (const branch of state.Branches ?? []) add(branch);
    }
  };
  add(definition);
  return kinds;
}

const STATE_MOMENTS = new Set<string>(['StateEntered', 'StateExited', 'StateFailed', 'StateRetried', 'StateCaught']);
const EXECUTION_ENDS = new Set<string>(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut']);

/** History events AWS records for one interpreter event (0 for those it has no counterpart of). */
export function historyEventsOf(event: Pick<WorkflowEvent, 'type' | 'state' | 'stateType'>, kinds: ReadonlyMap<string, HistoryStateKind>): number {
  if (event.type === 'ExecutionStarted') return EXECUTION_EVENTS.started;
  if (EXECUTION_ENDS.has(event.type)) return EXECUTION_EVENTS.ended;
  if (event.type === 'MapIterationStarted' || event.type === 'MapIterationSucceeded' || event.type === 'MapIterationFailed') return 1;
  if (STATE_MOMENTS.has(event.type) && event.state !== undefined) {
    const kind = kinds.get(event.state) ?? historyKindOf({ Type: event.stateType ?? 'Pass' });
    return HISTORY_EVENTS_AT[kind][event.type as StateMoment];
  }
  // Parallel branch starts and ends have no history event of their own.
  return 0;
}

/** The history size of a list of events. */
export function historyEventCount(events: ReadonlyArray<Pick<WorkflowEvent, 'type' | 'state' | 'stateType'>>, kinds: ReadonlyMap<string, HistoryStateKind>): number {
  return events.reduce((sum, e) => sum + historyEventsOf(e, kinds), 0);
}
