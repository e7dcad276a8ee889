/**
 * Whether an AWS SDK error means "too many requests, try again later". One definition for the
 * handlers (image reads) and the CLI (uploads), so both back off on the same answers.
 */

const THROTTLING_ERROR_NAMES = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestLimitExceeded',
  'RequestThrottled', 'RequestThrottledException', 'TooManyRequestsException', 'ServiceUnavailable',
]);

/** True for throttling by error name or code, by the SDK's own retry hint, or by HTTP 429/503. */
export function isThrottlingError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: { throttling?: boolean } };
  if (e.$retryable?.throttling) return true;
  if ((e.name && THROTTLING_ERROR_NAMES.has(e.name)) || (e.Code && THROTTLING_ERROR_NAMES.has(e.Code))) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || status === 503;
}
