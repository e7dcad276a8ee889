/** "Nice" axis ticks (steps of 1, 2 or 5 times a power of ten) for the report's charts. Pure. */

/** Ticks covering a range, and the range widened to the outer ticks. */
export interface AxisTicks {
  readonly ticks: readonly number[];
  readonly step: number;
  /** Decimals a tick label needs to tell ticks apart. */
  readonly decimals: number;
  readonly min: number;
  readonly max: number;
}

/**
 * About `target` evenly spaced round ticks from at or below `min` to at or above `max`.
 * A range of zero width is widened around its value first.
 */
export function niceTicks(min: number, max: number, target = 5): AxisTicks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`niceTicks needs finite bounds, got ${min}..${max}.`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const normalized = raw / magnitude;
  const step = (normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10) * magnitude;
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const decimals = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  // Multiplying integers by the step (rather than adding it up) keeps float error from piling up.
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => Number(((first + i) * step).toFixed(decimals)));
  return { ticks, step, decimals, min: ticks[0], max: ticks[ticks.length - 1] };
}
