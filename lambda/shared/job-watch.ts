/**
 * Watching a customization job through errors. Checking a job's status is idempotent and the
 * job trains on whatever happens to the checks, so a throttling or 5xx storm on
 * GetModelCustomizationJob must not end the run (and have the cleanup stop a healthy job): each
 * failed check keeps the last known status and the state machine waits and checks again. Only
 * when checks have kept failing for longer than the budget (`jobWatchErrorBudget`) does the run
 * fail. Pure.
 */
import { isThrottlingError } from './throttling';

/** Consecutive failed checks of one job: since when, how many, the last error. */
export interface JobWatchErrors {
  /** When the first check of the current streak failed (ISO 8601). */
  readonly since: string;
  readonly count: number;
  readonly lastError: string;
}

/** Error names AWS services answer when they are overloaded or failing on their side. */
const SERVER_ERROR_NAMES = new Set(['InternalServerException', 'InternalFailure', 'InternalServerError', 'ServiceUnavailableException', 'ServiceUnavailable', 'ServiceException']);

/** Whether an error of a read call is the service's (throttling, 5xx, a dropped connection), not the caller's. */
export function isTransientServiceError(err: unknown): boolean {
  if (isThrottlingError(err)) return true;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.name && SERVER_ERROR_NAMES.has(e.name)) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  // Connection-level failures the SDK gave up on (no HTTP answer at all).
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'TimeoutError'].includes(e.code ?? e.name ?? '');
}

/** The streak with one more failed check at `now`. */
export function withFailedCheck(previous: JobWatchErrors | undefined, err: unknown, now: Date): JobWatchErrors {
  const lastError = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500);
  return { since: previous?.since ?? now.toISOString(), count: (previous?.count ?? 0) + 1, lastError };
}

/** Thrown when checks of a job kept failing for longer than the budget. */
export class JobWatchErrorBudgetExceededError extends Error {
  constructor(jobArn: string, errors: JobWatchErrors, budgetSeconds: number, lastKnownStatus: string) {
    super(
      `Could not check the customization job ${jobArn} for ${formatHours(budgetSeconds)} (${errors.count} failed checks since ${errors.since}; last: ${errors.lastError}), ` +
        `longer than jobWatchErrorBudget allows (${formatHours(budgetSeconds)}). Its last known status was ${lastKnownStatus}. ` +
        'Check the AWS Health Dashboard for Amazon Bedrock, and raise jobWatchErrorBudget (cdk.json: jobWatchErrorBudgetHours) if such outages should be waited out.',
    );
    this.name = 'JobWatchErrorBudgetExceeded';
  }
}

/** Whether the streak has lasted longer than `budgetSeconds` at `now`. */
export function budgetExceeded(errors: JobWatchErrors, budgetSeconds: number, now: Date): boolean {
  return now.getTime() - Date.parse(errors.since) > budgetSeconds * 1000;
}

function formatHours(seconds: number): string {
  const hours = seconds / 3600;
  return hours >= 1 ? `${Number(hours.toFixed(2))} h` : `${Math.round(seconds / 60)} min`;
}
