import { SplitName, assignSplits, parseSplitRatios } from '../../cli/prepare/split-assignment';

const keys = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const count = (splits: SplitName[], name: SplitName) => splits.filter((s) => s === name).length;

describe('parseSplitRatios', () => {
  test('reads three shares', () => {
    expect(parseSplitRatios('0.8,0.1,0.1')).toEqual({ train: 0.8, validation: 0.1, test: 0.1 });
    expect(parseSplitRatios(' 0.7 , 0.2 , 0.1 ')).toEqual({ train: 0.7, validation: 0.2, test: 0.1 });
  });

  test('two shares mean no test split', () => {
    expect(parseSplitRatios('0.9,0.1')).toEqual({ train: 0.9, validation: 0.1, test: 0 });
  });

  test.each([
    ['0.8,0.1,0.2', /sums to 1.1; the shares must sum to 1/],
    ['80,10,10', /must be a number from 0 to 1/],
    ['0.8,-0.1,0.3', /must be a number from 0 to 1/],
    ['1', /two or three numbers/],
    ['0.5,0.2,0.2,0.1', /two or three numbers/],
    ['0.8,,0.2', /\(validation\) must be a number/],
    ['a,b,c', /must be a number/],
    ['0,0.5,0.5', /training split nothing/],
  ])('rejects %j', (text, message) => {
    expect(() => parseSplitRatios(text)).toThrow(message);
  });
});

describe('assignSplits', () => {
  const ratios = { train: 0.8, validation: 0.1, test: 0.1 };

  test('gives the same split for the same seed and input', () => {
    const input = keys(500);
    expect(assignSplits(input, ratios, '42')).toEqual(assignSplits(input, ratios, '42'));
  });

  test('does not depend on the order of the input', () => {
    const input = keys(300);
    const forward = assignSplits(input, ratios, 's');
    const reversedInput = [...input].reverse();
    const backward = assignSplits(reversedInput, ratios, 's');
    const byKey = new Map(reversedInput.map((k, i) => [k, backward[i]]));
    expect(input.map((k) => byKey.get(k))).toEqual(forward);
  });

  test('another seed gives another split', () => {
    const input = keys(200);
    const a = assignSplits(input, ratios, '1');
    const b = assignSplits(input, ratios, '2');
    expect(a.filter((s, i) => s !== b[i]).length).toBeGreaterThan(10);
  });

  test.each([
    [100, { train: 0.8, validation: 0.1, test: 0.1 }],
    [1000, { train: 0.8, validation: 0.1, test: 0.1 }],
    [7, { train: 0.6, validation: 0.2, test: 0.2 }],
    [333, { train: 0.7, validation: 0.15, test: 0.15 }],
    [50, { train: 0.9, validation: 0.1, test: 0 }],
  ])('with one record per group, %i records split in the rounded proportions %j', (n, shares) => {
    const splits = assignSplits(keys(n), shares, 'p');
    const trainEnd = Math.round(shares.train * n);
    const validationEnd = Math.round((shares.train + shares.validation) * n);
    expect(count(splits, 'train')).toBe(trainEnd);
    expect(count(splits, 'validation')).toBe(validationEnd - trainEnd);
    expect(count(splits, 'test')).toBe(n - validationEnd);
  });

  test('keeps a group together and stays close to the proportions', () => {
    // 400 images with 1 to 5 questions each, like VQAv2.
    const input = keys(400, 'img').flatMap((k, i) => Array.from({ length: 1 + (i % 5) }, () => k));
    const splits = assignSplits(input, ratios, 'g');
    const splitOfKey = new Map<string, Set<SplitName>>();
    input.forEach((k, i) => splitOfKey.set(k, (splitOfKey.get(k) ?? new Set()).add(splits[i])));
    expect([...splitOfKey.values()].every((s) => s.size === 1)).toBe(true);
    const largestGroup = 5;
    expect(Math.abs(count(splits, 'train') - 0.8 * input.length)).toBeLessThanOrEqual(largestGroup);
    expect(Math.abs(count(splits, 'validation') - 0.1 * input.length)).toBeLessThanOrEqual(2 * largestGroup);
  });

  test('a whole training share puts everything in train', () => {
    expect(new Set(assignSplits(keys(20), { train: 1, validation: 0, test: 0 }, 'x'))).toEqual(new Set(['train']));
  });

  test('handles no input', () => {
    expect(assignSplits([], ratios, 'x')).toEqual([]);
  });
});
