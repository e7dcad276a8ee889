/**
 * Retries S3 calls that failed because S3 asked us to slow down (SlowDown, 503, 429 and the
 * like), with exponential backoff and full jitter. The SDK retries a few times on its own; a
 * bulk upload of thousands of images needs more patience than that. Other errors are thrown
 * at once: retrying an AccessDenied only delays the message.
 */

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
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
};

const THROTTLING_ERROR_NAMES = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded',
  'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException', 'ServiceUnavailable',
]);

/** Whether an SDK error means "too many requests, try again later". */
export function isThrottlingError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  if (e.$retryable?.throttling) return true;
  if ((e.name && THROTTLING_ERROR_NAMES.has(e.name)) || (e.Code && THROTTLING_ERROR_NAMES.has(e.Code))) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || status === 503;
}

/** Calls `operation`, retrying throttling errors per the policy. */
export async function withThrottleRetry<T>(operation: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY_POLICY): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (err) {
      if (!isThrottlingError(err) || attempt >= policy.maxAttempts) throw err;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      await policy.sleep(Math.floor(policy.random() * ceiling));
    }
  }
}
