import { DEFAULT_VQAV2_IMAGE_PATTERN, parseImageNamePattern } from '../../cli/prepare/image-name-pattern';

describe('parseImageNamePattern', () => {
  test('the default pattern gives COCO names', () => {
    const pattern = parseImageNamePattern(DEFAULT_VQAV2_IMAGE_PATTERN);
    expect(pattern.usesSplit).toBe(true);
    expect(pattern.format({ imageId: 9, split: 'train2014' })).toBe('COCO_train2014_000000000009.jpg');
    expect(pattern.format({ imageId: 393225, split: 'val2014' })).toBe('COCO_val2014_000000393225.jpg');
  });

  test('supports unpadded ids, other widths and sub-folders', () => {
    expect(parseImageNamePattern('{image_id}.png').format({ imageId: 42 })).toBe('42.png');
    expect(parseImageNamePattern('{split}/{image_id:06}.jpg').format({ imageId: 42, split: 'val' })).toBe('val/000042.jpg');
    expect(parseImageNamePattern('{image_id}.png').usesSplit).toBe(false);
  });

  test.each([
    ['COCO_{id}.jpg', /unknown placeholder \{id\}/],
    ['{image_id:12}.jpg', /unknown placeholder \{image_id:12\}/],
    ['COCO_{split}.jpg', /must contain \{image_id\}/],
    ['{image_id.jpg', /unmatched brace/],
    ['{image_id}}.jpg', /unmatched brace/],
  ])('rejects %j', (source, message) => {
    expect(() => parseImageNamePattern(source)).toThrow(message);
  });
});
