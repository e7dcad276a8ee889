/**
 * The history of a request name in S3, against the local S3 stand-in with the real SDK: entries
 * and leaderboard files, bounded reads, two runs ending at once (412 and 409), and the
 * record-outcome handler keeping it (and publishing F1 by request name) when a run ends.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { handler as recordOutcome } from '../../lambda/record-outcome';
import { RUN_HISTORY_WRITE_ATTEMPTS, keepRunHistory, recordRunHistory } from '../../lambda/shared/leaderboard/history-store';
import { RunHistory, runHistoryFileKeys } from '../../lambda/shared/leaderboard/run-history';
import { createLogger } from '../../lambda/shared/logger';
import { RunRecord } from '../../lambda/shared/run-record';
import { ARTIFACTS, HandlerAws, runContext, runningRecord, startHandlerAws, storeRecord } from '../lambda/handler-fixtures';

const TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:outcomes';

/** An ended, scored run of `name` that started `hour` hours into 2026-12-01. */
function endedRun(name: string, hour: number, f1: number, requestKey = `${name}-${hour}`): RunRecord {
  const run = { ...runContext(requestKey), requestName: name };
  const fixed = { ...run, runId: `${name}-${String(hour).padStart(12, '0')}`, artifacts: { bucket: ARTIFACTS, prefix: `runs/${name}-${String(hour).padStart(12, '0')}/` } };
  return {
    ...runningRecord(fixed),
    createdAt: new Date(Date.UTC(2026, 11, 1, hour)).toISOString(),
    status: 'SUCCEEDED',
    evaluation: {
      baseF1: 50,
      fineTunedF1: f1,
      baseExactMatch: 40,
      fineTunedExactMatch: 45,
      relativeImprovementPercent: ((f1 - 50) / 50) * 100,
      records: 10,
      gate: { evaluated: false, passed: true, reasons: [] },
      reportUri: 's3://x/report.md',
      reportHtmlUri: 's3://x/report.html',
    },
    outcome: { status: 'SUCCEEDED', finishedAt: new Date(Date.UTC(2026, 11, 1, hour, 30)).toISOString(), summary: 'The run completed.' },
  };
}

describe('run history in S3', () => {
  let aws: HandlerAws;
  let s3: S3Client;
  const quickSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms / 20));
  const options = { environment: 'test', limit: 20, sleep: quickSleep };
  const stored = (name: string) => JSON.parse(aws.s3.getObject(ARTIFACTS, runHistoryFileKeys('runs/', name).json)!.toString()) as RunHistory;

  beforeAll(async () => {
    aws = await startHandlerAws({ TOPIC_ARN, EVENT_BUS_NAME: 'default' });
    s3 = new S3Client({});
  });
  afterAll(async () => {
    s3.destroy();
    await aws.stop();
  });

  it('writes an entry per run and the three leaderboard files, oldest run first', async () => {
    await recordRunHistory(s3, endedRun('alpha', 2, 70), options);
    const second = await recordRunHistory(s3, endedRun('alpha', 1, 60), options);
    expect(second.attempts).toBe(1);
    expect(stored('alpha').runs.map((r) => [r.runId, r.scores!.fineTunedF1])).toEqual([
      ['alpha-000000000001', 60],
      ['alpha-000000000002', 70],
    ]);
    const files = runHistoryFileKeys('runs/', 'alpha');
    expect(aws.s3.getObject(ARTIFACTS, files.markdown)!.toString()).toContain('| 2 | alpha-000000000002 |');
    expect(aws.s3.headObject(ARTIFACTS, files.html)!.contentType).toBe('text/html; charset=utf-8');
    // Writing a run again (a retried step) replaces its entry rather than adding one.
    await recordRunHistory(s3, endedRun('alpha', 2, 71), options);
    expect(stored('alpha').runs.map((r) => r.scores!.fineTunedF1)).toEqual([60, 71]);
  });

  it('reads a bounded number of entries however many runs the name has had', async () => {
    for (let hour = 0; hour < 8; hour++) await recordRunHistory(s3, endedRun('bounded', hour, 50 + hour), { environment: 'test', limit: 3 });
    aws.callLog.clear();
    await recordRunHistory(s3, endedRun('bounded', 8, 60), { environment: 'test', limit: 3 });
    expect(stored('bounded').runs.map((r) => r.runId.slice(-1))).toEqual(['6', '7', '8']);
    const entryGets = aws.callLog.entries({ operation: 'GetObject' }).filter((e) => e.resources.some((r) => r.includes('history/bounded/runs/')));
    expect(entryGets).toHaveLength(3);
    expect(aws.callLog.entries({ operation: 'ListObjectsV2' })).toHaveLength(1);
  });

  it('two runs of one name ending at once: the one whose leaderboard write loses (412) rebuilds, and neither run is lost', async () => {
    // Client A stops right after listing the entries until B has finished: A listed only its own
    // entry, and B has rewritten leaderboard.json since A read its ETag.
    let releaseA!: () => void;
    const bDone = new Promise<void>((resolve) => (releaseA = resolve));
    const clientA = new S3Client({});
    let paused = false;
    clientA.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === 'ListObjectsV2Command' && !paused) {
          paused = true;
          await bDone;
        }
        return out;
      },
      { step: 'initialize', name: 'pauseAfterFirstListing' },
    );
    const a = recordRunHistory(clientA, endedRun('race', 1, 61), options);
    while (!paused) await new Promise((r) => setTimeout(r, 5));
    const b = await recordRunHistory(s3, endedRun('race', 2, 62), options);
    expect(b.history.runs.map((r) => r.runId)).toEqual(['race-000000000001', 'race-000000000002']);
    releaseA();
    const written = await a;
    expect(written.attempts).toBe(2);
    expect(stored('race').runs.map((r) => r.runId)).toEqual(['race-000000000001', 'race-000000000002']);
    expect(aws.s3.getObject(ARTIFACTS, runHistoryFileKeys('runs/', 'race').markdown)!.toString()).toContain('race-000000000002');
    clientA.destroy();
  });

  it('the 8 variants of an experiment ending at once: every run is in the final leaderboard', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => recordRunHistory(s3, endedRun('crowd', i, 60 + i), options)));
    expect(stored('crowd').runs.map((r) => r.runId)).toEqual(Array.from({ length: 8 }, (_, i) => `crowd-${String(i).padStart(12, '0')}`));
    expect(aws.s3.getObject(ARTIFACTS, runHistoryFileKeys('runs/', 'crowd').markdown)!.toString()).toContain('| 8 | crowd-000000000007 |');
    expect(results.every((r) => r.attempts <= RUN_HISTORY_WRITE_ATTEMPTS)).toBe(true);
  });

  it('retries S3\'s 409 ConditionalRequestConflict and a forced 412, and gives up after a bounded number of 412s', async () => {
    aws.s3.conflictConditionalWrites(2, { operation: 'PutObject' });
    aws.s3.failNext(1, { status: 412, code: 'PreconditionFailed', operation: 'PutObject', conditionalOnly: true });
    const written = await recordRunHistory(s3, endedRun('conflict', 1, 70), options);
    expect(written.attempts).toBe(2);
    expect(stored('conflict').runs).toHaveLength(1);
    aws.s3.failNext(RUN_HISTORY_WRITE_ATTEMPTS, { status: 412, code: 'PreconditionFailed', operation: 'PutObject', conditionalOnly: true });
    await expect(recordRunHistory(s3, endedRun('conflict', 2, 71), options)).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    aws.s3.clearFaults();
  });

  it('keepRunHistory publishes F1 by request name and never throws: a refused write is logged', async () => {
    const lines: string[] = [];
    const log = createLogger({ step: 'test' }, (l) => lines.push(l));
    const now = new Date('2026-12-01T12:00:00Z');
    expect(await keepRunHistory(s3, log, endedRun('emf', 1, 77.5), { environment: 'dev', limit: 5, now })).toBeDefined();
    const metrics = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'metrics');
    expect(metrics).toMatchObject({
      _aws: { Timestamp: now.getTime(), CloudWatchMetrics: [{ Namespace: 'LlamaFinetune', Dimensions: [['Environment', 'RequestName']], Metrics: [{ Name: 'FineTunedF1', Unit: 'None' }] }] },
      Environment: 'dev',
      RequestName: 'emf',
      FineTunedF1: 77.5,
    });
    aws.s3.failNext(20, { status: 403, code: 'AccessDenied', operation: 'PutObject' });
    expect(await keepRunHistory(s3, log, endedRun('denied', 1, 70), { environment: 'dev', limit: 5 })).toBeUndefined();
    aws.s3.clearFaults();
    expect(lines.map((l) => JSON.parse(l)).find((l) => l.message === 'run history not updated')).toMatchObject({ level: 'WARN', error: { name: 'AccessDenied' } });
  });

  it('the record-outcome handler keeps the history when a run ends, failed runs included', async () => {
    const ok = runContext('handled');
    storeRecord(aws, runningRecord(ok));
    await recordOutcome({ status: 'SUCCEEDED', run: ok });
    const failed = runContext('handled-2');
    const failedRun = { ...failed, requestName: 'handled' };
    storeRecord(aws, runningRecord(failedRun));
    await recordOutcome({ status: 'FAILED', run: failedRun, error: { Error: 'ValidationFailed', Cause: 'line 3: bad' } });
    const history = stored('handled');
    expect(history.runs.map((r) => [r.runId, r.status])).toEqual(
      expect.arrayContaining([
        [ok.runId, 'SUCCEEDED'],
        [failedRun.runId, 'FAILED'],
      ]),
    );
    expect(history.runs.find((r) => r.status === 'FAILED')!.error).toContain('ValidationFailed');
    expect(aws.logLines().some((l) => l.message === 'run history updated' && l.runId === ok.runId)).toBe(true);
  });
});
