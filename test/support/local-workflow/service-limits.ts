/**
 * Step Functions' limits on data, as the service enforces them (AWS Step Functions developer
 * guide, "Handling errors" and "Service quotas"; API reference, TaskFailedEventDetails and
 * ExecutionFailedEventDetails). Pure.
 * - A state's input (after Parameters), a task's result and a state's output may hold at most
 *   256 KiB of UTF-8 JSON; beyond it the state fails with States.DataLimitExceeded, a terminal
 *   error that States.ALL (and States.TaskFailed) do not catch or retry.
 * - An error name holds at most 256 characters, a cause at most 32,768: longer ones are cut.
 */

/** Largest state input, output or task result (256 KiB of UTF-8 JSON). */
export const MAX_PAYLOAD_BYTES = 262_144;
/** Longest error name an event records. */
export const MAX_ERROR_CHARS = 256;
/** Longest cause an event records. */
export const MAX_CAUSE_CHARS = 32_768;

/** Size of a value as Step Functions measures it: its JSON in UTF-8. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value === undefined ? null : value), 'utf8');
}

/** The error name as recorded (cut to 256 characters). */
export function recordedError(error: string): string {
  return error.length > MAX_ERROR_CHARS ? error.slice(0, MAX_ERROR_CHARS) : error;
}

/** The cause as recorded (cut to 32,768 characters). */
export function recordedCause(cause: string): string {
  return cause.length > MAX_CAUSE_CHARS ? cause.slice(0, MAX_CAUSE_CHARS) : cause;
}

/** What exceeded the limit. */
export type PayloadKind = 'input' | 'output' | 'result' | 'item';

/**
 * The States.DataLimitExceeded error, as the interpreter needs it: not retried and not caught
 * by States.ALL; only a retrier or catcher naming States.DataLimitExceeded itself matches it.
 */
export class DataLimitExceeded extends Error {
  readonly isRetryable: boolean;
  readonly isCatchable: boolean;
  constructor(state: string, kind: PayloadKind, bytes: number, handling: { readonly explicitRetry?: boolean; readonly explicitCatch?: boolean } = {}) {
    super(dataLimitCause(state, kind, bytes));
    this.name = 'States.DataLimitExceeded';
    this.isRetryable = handling.explicitRetry ?? false;
    this.isCatchable = handling.explicitCatch ?? false;
  }
}

/** The cause Step Functions gives for a payload over the limit. */
export function dataLimitCause(state: string, kind: PayloadKind, bytes: number): string {
  const what = kind === 'result' ? 'returned a result' : kind === 'item' ? 'has an item' : kind === 'input' ? 'has an input' : 'produced an output';
  return `The state/task '${state}' ${what} with a size (${bytes} bytes) exceeding the maximum number of bytes service limit (${MAX_PAYLOAD_BYTES}).`;
}

/** Whether a state's Retry or Catch names States.DataLimitExceeded itself. */
export function namesDataLimitExceeded(rules: unknown): boolean {
  return Array.isArray(rules) && rules.some((r) => Array.isArray((r as { ErrorEquals?: unknown }).ErrorEquals) && ((r as { ErrorEquals: unknown[] }).ErrorEquals).includes('States.DataLimitExceeded'));
}
