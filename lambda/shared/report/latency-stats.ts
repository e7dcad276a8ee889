/** Latency percentiles of a list of measurements. Pure. */
import { LatencyStats } from './report-model';

/**
 * Nearest-rank percentile: the smallest measured value with at least `percent`% of the values
 * at or below it. Always a value that was measured (no interpolation).
 *
 * @param sorted values in ascending order, at least one.
 */
export function nearestRankPercentile(sorted: readonly number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

/** p50, p90, mean and max of the latencies; `null` when there are none. */
export function latencyStats(latenciesMs: readonly number[]): LatencyStats | null {
  if (latenciesMs.length === 0) return null;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, v) => sum + v, 0);
  return {
    count: sorted.length,
    p50Ms: nearestRankPercentile(sorted, 50),
    p90Ms: nearestRankPercentile(sorted, 90),
    meanMs: total / sorted.length,
    maxMs: sorted[sorted.length - 1],
  };
}
