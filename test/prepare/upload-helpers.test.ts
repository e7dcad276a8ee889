import { mapWithConcurrency } from '../../cli/prepare/bounded-concurrency';
import { createProgressLine } from '../../cli/prepare/progress-line';
import { RetryPolicy, isThrottlingError, withThrottleRetry } from '../../cli/prepare/throttle-retry';

/** A promise the test resolves by hand, so concurrency is observed without timers. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('mapWithConcurrency', () => {
  test('never runs more than the limit at once and keeps result order', async () => {
    const gates = Array.from({ length: 10 }, deferred);
    let running = 0;
    let most = 0;
    const done = mapWithConcurrency(gates, 3, async (gate, i) => {
      running++;
      most = Math.max(most, running);
      await gate.promise;
      running--;
      return i * 2;
    });
    await flush();
    expect(running).toBe(3);
    // Release in reverse to show results still come back in input order.
    for (const gate of [...gates].reverse()) {
      gate.resolve();
      await flush();
    }
    expect(await done).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(most).toBe(3);
  });

  test('starts nothing new after a failure and throws the first error', async () => {
    const started: number[] = [];
    const run = mapWithConcurrency([0, 1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      if (n === 1) throw new Error('boom 1');
      return n;
    });
    await expect(run).rejects.toThrow('boom 1');
    expect(started.length).toBeLessThan(6);
  });

  test('rejects a bad limit', async () => {
    await expect(mapWithConcurrency([1], 0, async (n) => n)).rejects.toThrow(/at least 1/);
  });
});

describe('withThrottleRetry', () => {
  const sleeps: number[] = [];
  const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, sleep: async (ms) => void sleeps.push(ms), random: () => 0.999 };
  beforeEach(() => (sleeps.length = 0));

  const slowDown = () => Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });

  test('retries throttling with growing, capped delays', async () => {
    let calls = 0;
    const result = await withThrottleRetry(async () => {
      calls++;
      if (calls < 4) throw slowDown();
      return 'ok';
    }, policy);
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(sleeps).toEqual([99, 199, 249]);
  });

  test('gives up after maxAttempts', async () => {
    let calls = 0;
    await expect(withThrottleRetry(async () => {
      calls++;
      throw slowDown();
    }, policy)).rejects.toThrow('reduce your request rate');
    expect(calls).toBe(4);
  });

  test('does not retry other errors', async () => {
    let calls = 0;
    await expect(withThrottleRetry(async () => {
      calls++;
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    }, policy)).rejects.toThrow('Access Denied');
    expect(calls).toBe(1);
  });

  test.each([
    [{ name: 'ThrottlingException' }, true],
    [{ name: 'X', $metadata: { httpStatusCode: 429 } }, true],
    [{ name: 'X', $retryable: { throttling: true } }, true],
    [{ name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }, false],
    ['text', false],
  ])('isThrottlingError(%j) is %s', (err, expected) => {
    expect(isThrottlingError(err)).toBe(expected);
  });
});

describe('createProgressLine', () => {
  test('rewrites one line on a terminal and ends it', () => {
    const written: string[] = [];
    const line = createProgressLine({ isTTY: true, write: (t) => written.push(t) });
    line.update('uploading 1/10');
    line.update('up 2/10');
    line.done();
    expect(written).toEqual(['\ruploading 1/10', '\rup 2/10       ', '\n']);
  });

  test('writes nothing when not a terminal', () => {
    const written: string[] = [];
    const line = createProgressLine({ isTTY: false, write: (t) => written.push(t) });
    line.update('x');
    line.done();
    expect(written).toEqual([]);
  });
});
