/**
 * Image reads: bounded concurrency, one read per distinct URI, retries with backoff on
 * throttling, and how S3 errors are classified. Uses a fake byte source (no sleeping).
 */
import { resolveModel } from '../../lambda/shared/models/llama-models';
import {
  backoffDelay,
  classifyS3Error,
  ImageByteRange,
  ImageByteSource,
  ImageChecker,
  ImageReadError,
  inMemoryDatasetSource,
  parseTotalSize,
  validateDataset,
  withRetry,
} from '../../lambda/shared/validation';
import { pngImage } from '../support/images';
import { imageRecord, toJsonl } from './fixtures';

/** A source that serves the same PNG for every URI and records what was asked. */
class FakeSource implements ImageByteSource {
  readonly description = 'fake';
  readonly calls: Array<{ uri: string; start: number; end: number }> = [];
  running = 0;
  maxRunning = 0;
  /** Failures still to throw, per URI ('*' for any). */
  failures = new Map<string, ImageReadError[]>();
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly bytes: Buffer = pngImage(640, 480),
    private readonly holdUntilReleased = false,
  ) {}

  async readRange(uri: string, start: number, end: number): Promise<ImageByteRange> {
    this.calls.push({ uri, start, end });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.holdUntilReleased) await new Promise<void>((resolve) => this.waiters.push(resolve));
      else await Promise.resolve();
      const queue = this.failures.get(uri) ?? this.failures.get('*');
      const failure = queue?.shift();
      if (failure) throw failure;
      return { bytes: this.bytes.subarray(start, end), totalSize: this.bytes.length };
    } finally {
      this.running--;
    }
  }

  /** Lets every waiting read finish; returns how many were waiting. */
  releaseAll(): number {
    const n = this.waiters.length;
    this.waiters.splice(0).forEach((resolve) => resolve());
    return n;
  }
}

const noSleep = { sleep: async () => undefined };
const throttled = () => new ImageReadError('throttled', 'reading was throttled (SlowDown)');

describe('ImageChecker', () => {
  it('never runs more reads at once than its concurrency', async () => {
    const source = new FakeSource(undefined, true);
    const checker = new ImageChecker(source, { concurrency: 3 });
    const all = Promise.all(Array.from({ length: 10 }, (_, i) => checker.check(`s3://b/${i}.png`)));
    let released = 0;
    while (released < 10) {
      await new Promise((resolve) => setImmediate(resolve));
      expect(source.running).toBeLessThanOrEqual(3);
      released += source.releaseAll();
    }
    const outcomes = await all;
    expect(source.maxRunning).toBe(3);
    expect(outcomes.every((o) => o.ok)).toBe(true);
  });

  it('reads each distinct URI once, even when asked concurrently', async () => {
    const source = new FakeSource();
    const checker = new ImageChecker(source, { concurrency: 8 });
    await Promise.all([...Array(20)].map((_, i) => checker.check(`s3://b/${i % 4}.png`)));
    expect(source.calls.map((c) => c.uri).sort()).toEqual(['s3://b/0.png', 's3://b/1.png', 's3://b/2.png', 's3://b/3.png']);
    expect(checker.stats.uniqueImages).toBe(4);
  });

  it('asks for a byte range from the start, not the whole file', async () => {
    const source = new FakeSource();
    const checker = new ImageChecker(source, { firstReadBytes: 4096 });
    await checker.check('s3://b/a.png');
    expect(source.calls).toEqual([{ uri: 's3://b/a.png', start: 0, end: 4096 }]);
  });

  it('retries throttled reads with backoff and succeeds', async () => {
    const source = new FakeSource();
    source.failures.set('*', [throttled(), throttled(), throttled()]);
    const delays: number[] = [];
    const checker = new ImageChecker(source, { retry: { maxAttempts: 5, baseDelayMs: 100, random: () => 0.999, sleep: async (ms) => void delays.push(ms) } });
    const outcome = await checker.check('s3://b/a.png');
    expect(outcome).toMatchObject({ ok: true, width: 640, height: 480 });
    expect(source.calls).toHaveLength(4);
    expect(checker.stats.retries).toBe(3);
    expect(delays).toEqual([99, 199, 399]); // the cap doubles each time
  });

  it('gives up after the last attempt and throws (an infrastructure failure)', async () => {
    const source = new FakeSource();
    source.failures.set('*', Array.from({ length: 10 }, throttled));
    const checker = new ImageChecker(source, { retry: { maxAttempts: 3, ...noSleep } });
    await expect(checker.check('s3://b/a.png')).rejects.toMatchObject({ kind: 'throttled' });
    expect(source.calls).toHaveLength(3);
  });

  it('does not retry a missing image', async () => {
    const source = new FakeSource();
    source.failures.set('*', [new ImageReadError('not-found', 's3://b/a.png does not exist')]);
    const checker = new ImageChecker(source, { retry: noSleep });
    expect(await checker.check('s3://b/a.png')).toMatchObject({ ok: false, rule: 'image-not-found' });
    expect(source.calls).toHaveLength(1);
  });
});

describe('ImageChecker: end of file (issue 10 case 8)', () => {
  const long = pngImage(100, 100, { paddingBytes: 40_000 });

  it('without suffix reads, reads the end by offset once the header gave the size', async () => {
    const source = new FakeSource(long.subarray(0, 30_000));
    const outcome = await new ImageChecker(source).check('s3://b/cut.png');
    expect(outcome).toMatchObject({ ok: false, rule: 'image-truncated', size: 30_000 });
    expect(source.calls.map((c) => [c.start, c.end])).toEqual([
      [0, 16 * 1024],
      [30_000 - 1024, 30_000],
    ]);
  });

  it('with suffix reads, asks for the header and the end at once (one round trip)', async () => {
    const source = Object.assign(new FakeSource(long, true), {
      suffixCalls: 0,
      async readSuffix(this: FakeSource & { suffixCalls: number }, uri: string, length: number) {
        this.suffixCalls++;
        return this.readRange(uri, long.length - length, long.length);
      },
    });
    const checking = new ImageChecker(source).check('s3://b/whole.png');
    await new Promise((resolve) => setImmediate(resolve));
    expect(source.releaseAll()).toBe(2); // both reads were waiting together
    await new Promise((resolve) => setImmediate(resolve));
    source.releaseAll();
    expect(await checking).toMatchObject({ ok: true, format: 'png', width: 100, height: 100 });
    expect(source.suffixCalls).toBe(1);
  });
});

describe('ImageChecker: when the end is read alongside the header', () => {
  /** Serves small (whole in the first read) or long PNGs by URI, counting suffix reads. */
  class SizedSource implements ImageByteSource {
    readonly description = 'sized';
    readonly suffixReads: string[] = [];
    readonly offsetEndReads: string[] = [];
    private readonly small = pngImage(20, 20);
    private readonly long = pngImage(20, 20, { paddingBytes: 40_000 });
    private bytesOf(uri: string) {
      return uri.includes('long') ? this.long : this.small;
    }
    async readRange(uri: string, start: number, end: number): Promise<ImageByteRange> {
      if (start > 0) this.offsetEndReads.push(uri);
      const bytes = this.bytesOf(uri);
      return { bytes: bytes.subarray(start, end), totalSize: bytes.length };
    }
    async readSuffix(uri: string, length: number): Promise<ImageByteRange> {
      this.suffixReads.push(uri);
      const bytes = this.bytesOf(uri);
      return { bytes: bytes.subarray(Math.max(0, bytes.length - length)), totalSize: bytes.length };
    }
  }

  it('sends it while images longer than the first read are not outnumbered, else reads it by offset when needed', async () => {
    const source = new SizedSource();
    const checker = new ImageChecker(source, { concurrency: 1 });
    const uris = [...Array.from({ length: 5 }, (_, i) => `s3://b/small-${i}.png`), ...Array.from({ length: 7 }, (_, i) => `s3://b/long-${i}.png`)];
    for (const uri of uris) expect(await checker.check(uri)).toMatchObject({ ok: true });
    // The first image (nothing known yet), then long ones once they are no longer outnumbered (5 of 5).
    expect(source.suffixReads).toEqual(['s3://b/small-0.png', 's3://b/long-5.png', 's3://b/long-6.png']);
    expect(source.offsetEndReads).toEqual(['s3://b/long-0.png', 's3://b/long-1.png', 's3://b/long-2.png', 's3://b/long-3.png', 's3://b/long-4.png']);
  });
});

describe('the engine and image read failures', () => {
  const dataset = () => inMemoryDatasetSource('train.jsonl', toJsonl(Array.from({ length: 100 }, (_, i) => imageRecord(i))));

  it('throws when throttling outlasts the retries (the Lambda then fails and Step Functions retries)', async () => {
    const source = new FakeSource();
    source.failures.set('*', Array.from({ length: 1000 }, throttled));
    await expect(
      validateDataset({ model: resolveModel('llama3.2-11b'), files: [{ role: 'training', source: dataset() }], imageSource: source, imageReads: { retry: { maxAttempts: 2, ...noSleep } } }),
    ).rejects.toBeInstanceOf(ImageReadError);
  });

  it('survives throttling that the retries absorb', async () => {
    const source = new FakeSource();
    source.failures.set('*', Array.from({ length: 30 }, throttled));
    const report = await validateDataset({
      model: resolveModel('llama3.2-11b'),
      files: [{ role: 'training', source: dataset() }],
      imageSource: source,
      imageConcurrency: 4,
      imageReads: { retry: { maxAttempts: 40, ...noSleep } },
    });
    expect(report.valid).toBe(true);
    expect(report.checks.imageReads.retries).toBe(30);
  });
});

describe('retry helpers', () => {
  it('keeps every backoff delay within its doubling cap', () => {
    for (let retry = 1; retry <= 10; retry++) {
      const cap = Math.min(5000, 100 * 2 ** (retry - 1));
      expect(backoffDelay(retry, { random: () => 0 })).toBe(0);
      expect(backoffDelay(retry, { random: () => 0.9999 })).toBeLessThan(cap);
      expect(backoffDelay(retry, { random: () => 0.9999 })).toBeGreaterThanOrEqual(cap - 1);
    }
  });

  it('withRetry stops at the first non-retryable error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new Error('boom');
        },
        () => false,
        noSleep,
      ),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });
});

describe('classifyS3Error', () => {
  const s3Error = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it.each([
    ['SlowDown', 503, 'throttled'],
    ['ThrottlingException', 400, 'throttled'],
    ['TooManyRequestsException', 429, 'throttled'],
    ['NoSuchKey', 404, 'not-found'],
    ['NoSuchBucket', 404, 'not-found'],
    ['AccessDenied', 403, 'access-denied'],
    ['InternalError', 500, 'transient'],
  ])('%s (%i) is %s', (name, status, kind) => {
    expect(classifyS3Error(s3Error(name, status), 's3://b/k')?.kind).toBe(kind);
  });

  it('leaves unexpected errors alone', () => {
    expect(classifyS3Error(new Error('Could not load credentials from any providers'), 's3://b/k')).toBeUndefined();
  });

  it('reads the object size from Content-Range', () => {
    expect(parseTotalSize('bytes 0-16383/52000')).toBe(52000);
    expect(parseTotalSize(undefined)).toBeUndefined();
  });
});
