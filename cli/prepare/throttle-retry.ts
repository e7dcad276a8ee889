/**
 * Retries S3 calls that failed because S3 asked us to slow down (SlowDown, 503, 429 and the
 * like), with exponential backoff and full jitter. The SDK retries a few times on its own; a
 * bulk upload of thousands of images needs more patience than that. Other errors are thrown
 * at once: retrying an AccessDenied only delays the message.
 */
import { isThrottlingError } from '../../lambda/shared/throttling';
import { sleep, withRetry } from '../../lambda/shared/validation/retry';

/** How persistent to be; `sleep` and `random` are injectable so tests need no clock. */
export interface RetryPolicy {
  /** Attempts in total, including the first. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

/** Patient enough for a throttled bucket, without hanging forever. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 200,
  maxDelayMs: 20_000,
  sleep,
  random: Math.random,
};

export { isThrottlingError };

/** Calls `operation`, retrying throttling errors per the policy (the shared backoff with full jitter). */
export async function withThrottleRetry<T>(operation: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  return withRetry(() => operation(), isThrottlingError, policy);
}
