/**
 * SQuAD normalization, F1 and exact match: the rules of REFERENCE.md one by one, the edge cases
 * decided in squad-f1.ts, and the one-pass tokenizer checked against a plain multi-pass
 * implementation of the definition on generated text.
 */
import { answerTokens, exactMatchScore, f1Score, normalizeAnswer, scoreAnswer, tokenOverlapF1 } from '../../lambda/shared/metrics';
import { seededRandom } from '../support/seeded-random';

/** The definition, written as directly as possible (several passes, one regex each). */
function normalizeByDefinition(text: string): string {
  const punctuation = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
  const lower = text.toLowerCase();
  const withoutPunctuation = Array.from(lower)
    .filter((ch) => !punctuation.includes(ch))
    .join('');
  const withoutArticles = withoutPunctuation.replace(/(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu, ' ');
  return withoutArticles.split(/\s+/).filter((t) => t !== '').join(' ');
}

describe('normalization', () => {
  it('lowercases', () => {
    expect(normalizeAnswer('PaRiS Île')).toBe('paris île');
  });

  it('deletes ASCII punctuation without leaving a space', () => {
    expect(normalizeAnswer('U.S.A.')).toBe('usa');
    expect(normalizeAnswer("don't, (really)!")).toBe('dont really');
    expect(normalizeAnswer('12.5% - 3/4')).toBe('125 34');
    expect(normalizeAnswer('snake_case')).toBe('snakecase');
  });

  it('removes the articles only as whole words', () => {
    expect(normalizeAnswer('The cat and a dog ate an apple')).toBe('cat and dog ate apple');
    expect(normalizeAnswer('theory anthem area Thea')).toBe('theory anthem area thea');
    expect(normalizeAnswer('A AN THE')).toBe('');
    // Punctuation goes first, so "the-cat" becomes one word "thecat" and keeps its "the".
    expect(normalizeAnswer('the-cat')).toBe('thecat');
    // Unicode punctuation is not removed and is not a word character: the article goes.
    expect(normalizeAnswer('the—cat')).toBe('—cat');
    expect(normalizeAnswer('l’a')).toBe('l’');
    // Unicode letters are word characters: no boundary, the "the" stays.
    expect(normalizeAnswer('éthe the東京')).toBe('éthe the東京');
  });

  it('collapses every kind of whitespace', () => {
    expect(normalizeAnswer('  blue \t\n bar  ')).toBe('blue bar');
    expect(answerTokens('10\u00a0kg\u3000total')).toEqual(['10', 'kg', 'total']);
    expect(normalizeAnswer(' , . ')).toBe('');
  });

  it('keeps accents and CJK, which are not ASCII punctuation', () => {
    expect(normalizeAnswer('Café, NAÏVE! 東京タワー。')).toBe('café naïve 東京タワー。');
    expect(normalizeAnswer('don’t')).toBe('don’t');
  });

  it('agrees with a multi-pass implementation of the definition on generated text', () => {
    const random = seededRandom(20240917);
    const pieces = ['the', 'The', 'a', 'A', 'an', 'AN', 'cat', 'theory', 'éthe', 'Ça', '東京', '—', '’', '.', ',', "'", '-', '_', '(', ')', ' ', '  ', '\t', '\n', '\u00a0', '\u3000', '\u0001', '😀', 'İ', '42', '²', 'ǅ'];
    const disagreements: Array<{ text: string; got: string; expected: string }> = [];
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(random() * 12);
      let text = '';
      for (let j = 0; j < length; j++) text += pieces[Math.floor(random() * pieces.length)];
      const got = normalizeAnswer(text);
      const expected = normalizeByDefinition(text);
      if (got !== expected) disagreements.push({ text, got, expected });
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
  });
});

describe('F1', () => {
  it('is the harmonic mean of token precision and recall', () => {
    // prediction [blue, bar] vs reference [blue, bar, chart]: precision 1, recall 2/3.
    expect(f1Score('the blue bar', 'Blue bar chart')).toBeCloseTo((2 * 1 * (2 / 3)) / (1 + 2 / 3), 12);
    expect(f1Score('Paris', 'paris.')).toBe(1);
  });

  it('counts overlap as a multiset intersection', () => {
    // "the the cat" -> [cat]; "cat cat" -> [cat, cat]: one common token, precision 1, recall 1/2.
    expect(f1Score('the the cat', 'cat cat')).toBeCloseTo(2 / 3, 12);
    // [cat, cat, dog] vs [cat, dog, dog]: min counts cat 1 + dog 1 = 2 of 3 on both sides.
    expect(f1Score('cat cat dog', 'cat dog dog')).toBeCloseTo(2 / 3, 12);
  });

  it('counts long answers the same way (the map-based path)', () => {
    const words = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `w${from + i}`);
    // 20 tokens each, 10 in common: precision = recall = 1/2.
    expect(tokenOverlapF1(words(0, 20), words(10, 30))).toBeCloseTo(0.5, 12);
    // Repeats: 30 x "x" + 10 others vs 15 x "x": 15 common; precision 15/40, recall 1.
    const prediction = [...Array(30).fill('x'), ...words(0, 10)];
    expect(tokenOverlapF1(prediction, Array(15).fill('x'))).toBeCloseTo((2 * (15 / 40)) / (15 / 40 + 1), 12);
  });

  it('is 0 when nothing overlaps', () => {
    expect(f1Score('red', 'blue')).toBe(0);
    expect(f1Score('the', 'blue')).toBe(0);
  });

  it('is 0 for an empty prediction against a non-empty reference, and the reverse', () => {
    expect(f1Score('', 'blue')).toBe(0);
    expect(f1Score('blue', '...')).toBe(0);
  });

  it('is 1 when both sides normalize to nothing (the SQuAD v2.0 rule, consistent with exact match)', () => {
    expect(f1Score('', 'The.')).toBe(1);
    expect(exactMatchScore('', 'The.')).toBe(1);
  });
});

describe('exact match', () => {
  it('compares normalized text', () => {
    expect(exactMatchScore('The Eiffel Tower!', 'eiffel   tower')).toBe(1);
    expect(exactMatchScore('Eiffel Tower, Paris', 'Eiffel Tower')).toBe(0);
    expect(exactMatchScore('', 'x')).toBe(0);
  });
});

describe('several references', () => {
  it('keeps the best F1 and the best exact match', () => {
    expect(scoreAnswer('blue bar', ['red', 'the blue bar', 'blue'])).toEqual({ f1: 1, exactMatch: 1 });
    const partial = scoreAnswer('tall blue bar', ['red', 'blue', 'short blue bar']);
    // best is "short blue bar": [blue, bar] common of 3 and 3 -> 2/3 (beats "blue": 1/3 precision, recall 1 -> 1/2).
    expect(partial.f1).toBeCloseTo(2 / 3, 12);
    expect(partial.exactMatch).toBe(0);
  });

  it('does not depend on the order of the references', () => {
    const references = ['12', 'twelve apples', 'about twelve'];
    const score = scoreAnswer('twelve', references);
    expect(scoreAnswer('twelve', [...references].reverse())).toEqual(score);
  });

  it('refuses a record without references', () => {
    expect(() => scoreAnswer('x', [])).toThrow(RangeError);
  });
});

describe('unicode answers', () => {
  it('compare case-insensitively and by whole tokens', () => {
    expect(scoreAnswer('CAFÉ', ['café'])).toEqual({ f1: 1, exactMatch: 1 });
    // [東京, タワー] vs [東京]: precision 1/2, recall 1.
    expect(f1Score('東京 タワー', '東京')).toBeCloseTo(2 / 3, 12);
    // Without spaces CJK text is one token.
    expect(f1Score('東京タワー', '東京')).toBe(0);
  });
});
