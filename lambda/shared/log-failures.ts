/**
 * A handler's error, logged as a structured line with the run id. The Lambda runtime logs a
 * thrown error as plain text without the run id, so a Logs Insights query for one run would
 * miss the line that matters most. The error still propagates unchanged: Step Functions'
 * Retry and Catch rules, and Lambda's retries, see exactly what they saw before.
 */
import { Logger } from './logger';

/** Fields that identify the work of one invocation, read from its event. */
export type InvocationContext<E> = (event: E) => Record<string, unknown>;

/** The run id of the events that carry a run context (`{ run: { runId } }`). */
export function runIdOf(event: unknown): Record<string, unknown> {
  const runId = (event as { run?: { runId?: unknown } } | undefined)?.run?.runId;
  return typeof runId === 'string' ? { runId } : {};
}

/** Wraps `handler` so that what it throws is first logged at ERROR with the invocation's context. */
export function logFailures<E, R>(log: Logger, contextOf: InvocationContext<E>, handler: (event: E) => Promise<R>): (event: E) => Promise<R> {
  return async (event: E) => {
    try {
      return await handler(event);
    } catch (err) {
      let context: Record<string, unknown> = {};
      try {
        context = contextOf(event);
      } catch {
        // A malformed event: the error line goes out without context rather than not at all.
      }
      log.error('step failed', { ...context, error: err });
      throw err;
    }
  };
}
