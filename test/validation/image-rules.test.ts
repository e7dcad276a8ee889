/**
 * The rules that read image bytes (through the local image source, the same code path as S3),
 * the token limit, and valid edge cases that must pass.
 */
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { estimateImageTokens } from '../../lambda/shared/models/llama-models';
import { ImageByteSource, ImageReadError, LocalImageByteSource, MAX_IMAGE_TOKENS } from '../../lambda/shared/validation';
import { imageBytes, pngImage } from '../support/images';
import { DATA_BUCKET, imageBlock, imageRecord, tempDir, textRecord, textRecords, writeImage } from './fixtures';
import { problemsOf, rulesOf, validateLines, withBadLineAt } from './engine-harness';

let root: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir: root, cleanup } = tempDir());
  mkdirSync(path.join(root, DATA_BUCKET, 'images'), { recursive: true });
});
afterAll(() => cleanup());

const uriOf = (name: string) => `s3://${DATA_BUCKET}/images/${name}`;
const localImages = () => new LocalImageByteSource(root);

describe('image rules', () => {
  it('image-not-found: an image that does not exist', async () => {
    const report = await validateLines(withBadLineAt(12, imageRecord(1, { uri: uriOf('missing.png') })), { imageSource: localImages() });
    expect(problemsOf(report, 'image-not-found')).toEqual([expect.objectContaining({ line: 12, file: 'train.jsonl' })]);
    expect(report.valid).toBe(false);
  });

  it('image-access-denied: an image the reader may not read', async () => {
    const uri = writeImage(root, uriOf('secret.png'), 'png', 100, 100);
    const denying: ImageByteSource = {
      description: 'denying',
      readRange: async (u) => {
        throw new ImageReadError('access-denied', `reading ${u} was denied (AccessDenied)`);
      },
    };
    const report = await validateLines(withBadLineAt(5, imageRecord(1, { uri })), { imageSource: denying });
    expect(problemsOf(report, 'image-access-denied')).toEqual([expect.objectContaining({ line: 5 })]);
  });

  it('image-unreadable: bytes that are no image, and a truncated header', async () => {
    const textFile = uriOf('notes.png');
    writeFileSync(path.join(root, DATA_BUCKET, 'images', 'notes.png'), 'these are not image bytes at all');
    const truncated = uriOf('truncated.png');
    writeFileSync(path.join(root, DATA_BUCKET, 'images', 'truncated.png'), pngImage(100, 100).subarray(0, 20));
    const lines = withBadLineAt(7, imageRecord(1, { uri: textFile }));
    lines.splice(19, 0, imageRecord(2, { uri: truncated }));
    const report = await validateLines(lines, { imageSource: localImages() });
    expect(problemsOf(report, 'image-unreadable').map((p) => p.line)).toEqual([7, 20]);
  });

  describe('image-truncated: a file cut short after a perfect header', () => {
    const cut = (bytes: Buffer, keep: number) => bytes.subarray(0, keep);
    const big = { paddingBytes: 60_000 }; // longer than the 16 KiB header read: the end needs its own read
    it.each([
      ['a PNG cut after its header (file shorter than the header read)', 'png', () => cut(pngImage(100, 100), 60)],
      ['a PNG cut in the middle (longer than the header read)', 'png', () => cut(pngImage(100, 100, big), 40_000)],
      ['a JPEG without its end-of-image marker', 'jpeg', () => cut(imageBytes('jpeg', 300, 200), imageBytes('jpeg', 300, 200).length - 2)],
      ['a large JPEG cut in its metadata-free tail', 'jpeg', () => cut(imageBytes('jpeg', 3000, 2000, { metadataBytes: 30_000 }), 30_900)],
      ['a GIF without its 0x3B trailer', 'gif', () => cut(imageBytes('gif', 64, 64), imageBytes('gif', 64, 64).length - 1)],
      ['a WebP shorter than its RIFF size', 'webp', () => cut(imageBytes('webp', 64, 64, { webpVariant: 'VP8X' }), imageBytes('webp', 64, 64, { webpVariant: 'VP8X' }).length - 4)],
    ])('%s', async (_what, format, bytes) => {
      const name = `cut-${_what.replace(/\W+/g, '-')}.${format}`;
      writeFileSync(path.join(root, DATA_BUCKET, 'images', name), bytes());
      const report = await validateLines(withBadLineAt(6, imageRecord(1, { uri: uriOf(name), format })), { imageSource: localImages() });
      const [problem] = problemsOf(report, 'image-truncated');
      expect(problem).toMatchObject({ line: 6, file: 'train.jsonl', severity: 'error' });
      expect(problem.message).toContain(uriOf(name));
      expect(problem.message).toContain('cut short');
      expect(problem.message).toContain('Upload the complete file again');
      expect(report.valid).toBe(false);
    });

    it('passes complete files, reading the end of a long one with one small suffix read', async () => {
      const uri = writeImage(root, uriOf('complete-long.png'), 'png', 100, 100, big);
      const report = await validateLines(withBadLineAt(2, imageRecord(1, { uri }), 100), { imageSource: localImages() });
      expect(problemsOf(report, 'image-truncated')).toEqual([]);
      expect(report.valid).toBe(true);
      expect(report.checks.imageReads.rangeRequests).toBe(2);
      expect(report.checks.imageReads.bytesRead).toBeLessThanOrEqual(16 * 1024 + 1024);
    });

    it('tolerates a little padding after a JPEG end-of-image marker', async () => {
      const name = 'padded.jpeg';
      writeFileSync(path.join(root, DATA_BUCKET, 'images', name), Buffer.concat([imageBytes('jpeg', 300, 200), Buffer.alloc(100)]));
      const report = await validateLines(withBadLineAt(2, imageRecord(1, { uri: uriOf(name), format: 'jpeg' }), 100), { imageSource: localImages() });
      expect(problemsOf(report, 'image-truncated')).toEqual([]);
    });
  });

  it('image-format-mismatch: JPEG bytes declared as png', async () => {
    const uri = writeImage(root, uriOf('photo.png'), 'jpeg', 300, 200);
    const report = await validateLines(withBadLineAt(9, imageRecord(1, { uri, format: 'png' })), { imageSource: localImages() });
    const [problem] = problemsOf(report, 'image-format-mismatch');
    expect(problem).toMatchObject({ line: 9 });
    expect(problem.message).toContain('"format": "jpeg"');
  });

  it('image-too-large: a file over 10 MB', async () => {
    const uri = writeImage(root, uriOf('huge.png'), 'png', 100, 100, { paddingBytes: 10 * 1024 * 1024 });
    const report = await validateLines(withBadLineAt(3, imageRecord(1, { uri })), { imageSource: localImages() });
    expect(problemsOf(report, 'image-too-large')).toEqual([expect.objectContaining({ line: 3 })]);
    expect(report.checks.imageReads.bytesRead).toBeLessThan(1024 * 1024); // only the header was read
  });

  it.each([
    ['too wide', 9000, 100],
    ['too tall', 100, 8193],
    ['too narrow', 9, 100],
    ['too short', 100, 5],
  ])('image-dimensions: an image %s', async (_what, width, height) => {
    const uri = writeImage(root, uriOf(`dims-${width}x${height}.gif`), 'gif', width, height);
    const report = await validateLines(withBadLineAt(4, imageRecord(1, { uri, format: 'gif' })), { imageSource: localImages() });
    const [problem] = problemsOf(report, 'image-dimensions');
    expect(problem).toMatchObject({ line: 4 });
    expect(problem.message).toContain(`${width}x${height}`);
  });

  it('reads a JPEG whose size sits behind large metadata with more than one ranged read', async () => {
    const uri = writeImage(root, uriOf('exif.jpg'), 'jpeg', 2000, 1500, { metadataBytes: 200_000 });
    const report = await validateLines(withBadLineAt(2, imageRecord(1, { uri, format: 'jpeg' }), 100), { imageSource: localImages() });
    expect(report.valid).toBe(true);
    expect(report.checks.imageReads.rangeRequests).toBeGreaterThan(1);
    expect(report.checks.imageReads.bytesRead).toBeLessThan(400_000);
  });

  it('checks an image used by many records once', async () => {
    const uri = writeImage(root, uriOf('shared.png'), 'png', 640, 480);
    const lines = Array.from({ length: 120 }, (_, i) => imageRecord(i, { uri }));
    const report = await validateLines(lines, { imageSource: localImages() });
    expect(report.valid).toBe(true);
    expect(report.totals.uniqueImagesChecked).toBe(1);
    expect(report.checks.imageReads.rangeRequests).toBe(2); // its header and its end, read together
    expect(report.totals.imageReferences).toBe(120);
  });

  it('reports a bad image shared by several records on each of their lines', async () => {
    const uri = uriOf('gone.png');
    const lines = [...textRecords(100), imageRecord(1, { uri }), imageRecord(2, { uri })];
    const report = await validateLines(lines, { imageSource: localImages() });
    expect(problemsOf(report, 'image-not-found').map((p) => p.line)).toEqual([101, 102]);
  });
});

describe('record-too-many-tokens', () => {
  it('rejects a record whose text alone is over the limit', async () => {
    // 70,000 ASCII characters are about 17,500 tokens: over 16,000 however they are counted.
    const report = await validateLines(withBadLineAt(8, textRecord(1, 'word '.repeat(14_000))));
    expect(problemsOf(report, 'record-too-many-tokens')).toEqual([expect.objectContaining({ line: 8 })]);
  });

  it('counts image tokens: the same record passes 11B (16,000) and fails 90B (10,000)', async () => {
    const uri = writeImage(root, uriOf('large-tiles.png'), 'png', 1200, 1200);
    expect(estimateImageTokens(1200, 1200)).toBe(4 * 1601);
    // About 5,000 text tokens + 6,404 image tokens: between the two limits.
    const bad = imageRecord(1, { uri, answer: 'word '.repeat(4000) });
    const eleven = await validateLines(withBadLineAt(6, bad), { imageSource: localImages(), model: 'llama3.2-11b' });
    const ninety = await validateLines(withBadLineAt(6, bad), { imageSource: localImages(), model: 'llama3.2-90b' });
    expect(problemsOf(eleven, 'record-too-many-tokens')).toEqual([]);
    expect(problemsOf(ninety, 'record-too-many-tokens')).toEqual([expect.objectContaining({ line: 6 })]);
  });

  it('counts a small image at one tile', async () => {
    const uri = writeImage(root, uriOf('small-tile.png'), 'png', 500, 500);
    const report = await validateLines(withBadLineAt(1, imageRecord(1, { uri }), 100), { imageSource: localImages() });
    expect(report.statistics.tokensPerRecord.max).toBeGreaterThanOrEqual(1601);
    expect(report.statistics.tokensPerRecord.max).toBeLessThan(2 * 1601);
  });

  it('counts images it could not read at the maximum', async () => {
    const report = await validateLines(withBadLineAt(1, imageRecord(1), 100));
    expect(report.statistics.tokensPerRecord.max).toBeGreaterThanOrEqual(MAX_IMAGE_TOKENS);
    expect(problemsOf(report, 'images-not-checked')).toHaveLength(1);
  });
});

describe('valid edge cases', () => {
  it('accepts every allowed format and variant, sides of exactly 10 and 8192 px, text-only records mixed in', async () => {
    const images = [
      imageRecord(1, { uri: writeImage(root, uriOf('ok.png'), 'png', 10, 8192), format: 'png' }),
      imageRecord(2, { uri: writeImage(root, uriOf('ok.jpg'), 'jpeg', 8192, 10), format: 'jpeg' }),
      imageRecord(3, { uri: writeImage(root, uriOf('ok.gif'), 'gif', 640, 480), format: 'gif' }),
      imageRecord(4, { uri: writeImage(root, uriOf('ok-lossy.webp'), 'webp', 320, 240, { webpVariant: 'VP8' }), format: 'webp' }),
      imageRecord(5, { uri: writeImage(root, uriOf('ok-lossless.webp'), 'webp', 320, 240, { webpVariant: 'VP8L' }), format: 'webp' }),
      imageRecord(6, { uri: writeImage(root, uriOf('ok-extended.webp'), 'webp', 320, 240, { webpVariant: 'VP8X' }), format: 'webp' }),
    ];
    const lines = [...textRecords(40), ...images, ...textRecords(60, 1000)];
    const report = await validateLines(lines, { imageSource: localImages(), allowedImageLocations: [`s3://${DATA_BUCKET}/images/`], expectedAccountId: '111122223333' });
    expect(report.problems.errors).toEqual([]);
    expect(report.valid).toBe(true);
    expect(report.totals.imageRecords).toBe(6);
    expect(report.totals.textOnlyRecords).toBe(100);
  });

  it('accepts multi-turn conversations with a system prompt and an image in a later turn', async () => {
    const uri = writeImage(root, uriOf('turns.png'), 'png', 800, 600);
    const multiTurn = {
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'Answer with one number. No units.' }],
      messages: [
        { role: 'user', content: [{ text: 'Hello' }] },
        { role: 'assistant', content: [{ text: '1' }] },
        { role: 'user', content: [{ text: 'How many bars?' }, imageBlock(uri)] },
        { role: 'assistant', content: [{ text: '7' }] },
        { role: 'user', content: [{ text: 'Und auf Deutsch? 日本語で?' }] },
        { role: 'assistant', content: [{ text: '7' }, { text: '' }] },
      ],
    };
    const report = await validateLines([multiTurn, ...textRecords(99)], { imageSource: localImages() });
    expect(report.problems.errors).toEqual([]);
    expect(rulesOf(report)).not.toContain('answer-empty');
  });
});
