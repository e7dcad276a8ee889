/**
 * The prepare-evaluation handler against LocalS3 with the real SDK client: whatever the test file
 * holds, at most MAX_EVALUATION_RECORDS records (or the request's maxRecords) are evaluated, so
 * the function's memory and time, and the shard manifest, stay bounded; the state gets only the
 * manifest's location and counts.
 */
import { handler } from '../../lambda/prepare-evaluation';
import { pinnedDataLocation } from '../../lambda/shared/pinned-data';
import { RunContext } from '../../lambda/shared/run-context';
import { MAX_EVALUATION_RECORDS } from '../../lambda/shared/run-request';
import { HandlerAws, runContext, startHandlerAws } from './handler-fixtures';

/** One small test record (question and answer of line n). */
function testLine(n: number): string {
  return JSON.stringify({
    schemaVersion: 'bedrock-conversation-2024',
    messages: [
      { role: 'user', content: [{ text: `q${n}` }] },
      { role: 'assistant', content: [{ text: `a${n}` }] },
    ],
  });
}

describe('prepare-evaluation handler', () => {
  let aws: HandlerAws;

  beforeAll(async () => {
    aws = await startHandlerAws({ SHARD_SIZE: '50' });
  });
  afterAll(async () => aws?.stop());

  function storeTestFile(run: RunContext, lines: number): void {
    const body = Array.from({ length: lines }, (_, i) => testLine(i + 1)).join('\n') + '\n';
    const copy = pinnedDataLocation(run, 'test');
    aws.s3.putObject(copy.bucket, copy.key, body);
  }

  function manifestOf(result: { manifest: { bucket: string; key: string } }): Array<{ count: number }> {
    return JSON.parse(aws.s3.getObject(result.manifest.bucket, result.manifest.key)!.toString()) as Array<{ count: number }>;
  }

  test(`a test file longer than ${MAX_EVALUATION_RECORDS.toLocaleString('en-US')} records is evaluated on its first ${MAX_EVALUATION_RECORDS.toLocaleString('en-US')}`, async () => {
    const run = runContext('prepare-capped');
    storeTestFile(run, MAX_EVALUATION_RECORDS + 7);
    const result = await handler({ run });
    expect(result).toMatchObject({ recordCount: MAX_EVALUATION_RECORDS, shardCount: MAX_EVALUATION_RECORDS / 50 });
    const manifest = manifestOf(result);
    expect(manifest).toHaveLength(MAX_EVALUATION_RECORDS / 50);
    expect(manifest.reduce((sum, shard) => sum + shard.count, 0)).toBe(MAX_EVALUATION_RECORDS);
    // The state carries the manifest's location and counts only, whatever the test set's size.
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(1024);
    expect(aws.logLines().find((l) => l.message === 'evaluation prepared' && l.runId === run.runId)).toMatchObject({ evaluatedFirst: MAX_EVALUATION_RECORDS });
  });

  test('maxRecords below the cap takes the first maxRecords; a file within the cap is taken whole', async () => {
    const limited = { ...runContext('prepare-limited'), evaluation: { enabled: true, maxTokens: 64, maxRecords: 120 } };
    storeTestFile(limited, 500);
    expect(await handler({ run: limited })).toMatchObject({ recordCount: 120, shardCount: 3 });

    const whole = runContext('prepare-whole');
    storeTestFile(whole, 101);
    expect(await handler({ run: whole })).toMatchObject({ recordCount: 101, shardCount: 3 });
    expect(aws.logLines().find((l) => l.message === 'evaluation prepared' && l.runId === whole.runId)).not.toHaveProperty('evaluatedFirst');
  });
});
