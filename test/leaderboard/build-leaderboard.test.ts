/** The build-leaderboard handler against the local S3 stand-in with the real SDK: reads each variant's run.json, writes the three files, returns the contract's output. */
import { BuildLeaderboardEvent, handler } from '../../lambda/build-leaderboard';
import { LEADERBOARD_SUMMARY_MAX_CHARS } from '../../lambda/shared/leaderboard';
import { Leaderboard } from '../../lambda/shared/leaderboard/leaderboard-model';
import { runRecordKey } from '../../lambda/shared/run-record';
import { ARTIFACTS, HandlerAws, startHandlerAws } from '../lambda/handler-fixtures';
import { VariantFixture, variantRecord, variantRunId } from './leaderboard-fixtures';

const EXPERIMENT = 'sweep-00aa11bb22cc';

describe('build-leaderboard handler', () => {
  let aws: HandlerAws;
  beforeAll(async () => {
    aws = await startHandlerAws();
  });
  afterAll(async () => {
    await aws.stop();
  });

  function store(v: VariantFixture): { name: string; runId: string; runRecordKey: string } {
    const record = variantRecord(EXPERIMENT, v);
    const key = runRecordKey(record.run);
    aws.s3.putObject(ARTIFACTS, key, JSON.stringify({ ...record, run: { ...record.run, artifacts: { bucket: ARTIFACTS, prefix: record.run.artifacts.prefix } } }));
    return { name: v.name, runId: record.runId, runRecordKey: key };
  }

  it('ranks the stored variants, writes json, md and html under the prefix and returns keys, best and summary', async () => {
    const event: BuildLeaderboardEvent = {
      bucket: ARTIFACTS,
      experimentRunId: EXPERIMENT,
      requestName: 'sweep',
      outputPrefix: `runs/${EXPERIMENT}/`,
      variants: [
        store({ name: 'lr-low', f1: 71.5, em: 60 }),
        store({ name: 'lr-high', f1: 82.25, em: 70, gate: { evaluated: true, passed: true } }),
        store({ name: 'big', error: { name: 'ModelCustomizationJobFailed', cause: 'the job failed: <b>quota</b>' } }),
        { name: 'never', runId: variantRunId(EXPERIMENT, 'never'), runRecordKey: `runs/${variantRunId(EXPERIMENT, 'never')}/run.json` },
      ],
    };
    const result = await handler(event);
    expect(result).toEqual({
      leaderboardJsonKey: `runs/${EXPERIMENT}/leaderboard.json`,
      leaderboardMarkdownKey: `runs/${EXPERIMENT}/leaderboard.md`,
      leaderboardHtmlKey: `runs/${EXPERIMENT}/leaderboard.html`,
      best: { name: 'lr-high', runId: variantRunId(EXPERIMENT, 'lr-high'), index: 1 },
      summary: expect.stringMatching(/^Experiment sweep \(run sweep-00aa11bb22cc\): 4 variant\(s\), 2 ranked, 2 failed\. Best: lr-high, fine-tuned F1 82\.25/),
    });
    // Only the contract's fields go back into the state machine's payload.
    expect(Object.keys(result).sort()).toEqual(['best', 'leaderboardHtmlKey', 'leaderboardJsonKey', 'leaderboardMarkdownKey', 'summary']);
    expect(result.summary.length).toBeLessThanOrEqual(LEADERBOARD_SUMMARY_MAX_CHARS);

    const stored = JSON.parse(aws.s3.getObject(ARTIFACTS, result.leaderboardJsonKey)!.toString()) as Leaderboard;
    expect(stored.entries.map((e) => [e.name, e.rank, e.status])).toEqual([
      ['lr-high', 1, 'SUCCEEDED'],
      ['lr-low', 2, 'SUCCEEDED'],
      ['big', null, 'FAILED'],
      ['never', null, 'MISSING'],
    ]);
    expect(stored.entries[3].error).toBe(`no run record at s3://${ARTIFACTS}/runs/${variantRunId(EXPERIMENT, 'never')}/run.json: the variant's run never began`);
    expect(aws.s3.headObject(ARTIFACTS, result.leaderboardJsonKey)!.contentType).toBe('application/json');
    expect(aws.s3.headObject(ARTIFACTS, result.leaderboardMarkdownKey)!.contentType).toBe('text/markdown; charset=utf-8');
    expect(aws.s3.headObject(ARTIFACTS, result.leaderboardHtmlKey)!.contentType).toBe('text/html; charset=utf-8');
    const html = aws.s3.getObject(ARTIFACTS, result.leaderboardHtmlKey)!.toString();
    expect(html).toContain('the job failed: &lt;b&gt;quota&lt;/b&gt;');
    expect(html.match(/<polyline /g)).toHaveLength(2);
    expect(aws.s3.getObject(ARTIFACTS, result.leaderboardMarkdownKey)!.toString()).toContain('| 1 | lr-high |');
  });

  it('shows a record that is not JSON as that variant\'s error, and names no best when nothing was evaluated', async () => {
    const key = `runs/${variantRunId(EXPERIMENT, 'garbled')}/run.json`;
    aws.s3.putObject(ARTIFACTS, key, '{ not json');
    const result = await handler({
      bucket: ARTIFACTS,
      experimentRunId: EXPERIMENT,
      requestName: 'sweep',
      outputPrefix: `runs/${EXPERIMENT}/again/`,
      variants: [{ name: 'garbled', runId: variantRunId(EXPERIMENT, 'garbled'), runRecordKey: key }, store({ name: 'untested' })],
    });
    expect(result.best).toBeUndefined();
    expect(result.summary).toContain('No best variant: No variant was evaluated successfully');
    const stored = JSON.parse(aws.s3.getObject(ARTIFACTS, result.leaderboardJsonKey)!.toString()) as Leaderboard;
    expect(stored.entries.find((e) => e.name === 'garbled')!.error).toMatch(new RegExp(`^the run record at s3://${ARTIFACTS}/${key} is not valid JSON`));
  });

  it('refuses a malformed event, naming the field', async () => {
    const base = { bucket: ARTIFACTS, experimentRunId: EXPERIMENT, requestName: 'sweep', outputPrefix: 'runs/x/', variants: [{ name: 'a', runId: 'r', runRecordKey: 'runs/r/run.json' }] };
    await expect(handler({ ...base, outputPrefix: 'runs/x' })).rejects.toThrow('build-leaderboard input: outputPrefix must end with "/"');
    await expect(handler({ ...base, variants: [] })).rejects.toThrow('build-leaderboard input: variants must be a non-empty array');
    await expect(handler({ ...base, variants: [{ name: 'a', runId: '', runRecordKey: 'k' }] })).rejects.toThrow('build-leaderboard input: variants[0].runId must be a non-empty string.');
  });
});
