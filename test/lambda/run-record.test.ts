import { S3Client } from '@aws-sdk/client-s3';
import { RunRecord, RunRecordExistsError, createRunRecord, readRunRecord, runRecordKey, updateRunRecord, withEvent } from '../../lambda/shared/run-record';
import { RunContext } from '../../lambda/shared/run-context';
import { LocalAws, startLocalAws } from '../support/local-aws';

/** The run record's write rules, against the local S3 stand-in with the real client. */
describe('run record', () => {
  let aws: LocalAws;
  let s3: S3Client;
  const run = { runId: 'r-1', artifacts: { bucket: 'artifacts', prefix: 'runs/r-1/' } } as unknown as RunContext;
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
    const updated = await updateRunRecord(s3, 'artifacts', runRecordKey(run), (r) => {
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
    await expect(updateRunRecord(s3, 'artifacts', 'runs/none/run.json', (r) => r)).rejects.toThrow(/No run record at s3:\/\/artifacts\/runs\/none\/run.json/);
  });
});
