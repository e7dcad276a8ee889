import { S3Client } from '@aws-sdk/client-s3';
import { CONFLICT_RETRY, NotRunOwnerError, RunRecord, RunRecordExistsError, createRunRecord, readRunRecord, runRecordKey, updateOwnRunRecord, updateRunRecord, withEvent } from '../../lambda/shared/run-record';
import { RunContext } from '../../lambda/shared/run-context';
import { LocalAws, startLocalAws } from '../support/local-aws';

/** The run record's write rules, against the local S3 stand-in with the real client. */
describe('run record', () => {
  let aws: LocalAws;
  let s3: S3Client;
  const run = { runId: 'r-1', artifacts: { bucket: 'artifacts', prefix: 'runs/r-1/' }, executionArn: 'arn:exec:1' } as unknown as RunContext;
  const record: RunRecord = { schemaVersion: 1, runId: 'r-1', executionArn: 'arn:exec:1', createdAt: '2026-01-01T00:00:00Z', status: 'RUNNING', run, timeline: [] };

  beforeAll(async () => {
    aws = await startLocalAws({ buckets: [{ name: 'artifacts', versioned: true }] });
    s3 = new S3Client({});
  });
  afterAll(async () => {
    s3.destroy();
    await aws.stop();
  });

  test('created once; a second create (a duplicate trigger) is refused and changes nothing', async () => {
    await createRunRecord(s3, 'artifacts', record);
    await expect(createRunRecord(s3, 'artifacts', { ...record, executionArn: 'arn:exec:2' })).rejects.toBeInstanceOf(RunRecordExistsError);
    const stored = JSON.parse(aws.s3.getObject('artifacts', runRecordKey(run))!.toString());
    expect(stored.executionArn).toBe('arn:exec:1');
  });

  test('updates apply on the latest version; a concurrent writer is not lost', async () => {
    let raced = false;
    const updated = await updateRunRecord(s3, 'artifacts', runRecordKey(run), 'arn:exec:1', (r) => {
      if (!raced) {
        raced = true;
        // Someone else writes between our read and our write: our write must be retried on top of theirs.
        const theirs = withEvent(r, 'their event');
        aws.s3.putObject('artifacts', runRecordKey(run), JSON.stringify(theirs));
      }
      return withEvent(r, 'our event');
    });
    expect(updated.timeline.map((t) => t.event)).toEqual(['their event', 'our event']);
    const stored = (await readRunRecord(s3, 'artifacts', runRecordKey(run)))!.record;
    expect(stored.timeline.map((t) => t.event)).toEqual(['their event', 'our event']);
  });

  test('a missing record reads as undefined, and cannot be updated', async () => {
    expect(await readRunRecord(s3, 'artifacts', 'runs/none/run.json')).toBeUndefined();
    await expect(updateRunRecord(s3, 'artifacts', 'runs/none/run.json', 'arn:exec:1', (r) => r)).rejects.toThrow(/No run record at s3:\/\/artifacts\/runs\/none\/run.json/);
  });

  const conflict = { status: 409, code: 'ConditionalRequestConflict', operation: 'PutObject' as const };

  test('S3\'s 409 ConditionalRequestConflict on a conditional write is retried, on create and on update', async () => {
    const other = { ...record, runId: 'r-409', run: { ...run, runId: 'r-409', artifacts: { bucket: 'artifacts', prefix: 'runs/r-409/' } } as RunContext };
    aws.s3.failNext(3, conflict);
    await createRunRecord(s3, 'artifacts', other);
    expect((await readRunRecord(s3, 'artifacts', runRecordKey(other.run)))!.record.runId).toBe('r-409');
    aws.s3.failNext(2, conflict);
    const updated = await updateOwnRunRecord(s3, other.run, (r) => withEvent(r, 'after conflicts'));
    expect(updated.timeline.map((t) => t.event)).toEqual(['after conflicts']);
    expect((await readRunRecord(s3, 'artifacts', runRecordKey(other.run)))!.record.timeline.map((t) => t.event)).toEqual(['after conflicts']);
  });

  test('the retries are bounded: a 409 that never clears is thrown after the last attempt', async () => {
    const other = { ...record, runId: 'r-409-storm', run: { ...run, runId: 'r-409-storm', artifacts: { bucket: 'artifacts', prefix: 'runs/r-409-storm/' } } as RunContext };
    aws.s3.failNext(CONFLICT_RETRY.attempts, conflict);
    await expect(createRunRecord(s3, 'artifacts', other)).rejects.toMatchObject({ name: 'ConditionalRequestConflict' });
    expect(aws.s3.getObject('artifacts', runRecordKey(other.run))).toBeUndefined();
    aws.s3.clearFaults();
  });

  test('only the execution that owns a record may change it; a duplicate gets NotRunOwner and changes nothing', async () => {
    const before = aws.s3.getObject('artifacts', runRecordKey(run))!.toString();
    const duplicate = { ...run, executionArn: 'arn:exec:2' } as RunContext;
    let changed = false;
    const attempt = updateOwnRunRecord(s3, duplicate, (r) => {
      changed = true;
      return { ...r, status: 'FAILED' };
    });
    await expect(attempt).rejects.toBeInstanceOf(NotRunOwnerError);
    await expect(updateOwnRunRecord(s3, duplicate, (r) => r)).rejects.toThrow(/Execution arn:exec:2 may not change the run record s3:\/\/artifacts\/runs\/r-1\/run.json: the run belongs to execution arn:exec:1/);
    expect(changed).toBe(false);
    expect(aws.s3.getObject('artifacts', runRecordKey(run))!.toString()).toBe(before);
  });

  test('a context read before contexts carried executionArn (an execution in flight across an upgrade) still updates its record', async () => {
    const legacy = { ...run, executionArn: undefined } as unknown as RunContext;
    const updated = await updateOwnRunRecord(s3, legacy, (r) => withEvent(r, 'legacy step'));
    expect(updated.executionArn).toBe('arn:exec:1');
    expect((await readRunRecord(s3, 'artifacts', runRecordKey(run)))!.record.timeline.map((t) => t.event)).toContain('legacy step');
  });
});
