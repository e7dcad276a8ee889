/**
 * Following a run, in process (the spawned binary's stderr is never a terminal): the one
 * updating line on a TTY, the start timeout, Ctrl-C while waiting; and the shared lookup of the
 * run an upload started. Against the S3 stand-in with the real SDK; records written with the
 * shared run-record code.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { resetClients } from '../../lambda/shared/aws-clients';
import { deriveRunId } from '../../lambda/shared/run-context';
import { isRunOfUpload, runIdOfUpload } from '../../lambda/shared/run-lookup';
import { createRunRecord, runRecordKey, updateRunRecord, withEvent } from '../../lambda/shared/run-record';
import { followRun, FollowIo } from '../../cli/run-follow';
import { ARTIFACTS, RUNS_PREFIX, runContext, runningRecord } from '../lambda/handler-fixtures';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { waitFor } from '../support/wait-for';

let aws: LocalAws;
let s3: S3Client;

beforeAll(async () => {
  aws = await startLocalAws({ buckets: [{ name: ARTIFACTS, versioned: true }] });
  resetClients();
  s3 = new S3Client({});
});

afterAll(async () => {
  s3.destroy();
  resetClients();
  await aws.stop();
});

function captureIo(tty: boolean, clock: () => number = Date.now): FollowIo & { out: () => string; err: () => string; interrupt: () => void } {
  let out = '';
  let err = '';
  let handler: (() => void) | undefined;
  return {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stderrIsTty: tty,
    now: clock,
    onInterrupt: (h) => {
      handler = h;
      return () => (handler = undefined);
    },
    out: () => out,
    err: () => err,
    interrupt: () => handler?.(),
  };
}

const options = { artifactsBucket: ARTIFACTS, runsPrefix: RUNS_PREFIX, intervalMs: 20, startTimeoutMs: 5_000 };

test('on a terminal: one line rewritten in place (step, job status, elapsed), cleared before the outcome', async () => {
  const run = runContext('tty-run');
  const record = runningRecord(run);
  await createRunRecord(s3, ARTIFACTS, record);
  const io = captureIo(true);
  const following = followRun(s3, { runId: run.runId }, options, io);
  const key = runRecordKey(run);
  // Each write waits until the line shows the state before it (a condition, not a pause).
  await waitFor('the run started line', () => io.err().includes(`${run.runId}: run started`));
  await updateRunRecord(s3, ARTIFACTS, key, run.executionArn, (r) => ({
    ...withEvent(r, 'job created'),
    job: { jobArn: 'arn:job', jobName: 'j', customModelName: 'm', status: 'InProgress', outputS3Uri: 's3://x/', hyperParameters: {} },
  }));
  await waitFor('the job created line', () => io.err().includes(`${run.runId}: job created`));
  await updateRunRecord(s3, ARTIFACTS, key, run.executionArn, (r) => ({
    ...withEvent(r, 'run failed'),
    status: 'FAILED',
    outcome: { status: 'FAILED', finishedAt: new Date().toISOString(), summary: 'JobFailed: out of memory' },
  }));
  expect(await following).toBe(1);
  const err = io.err();
  expect(err).not.toContain('\n');
  expect(err).toMatch(new RegExp(`^\\r${run.runId}: run started \\| \\d+s\\x1b\\[K`));
  expect(err).toMatch(new RegExp(`\\r${run.runId}: job created \\| job InProgress \\| \\d+s\\x1b\\[K`));
  expect(err.endsWith('\r\x1b[K')).toBe(true);
  expect(io.out()).toMatch(new RegExp(`^Run ${run.runId} FAILED after \\d+s \\(model llama3\\.2-1b\\)\\.\\nJobFailed: out of memory\\n`));
});

test('no record within the start timeout: exit 3, saying what may have happened and where to look', async () => {
  const io = captureIo(false);
  const code = await followRun(s3, { runId: 'never-begun-0123456789ab' }, { ...options, startTimeoutMs: 200 }, io);
  expect(code).toBe(3);
  expect(io.err()).toContain('never-begun-0123456789ab: waiting for the workflow to start the run');
  expect(io.err()).toContain(`no run record for run never-begun-0123456789ab appeared in s3://${ARTIFACTS}/${RUNS_PREFIX} within 0s`);
  expect(io.err()).toContain('The workflow may have refused the request before the run began');
});

test('Ctrl-C while waiting answers at once (not after the interval), exit 130', async () => {
  const io = captureIo(false);
  const started = Date.now();
  const following = followRun(s3, { runId: 'slow-0123456789ab' }, { ...options, intervalMs: 60_000 }, io);
  // Interrupted while it waits out its (one-minute) interval, once it has said it is waiting.
  await waitFor('the waiting line', () => io.err().includes('slow-0123456789ab: waiting for the workflow to start the run'));
  io.interrupt();
  expect(await following).toBe(130);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(io.err()).toContain('Stopped following run slow-0123456789ab; the run goes on');
});

describe('read failures while following', () => {
  // One attempt per read, so each planned fault is one failed read of the record.
  let single: S3Client;
  beforeAll(() => (single = new S3Client({ maxAttempts: 1 })));
  afterAll(() => single.destroy());
  afterEach(() => aws.s3.clearFaults());

  async function endedRun(name: string) {
    const run = runContext(name);
    await createRunRecord(s3, ARTIFACTS, runningRecord(run, { status: 'SUCCEEDED', outcome: { status: 'SUCCEEDED', finishedAt: new Date().toISOString(), summary: 'The run completed.' } }));
    return run;
  }

  test('a few failed reads (AWS answering 500) are shown and retried; following goes on to the outcome', async () => {
    const run = await endedRun('blip-run');
    aws.s3.failNext(3, { status: 500, code: 'InternalError', operation: 'GetObject' });
    const io = captureIo(false);
    expect(await followRun(single, { runId: run.runId }, options, io)).toBe(0);
    expect(io.err()).toContain(`${run.runId}: cannot read the run record (AWS answered 500 (InternalError) after retries; try again later); trying again`);
    expect(io.out()).toContain(`Run ${run.runId} SUCCEEDED`);
  });

  test('five failed reads in a row end the following with the error (the command exits 3)', async () => {
    const run = await endedRun('outage-run');
    aws.s3.failNext(5, { status: 500, code: 'InternalError', operation: 'GetObject' });
    await expect(followRun(single, { runId: run.runId }, options, captureIo(false))).rejects.toMatchObject({ name: 'InternalError' });
  });

  test('access denied ends it at once', async () => {
    const run = await endedRun('denied-run');
    aws.s3.failNext(1, { status: 403, code: 'AccessDenied', operation: 'GetObject' });
    await expect(followRun(single, { runId: run.runId }, options, captureIo(false))).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('the run an upload started', () => {
  const upload = { bucket: 'datasets', key: 'requests/a.json', versionId: 'v1', etag: '"abc"' };

  test('versioned: the id is the workflow\'s own derivation from bucket, key and version id', () => {
    expect(runIdOfUpload('a', upload)).toBe(deriveRunId('a', { bucket: 'datasets', key: 'requests/a.json', versionId: 'v1', sequencer: 'ignored', etag: 'abc' }));
    expect(runIdOfUpload('a', { ...upload, versionId: undefined })).toBeUndefined();
  });

  test('a run is the upload\'s when bucket, key and version (else ETag, quoted or not) match', () => {
    expect(isRunOfUpload({ bucket: 'datasets', key: 'requests/a.json', versionId: 'v1' }, upload)).toBe(true);
    expect(isRunOfUpload({ bucket: 'datasets', key: 'requests/a.json', versionId: 'v2' }, upload)).toBe(false);
    const plain = { ...upload, versionId: undefined };
    expect(isRunOfUpload({ bucket: 'datasets', key: 'requests/a.json', sequencer: '01', etag: 'abc' }, plain)).toBe(true);
    expect(isRunOfUpload({ bucket: 'datasets', key: 'requests/a.json', sequencer: '01', etag: 'def' }, plain)).toBe(false);
    expect(isRunOfUpload({ bucket: 'datasets', key: 'requests/b.json', etag: 'abc' }, plain)).toBe(false);
  });
});
