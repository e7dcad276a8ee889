/**
 * `llama-finetune validate` over a run's files together (issue 15): training, validation and
 * test given on the command line or by a run request apply the workflow's cross-file rules
 * (the 100..10,000 records of training + validation, duplicates across files) through the
 * shared run-files module the validate-dataset Lambda uses; and a file prepare should convert
 * first (LLaVA, VQAv2, ChartQA, CSV, a JSON array) gets one message naming the prepare command.
 */
import { writeFileSync } from 'fs';
import * as path from 'path';
import { ValidationReport } from '../../lambda/shared/validation';
import { startLocalAws } from '../support/local-aws';
import { runCliFromSources } from '../support/cli-from-sources';
import { runValidateCommand } from './validate-command';
import { DATA_BUCKET, tempDir, textRecord, textRecords, toJsonl } from './fixtures';

const run = runValidateCommand;

let dir: string;
let cleanup: () => void;
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
beforeAll(() => ({ dir, cleanup } = tempDir('cli-validate-files-')));
afterAll(() => cleanup());

describe('training, validation and test together', () => {
  it('counts training + validation toward the 100-record minimum, as the workflow does', async () => {
    const train = file('train60.jsonl', toJsonl(textRecords(60)));
    const validation = file('val60.jsonl', toJsonl(textRecords(60, 1000)));
    const alone = await run([train, '--model', 'llama3.2-1b']);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain('[record-count-too-low]');

    const together = await run([train, '--validation', validation, '--model', 'llama3.2-1b', '--json']);
    expect(together.stderr).toBe('');
    expect(together.code).toBe(0);
    const report = JSON.parse(together.stdout) as ValidationReport;
    expect(report.files.map((f) => [f.name, f.role, f.records])).toEqual([[train, 'training', 60], [validation, 'validation', 60]]);
    expect(report.totals.errors).toBe(0);
  });

  it('finds a record repeated across files and names the other file and line; test records do not count', async () => {
    const train = file('train.jsonl', toJsonl(textRecords(100)));
    const test = file('test.jsonl', toJsonl([textRecord(5000), textRecord(7)]));
    const { code, stdout } = await run([train, '--test', test, '--model', 'llama3.2-1b', '--json']);
    const report = JSON.parse(stdout) as ValidationReport;
    const across = report.problems.warnings.filter((p) => p.rule === 'duplicate-across-files');
    expect(across).toHaveLength(1);
    expect(across[0]).toMatchObject({ file: test, line: 2 });
    expect(across[0].message).toContain(`${train} line 8`);
    expect(report.files.map((f) => f.role)).toEqual(['training', 'test']);
    expect(across[0].message).toContain('evaluation score');
    expect(code).toBe(0);
  });

  it('rejects a file named twice and --bucket without --request', async () => {
    const train = file('t.jsonl', toJsonl(textRecords(100)));
    const twice = await run([train, '--validation', train, '--model', 'llama3.2-1b']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('is named twice');
    const bucket = await run([train, '--bucket', 'b', '--model', 'llama3.2-1b']);
    expect(bucket.code).toBe(2);
    expect(bucket.stderr).toContain('--bucket applies to --request');
  });
});

describe('--request: the files, model and hyperparameters a run request names', () => {
  it('validates the local files beside the request with its model and keeps its hyperparameters', async () => {
    file('r-train.jsonl', toJsonl(textRecords(80)));
    file('r-val.jsonl', toJsonl(textRecords(30, 500)));
    file('r-test.jsonl', toJsonl([textRecord(3)]));
    const request = file(
      'request.json',
      JSON.stringify({ name: 'local-run', model: 'llama3.2-3b', trainingData: 'r-train.jsonl', validationData: 'r-val.jsonl', testData: 'r-test.jsonl', hyperParameters: { epochCount: 2 } }),
    );
    const { code, stdout, stderr } = await run(['--request', request, '--json']);
    expect(stderr).toBe('');
    const report = JSON.parse(stdout) as ValidationReport;
    expect(report.model.name).toBe('llama3.2-3b');
    expect(report.files.map((f) => [path.basename(f.name), f.role])).toEqual([['r-train.jsonl', 'training'], ['r-val.jsonl', 'validation'], ['r-test.jsonl', 'test']]);
    expect(report.hyperParameters.values.epochCount).toBe(2);
    expect(report.problems.warnings.map((p) => p.rule)).toContain('duplicate-across-files');
    expect(code).toBe(0);
  });

  it('reports every problem of a bad request with the rules the workflow uses, exit 1', async () => {
    const request = file('bad-request.json', JSON.stringify({ name: 'bad name!', model: 'llama3.1-8b', trainingData: 'x.csv' }));
    const { code, stderr, stdout } = await run(['--request', request]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('[name-pattern]');
    expect(stderr).toContain('[unknown-model]');
    expect(stderr).toContain('[data-extension]');
  });

  it('checks an experiment: its variants\' problems by field path (exit 1); a valid one validates the common data once', async () => {
    file('x-train.jsonl', toJsonl(textRecords(100)));
    const common = { name: 'sweep', model: 'llama3.2-1b', trainingData: 'x-train.jsonl' };
    const bad = file('bad-experiment.json', JSON.stringify({ ...common, experiment: { variants: [{ name: 'a' }, { name: 'b', hyperParameters: { learningRate: 2 } }] } }));
    const refused = await run(['--request', bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('experiment.variants[1].hyperParameters.learningRate');
    expect(refused.stderr).toContain('[hyperparameter-range]');
    const tooMany = file('big-experiment.json', JSON.stringify({ ...common, experiment: { grid: { epochCount: [1, 2, 3], learningRate: [0.0001, 0.0002, 0.0003] } } }));
    expect((await run(['--request', tooMany])).stderr).toContain('[experiment-too-many-variants]');
    const good = file('good-experiment.json', JSON.stringify({ ...common, experiment: { grid: { epochCount: [1, 2] } } }));
    const { code, stdout } = await run(['--request', good, '--json']);
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as ValidationReport).files.map((f) => path.basename(f.name))).toEqual(['x-train.jsonl']);
  });

  it('says to pass --bucket when a key is neither beside the request nor locatable in S3', async () => {
    const request = file('s3-request.json', JSON.stringify({ name: 'r', model: 'llama3.2-1b', trainingData: 'datasets/train.jsonl' }));
    const { code, stderr } = await run(['--request', request]);
    expect(code).toBe(2);
    expect(stderr).toContain('pass --bucket <dataset bucket>');
  });

  it('reads the keys from the dataset bucket with --bucket (LocalS3)', async () => {
    const aws = await startLocalAws({ buckets: [DATA_BUCKET] });
    try {
      aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(textRecords(90)));
      aws.s3.putObject(DATA_BUCKET, 'datasets/validation.jsonl', toJsonl([...textRecords(9, 300), textRecord(4)]));
      const request = file('bucket-request.json', JSON.stringify({ name: 'r', trainingData: 'datasets/train.jsonl', validationData: `s3://${DATA_BUCKET}/datasets/validation.jsonl` }));
      const { code, stdout } = await run(['--request', request, '--bucket', DATA_BUCKET, '--model', 'llama3.2-1b', '--json']);
      const report = JSON.parse(stdout) as ValidationReport;
      expect(report.files.map((f) => [f.name, f.records])).toEqual([[`s3://${DATA_BUCKET}/datasets/train.jsonl`, 90], [`s3://${DATA_BUCKET}/datasets/validation.jsonl`, 10]]);
      expect(report.model.name).toBe('llama3.2-1b');
      expect(report.problems.warnings.find((p) => p.rule === 'duplicate-across-files')?.line).toBe(10);
      expect(code).toBe(0);
    } finally {
      await aws.stop();
    }
  });
});

describe('a dataset prepare converts, given to validate', () => {
  const many = (n: number, make: (i: number) => object) => Array.from({ length: n }, (_, i) => make(i));
  it.each([
    ['a LLaVA JSON array', 'llava.json', () => JSON.stringify(many(300, (i) => ({ id: `${i}`, image: `${i}.jpg`, conversations: [{ from: 'human', value: '<image>\nq' }, { from: 'gpt', value: 'a' }] })), null, 2), '--format llava'],
    ['LLaVA JSON Lines', 'llava.jsonl', () => toJsonl(many(300, (i) => ({ id: `${i}`, conversations: [{ from: 'human', value: 'q' }, { from: 'gpt', value: 'a' }] }))), '--format llava'],
    ['a ChartQA JSON array', 'chartqa.json', () => JSON.stringify(many(300, (i) => ({ imgname: `${i}.png`, query: 'q', label: 'a' }))), '--format chartqa'],
    ['a VQAv2 questions file', 'v2_questions.json', () => JSON.stringify({ info: {}, data_subtype: 'train2014', questions: many(300, (i) => ({ image_id: i, question: 'q', question_id: i })) }), '--format vqav2'],
    ['a VQAv2 annotations file', 'v2_annotations.json', () => JSON.stringify({ info: {}, annotations: many(300, (i) => ({ question_id: i, answers: [] })) }), '--annotations'],
    ['a CSV file', 'data.csv', () => `image,question,answer\n${Array.from({ length: 300 }, (_, i) => `${i}.png,q,a`).join('\n')}\n`, '--format csv'],
    ['a JSON array of Bedrock records', 'records.json', () => JSON.stringify(textRecords(300)), "jq -c '.[]'"],
  ])('%s: one message naming what to run, not a json-syntax error per line', async (_what, name, text, expected) => {
    const input = file(name, text());
    const { code, stdout, stderr } = await run([input, '--model', 'llama3.2-11b']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain(expected);
    expect(stderr).not.toContain('json-syntax');
    if (expected.startsWith('--format')) expect(stderr).toContain(`llama-finetune prepare ${input} ${expected}`);
  });

  it('still validates Bedrock JSONL whose records mention those field names in their text', async () => {
    const input = file('mentions.jsonl', toJsonl(textRecords(100).map((r, i) => (i === 0 ? textRecord(0, '"conversations": [], "imgname": "x", "query": 1') : r))));
    const { code, stderr } = await run([input, '--model', 'llama3.2-1b']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('as a process: a LLaVA file gets the prepare command and exit code 1', () => {
    const input = file('process-llava.json', JSON.stringify(many(50, (i) => ({ id: `${i}`, conversations: [{ from: 'human', value: 'q' }, { from: 'gpt', value: 'a' }] }))));
    const result = runCliFromSources(['validate', input, '--model', 'llama3.2-11b']);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`is a LLaVA JSON array, not Bedrock conversation JSONL`);
    expect(result.stderr).toContain(`llama-finetune prepare ${input} --format llava`);
  });
});

describe('a dataset prepare converts, in S3', () => {
  it('is told from its first bytes (one ranged GET); an empty object is left to the validator', async () => {
    const aws = await startLocalAws({ buckets: [DATA_BUCKET] });
    try {
      aws.s3.putObject(DATA_BUCKET, 'raw/chartqa.json', JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ imgname: `${i}.png`, query: 'q', label: 'a' }))));
      aws.s3.putObject(DATA_BUCKET, 'raw/empty.jsonl', '');
      const chart = await run([`s3://${DATA_BUCKET}/raw/chartqa.json`, '--model', 'llama3.2-11b']);
      expect(chart.code).toBe(1);
      expect(chart.stdout).toBe('');
      expect(chart.stderr).toContain(`s3://${DATA_BUCKET}/raw/chartqa.json is a ChartQA JSON array`);
      expect(chart.stderr).toContain('--format chartqa');
      const empty = await run([`s3://${DATA_BUCKET}/raw/empty.jsonl`, '--model', 'llama3.2-1b']);
      expect(empty.stderr).toBe('');
      expect(empty.stdout).toContain('[file-empty]');
      expect(empty.code).toBe(1);
    } finally {
      await aws.stop();
    }
  });
});
