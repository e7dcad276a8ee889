/**
 * The report: capped problem lists with complete counts, statistics, the short summary and
 * the text rendering; plus the bounded-memory helpers behind them.
 */
import { resolveModel } from '../../lambda/shared/models/llama-models';
import {
  digestText,
  ProblemCollector,
  RecordDigestSet,
  renderReportText,
  renderSummary,
  RULE_IDS,
  RULES,
  StreamingHistogram,
  validateDataset,
  inMemoryDatasetSource,
  estimateRecordTextTokens,
} from '../../lambda/shared/validation';
import { textRecord, textRecords, toJsonl } from './fixtures';
import { validateLines } from './engine-harness';

describe('problem capping', () => {
  it('lists at most maxListed errors, in line order, and counts every one per rule', async () => {
    const lines: (object | string)[] = [];
    for (let i = 0; i < 10_000; i++) lines.push(i % 2 === 0 ? `{broken ${i}` : { schemaVersion: 'x', messages: [] });
    const report = await validateLines(lines, { maxListedProblems: 25 });
    expect(report.problems.errors).toHaveLength(25);
    expect(report.problems.errors.map((p) => p.line)).toEqual([...report.problems.errors.map((p) => p.line!)].sort((a, b) => a - b));
    expect(report.problems.errors[0].line).toBe(1);
    const count = (rule: string) => report.problems.byRule.find((r) => r.rule === rule)?.count;
    expect(count('json-syntax')).toBe(5000);
    expect(count('schema-version')).toBe(5000);
    expect(count('messages-shape')).toBe(5000);
    expect(report.totals.errors).toBe(15_000);
    expect(report.problems.omittedErrors).toBe(15_000 - 25);
    expect(JSON.stringify(report).length).toBeLessThan(50_000);
  });

  it('keeps the earliest problems when they arrive out of order', () => {
    const collector = new ProblemCollector(3, (file) => ['a.jsonl', 'b.jsonl'].indexOf(file));
    for (const line of [50, 40, 30, 20, 10, 5, 60, 1]) collector.add('json-syntax', `line ${line}`, 'b.jsonl', line);
    collector.add('blank-line', 'first file', 'a.jsonl', 99);
    collector.add('record-count-too-low', 'dataset');
    expect(collector.listed('error').map((p) => [p.file, p.line])).toEqual([
      [undefined, undefined],
      ['a.jsonl', 99],
      ['b.jsonl', 1],
    ]);
    expect(collector.errorCount).toBe(10);
    expect(collector.omitted('error')).toBe(7);
  });

  it('counts warnings separately from errors', () => {
    const collector = new ProblemCollector(2);
    collector.add('duplicate-record', 'dup', 'f', 1);
    collector.add('json-syntax', 'bad', 'f', 2);
    expect([collector.errorCount, collector.warningCount]).toEqual([1, 1]);
    expect(collector.countsByRule().map((r) => r.rule)).toEqual(['json-syntax', 'duplicate-record']);
  });
});

describe('rule table', () => {
  it('uses stable kebab-case ids with a severity and a title', () => {
    for (const id of RULE_IDS) {
      expect(id).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(['error', 'warning']).toContain(RULES[id].severity);
      expect(RULES[id].title.length).toBeGreaterThan(10);
    }
  });

  it('documents every rule id in the table of the rules module', () => {
    const source = require('fs').readFileSync(require.resolve('../../lambda/shared/validation/rules.ts'), 'utf8') as string;
    for (const id of RULE_IDS) expect(source).toContain(`| ${id} | ${RULES[id].severity} |`);
  });
});

describe('statistics', () => {
  it('reports token estimates and answer lengths over all records', async () => {
    const records = [...textRecords(99), textRecord(5000, 'This is a much longer answer with many words in it.')];
    const report = await validateLines(records);
    const tokensOf = (r: object) => {
      const texts = (r as { messages: { content: { text: string }[] }[] }).messages.flatMap((m) => m.content.map((c) => c.text));
      return estimateRecordTextTokens(Buffer.byteLength(texts.join('')), 2);
    };
    const expected = records.map(tokensOf);
    expect(report.statistics.tokensPerRecord.min).toBe(Math.min(...expected));
    expect(report.statistics.tokensPerRecord.max).toBe(Math.max(...expected));
    expect(report.statistics.answerWords.max).toBe(11);
    expect(report.statistics.answerWords.p50).toBe(1);
    expect(report.files[0]).toMatchObject({ records: 100, textOnlyRecords: 100, imageRecords: 0 });
  });

  it('StreamingHistogram percentiles stay within about 1% of the exact values', () => {
    const histogram = new StreamingHistogram();
    const values = Array.from({ length: 10_000 }, (_, i) => ((i * 7919) % 10_000) + 1);
    values.forEach((v) => histogram.add(v));
    const sorted = [...values].sort((a, b) => a - b);
    for (const fraction of [0.5, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(fraction * sorted.length) - 1];
      expect(Math.abs(histogram.percentile(fraction) - exact) / exact).toBeLessThan(0.012);
    }
    expect(histogram.summary()).toMatchObject({ count: 10_000, min: 1, max: 10_000 });
  });
});

describe('RecordDigestSet', () => {
  it('finds repeats with their first position and grows past its initial size', () => {
    const set = new RecordDigestSet();
    for (let i = 0; i < 5000; i++) {
      const [h, l] = digestText(`record ${i}`);
      expect(set.addOrFind(h, l, 0, i + 1)).toBeUndefined();
    }
    const [h, l] = digestText('record 1234');
    expect(set.addOrFind(h, l, 1, 9999)).toEqual({ fileIndex: 0, line: 1235 });
    expect(set.size).toBe(5000);
    expect(set.byteSize).toBeLessThan(5000 * 60);
  });
});

describe('summary and text report', () => {
  it('renders a short summary under 2,000 characters even with many long problems', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `{"broken": ${'x'.repeat(500)} ${i}`);
    const report = await validateLines(lines);
    const summary = renderSummary(report, { reportUri: 's3://artifacts/runs/r1/validation/report.json' });
    expect(summary.length).toBeLessThan(2000);
    expect(summary).toContain('INVALID');
    expect(summary).toContain('json-syntax x300');
    expect(summary).toContain('s3://artifacts/runs/r1/validation/report.json');
  });

  it('says VALID and gives the hyperparameters for good data', async () => {
    const report = await validateLines(textRecords(1200), { model: 'llama3.2-3b' });
    const summary = renderSummary(report);
    expect(summary).toMatch(/^Dataset check for llama3.2-3b: VALID \(0 errors/);
    expect(summary).toContain(`epochCount ${report.hyperParameters.values.epochCount}`);
  });

  it('lists every listed problem with file, line and rule in the text report', async () => {
    const report = await validateDataset({
      model: resolveModel('llama3.2-11b'),
      files: [{ role: 'training', source: inMemoryDatasetSource('data/train.jsonl', toJsonl([...textRecords(100), '{bad', '[]'])) }],
      maxListedProblems: 1,
    });
    const text = renderReportText(report);
    expect(text).toContain('- data/train.jsonl line 101 [json-syntax]:');
    expect(text).not.toContain('line 102 [record-not-object]');
    expect(text).toContain('... and 1 more');
    expect(text).toMatch(/error\s+record-not-object\s+1/);
    for (const reason of report.hyperParameters.explanation) expect(text).toContain(reason);
  });
});
