/**
 * A retry strategy for tests: the SDK's standard strategy (same retryable errors, same retry
 * quota) with a 1 ms backoff, so tests can observe retries without waiting for real backoff.
 */
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

/** Pass as `retryStrategy` to any AWS SDK v3 client; `maxAttempts` counts the first try. */
export function fastRetries(maxAttempts: number): ConfiguredRetryStrategy {
  return new ConfiguredRetryStrategy(maxAttempts, 1);
}
