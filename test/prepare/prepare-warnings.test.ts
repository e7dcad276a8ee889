import { PreparedImageFacts, preparedDatasetWarnings } from '../../cli/prepare/prepare-warnings';
import { DATASET_LIMITS } from '../../lambda/shared/models/llama-models';

const image = (overrides: Partial<PreparedImageFacts> = {}): PreparedImageFacts => ({ name: 'a.png', format: 'png', size: 1000, width: 100, height: 100, ...overrides });
const healthy = { trainingAndValidationRecords: 500, images: [image()], hasBucketOwner: true };

describe('preparedDatasetWarnings', () => {
  test('a healthy dataset gets none', () => {
    expect(preparedDatasetWarnings(healthy)).toEqual([]);
    expect(preparedDatasetWarnings({ ...healthy, trainingAndValidationRecords: DATASET_LIMITS.minRecords })).toEqual([]);
    expect(preparedDatasetWarnings({ ...healthy, images: [image({ name: 'x.JPEG', format: 'jpeg' }), image({ name: 'y.jfif', format: 'jpeg' })] })).toEqual([]);
  });

  test('too few and too many records', () => {
    expect(preparedDatasetWarnings({ ...healthy, trainingAndValidationRecords: DATASET_LIMITS.minRecords - 1 })).toEqual([expect.stringMatching(/hold 99 records; Bedrock needs at least 100/)]);
    expect(preparedDatasetWarnings({ ...healthy, trainingAndValidationRecords: DATASET_LIMITS.maxRecords + 1 })).toEqual([expect.stringMatching(/hold 10001 records; Bedrock accepts at most 10000/)]);
  });

  test('extensions that do not match the content, naming a few', () => {
    const images = ['a.jpg', 'b.gif', 'c.webp', 'd.png.bak'].map((name) => image({ name }));
    const [warning] = preparedDatasetWarnings({ ...healthy, images });
    expect(warning).toMatch(/^4 image\(s\) have a file extension that does not match.*a\.jpg is png, b\.gif is png, c\.webp is png\)$/);
  });

  test('missing bucketOwner only matters when there are images', () => {
    expect(preparedDatasetWarnings({ ...healthy, hasBucketOwner: false })).toEqual([expect.stringMatching(/no bucketOwner.*--account/)]);
    expect(preparedDatasetWarnings({ ...healthy, images: [], hasBucketOwner: false })).toEqual([]);
  });

  test.each([
    [{ width: DATASET_LIMITS.minImageSide - 1 }],
    [{ height: DATASET_LIMITS.maxImageSide + 1 }],
    [{ size: DATASET_LIMITS.maxImageBytes + 1 }],
  ])('images outside Bedrock limits: %j', (overrides) => {
    expect(preparedDatasetWarnings({ ...healthy, images: [image(overrides)] })).toEqual([expect.stringMatching(/^1 image\(s\) are outside Bedrock's limits .*a\.png/)]);
  });
});
