/**
 * Rules over whole files and the dataset: record counts across training and validation,
 * missing and empty files, duplicates, and the best-practice warnings.
 */
import { resolveModel } from '../../lambda/shared/models/llama-models';
import {
  DatasetFileInput,
  FEW_RECORDS_WARNING_BELOW,
  inMemoryDatasetSource,
  localDatasetSource,
  validateDataset,
  ValidationReport,
} from '../../lambda/shared/validation';
import { imageRecord, textRecord, textRecords, toJsonl } from './fixtures';
import { problemsOf, validateLines } from './engine-harness';

function file(role: DatasetFileInput['role'], name: string, lines: readonly (object | string)[]): DatasetFileInput {
  return { role, source: inMemoryDatasetSource(name, lines.length === 0 ? '' : toJsonl(lines)) };
}

function validateFiles(files: DatasetFileInput[], model = 'llama3.2-11b'): Promise<ValidationReport> {
  return validateDataset({ model: resolveModel(model), files, maxListedProblems: 1000 });
}

describe('record count (training + validation between 100 and 10,000)', () => {
  it('rejects 99 records and accepts 100', async () => {
    const low = await validateLines(textRecords(99));
    expect(problemsOf(low, 'record-count-too-low')).toEqual([expect.objectContaining({ severity: 'error' })]);
    expect(low.valid).toBe(false);
    const enough = await validateLines(textRecords(100));
    expect(problemsOf(enough, 'record-count-too-low')).toEqual([]);
    expect(enough.valid).toBe(true);
  });

  it('rejects 10,001 records and accepts 10,000', async () => {
    const high = await validateLines(textRecords(10_001));
    expect(problemsOf(high, 'record-count-too-high')).toHaveLength(1);
    expect(high.valid).toBe(false);
    const max = await validateLines(textRecords(10_000));
    expect(problemsOf(max, 'record-count-too-high')).toEqual([]);
  });

  it('adds training and validation records, and leaves test records out', async () => {
    const together = await validateFiles([file('training', 'train.jsonl', textRecords(60)), file('validation', 'val.jsonl', textRecords(40, 500))]);
    expect(together.totals.trainingAndValidationRecords).toBe(100);
    expect(problemsOf(together, 'record-count-too-low')).toEqual([]);

    const withTest = await validateFiles([file('training', 'train.jsonl', textRecords(99)), file('test', 'test.jsonl', textRecords(50, 500))]);
    expect(withTest.totals.records).toBe(149);
    expect(problemsOf(withTest, 'record-count-too-low')).toHaveLength(1);
  });

  it('counts invalid lines as records (Bedrock reads every line)', async () => {
    const report = await validateLines([...textRecords(99), '{broken']);
    expect(report.totals.trainingAndValidationRecords).toBe(100);
    expect(problemsOf(report, 'record-count-too-low')).toEqual([]);
  });

  it('applies the record rules to the test file too', async () => {
    const report = await validateFiles([file('training', 'train.jsonl', textRecords(100)), file('test', 'test.jsonl', [textRecord(900), '{broken'])]);
    expect(problemsOf(report, 'json-syntax')).toEqual([expect.objectContaining({ file: 'test.jsonl', line: 2 })]);
  });
});

describe('file rules', () => {
  it('file-not-found: a file that does not exist', async () => {
    const report = await validateFiles([
      file('training', 'train.jsonl', textRecords(100)),
      { role: 'validation', source: localDatasetSource('/nonexistent/dir/val.jsonl') },
    ]);
    expect(problemsOf(report, 'file-not-found')).toEqual([expect.objectContaining({ file: '/nonexistent/dir/val.jsonl' })]);
    expect(report.files[1].found).toBe(false);
  });

  it('file-empty: a file without records', async () => {
    const report = await validateFiles([file('training', 'train.jsonl', textRecords(100)), file('validation', 'val.jsonl', [])]);
    expect(problemsOf(report, 'file-empty')).toEqual([expect.objectContaining({ file: 'val.jsonl' })]);
  });

  it('byte-order-mark: warns and still parses line 1', async () => {
    const report = await validateDataset({
      model: resolveModel('llama3.2-11b'),
      files: [{ role: 'training', source: inMemoryDatasetSource('bom.jsonl', '\ufeff' + toJsonl(textRecords(100))) }],
    });
    expect(problemsOf(report, 'byte-order-mark')).toHaveLength(1);
    expect(problemsOf(report, 'json-syntax')).toEqual([]);
    expect(report.valid).toBe(true);
  });
});

describe('duplicates', () => {
  it('duplicate-record: names the line it repeats', async () => {
    const lines = textRecords(100);
    lines.push(textRecord(17)); // line 101 repeats line 18
    const report = await validateLines(lines);
    const [dup] = problemsOf(report, 'duplicate-record');
    expect(dup).toMatchObject({ line: 101, severity: 'warning' });
    expect(dup.message).toContain('line 18');
  });

  it('duplicate-across-files: a test record that is also in training', async () => {
    const report = await validateFiles([file('training', 'train.jsonl', textRecords(100)), file('test', 'test.jsonl', [textRecord(500), textRecord(42)])]);
    const [dup] = problemsOf(report, 'duplicate-across-files');
    expect(dup).toMatchObject({ file: 'test.jsonl', line: 2 });
    expect(dup.message).toContain('train.jsonl line 43');
    expect(dup.message).toContain('evaluation');
  });

  it('does not confuse records that differ in one character', async () => {
    const report = await validateLines([...textRecords(100), textRecord(1, '1 '), textRecord(1, '1.')]);
    expect(problemsOf(report, 'duplicate-record')).toEqual([]);
  });
});

describe('best-practice warnings', () => {
  it(`few-records: between 100 and ${FEW_RECORDS_WARNING_BELOW}`, async () => {
    expect(problemsOf(await validateLines(textRecords(FEW_RECORDS_WARNING_BELOW - 1)), 'few-records')).toHaveLength(1);
    expect(problemsOf(await validateLines(textRecords(FEW_RECORDS_WARNING_BELOW)), 'few-records')).toEqual([]);
  });

  it('text-only-share: most records of an image model without an image', async () => {
    const mostlyText = await validateLines([...textRecords(80), ...Array.from({ length: 20 }, (_, i) => imageRecord(i))]);
    const [warning] = problemsOf(mostlyText, 'text-only-share');
    expect(warning.message).toContain('80%');
    expect(mostlyText.totals.textOnlyShare).toBeCloseTo(0.8);
    const mostlyImages = await validateLines([...textRecords(20), ...Array.from({ length: 80 }, (_, i) => imageRecord(i))]);
    expect(problemsOf(mostlyImages, 'text-only-share')).toEqual([]);
  });

  it('text-only-share: suggests a text model when no record has an image', async () => {
    const [warning] = problemsOf(await validateLines(textRecords(100)), 'text-only-share');
    expect(warning.message).toContain('llama3.2-1b');
    expect(problemsOf(await validateLines(textRecords(100), { model: 'llama3.2-1b' }), 'text-only-share')).toEqual([]);
  });

  it('images-not-checked: says image files were not read', async () => {
    const report = await validateLines(Array.from({ length: 100 }, (_, i) => imageRecord(i)));
    expect(problemsOf(report, 'images-not-checked')).toHaveLength(1);
  });
});

describe('answer formatting warnings', () => {
  const withAnswers = (answers: string[]) => answers.map((answer, i) => textRecord(i, answer));

  it('answer-length-mixed: one-word answers and sentences', async () => {
    const answers = [...Array(90).fill('blue'), ...Array(10).fill('The bar on the left is blue.')];
    const [warning] = problemsOf(await validateLines(withAnswers(answers)), 'answer-length-mixed');
    expect(warning.message).toMatch(/90 one-word .* vs 10 sentence/);
    expect(problemsOf(await validateLines(withAnswers(Array(100).fill('blue'))), 'answer-length-mixed')).toEqual([]);
  });

  it('answer-casing-mixed: the same answer in different casing, but not different proper nouns', async () => {
    const mixed = [...Array(50).fill('yes'), ...Array(45).fill('no'), ...Array(5).fill('Yes')];
    const [warning] = problemsOf(await validateLines(withAnswers(mixed)), 'answer-casing-mixed');
    expect(warning.message).toContain('"Yes"');
    const names = [...Array(50).fill('yes'), ...Array(50).fill('Paris')];
    expect(problemsOf(await validateLines(withAnswers(names)), 'answer-casing-mixed')).toEqual([]);
  });

  it('answer-punctuation-mixed: short answers with and without a final period', async () => {
    const mixed = [...Array(80).fill('Red'), ...Array(20).fill('Red.')];
    expect(problemsOf(await validateLines(withAnswers(mixed)), 'answer-punctuation-mixed')).toHaveLength(1);
  });

  it('answer-number-format-mixed: digits and number words, separators, percent styles', async () => {
    const digitsAndWords = [...Array(90).fill('2'), ...Array(10).fill('two')];
    expect(problemsOf(await validateLines(withAnswers(digitsAndWords)), 'answer-number-format-mixed')[0].message).toContain('in words');
    const separators = [...Array(50).fill('12,500'), ...Array(50).fill('12500')];
    expect(problemsOf(await validateLines(withAnswers(separators)), 'answer-number-format-mixed')[0].message).toContain('thousands');
    const percent = [...Array(50).fill('45%'), ...Array(50).fill('45 percent')];
    expect(problemsOf(await validateLines(withAnswers(percent)), 'answer-number-format-mixed')[0].message).toContain('percent');
    const years = [...Array(50).fill('1,500'), ...Array(50).fill('2019')];
    expect(problemsOf(await validateLines(withAnswers(years)), 'answer-number-format-mixed')).toEqual([]);
  });

  it('ignores a minority below the thresholds', async () => {
    const rare = [...Array(98).fill('2'), ...Array(2).fill('two')];
    expect(problemsOf(await validateLines(withAnswers(rare)), 'answer-number-format-mixed')).toEqual([]);
  });
});
