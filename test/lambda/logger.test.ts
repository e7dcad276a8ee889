import { createLogger } from '../../lambda/shared/logger';

/** A logger whose lines are kept, parsed. */
function captured(base: Record<string, unknown> = {}) {
  const lines: string[] = [];
  const log = createLogger(base, (line) => lines.push(line));
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('structured logger', () => {
  test('each call writes one JSON line with timestamp, level, message, base and call fields', () => {
    const { log, lines, parsed } = captured({ step: 'check-job' });
    const before = Date.now();
    log.info('job status changed', { from: 'InProgress', to: 'Completed' });
    log.warn('slow', { seconds: 3 });
    log.error('broke');
    log.debug('detail');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).not.toContain('\n');
    const [info, warn, error, debug] = parsed();
    expect(info).toMatchObject({ level: 'INFO', message: 'job status changed', step: 'check-job', from: 'InProgress', to: 'Completed' });
    expect(Date.parse(info.timestamp as string)).toBeGreaterThanOrEqual(before - 1000);
    expect([warn.level, error.level, debug.level]).toEqual(['WARN', 'ERROR', 'DEBUG']);
    expect(warn.step).toBe('check-job');
  });

  test('a child adds its fields (the run id) to every line, and its parent stays as it was', () => {
    const { log, parsed } = captured({ step: 'launch-job' });
    const runLog = log.child({ runId: 'happy-0123456789ab' });
    runLog.info('customization job created', { jobArn: 'arn:x' });
    runLog.child({ shard: 3 }).warn('retrying');
    log.info('no run here');
    const [created, retrying, plain] = parsed();
    expect(created).toMatchObject({ step: 'launch-job', runId: 'happy-0123456789ab', jobArn: 'arn:x' });
    expect(retrying).toMatchObject({ step: 'launch-job', runId: 'happy-0123456789ab', shard: 3 });
    expect(plain.runId).toBeUndefined();
  });

  test('errors are written with their name and message, not as {}', () => {
    const { log, parsed } = captured();
    const err = new Error('The quota is exceeded');
    err.name = 'ServiceQuotaExceededException';
    log.warn('Bedrock refused the job', { error: err, nested: { cause: new TypeError('bad') } });
    const [line] = parsed();
    expect(line.error).toEqual({ name: 'ServiceQuotaExceededException', message: 'The quota is exceeded' });
    expect(line.nested).toEqual({ cause: { name: 'TypeError', message: 'bad' } });
  });

  test('call fields win over base fields of the same name; undefined fields are left out', () => {
    const { log, lines, parsed } = captured({ step: 'a', runId: 'base' });
    log.info('m', { runId: 'override', missing: undefined });
    expect(parsed()[0].runId).toBe('override');
    expect(lines[0]).not.toContain('missing');
  });

  test('by default lines go to stdout, one per call, unprefixed (so CloudWatch reads EMF and JSON)', () => {
    const writes: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => {
      writes.push(chunk);
      return true;
    }) as never);
    try {
      createLogger({ step: 'x' }).info('hello');
    } finally {
      spy.mockRestore();
    }
    expect(writes).toHaveLength(1);
    expect(writes[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(writes[0])).toMatchObject({ message: 'hello', step: 'x' });
  });
});
