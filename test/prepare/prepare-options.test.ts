import { PrepareOptions, parsePrepareArgs } from '../../cli/prepare/prepare-options';
import { PrepareUsageError } from '../../cli/prepare/prepare-errors';

const base = ['data.json', '--bucket', 'my-bucket', '--out', 'prepared'];
const parse = (...extra: string[]) => parsePrepareArgs([...base, ...extra]) as PrepareOptions;

describe('parsePrepareArgs', () => {
  test('defaults', () => {
    const options = parse();
    expect(options).toMatchObject({
      input: 'data.json',
      bucket: 'my-bucket',
      out: 'prepared',
      prefix: '',
      seed: '0',
      onMissingImage: 'fail',
      upload: false,
      concurrency: 16,
      ratios: { train: 0.8, validation: 0.1, test: 0.1 },
      csvColumns: { image: 'image', question: 'question', answer: 'answer' },
    });
    expect(options.format).toBeUndefined();
    expect(options.promptTemplate).toBeUndefined();
  });

  test('reads every option, in both --flag value and --flag=value forms', () => {
    const options = parse(
      '--format=csv', '--images', 'imgs', '--system', 'Be brief.', '--prompt-template', 'Q: {question}', '--split', '0.6,0.2,0.2',
      '--seed', '42', '--prefix', '/datasets/chartqa', '--account', '111122223333', '--on-missing-image', 'skip', '--upload',
      '--concurrency', '4', '--region', 'us-west-2', '--image-column', 'none', '--question-column', 'q', '--answer-column', 'a',
    );
    expect(options).toMatchObject({
      format: 'csv', images: 'imgs', system: 'Be brief.', seed: '42', prefix: 'datasets/chartqa/', account: '111122223333',
      onMissingImage: 'skip', upload: true, concurrency: 4, region: 'us-west-2', ratios: { train: 0.6, validation: 0.2, test: 0.2 },
      csvColumns: { image: undefined, question: 'q', answer: 'a' },
    });
    expect(options.promptTemplate?.apply('x')).toBe('Q: x');
    expect([...options.givenFlags]).toEqual(expect.arrayContaining(['--format', '--upload', '--image-column']));
  });

  test('--help and -h ask for usage', () => {
    expect(parsePrepareArgs(['--help'])).toBe('help');
    expect(parsePrepareArgs(['x', '-h'])).toBe('help');
  });

  test.each([
    [[], /the input file is missing/],
    [['a.json', 'b.json', '--bucket', 'b-1', '--out', 'o'], /give one input file, got 2/],
    [['d.json', '--out', 'o'], /--bucket is required/],
    [['d.json', '--bucket', 'b-1'], /--out is required/],
    [[...base, '--bukcet', 'x'], /unknown option --bukcet/],
    [[...base, '--seed', '1', '--seed', '2'], /--seed is given twice/],
    [[...base, '--system'], /--system needs a value/],
    [['d.json', '--bucket', '--out', 'o'], /--bucket needs a value/],
    [[...base, '--upload=yes'], /--upload is a switch/],
    [[...base, '--format', 'parquet'], /--format parquet is not a known format; use one of llava, vqav2, chartqa, csv/],
    [['d.json', '--bucket', 'My_Bucket', '--out', 'o'], /--bucket My_Bucket is not a valid S3 bucket name/],
    [['d.json', '--bucket', 's3://b/p', '--out', 'o'], /give only the bucket name .* put the folder in --prefix/],
    [[...base, '--prefix', 'a//b'], /--prefix a\/\/b has an empty/],
    [[...base, '--prefix', '../x'], /"\.\."/],
    [[...base, '--account', '1234'], /--account 1234 must be a 12-digit AWS account id/],
    [[...base, '--concurrency', '0'], /--concurrency 0 must be a whole number from 1 to 256/],
    [[...base, '--concurrency', '2.5'], /--concurrency/],
    [[...base, '--on-missing-image', 'ignore'], /--on-missing-image ignore must be skip or fail/],
    [[...base, '--split', '0.8,0.3'], /--split: .*must sum to 1/],
    [[...base, '--prompt-template', 'Answer briefly.'], /--prompt-template "Answer briefly.": must contain \{question\}/],
    [[...base, '--prompt-template', 'Answer {q}'], /unknown placeholder \{q\}/],
    [[...base, '--image-pattern', 'COCO_{id}.jpg'], /--image-pattern: unknown placeholder \{id\}/],
    [[...base, '--system', '  '], /--system is empty/],
  ])('rejects %j', (args, message) => {
    expect(() => parsePrepareArgs(args)).toThrow(PrepareUsageError);
    expect(() => parsePrepareArgs(args)).toThrow(message);
  });

  test('-- ends the options', () => {
    expect((parsePrepareArgs(['--bucket', 'b-1', '--out', 'o', '--', '--odd-name.json']) as PrepareOptions).input).toBe('--odd-name.json');
  });
});
