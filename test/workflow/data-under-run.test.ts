import * as s3 from 'aws-cdk-lib/aws-s3';
import { Duration } from 'aws-cdk-lib';
import { pngImage } from '../support/images';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness, waitFor } from './harness';

/**
 * What a run reads while the data it names may change: it validates, trains and evaluates
 * the exact objects it accepted (pinned by copying them under the run); re-uploads of a
 * request start new runs with or without bucket versioning; a deployment's data prefix
 * confines what its requests may name. End to end, offline, as synthesized.
 */

/** Text-only test records whose questions say which file they came from (`from <tag>`). */
function taggedTestRecords(count: number, tag: string): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: `What is ${i} plus ${i + 1}? (from ${tag})` }] },
        { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
      ],
    }),
  ).join('\n');
}

describe('data replaced while a run waits for quota (versioned dataset bucket)', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    // LaunchJob's third retrier is the quota wait: long enough here to replace the files in it.
    h = await startHarness({ ...TEST_PROPS, evaluation: { shardSize: 5 } }, { retryOverrides: { LaunchJob: [2, 2, 400] } });
  });
  afterAll(async () => h?.stop());

  test('Bedrock trains on the validated version and the evaluation uses the validated test set, not the files uploaded later', async () => {
    const validatedTraining = arithmeticRecords(120);
    const validatedTest = taggedTestRecords(10, 'validated');
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', validatedTraining);
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', validatedTest);
    const sidecar = (count: number, tag: string) => Array.from({ length: count }, (_, i) => JSON.stringify({ line: i + 1, id: `${tag}-${i + 1}`, references: [String(2 * i + 1)] })).join('\n');
    h.aws.s3.putObject(h.datasets, 'data/test.references.jsonl', sidecar(10, 'validated'));
    const validatedVersions = { training: h.aws.s3.headObject(h.datasets, 'data/train.jsonl')!, test: h.aws.s3.headObject(h.datasets, 'data/test.jsonl')! };

    h.aws.bedrock.quotaExceeded({ times: 'forever' });
    const { executions } = await h.upload('requests/pinned.json', { name: 'pinned', model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 16 } });
    const waitingForQuota = () => h.runRecords().some((r) => r.runId.startsWith('pinned-') && r.timeline.some((t) => t.event === 'waiting for job quota'));
    await waitFor('the run to be validated and wait for job quota', waitingForQuota);
    // Meanwhile somebody replaces both files (valid data, but not what this run validated).
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(200, 5000));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', taggedTestRecords(4, 'replaced'));
    h.aws.s3.putObject(h.datasets, 'data/test.references.jsonl', sidecar(4, 'replaced'));
    h.aws.bedrock.clearFaults();

    const outcome = await executions[0].result;
    await h.runner.idle();
    expect(outcome.status).toBe('SUCCEEDED');
    const record = h.runRecords().find((r) => r.runId.startsWith('pinned-'))!;

    // Bedrock was given the run's copy, and that copy holds the validated bytes.
    const [job] = h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith('pinned-'));
    expect(job.trainingDataUri).toBe(`s3://${h.artifacts}/runs/${record.runId}/data/training.jsonl`);
    expect(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/data/training.jsonl`)!.toString()).toBe(validatedTraining);
    // The evaluation asked about the validated test records only.
    const questions = h.aws.runtime.invocations().map((c) => c.lastUserText);
    expect(questions).toHaveLength(20); // 10 records, base and fine-tuned
    expect(questions.every((q) => q.includes('(from validated)'))).toBe(true);
    expect(record.evaluation?.records).toBe(10);
    // ...with the references of the validated sidecar.
    const report = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/report.json`)!.toString()) as { records: Array<{ recordId: string }> };
    expect(report.records.map((r) => r.recordId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `validated-${i + 1}`).sort());

    // run.json names the exact objects and their copies.
    expect(record.data?.training).toEqual({
      sourceUri: `s3://${h.datasets}/data/train.jsonl`,
      versionId: validatedVersions.training.versionId,
      etag: validatedVersions.training.etag,
      size: validatedVersions.training.size,
      copyUri: job.trainingDataUri,
    });
    expect(record.data?.test).toMatchObject({ versionId: validatedVersions.test.versionId, copyUri: `s3://${h.artifacts}/runs/${record.runId}/data/test.jsonl` });
    expect(record.data?.testReferences).toMatchObject({ sourceUri: `s3://${h.datasets}/data/test.references.jsonl`, copyUri: `s3://${h.artifacts}/runs/${record.runId}/data/test.references.jsonl` });
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});

describe('an unversioned (imported) dataset bucket', () => {
  let h: WorkflowHarness;
  const BUCKET = 'team-unversioned-datasets';
  beforeAll(async () => {
    h = await startHarness(async (aws, stack) => {
      aws.s3.createBucket(BUCKET); // no versioning
      return { ...TEST_PROPS, evaluation: { enabled: false }, storage: { datasetBucket: s3.Bucket.fromBucketName(stack, 'TeamDatasets', BUCKET), importedBucketsUseS3ManagedKeys: true } };
    });
    h.aws.s3.putObject(BUCKET, 'data/train.jsonl', arithmeticRecords(120));
  });
  afterAll(async () => h?.stop());

  test('uploading the same request again starts a second run; one upload delivered twice starts one', async () => {
    expect(h.datasets).toBe(BUCKET);
    const request = { name: 'again', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' };
    const first = await h.upload('requests/again.json', request);
    const duplicate = await h.runner.sendEvent(first.event);
    const second = await h.upload('requests/again.json', request); // the same bytes, so the same ETag
    expect(h.aws.s3.headObject(BUCKET, 'requests/again.json')!.versionId).toBeUndefined();

    const ends = await Promise.all([first, duplicate, second].map(async (d) => (await d.executions[0].result).transitions.at(-1)));
    expect(ends.slice(0, 2).sort()).toEqual(['DuplicateRequest', 'RunSucceeded']);
    expect(ends[2]).toBe('RunSucceeded');
    const runs = h.runRecords().filter((r) => r.run.requestName === 'again');
    expect(runs).toHaveLength(2);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(2);
    expect(h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith('again-'))).toHaveLength(2);
    // The data was read and pinned by ETag (If-Match), as the bucket has no versions.
    expect(runs.map((r) => r.data?.training?.versionId)).toEqual([undefined, undefined]);
    expect(runs.map((r) => r.data?.training?.etag)).toEqual([h.aws.s3.headObject(BUCKET, 'data/train.jsonl')!.etag, h.aws.s3.headObject(BUCKET, 'data/train.jsonl')!.etag]);
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});

describe('a deployment confined to a data prefix', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await startHarness({ ...TEST_PROPS, dataPrefix: 'teams/vision/', pollInterval: Duration.minutes(5) });
    h.aws.s3.putObject(h.datasets, 'teams/vision/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'teams/text/train.jsonl', arithmeticRecords(120));
  });
  afterAll(async () => h?.stop());

  test('a request naming another team\'s file is refused with the key, the prefix and the fix; nothing of it is read', async () => {
    h.aws.callLog.clear();
    const { executions } = await h.upload('requests/other-team.json', { name: 'other-team', model: 'llama3.2-1b', trainingData: 'teams/text/train.jsonl' });
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvalidRunRequest');
    expect(outcome.cause).toContain(`trainingData: s3://${h.datasets}/teams/text/train.jsonl is outside this deployment's data prefix 'teams/vision/'`);
    expect(outcome.cause).toContain('move the file under that prefix and name the new key [data-prefix]');
    expect(h.aws.callLog.entries({ service: 's3' } as never).filter((c) => c.resources.some((r) => r.includes('/teams/text/')))).toEqual([]);
    expect(h.aws.bedrock.jobs()).toEqual([]);
  });

  test('an image outside the prefix fails validation; data inside it trains', async () => {
    const record = (uri: string) =>
      JSON.stringify({
        schemaVersion: 'bedrock-conversation-2024',
        messages: [
          { role: 'user', content: [{ text: 'What is shown?' }, { image: { format: 'png', source: { s3Location: { uri, bucketOwner: '111122223333' } } } }] },
          { role: 'assistant', content: [{ text: 'A chart.' }] },
        ],
      });
    // The image exists and is valid: only its location is wrong for this deployment.
    h.aws.s3.putObject(h.datasets, 'teams/text/secret.png', pngImage(64, 48));
    h.aws.s3.putObject(h.datasets, 'teams/vision/images.jsonl', [arithmeticRecords(119), record(`s3://${h.datasets}/teams/text/secret.png`)].join('\n'));
    const refused = await (await h.upload('requests/image-outside.json', { name: 'image-outside', model: 'llama3.2-11b', trainingData: 'teams/vision/images.jsonl' })).executions[0].result;
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toBe('InvalidDataset');
    const report = h.aws.s3.getObject(h.artifacts, `runs/${h.runRecords().find((r) => r.run.requestName === 'image-outside')!.runId}/validation/report.json`)!.toString();
    expect(refused.cause).toContain('image-location');
    const messages = (JSON.parse(report) as { problems: { errors: { rule: string; message: string }[] } }).problems.errors.filter((p) => p.rule === 'image-location').map((p) => p.message);
    expect(messages).toEqual([expect.stringContaining(`"s3://${h.datasets}/teams/text/secret.png" lies outside the locations the customization role may read (s3://${h.datasets}/teams/vision/)`)]);

    const trained = await (await h.upload('requests/inside.json', { name: 'inside', model: 'llama3.2-1b', trainingData: 'teams/vision/train.jsonl' })).executions[0].result;
    expect(trained.status).toBe('SUCCEEDED');
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});
