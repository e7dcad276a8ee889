/**
 * The examples' images: what is embedded (MIME type from the bytes, size attributes scaled
 * into the box), what gets a placeholder (too large, not an image, past the count limit,
 * unreadable), and the reads against the S3 stand-in with the real SDK (one ranged GET each,
 * never more than the byte limit asked for).
 */
import { S3Client } from '@aws-sdk/client-s3';
import {
  DEFAULT_REPORT_IMAGE_LIMITS,
  REPORT_IMAGE_BOX,
  ReportImageLimits,
  ReportRecord,
  buildEvaluationReport,
  checkReportImageLimits,
  displaySize,
  imagesToRead,
  reportImageOf,
} from '../../lambda/shared/report';
import { readReportImages } from '../../lambda/shared/report/read-report-images';
import { gifImage, imageBytes, jpegImage, pngImage } from '../support/images';
import { LocalS3 } from '../support/local-s3';
import { sampleInput } from './report-fixtures';

const LIMITS: ReportImageLimits = { maxImages: 3, maxBytesPerImage: 4096 };

function recordWith(recordId: string, imageUris: string[]): ReportRecord {
  return { ...buildEvaluationReport(sampleInput()).records[1], recordId, imageUris };
}

describe('reportImageOf', () => {
  it.each([
    ['png', 'image/png'],
    ['jpeg', 'image/jpeg'],
    ['gif', 'image/gif'],
    ['webp', 'image/webp'],
  ] as const)('embeds a small %s as a data: URI of type %s with its pixel size', (format, mime) => {
    const bytes = imageBytes(format, 640, 480);
    const image = reportImageOf('s3://b/k', bytes, bytes.length, DEFAULT_REPORT_IMAGE_LIMITS);
    expect(image).toEqual({ kind: 'embedded', uri: 's3://b/k', mimeType: mime, dataUri: `data:${mime};base64,${bytes.toString('base64')}`, width: 640, height: 480, bytes: bytes.length });
  });

  it('takes the MIME type from the bytes, not from the name or the record', () => {
    const jpeg = jpegImage(20, 20);
    const image = reportImageOf('s3://b/looks-like.png', jpeg, jpeg.length, DEFAULT_REPORT_IMAGE_LIMITS);
    expect(image.kind === 'embedded' && image.mimeType).toBe('image/jpeg');
  });

  it('puts a placeholder with the sizes for an image over the byte limit', () => {
    const big = pngImage(100, 100, { paddingBytes: 10_000 });
    expect(reportImageOf('s3://b/big.png', big.subarray(0, LIMITS.maxBytesPerImage), big.length, LIMITS)).toEqual({
      kind: 'placeholder',
      uri: 's3://b/big.png',
      reason: `${Math.round(big.length / 1024)} KiB is over the 4 KiB an embedded image may have`,
    });
  });

  it('puts a placeholder for bytes that are no image', () => {
    const text = Buffer.from('<svg onload=alert(1)>');
    expect(reportImageOf('s3://b/x.png', text, text.length, LIMITS)).toEqual({ kind: 'placeholder', uri: 's3://b/x.png', reason: 'the file is not a PNG, JPEG, GIF or WebP image' });
  });
});

describe('limits and display size', () => {
  it('reads the distinct images of the first maxImages slots only', () => {
    const records = [recordWith('a', ['s3://b/1.png', 's3://b/2.png']), recordWith('b', ['s3://b/1.png']), recordWith('c', ['s3://b/3.png', 's3://b/4.png'])];
    // Slots in order: 1, 2, 1, 3 | 4 is the fifth slot, past maxImages 4.
    expect(imagesToRead(records, { ...LIMITS, maxImages: 4 })).toEqual(['s3://b/1.png', 's3://b/2.png', 's3://b/3.png']);
    expect(imagesToRead(records, { ...LIMITS, maxImages: 0 })).toEqual([]);
  });

  it('scales an image down into the box, keeping its aspect, and never up', () => {
    expect(displaySize(3200, 1200)).toEqual({ width: REPORT_IMAGE_BOX.width, height: 120 });
    expect(displaySize(480, 960)).toEqual({ width: 120, height: REPORT_IMAGE_BOX.height });
    expect(displaySize(64, 48)).toEqual({ width: 64, height: 48 });
    expect(displaySize(0, 10)).toBeUndefined();
  });

  it('rejects limits that bound nothing', () => {
    expect(() => checkReportImageLimits({ maxImages: -1, maxBytesPerImage: 1 })).toThrow(/maxImages must be a whole number >= 0, got -1/);
    expect(() => checkReportImageLimits({ maxImages: 1, maxBytesPerImage: 0.5 })).toThrow(/maxBytesPerImage must be a whole number >= 1, got 0.5/);
    expect(() => checkReportImageLimits(DEFAULT_REPORT_IMAGE_LIMITS)).not.toThrow();
  });
});

describe('readReportImages against the S3 stand-in (real SDK)', () => {
  let s3: LocalS3;
  let client: S3Client;
  const ranges: string[] = [];
  const small = gifImage(40, 30);
  const big = pngImage(50, 50, { paddingBytes: 20_000 });

  beforeAll(async () => {
    s3 = await LocalS3.start();
    s3.createBucket('images');
    s3.putObject('images', 'small.gif', small);
    s3.putObject('images', 'big.png', big);
    s3.putObject('images', 'empty.png', Buffer.alloc(0));
    client = new S3Client({ endpoint: s3.endpoint, region: 'us-west-2', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    client.middlewareStack.add(
      (next) => async (args) => {
        ranges.push((args.request as { headers: Record<string, string> }).headers.range ?? '(none)');
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'recordRange' },
    );
  });
  afterAll(async () => {
    client.destroy();
    await s3.stop();
  });

  it('embeds what fits, puts placeholders on the rest with the reason, and reads each image once within the byte limit', async () => {
    const uris = ['small.gif', 'big.png', 'missing.png', 'empty.png'].map((k) => `s3://images/${k}`);
    const unreadable: string[] = [];
    const records = [recordWith('a', [uris[0], uris[1]]), recordWith('b', [uris[0], uris[2], uris[3]])];
    const images = await readReportImages(client, records, { maxImages: 10, maxBytesPerImage: 4096 }, (uri) => unreadable.push(uri));

    expect(images.get(uris[0])).toEqual(expect.objectContaining({ kind: 'embedded', mimeType: 'image/gif', dataUri: `data:image/gif;base64,${small.toString('base64')}`, width: 40, height: 30 }));
    expect(images.get(uris[1])).toEqual({ kind: 'placeholder', uri: uris[1], reason: `${Math.round(big.length / 1024)} KiB is over the 4 KiB an embedded image may have` });
    expect(images.get(uris[2])).toEqual({ kind: 'placeholder', uri: uris[2], reason: `${uris[2]} does not exist` });
    expect(images.get(uris[3])).toEqual({ kind: 'placeholder', uri: uris[3], reason: 'the file is empty' });
    expect(unreadable).toEqual([uris[2]]);
    // One ranged GET per distinct image (small.gif twice in the examples, read once).
    expect(ranges).toEqual(['bytes=0-4095', 'bytes=0-4095', 'bytes=0-4095', 'bytes=0-4095']);
  });
});
