import { readFileSync, statSync } from 'fs';
import * as path from 'path';
import { inspectImageFile } from '../../cli/prepare/image-inspector';
import { imageObjectName, resolveImagePath } from '../../cli/prepare/image-naming';
import { stageImageFile } from '../../cli/prepare/image-staging';
import { imageBytes, jpegImage, pngImage } from '../support/images';
import { TempFolder, tempFolder } from './prepare-fixtures';

let dir: TempFolder;
beforeEach(() => (dir = tempFolder()));
afterEach(() => dir.cleanup());

describe('inspectImageFile', () => {
  test.each(['png', 'jpeg', 'gif', 'webp'] as const)('reads format and size of a %s', async (format) => {
    const file = dir.image(`a.${format}`, format, 40, 30);
    const result = await inspectImageFile(file);
    expect(result).toEqual({ ok: true, format, size: statSync(file).size, width: 40, height: 30 });
  });

  test('trusts the bytes, not the extension', async () => {
    const file = dir.write('really-png.jpg', pngImage(12, 12));
    expect(await inspectImageFile(file)).toMatchObject({ ok: true, format: 'png' });
  });

  test('reads further when JPEG metadata pushes the size past the first read', async () => {
    const file = dir.write('exif.jpg', jpegImage(640, 480, { metadataBytes: 100_000 }));
    expect(await inspectImageFile(file)).toMatchObject({ ok: true, format: 'jpeg', width: 640, height: 480 });
  });

  test('reports a missing file, a folder, a non-image and a truncated image', async () => {
    expect(await inspectImageFile(dir.path('nope.png'))).toMatchObject({ ok: false, reason: 'missing' });
    dir.write('folder/x', '');
    expect(await inspectImageFile(dir.path('folder'))).toMatchObject({ ok: false, reason: 'unreadable' });
    expect(await inspectImageFile(dir.write('text.png', 'not an image at all'))).toMatchObject({ ok: false, reason: 'not-an-image' });
    expect(await inspectImageFile(dir.write('empty.png', ''))).toMatchObject({ ok: false });
    const truncated = jpegImage(64, 64, { metadataBytes: 30_000 }).subarray(0, 20_000);
    expect(await inspectImageFile(dir.write('cut.jpg', truncated))).toMatchObject({ ok: false, reason: 'unreadable', message: expect.stringMatching(/truncated/) });
  });
});

describe('image names', () => {
  test('keep the path below the image folder', () => {
    const root = dir.path('images');
    expect(imageObjectName(root, resolveImagePath(root, 'a.png'))).toBe('a.png');
    expect(imageObjectName(root, resolveImagePath(root, 'coco/train/b.jpg'))).toBe('coco/train/b.jpg');
  });

  test('images outside the folder go under external/<folder hash>/, apart by folder', () => {
    const root = dir.path('images');
    const one = imageObjectName(root, resolveImagePath(root, '../elsewhere/c.png'));
    const two = imageObjectName(root, '/somewhere/else/c.png');
    expect(one).toMatch(/^external\/[0-9a-f]{12}\/c\.png$/);
    expect(two).toMatch(/^external\/[0-9a-f]{12}\/c\.png$/);
    expect(one).not.toBe(two);
  });
});

describe('stageImageFile', () => {
  test('links (or copies) the image into place, and leaves it alone the second time', async () => {
    const source = dir.image('src/a.gif', 'gif');
    const destination = dir.path('out', 'bucket', 'images', 'a.gif');
    expect(['linked', 'copied']).toContain(await stageImageFile(source, destination));
    expect(readFileSync(destination)).toEqual(readFileSync(source));
    const again = await stageImageFile(source, destination);
    expect(again === 'unchanged' || again === 'copied').toBe(true);
  });

  test('replaces a different file that was there before', async () => {
    const source = dir.write('src/a.png', imageBytes('png', 20, 20));
    const destination = dir.write(path.join('out', 'a.png'), 'stale');
    await stageImageFile(source, destination);
    expect(readFileSync(destination)).toEqual(readFileSync(source));
  });
});
