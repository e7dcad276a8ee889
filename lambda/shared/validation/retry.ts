/**
 * Retries with capped exponential backoff and full jitter (a random wait between 0 and the
 * cap), which spreads retries of many concurrent readers so they do not hit S3 in lockstep
 * after a SlowDown.
 */

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Attempts in total, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** Cap of the first retry's wait; doubles per attempt. @default 100 */
  readonly baseDelayMs?: number;
  /** Largest wait. @default 5000 */
  readonly maxDelayMs?: number;
  /** Waits; tests pass a fake that does not sleep. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Random numbers in [0, 1); tests pass a fixed one. */
  readonly random?: () => number;
}

/** The real sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The wait before retry number `retry` (1-based): random in [0, min(max, base * 2^(retry-1))]. */
export function backoffDelay(retry: number, options: RetryOptions = {}): number {
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5000;
  const cap = Math.min(max, base * Math.pow(2, retry - 1));
  return Math.floor((options.random ?? Math.random)() * cap);
}

/**
 * Runs `operation` until it succeeds, the error is not retryable, or the attempts run out
 * (then the last error is thrown).
 *
 * @param onRetry called before each wait, e.g. to count retries.
 */
export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  isRetryable: (err: unknown) => boolean,
  options: RetryOptions = {},
  onRetry?: (err: unknown, retry: number, delayMs: number) => void,
): Promise<T> {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 6);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (attempt >= maxAttempts || !isRetryable(err)) throw err;
      const delay = backoffDelay(attempt, options);
      onRetry?.(err, attempt, delay);
      await (options.sleep ?? sleep)(delay);
    }
  }
}
