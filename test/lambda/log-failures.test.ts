import { logFailures, runIdOf } from '../../lambda/shared/log-failures';
import { createLogger } from '../../lambda/shared/logger';

function capture() {
  const lines: string[] = [];
  return { lines, log: createLogger({ step: 'check-job' }, (l) => lines.push(l)), parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logFailures', () => {
  test('a thrown error is logged once with the run id, then rethrown unchanged', async () => {
    const { log, parsed } = capture();
    const thrown = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 429 } });
    const handler = logFailures(log, runIdOf, async (_event: { run: { runId: string } }) => {
      throw thrown;
    });
    await expect(handler({ run: { runId: 'happy-0123456789ab' } })).rejects.toBe(thrown);
    expect(parsed()).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'step failed', step: 'check-job', runId: 'happy-0123456789ab', error: { name: 'ThrottlingException', message: 'Rate exceeded' } }),
    ]);
  });

  test('a result passes through and nothing is logged', async () => {
    const { log, lines } = capture();
    const handler = logFailures(log, runIdOf, async (event: { n: number }) => ({ doubled: event.n * 2 }));
    await expect(handler({ n: 21 })).resolves.toEqual({ doubled: 42 });
    expect(lines).toEqual([]);
  });

  test('an event without a run id, or one the context function cannot read, still gets its error line', async () => {
    const { log, parsed } = capture();
    const failing = async () => {
      throw new TypeError('boom');
    };
    await expect(logFailures(log, runIdOf, failing)(undefined)).rejects.toThrow('boom');
    await expect(
      logFailures(
        log,
        () => {
          throw new Error('unreadable');
        },
        failing,
      )({}),
    ).rejects.toThrow('boom');
    const [noRun, unreadable] = parsed();
    expect(noRun).toMatchObject({ message: 'step failed', error: { name: 'TypeError', message: 'boom' } });
    expect(noRun.runId).toBeUndefined();
    expect(unreadable).toMatchObject({ message: 'step failed', error: { name: 'TypeError' } });
  });

  test('runIdOf reads the run context of an event, and nothing else', () => {
    expect(runIdOf({ run: { runId: 'r-1' }, job: {} })).toEqual({ runId: 'r-1' });
    expect(runIdOf({ run: {} })).toEqual({});
    expect(runIdOf({ runId: 'top-level-is-not-a-run-context' })).toEqual({});
    expect(runIdOf(null)).toEqual({});
  });
});
