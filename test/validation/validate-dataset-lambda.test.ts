/**
 * The validate-dataset Lambda handler against LocalS3 over loopback with the real SDK:
 * report objects written, the user's data untouched, images read with ranged GETs, invalid
 * data reported (not thrown), environment settings honoured.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { createValidateDatasetHandler, MAX_SUMMARY_CHARS, ValidateDatasetEvent } from '../../lambda/validate-dataset';
import { createLogger } from '../../lambda/shared/logger';
import { RunContext } from '../../lambda/shared/run-context';
import { createS3ClientForImageReads, S3ImageByteSource, ValidationReport } from '../../lambda/shared/validation';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { fastRetries } from '../support/stand-ins/fast-retries';
import { imageBytes } from '../support/images';
import { ACCOUNT_ID, DATA_BUCKET, imageRecord, textRecords, toJsonl } from './fixtures';

const ARTIFACTS = 'run-artifacts-bucket';
const silent = createLogger({}, () => undefined);

function runContext(data: Partial<RunContext['data']> = {}, extra: Partial<RunContext> = {}): RunContext {
  return {
    runId: 'chartqa-11b-0123456789ab',
    requestName: 'chartqa-11b',
    request: { bucket: DATA_BUCKET, key: 'requests/chartqa.json', versionId: 'v1' },
    model: { name: 'llama3.2-11b', baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0:128k', inferenceProfileId: 'us.meta.llama3-2-11b-instruct-v1:0', supportsImages: true, maxTokensPerRecord: 16000 },
    data: { bucket: DATA_BUCKET, trainingKey: 'datasets/train.jsonl', validationKey: 'datasets/val.jsonl', testKey: 'datasets/test.jsonl', ...data },
    hyperParameters: { epochCount: 5, batchSize: 1, learningRate: 0.0001 },
    hyperParametersOverridden: [],
    evaluation: { enabled: true, maxTokens: 256 },
    artifacts: { bucket: ARTIFACTS, prefix: 'runs/chartqa-11b-0123456789ab/' },
    executionArn: 'arn:aws:states:us-west-2:111122223333:execution:Workflow:chartqa-11b',
    ...extra,
  };
}

/** Every request the handler's client sends, with its Range header. */
interface SentRequest {
  readonly method: string;
  readonly path: string;
  readonly range?: string;
}

let aws: LocalAws;
let sent: SentRequest[];
let clients: S3Client[];
const savedEnv = { ...process.env };

function handlerWithClient(sdkAttempts = 3, onFirstImageRequest?: () => void) {
  let imageRequestSeen = false;
  return createValidateDatasetHandler({
    log: silent,
    s3: (concurrency) => {
      const client = createS3ClientForImageReads(concurrency, { retryStrategy: fastRetries(sdkAttempts) });
      client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { method?: string; path?: string; headers?: Record<string, string> };
          const headers = request.headers ?? {};
          const range = Object.entries(headers).find(([name]) => name.toLowerCase() === 'range')?.[1];
          sent.push({ method: request.method ?? '', path: decodeURIComponent(request.path ?? ''), range });
          if (!imageRequestSeen && (request.path ?? '').includes('/images/')) {
            imageRequestSeen = true;
            onFirstImageRequest?.();
          }
          return next(args);
        },
        { step: 'finalizeRequest', name: 'recordRequests' },
      );
      clients.push(client);
      return client;
    },
  });
}

/** Images of every format, one per record, plus a large image to show only its header is read. */
function putDataset(trainingRecords: number, options: { extraTraining?: (object | string)[] } = {}) {
  const formats = ['png', 'jpeg', 'gif', 'webp'] as const;
  const record = (i: number, prefix: string) => {
    const format = formats[i % formats.length];
    const key = `images/${prefix}-${i}.${format}`;
    aws.s3.putObject(DATA_BUCKET, key, imageBytes(format, 200 + i, 100 + i));
    return imageRecord(i, { uri: `s3://${DATA_BUCKET}/${key}`, format });
  };
  aws.s3.putObject(DATA_BUCKET, 'images/large.png', imageBytes('png', 1200, 900, { paddingBytes: 2 * 1024 * 1024 }));
  const training: (object | string)[] = [...Array.from({ length: trainingRecords - 1 }, (_, i) => record(i, 'train')), imageRecord(9999, { uri: `s3://${DATA_BUCKET}/images/large.png` })];
  training.push(...(options.extraTraining ?? []));
  aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(training));
  aws.s3.putObject(DATA_BUCKET, 'datasets/val.jsonl', toJsonl(Array.from({ length: 20 }, (_, i) => record(1000 + i, 'val'))));
  aws.s3.putObject(DATA_BUCKET, 'datasets/test.jsonl', toJsonl(Array.from({ length: 10 }, (_, i) => record(2000 + i, 'test'))));
}

/** Keys, versions and ETags of everything in the dataset bucket. */
function snapshotDataBucket(): string {
  return JSON.stringify(aws.s3.listKeys(DATA_BUCKET).map((key) => [key, aws.s3.headObject(DATA_BUCKET, key)?.etag, aws.s3.versionsOf(DATA_BUCKET, key)]));
}

function readReport(): ValidationReport {
  return JSON.parse(aws.s3.getObject(ARTIFACTS, 'runs/chartqa-11b-0123456789ab/validation/report.json')!.toString('utf8'));
}

beforeEach(async () => {
  aws = await startLocalAws({ buckets: [{ name: DATA_BUCKET, versioned: true }, { name: ARTIFACTS, versioned: true }] });
  sent = [];
  clients = [];
  delete process.env.EXPECTED_ACCOUNT_ID;
  delete process.env.IMAGE_CONCURRENCY;
  delete process.env.MAX_LISTED_PROBLEMS;
  delete process.env.ALLOWED_IMAGE_LOCATIONS;
});

afterEach(async () => {
  clients.forEach((c) => c.destroy());
  await aws.stop();
  process.env = { ...savedEnv };
});

describe('validate-dataset handler', () => {
  it('validates good data, writes report.json and summary.txt, and returns the verdict', async () => {
    putDataset(120);
    const result = await handlerWithClient()({ run: runContext() });

    expect(result).toMatchObject({ valid: true, errorCount: 0 });
    expect(result.reportUri).toBe(`s3://${ARTIFACTS}/runs/chartqa-11b-0123456789ab/validation/report.json`);
    expect(result.summaryUri).toBe(`s3://${ARTIFACTS}/runs/chartqa-11b-0123456789ab/validation/summary.txt`);
    const report = readReport();
    expect(report.valid).toBe(true);
    expect(report.totals.warnings).toBe(result.warningCount);
    expect(report.files.map((f) => [f.role, f.name, f.records])).toEqual([
      ['training', `s3://${DATA_BUCKET}/datasets/train.jsonl`, 120],
      ['validation', `s3://${DATA_BUCKET}/datasets/val.jsonl`, 20],
      ['test', `s3://${DATA_BUCKET}/datasets/test.jsonl`, 10],
    ]);
    expect(report.totals.uniqueImagesChecked).toBe(150);
    expect(aws.s3.getObject(ARTIFACTS, 'runs/chartqa-11b-0123456789ab/validation/summary.txt')!.toString('utf8')).toBe(result.summary);
    expect(result.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(result.summary).toContain('VALID');
    expect(result.recommendedHyperParameters).toEqual(report.hyperParameters.values);
    // Valid data is pinned: the run's copies, byte for byte what was validated.
    expect(aws.s3.listKeys(ARTIFACTS)).toEqual([
      'runs/chartqa-11b-0123456789ab/data/test.jsonl',
      'runs/chartqa-11b-0123456789ab/data/training.jsonl',
      'runs/chartqa-11b-0123456789ab/data/validation.jsonl',
      'runs/chartqa-11b-0123456789ab/validation/report.json',
      'runs/chartqa-11b-0123456789ab/validation/summary.txt',
    ]);
    for (const [copy, source] of [['training', 'train'], ['validation', 'val'], ['test', 'test']]) {
      expect(aws.s3.getObject(ARTIFACTS, `runs/chartqa-11b-0123456789ab/data/${copy}.jsonl`)!.equals(aws.s3.getObject(DATA_BUCKET, `datasets/${source}.jsonl`)!)).toBe(true);
    }
  });

  it('reads the end of images with suffix ranges as S3 answers them: a short object whole, an empty one as no bytes', async () => {
    const client = createS3ClientForImageReads(4, { retryStrategy: fastRetries(1) });
    clients.push(client);
    const source = new S3ImageByteSource(client);
    aws.s3.putObject(DATA_BUCKET, 'images/short.gif', imageBytes('gif', 20, 20));
    aws.s3.putObject(DATA_BUCKET, 'images/empty.png', Buffer.alloc(0));
    aws.s3.putObject(DATA_BUCKET, 'images/long.png', imageBytes('png', 100, 100, { paddingBytes: 5000 }));
    const short = await source.readSuffix(`s3://${DATA_BUCKET}/images/short.gif`, 1024);
    expect(Buffer.from(short.bytes)).toEqual(imageBytes('gif', 20, 20));
    const empty = await source.readSuffix(`s3://${DATA_BUCKET}/images/empty.png`, 1024);
    expect([empty.bytes.byteLength, empty.totalSize]).toEqual([0, 0]);
    const long = imageBytes('png', 100, 100, { paddingBytes: 5000 });
    expect(await source.readSuffix(`s3://${DATA_BUCKET}/images/long.png`, 1024)).toEqual({ bytes: expect.anything(), totalSize: long.length });
    expect(Buffer.from((await source.readSuffix(`s3://${DATA_BUCKET}/images/long.png`, 1024)).bytes)).toEqual(long.subarray(long.length - 1024));
  });

  it('never modifies the data bucket: only reads it', async () => {
    putDataset(120, { extraTraining: ['{broken'] });
    const before = snapshotDataBucket();
    await handlerWithClient()({ run: runContext() });
    expect(snapshotDataBucket()).toBe(before);
    const onDataBucket = aws.callLog.entries().filter((e) => e.resources.some((r) => r.includes(`:::${DATA_BUCKET}`)));
    expect(onDataBucket.length).toBeGreaterThan(150);
    // Reads only (by version where the bucket is versioned).
    expect([...new Set(onDataBucket.map((e) => e.action))].filter((a) => a !== 's3:GetObject' && a !== 's3:GetObjectVersion')).toEqual([]);
    const writes = aws.callLog.entries({ action: 's3:PutObject' });
    expect(writes.flatMap((e) => e.resources).every((r) => r.startsWith(`arn:aws:s3:::${ARTIFACTS}/runs/chartqa-11b-0123456789ab/validation/`))).toBe(true);
  });

  it('reads images with ranged GETs, never whole, and each image once: its header and, when it is longer, its last 1 KiB', async () => {
    putDataset(120);
    const result = await handlerWithClient()({ run: runContext() });
    expect(result.valid).toBe(true);
    const imageGets = sent.filter((r) => r.method === 'GET' && r.path.includes('/images/'));
    const headerGets = imageGets.filter((r) => /^bytes=0-\d+$/.test(r.range ?? ''));
    expect(headerGets).toHaveLength(150);
    expect(new Set(headerGets.map((r) => r.path)).size).toBe(150);
    // End reads: a suffix range sent with the header read (while images longer than the first read
    // were not yet outnumbered), or a range by offset once the size is known; at most one per image.
    const endGets = imageGets.filter((r) => !headerGets.includes(r));
    expect(new Set(endGets.map((r) => r.path)).size).toBe(endGets.length);
    // Every image longer than the first read (16 KiB) has its end read; the others only when read before any length was known.
    const longer = headerGets.map((r) => r.path).filter((p) => aws.s3.headObject(DATA_BUCKET, p.replace(`/${DATA_BUCKET}/`, ''))!.size > 16 * 1024);
    expect(longer).toContain(`/${DATA_BUCKET}/images/large.png`);
    expect(endGets.map((r) => r.path)).toEqual(expect.arrayContaining(longer));
    expect(endGets.length).toBeLessThanOrEqual(longer.length + 32);
    for (const get of endGets) {
      const size = aws.s3.headObject(DATA_BUCKET, get.path.replace(`/${DATA_BUCKET}/`, ''))!.size;
      const byOffset = /^bytes=(\d+)-(\d+)$/.exec(get.range ?? '');
      if (byOffset) expect([Number(byOffset[2]), Number(byOffset[2]) - Number(byOffset[1]) + 1]).toEqual([size - 1, 1024]);
      else expect(get.range).toBe('bytes=-1024');
    }
    const datasetGets = sent.filter((r) => r.method === 'GET' && r.path.includes('/datasets/'));
    expect(datasetGets.every((r) => r.range === undefined)).toBe(true);
    const report = readReport();
    const largeImage = aws.s3.headObject(DATA_BUCKET, 'images/large.png')!.size;
    expect(report.checks.imageReads.bytesRead).toBeLessThan(largeImage / 10);
  });

  it('reports invalid data without throwing, with s3:// file names and line numbers', async () => {
    aws.s3.putObject(DATA_BUCKET, 'images/photo.png', imageBytes('jpeg', 100, 100));
    const training = [...textRecords(118), imageRecord(1, { uri: `s3://${DATA_BUCKET}/images/photo.png` }), imageRecord(2, { uri: `s3://${DATA_BUCKET}/images/gone.png` })];
    aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(training));
    const result = await handlerWithClient()({ run: runContext({ validationKey: undefined, testKey: undefined }) });
    expect(result.valid).toBe(false);
    expect(result.errorCount).toBe(2);
    const report = readReport();
    expect(report.problems.errors.map((p) => [p.file, p.line, p.rule])).toEqual([
      [`s3://${DATA_BUCKET}/datasets/train.jsonl`, 119, 'image-format-mismatch'],
      [`s3://${DATA_BUCKET}/datasets/train.jsonl`, 120, 'image-not-found'],
    ]);
    expect(result.summary).toContain('image-format-mismatch');
  });

  it('reports a missing data file as invalid data', async () => {
    aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(textRecords(100)));
    const result = await handlerWithClient()({ run: runContext({ testKey: undefined }) });
    expect(result.valid).toBe(false);
    expect(readReport().problems.errors.map((p) => p.rule)).toEqual(['file-not-found']);
  });

  it('does not count the test file toward the 100-record minimum', async () => {
    aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(textRecords(90)));
    aws.s3.putObject(DATA_BUCKET, 'datasets/test.jsonl', toJsonl(textRecords(30, 500)));
    const result = await handlerWithClient()({ run: runContext({ validationKey: undefined }) });
    expect(result.valid).toBe(false);
    expect(readReport().problems.errors.map((p) => p.rule)).toEqual(['record-count-too-low']);
  });

  it('honours EXPECTED_ACCOUNT_ID, IMAGE_CONCURRENCY, MAX_LISTED_PROBLEMS and ALLOWED_IMAGE_LOCATIONS', async () => {
    process.env.EXPECTED_ACCOUNT_ID = ACCOUNT_ID;
    process.env.IMAGE_CONCURRENCY = '3';
    process.env.MAX_LISTED_PROBLEMS = '2';
    process.env.ALLOWED_IMAGE_LOCATIONS = `s3://${DATA_BUCKET}/images/`;
    aws.s3.putObject(DATA_BUCKET, 'images/a.png', imageBytes('png', 50, 50));
    aws.s3.putObject(DATA_BUCKET, 'private/b.png', imageBytes('png', 50, 50));
    const training = [
      ...textRecords(100),
      ...[1, 2, 3].map((i) => imageRecord(i, { uri: `s3://${DATA_BUCKET}/images/a.png`, bucketOwner: '444455556666' })),
      imageRecord(4, { uri: `s3://${DATA_BUCKET}/private/b.png` }),
    ];
    aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(training));
    const result = await handlerWithClient()({ run: runContext({ validationKey: undefined, testKey: undefined }) });
    const report = readReport();
    expect(result.errorCount).toBe(4);
    expect(report.problems.errors).toHaveLength(2);
    expect(report.problems.byRule.filter((r) => r.severity === 'error').map((r) => [r.rule, r.count])).toEqual([
      ['image-bucket-owner-mismatch', 3],
      ['image-location', 1],
    ]);
    expect(report.checks).toMatchObject({ imageConcurrency: 3, expectedAccountId: ACCOUNT_ID, allowedImageLocations: [`s3://${DATA_BUCKET}/images/`] });
    expect(sent.some((r) => r.path.includes('/private/'))).toBe(false); // an image outside the allowed locations is not read
  });

  it('keeps the hyperparameters the run request set', async () => {
    putDataset(120);
    const run = runContext({}, { hyperParameters: { epochCount: 9, batchSize: 1, learningRate: 0.0001 }, hyperParametersOverridden: ['epochCount'] });
    const result = await handlerWithClient()({ run });
    expect(result.recommendedHyperParameters.epochCount).toBe(9);
    expect(readReport().hyperParameters.recommended.epochCount).not.toBe(9);
  });

  it('rides out S3 throttling (SlowDown) of image reads with its own retries', async () => {
    putDataset(120);
    // The SDK does not retry here (1 attempt), so every SlowDown reaches the engine's backoff.
    const throttleImageReads = () => aws.s3.failNext(6, { status: 503, code: 'SlowDown', operation: 'GetObject' });
    const result = await handlerWithClient(1, throttleImageReads)({ run: runContext() });
    expect(result.valid).toBe(true);
    // Failed image reads only (the handler also looks for a run record, which this test has none of).
    expect(aws.callLog.entries({ operation: 'GetObject', succeeded: false }).filter((e) => !e.resources[0].endsWith('/run.json'))).toHaveLength(6);
    expect(readReport().checks.imageReads.retries).toBe(6);
  });

  it('fails (throws) when the data cannot be read at all', async () => {
    putDataset(120);
    aws.s3.failNext(50, { status: 503, code: 'SlowDown', operation: 'GetObject' });
    await expect(handlerWithClient(1)({ run: runContext() })).rejects.toThrow();
    expect(aws.s3.listKeys(ARTIFACTS)).toEqual([]);
  });

  it('reads the accepted versions only: a file replaced since the request was accepted fails with DataChanged, by ETag (unversioned) or version id, and nothing is pinned', async () => {
    putDataset(120);
    const accepted = (key: string) => ({ key, etag: aws.s3.headObject(DATA_BUCKET, key)!.etag, size: aws.s3.headObject(DATA_BUCKET, key)!.size });
    const byEtag = { training: accepted('datasets/train.jsonl'), validation: accepted('datasets/val.jsonl'), test: accepted('datasets/test.jsonl') };
    const byVersion = { ...byEtag, training: { ...byEtag.training, versionId: aws.s3.headObject(DATA_BUCKET, 'datasets/train.jsonl')!.versionId } };
    aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', '{"replaced": true}\n');

    // Pinned by ETag (as in an unversioned bucket): the replacement is detected, not read.
    const changed = handlerWithClient()({ run: runContext({ versions: byEtag }) });
    await expect(changed).rejects.toMatchObject({ name: 'DataChanged' });
    await expect(changed).rejects.toThrow(`s3://${DATA_BUCKET}/datasets/train.jsonl changed after the run request was accepted (its ETag is no longer ${byEtag.training.etag})`);
    await expect(changed).rejects.toThrow('Upload the data first, wait for the upload to finish, then upload the run request again.');
    expect(aws.s3.listKeys(ARTIFACTS)).toEqual([]);

    // Pinned by version id: the accepted version is read and copied, whatever the key holds now.
    const result = await handlerWithClient()({ run: runContext({ versions: byVersion }) });
    expect(result.valid).toBe(true);
    expect(aws.s3.getObject(ARTIFACTS, 'runs/chartqa-11b-0123456789ab/data/training.jsonl')!.equals(aws.s3.getObject(DATA_BUCKET, 'datasets/train.jsonl', byVersion.training.versionId)!)).toBe(true);
  });

  it('throws for a malformed event (an infrastructure error, not a data verdict)', async () => {
    await expect(handlerWithClient()({} as ValidateDatasetEvent)).rejects.toThrow(/run context/);
    await expect(handlerWithClient()({ run: runContext({}, { model: { ...runContext().model, name: 'gpt-4', baseModelIdentifier: 'x' } }) })).rejects.toThrow(/gpt-4/);
  });
});
