/**
 * Streaming aggregation: the accumulator's result equals the mean of the per-record scores,
 * and the stream scorer reads JSONL however it is chunked, reporting malformed lines.
 */
import {
  parsePredictionLine,
  ScoreAccumulator,
  scoreAnswer,
  scorePredictionStream,
  UNANSWERED_SCORE,
} from '../../lambda/shared/metrics';
import { seededRandom } from '../support/seeded-random';

const WORDS = ['the', 'blue', 'bar', 'is', 'tallest', 'a', 'Paris', '12.5%', 'yes', 'no', 'café', 'chart'];

function generatedPairs(count: number, seed: number): Array<{ prediction: string; references: string[] }> {
  const random = seededRandom(seed);
  const phrase = () => Array.from({ length: Math.floor(random() * 5) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  return Array.from({ length: count }, () => ({
    prediction: phrase(),
    references: Array.from({ length: 1 + Math.floor(random() * 3) }, phrase),
  }));
}

describe('ScoreAccumulator', () => {
  it('returns each record\'s own scores and the mean x 100', () => {
    const pairs = generatedPairs(500, 7);
    const accumulator = new ScoreAccumulator();
    const perRecord = pairs.map((p) => accumulator.add(p.prediction, p.references));
    expect(perRecord).toEqual(pairs.map((p) => scoreAnswer(p.prediction, p.references)));
    const meanF1 = perRecord.reduce((sum, s) => sum + s.f1, 0) / pairs.length;
    const meanExactMatch = perRecord.reduce((sum, s) => sum + s.exactMatch, 0) / pairs.length;
    const result = accumulator.result();
    expect(result.count).toBe(500);
    expect(result.f1).toBeCloseTo(100 * meanF1, 9);
    expect(result.exactMatch).toBeCloseTo(100 * meanExactMatch, 9);
    // The generator must produce a mix, or the comparison proves little.
    expect(meanF1).toBeGreaterThan(0.05);
    expect(meanF1).toBeLessThan(0.95);
  });

  it('counts an unanswered record as 0', () => {
    const accumulator = new ScoreAccumulator();
    accumulator.add('blue', ['blue']);
    accumulator.addScore(UNANSWERED_SCORE);
    expect(accumulator.result()).toEqual({ f1: 50, exactMatch: 50, count: 2 });
  });

  it('reports zeros and count 0 before any record', () => {
    expect(new ScoreAccumulator().result()).toEqual({ f1: 0, exactMatch: 0, count: 0 });
  });
});

describe('parsePredictionLine', () => {
  it('reads references, or one reference', () => {
    expect(parsePredictionLine('{"prediction":"a","references":["b","c"],"id":7}')).toEqual({ ok: true, value: { prediction: 'a', references: ['b', 'c'] } });
    expect(parsePredictionLine('{"prediction":"","reference":"b"}')).toEqual({ ok: true, value: { prediction: '', references: ['b'] } });
  });

  it.each([
    ['{"prediction": "a", "references": [', /not valid JSON/],
    ['["a", "b"]', /expected a JSON object .* got an array/],
    ['{"references": ["b"]}', /"prediction" is missing/],
    ['{"prediction": null, "references": ["b"]}', /"prediction" must be a string, got null/],
    ['{"prediction": "a"}', /"references" is missing/],
    ['{"prediction": "a", "references": "b"}', /"references" must be a non-empty array of strings, got string "b"/],
    ['{"prediction": "a", "references": []}', /"references" is empty/],
    ['{"prediction": "a", "references": ["b", 3]}', /"references"\[1\] must be a string, got number 3/],
    ['{"prediction": "a", "reference": ["b"]}', /"reference" must be a string, got an array/],
    ['{"prediction": "a", "reference": "b", "references": ["b"]}', /not both/],
  ])('rejects %s', (line, message) => {
    const result = parsePredictionLine(line);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(message);
  });
});

describe('scorePredictionStream', () => {
  const pairs = generatedPairs(300, 11);
  const jsonl = pairs.map((p) => JSON.stringify(p)).join('\n') + '\n';

  async function* chunksOf(text: string, size: number): AsyncGenerator<Uint8Array> {
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  it('gives the same score however the bytes are chunked', async () => {
    const expected = new ScoreAccumulator();
    for (const p of pairs) expected.add(p.prediction, p.references);
    for (const size of [1, 7, 4096, 1 << 20]) {
      const result = await scorePredictionStream(chunksOf(jsonl, size));
      expect(result.problemCount).toBe(0);
      expect(result.summary).toEqual(expected.result());
    }
  });

  it('skips blank lines and numbers the malformed ones, listing only the first few', async () => {
    const lines = ['', '{"prediction":"a","references":["a"]}', '   ', '{"prediction":1,"references":["a"]}', '{bad', '{"prediction":"b","reference":"b c"}'];
    const result = await scorePredictionStream(chunksOf(lines.join('\r\n'), 5), { maxListedProblems: 1 });
    expect(result.summary.count).toBe(2);
    expect(result.problemCount).toBe(2);
    expect(result.problems).toEqual([{ line: 4, message: expect.stringContaining('"prediction" must be a string') }]);
  });
});
