/**
 * A streaming histogram of non-negative numbers with fixed memory, for percentiles over
 * files of any length. Values below 64 are counted exactly; larger values fall into
 * geometric buckets 2^(1/32) apart, so a reported percentile is within about 1.1% of the
 * true value. Minimum, maximum, count and mean are exact.
 */

/** Summary of a distribution, as the report shows it. */
export interface Distribution {
  readonly count: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
  readonly mean: number;
}

const EXACT_BELOW = 64;
const BUCKETS_PER_DOUBLING = 32;

function bucketOf(value: number): number {
  if (value < EXACT_BELOW) return Math.floor(value);
  return EXACT_BELOW + Math.floor(Math.log2(value / EXACT_BELOW) * BUCKETS_PER_DOUBLING);
}

/** The value a bucket stands for: its geometric middle (exact values below 64). */
function representativeOf(bucket: number): number {
  if (bucket < EXACT_BELOW) return bucket;
  return Math.round(EXACT_BELOW * Math.pow(2, (bucket - EXACT_BELOW + 0.5) / BUCKETS_PER_DOUBLING));
}

/** See the module comment. */
export class StreamingHistogram {
  /** Count per bucket index (at most a few hundred buckets: 64 exact + 32 per doubling). */
  private readonly counts: number[] = [];
  private total = 0;
  private sum = 0;
  private minimum = Infinity;
  private maximum = -Infinity;

  /** Adds one value (negative values are treated as 0). */
  add(value: number): void {
    const v = value > 0 ? value : 0;
    const bucket = bucketOf(v);
    while (this.counts.length <= bucket) this.counts.push(0);
    this.counts[bucket]++;
    this.total++;
    this.sum += v;
    if (v < this.minimum) this.minimum = v;
    if (v > this.maximum) this.maximum = v;
  }

  /** Adds every value of another histogram. */
  merge(other: StreamingHistogram): void {
    other.counts.forEach((count, bucket) => {
      while (this.counts.length <= bucket) this.counts.push(0);
      this.counts[bucket] += count;
    });
    this.total += other.total;
    this.sum += other.sum;
    this.minimum = Math.min(this.minimum, other.minimum);
    this.maximum = Math.max(this.maximum, other.maximum);
  }

  /** Number of values added. */
  get count(): number {
    return this.total;
  }

  /** Sum of the values added. */
  get valueSum(): number {
    return this.sum;
  }

  /** The value below which `fraction` (0..1) of the values lie, clamped to [min, max]. */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let bucket = 0; bucket < this.counts.length; bucket++) {
      seen += this.counts[bucket];
      if (seen >= rank) return Math.min(this.maximum, Math.max(this.minimum, representativeOf(bucket)));
    }
    return this.maximum;
  }

  /** The summary shown in reports (all zero when empty). */
  summary(): Distribution {
    if (this.total === 0) return { count: 0, min: 0, p50: 0, p90: 0, max: 0, mean: 0 };
    return {
      count: this.total,
      min: this.minimum,
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      max: this.maximum,
      mean: Math.round((this.sum / this.total) * 10) / 10,
    };
  }
}
