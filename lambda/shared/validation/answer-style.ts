/**
 * Measures how consistently the assistant answers are formatted, with bounded memory.
 *
 * The published experiments stress "consistently formatted answers in the output format
 * wanted": a model trained on a mix of "2", "two" and "There are two dogs." learns the mix.
 * Four measurable heuristics, each over every assistant turn of every file:
 *
 * - length: a one-word answer has 1 word; a sentence has >= 4 words ending in . ! or ?, or
 *   >= 8 words. Mixed when both classes reach the thresholds below.
 * - casing: the same short answer (<= 3 words, compared case-insensitively without a final
 *   period) written in different casing styles (lower / Capitalized / UPPER), e.g. "yes" and
 *   "Yes". Proper nouns are not a problem because only identical answers are compared. Up to
 *   {@link MAX_TRACKED_SHORT_ANSWERS} distinct short answers are tracked.
 * - punctuation: short answers (<= 3 words) ending with a period versus without one.
 * - numbers: thousands separators (1,000 vs 10000), percentages (5% vs 5 percent) and whole
 *   answers that are a number in digits vs in words (2 vs two).
 *
 * A mix is reported when the smaller class holds at least {@link MIXED_MIN_SHARE} of the
 * answers the heuristic looked at and at least {@link MIXED_MIN_COUNT} answers (for casing:
 * when at least that many answers differ from the most common spelling of the same answer).
 */
import { RuleId } from './rules';

/** Smallest share of the minority class that counts as a mix. */
export const MIXED_MIN_SHARE = 0.05;
/** Smallest number of minority answers that counts as a mix. */
export const MIXED_MIN_COUNT = 3;
/** Distinct short answers whose casing is tracked (memory bound). */
export const MAX_TRACKED_SHORT_ANSWERS = 1000;

/** Where an example answer was found. */
export interface AnswerExample {
  readonly file: string;
  readonly line: number;
  readonly text: string;
}

/** A dataset-wide formatting warning. */
export interface AnswerStyleFinding {
  readonly rule: Extract<RuleId, 'answer-length-mixed' | 'answer-casing-mixed' | 'answer-punctuation-mixed' | 'answer-number-format-mixed'>;
  readonly message: string;
}

/** Counts of a two-way classification with the first example of each side. */
class TwoWayCounter {
  countA = 0;
  countB = 0;
  exampleA?: AnswerExample;
  exampleB?: AnswerExample;

  addA(file: string, line: number, text: string): void {
    this.countA++;
    if (!this.exampleA) this.exampleA = { file, line, text };
  }

  addB(file: string, line: number, text: string): void {
    this.countB++;
    if (!this.exampleB) this.exampleB = { file, line, text };
  }

  isMixed(): boolean {
    const minority = Math.min(this.countA, this.countB);
    const total = this.countA + this.countB;
    return minority >= MIXED_MIN_COUNT && minority / total >= MIXED_MIN_SHARE;
  }

  describe(labelA: string, labelB: string): string {
    return `${this.countA} ${labelA} (e.g. ${formatExample(this.exampleA)}) vs ${this.countB} ${labelB} (e.g. ${formatExample(this.exampleB)})`;
  }
}

type CasingStyle = 'lower' | 'Capitalized' | 'UPPER';

interface CasingVariants {
  readonly counts: Map<CasingStyle, number>;
  readonly examples: Map<CasingStyle, AnswerExample>;
}

const NUMBER_WORDS = new Set([
  'zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty',
]);
const WITH_THOUSANDS_SEPARATOR = /(?:^|[^\d.,])\d{1,3}(?:,\d{3})+(?![\d,])/;
const LONG_PLAIN_NUMBER = /(?:^|[^\d.,])(\d{4,})(?![\d,])/;
const PERCENT_SIGN = /\d\s*%/;
const PERCENT_WORD = /\d\s*(?:percent|per cent|pct)\b/i;
const DIGITS_ONLY = /^[+-]?\d+(?:\.\d+)?$/;
const ANY_DIGIT = /\d/;

/** Whitespace-separated words in a text (no allocation). */
export function countWords(text: string): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11 || c === 0xa0;
    if (!space && !inWord) words++;
    inWord = !space;
  }
  return words;
}

function casingStyle(text: string): CasingStyle | undefined {
  const lower = text.toLowerCase();
  const upper = text.toUpperCase();
  if (lower === upper) return undefined; // no letters
  if (text === lower) return 'lower';
  const letters = text.replace(/[^\p{L}]/gu, '');
  if (text === upper && letters.length > 1) return 'UPPER';
  const first = letters.charAt(0);
  if (first === first.toUpperCase() && letters.slice(1) === letters.slice(1).toLowerCase()) return 'Capitalized';
  return undefined; // camelCase, iPhone, ...: not a style
}

function formatExample(example: AnswerExample | undefined): string {
  if (!example) return 'none';
  const text = example.text.length > 40 ? `${example.text.slice(0, 37)}...` : example.text;
  return `${JSON.stringify(text)} at ${example.file} line ${example.line}`;
}

/** See the module comment. */
export class AnswerStyleTracker {
  private readonly length = new TwoWayCounter();
  private readonly punctuation = new TwoWayCounter();
  private readonly thousands = new TwoWayCounter();
  private readonly percent = new TwoWayCounter();
  private readonly numberWords = new TwoWayCounter();
  private readonly casing = new Map<string, CasingVariants>();

  /** Looks at one assistant answer; returns its number of words. */
  observe(answer: string, file: string, line: number): number {
    const text = answer.trim();
    const words = countWords(text);
    if (words === 0) return 0;

    const lastChar = text.charAt(text.length - 1);
    const endsSentence = lastChar === '.' || lastChar === '!' || lastChar === '?';
    if (words === 1) this.length.addA(file, line, text);
    else if ((words >= 4 && endsSentence) || words >= 8) this.length.addB(file, line, text);

    if (words <= 3) {
      if (lastChar === '.') this.punctuation.addA(file, line, text);
      else if (!endsSentence) this.punctuation.addB(file, line, text);
      this.observeCasing(lastChar === '.' ? text.slice(0, -1) : text, file, line, text);
    }

    const bare = lastChar === '.' ? text.slice(0, -1) : text;
    if (ANY_DIGIT.test(text)) {
      if (WITH_THOUSANDS_SEPARATOR.test(text)) this.thousands.addA(file, line, text);
      else {
        const plain = LONG_PLAIN_NUMBER.exec(text);
        if (plain && !isLikelyYear(plain[1])) this.thousands.addB(file, line, text);
      }
      if (PERCENT_SIGN.test(text)) this.percent.addA(file, line, text);
      else if (PERCENT_WORD.test(text)) this.percent.addB(file, line, text);
      if (DIGITS_ONLY.test(bare)) this.numberWords.addA(file, line, text);
    } else if (words === 1 && NUMBER_WORDS.has(bare.toLowerCase())) {
      this.numberWords.addB(file, line, text);
    }
    return words;
  }

  /** The formatting warnings the answers seen so far deserve. */
  findings(): AnswerStyleFinding[] {
    const findings: AnswerStyleFinding[] = [];
    if (this.length.isMixed()) {
      findings.push({
        rule: 'answer-length-mixed',
        message:
          `Answers mix one-word replies and full sentences: ${this.length.describe('one-word', 'sentence')}. ` +
          'Pick the form you want the model to produce and rewrite the other answers to match.',
      });
    }
    const casing = this.casingFinding();
    if (casing) findings.push(casing);
    if (this.punctuation.isMixed()) {
      findings.push({
        rule: 'answer-punctuation-mixed',
        message:
          `Short answers sometimes end with a period: ${this.punctuation.describe('with a period', 'without')}. ` +
          'Use one convention for every short answer.',
      });
    }
    const numberParts: string[] = [];
    if (this.thousands.isMixed()) numberParts.push(`thousands separators: ${this.thousands.describe('with', 'without')}`);
    if (this.percent.isMixed()) numberParts.push(`percentages: ${this.percent.describe('with "%"', 'with a word')}`);
    if (this.numberWords.isMixed()) numberParts.push(`numbers as whole answers: ${this.numberWords.describe('in digits', 'in words')}`);
    if (numberParts.length > 0) {
      findings.push({
        rule: 'answer-number-format-mixed',
        message: `Numbers are written in different styles (${numberParts.join('; ')}). Write every number the same way.`,
      });
    }
    return findings;
  }

  private observeCasing(shortAnswer: string, file: string, line: number, text: string): void {
    const style = casingStyle(shortAnswer);
    if (!style) return;
    const key = shortAnswer.toLowerCase();
    let variants = this.casing.get(key);
    if (!variants) {
      if (this.casing.size >= MAX_TRACKED_SHORT_ANSWERS) return;
      variants = { counts: new Map(), examples: new Map() };
      this.casing.set(key, variants);
    }
    variants.counts.set(style, (variants.counts.get(style) ?? 0) + 1);
    if (!variants.examples.has(style)) variants.examples.set(style, { file, line, text });
  }

  private casingFinding(): AnswerStyleFinding | undefined {
    let deviating = 0;
    const described: { deviating: number; text: string }[] = [];
    for (const variants of this.casing.values()) {
      if (variants.counts.size < 2) continue;
      const counts = [...variants.counts.values()];
      const off = counts.reduce((a, b) => a + b, 0) - Math.max(...counts);
      deviating += off;
      const parts = [...variants.counts.entries()].sort((a, b) => b[1] - a[1]).map(([style, count]) => `${count}x ${formatExample(variants.examples.get(style))}`);
      described.push({ deviating: off, text: parts.join(' / ') });
    }
    if (deviating < MIXED_MIN_COUNT) return undefined;
    const worst = described.sort((a, b) => b.deviating - a.deviating).slice(0, 3).map((d) => d.text);
    return {
      rule: 'answer-casing-mixed',
      message:
        `${deviating} answers differ in casing from the most common spelling of the same answer: ${worst.join('; ')}. ` +
        'Write each answer in one casing style.',
    };
  }
}

function isLikelyYear(digits: string): boolean {
  if (digits.length !== 4) return false;
  const value = Number(digits);
  return value >= 1800 && value <= 2100;
}
