import { readFileSync, statSync } from 'fs';
import * as path from 'path';
import { S3Client } from '@aws-sdk/client-s3';
import { runPrepare } from '../../cli/commands/prepare';
import { UploadFile, uploadFiles } from '../../cli/prepare/s3-uploader';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalS3 } from '../support/local-s3';
import { TempFolder, captureIo, tempFolder } from './prepare-fixtures';

const BUCKET = 'dataset-bucket';

let aws: LocalAws;
let s3: LocalS3;
let dir: TempFolder;

// startLocalAws points the real SDK at the stand-ins through AWS_ENDPOINT_URL_S3 and friends,
// so prepare creates its S3 client exactly as it would against AWS.
beforeAll(async () => {
  aws = await startLocalAws({ buckets: [BUCKET] });
  s3 = aws.s3;
});
afterAll(async () => aws.stop());

beforeEach(() => {
  dir = tempFolder();
  s3.clearFaults();
});
afterEach(() => dir.cleanup());

const puts = () => s3.callLog.entries({ operation: 'PutObject' });

function writeCsvDataset(images: number): string {
  const rows = Array.from({ length: images }, (_, i) => {
    dir.image(`imgs/p${i}.png`, 'png', 20 + i, 20);
    return `p${i}.png,Question ${i}?,Answer ${i}`;
  });
  return dir.write('imgs/data.csv', ['image,question,answer', ...rows, ',A text question?,A text answer'].join('\n'));
}

describe('prepare --upload', () => {
  test('uploads images first, then the JSONL files, and a second run sends no PutObject', async () => {
    const input = writeCsvDataset(12);
    const out = dir.path('out');
    const args = [input, '--bucket', BUCKET, '--account', '111122223333', '--prefix', 'datasets/run1/', '--out', out, '--upload', '--concurrency', '3'];
    const first = captureIo();
    expect(await runPrepare(args, first)).toBe(0);

    const keys = s3.listKeys(BUCKET, 'datasets/run1/');
    const imageKeys = Array.from({ length: 12 }, (_, i) => `datasets/run1/images/p${i}.png`);
    expect(keys).toEqual(expect.arrayContaining([...imageKeys, 'datasets/run1/train.jsonl', 'datasets/run1/validation.jsonl', 'datasets/run1/test.jsonl']));
    expect(keys).toHaveLength(15);
    expect(s3.getObject(BUCKET, 'datasets/run1/images/p3.png')).toEqual(readFileSync(dir.path('imgs/p3.png')));
    expect(s3.headObject(BUCKET, 'datasets/run1/images/p3.png')?.contentType).toBe('image/png');
    expect(s3.getObject(BUCKET, 'datasets/run1/train.jsonl')!.toString('utf-8')).toBe(readFileSync(path.join(out, 'train.jsonl'), 'utf-8'));

    // Records only ever point at images that are already there: every image went up before any JSONL.
    const order = puts().map((e) => e.resources[0]);
    const lastImage = Math.max(...order.map((arn, i) => (arn.includes('/images/') ? i : -1)));
    const firstJsonl = order.findIndex((arn) => arn.endsWith('.jsonl'));
    expect(lastImage).toBeLessThan(firstJsonl);
    expect(first.out()).toMatch(/Uploaded 15 object\(s\) .* to s3:\/\/dataset-bucket\/datasets\/run1\/; 0 already there/);

    const putsBefore = puts().length;
    const second = captureIo();
    expect(await runPrepare(args, second)).toBe(0);
    expect(puts().length).toBe(putsBefore);
    expect(second.out()).toMatch(/Uploaded 0 object\(s\) .*; 15 already there with the same size/);
  });

  test('re-uploads an object whose size differs', async () => {
    const input = writeCsvDataset(3);
    const out = dir.path('out');
    const args = [input, '--bucket', BUCKET, '--account', '111122223333', '--prefix', 'sizes/', '--out', out, '--upload', '--split', '1,0'];
    expect(await runPrepare(args, captureIo())).toBe(0);
    s3.putObject(BUCKET, 'sizes/images/p1.png', 'truncated');
    const before = puts().length;
    expect(await runPrepare(args, captureIo())).toBe(0);
    expect(puts().slice(before).map((e) => e.resources[0])).toEqual([`arn:aws:s3:::${BUCKET}/sizes/images/p1.png`]);
    expect(s3.headObject(BUCKET, 'sizes/images/p1.png')?.size).toBe(statSync(dir.path('imgs/p1.png')).size);
  });

  test('shows a progress line on a terminal', async () => {
    const input = writeCsvDataset(2);
    const io = captureIo(true);
    expect(await runPrepare([input, '--bucket', BUCKET, '--account', '111122223333', '--prefix', 'tty/', '--out', dir.path('out'), '--upload', '--split', '1,0'], io)).toBe(0);
    expect(io.err()).toMatch(/\ruploading to s3:\/\/dataset-bucket: 1\/3/);
    expect(io.err()).toMatch(/\ruploading to s3:\/\/dataset-bucket: 3\/3 \(0 already there\)\s*\n/);
  });

  test('an upload failure exits 3 (could not check) and names the object and the fix', async () => {
    const input = writeCsvDataset(1);
    const io = captureIo();
    expect(await runPrepare([input, '--bucket', 'no-such-bucket', '--account', '111122223333', '--out', dir.path('out'), '--upload', '--split', '1,0'], io)).toBe(3);
    expect(io.err()).toMatch(/uploading .*p0\.png to s3:\/\/no-such-bucket\/images\/p0\.png failed \(NoSuchBucket/);
    expect(io.err()).toMatch(/run again \(objects already uploaded are skipped\)/);
  });
});

describe('uploadFiles', () => {
  test('keeps going through more SlowDown answers than the SDK retries by itself', async () => {
    const file = dir.image('x.png', 'png');
    const client = new S3Client({ maxAttempts: 1 });
    const item: UploadFile = { localPath: file, key: 'throttled/x.png', size: statSync(file).size, contentType: 'image/png' };
    s3.failNext(3, { operation: 'PutObject' });
    const sleeps: number[] = [];
    const report = await uploadFiles(client, BUCKET, [[item]], {
      concurrency: 1,
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1, sleep: async (ms) => void sleeps.push(ms), random: () => 0.5 },
    });
    expect(report).toEqual({ uploaded: 1, skipped: 0, bytesUploaded: item.size });
    expect(sleeps).toHaveLength(3);
    expect(s3.callLog.entries({ operation: 'PutObject' }).filter((e) => e.resources[0].endsWith('throttled/x.png')).map((e) => e.status)).toEqual([503, 503, 503, 200]);
    client.destroy();
  });
});
