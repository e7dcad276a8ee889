/**
 * What `llama-finetune prepare` checks and tells (issue 15): image records need --account (or
 * an explicit --no-bucket-owner), the validate command it prints works when pasted, CSV files
 * with other delimiters, and the empty-answer policy it shares with validate.
 */
import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as path from 'path';
import { runPrepare } from '../../cli/commands/prepare';
import { runValidate } from '../../cli/commands/validate';
import { ValidationReport } from '../../lambda/shared/validation';
import { CLI_FROM_SOURCES, REPOSITORY_ROOT, runCliFromSources } from '../support/cli-from-sources';
import { CapturedIo, TempFolder, captureIo, firstQuestion, imageOf, readRecords, tempFolder } from './prepare-fixtures';

const ACCOUNT = '111122223333';
let dir: TempFolder;
let io: CapturedIo;
beforeEach(() => {
  dir = tempFolder();
  io = captureIo();
});
afterEach(() => dir.cleanup());

const run = (...args: string[]) => runPrepare(args, io);

async function validateJson(args: string[]): Promise<{ code: number; report: ValidationReport }> {
  let out = '';
  const code = await runValidate([...args, '--json'], { stdout: (t) => void (out += t), stderr: () => undefined, stderrIsTty: false, createS3Client: () => { throw new Error('no S3 here'); } });
  return { code, report: JSON.parse(out) as ValidationReport };
}

describe('image records and --account', () => {
  test('without --account, image records are a usage error that says why, and nothing is written', async () => {
    dir.image('a.png', 'png');
    const input = dir.write('d.csv', 'image,question,answer\na.png,Q1,A1\n,Q2,A2\n');
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--out', out)).toBe(2);
    expect(io.err()).toMatch(/1 example\(s\) have an image.*image-bucket-owner-missing.*--account <12-digit id.*--no-bucket-owner/);
    expect(existsSync(out)).toBe(false);
  });

  test('--no-bucket-owner writes them without bucketOwner, on purpose, and still warns', async () => {
    dir.image('a.png', 'png');
    const input = dir.write('d.csv', 'image,question,answer\na.png,Q1,A1\n');
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--no-bucket-owner', '--out', out, '--split', '1,0')).toBe(0);
    expect(imageOf(readRecords(path.join(out, 'train.jsonl'))[0])!.source.s3Location).toEqual({ uri: 's3://b-1/images/a.png' });
    expect(io.err()).toMatch(/warning: the image references have no bucketOwner/);
    expect(io.out()).not.toContain('--account');
  });

  test('text-only data needs no --account', async () => {
    const input = dir.write('d.csv', 'image,question,answer\n,Q1,A1\n');
    expect(await run(input, '--bucket', 'b-1', '--out', dir.path('out'), '--split', '1,0')).toBe(0);
    expect(io.out()).toContain('--model llama3.2-1b');
  });

  test.each([
    [['--account', ACCOUNT, '--no-bucket-owner'], /--no-bucket-owner and --account contradict/],
    [['--account', ACCOUNT, '--model', 'llama3.2-3b'], /--model llama3\.2-3b reads text only, but 1 example\(s\) have an image/],
    [['--account', ACCOUNT, '--model', 'llama3.1-8b'], /--model llama3\.1-8b is not a Llama 3\.2 model/],
  ])('%j is a usage error', async (args, message) => {
    dir.image('a.png', 'png');
    const input = dir.write('d.csv', 'image,question,answer\na.png,Q1,A1\n');
    expect(await run(input, '--bucket', 'b-1', '--out', dir.path('out'), ...args)).toBe(2);
    expect(io.err()).toMatch(message);
  });
});

describe('CSV delimiters', () => {
  test('a semicolon CSV is detected, reported, and a comma inside a field stays text', async () => {
    dir.image('a.png', 'png');
    const input = dir.write('d.csv', 'image;question;answer\na.png;What is 1,5 + 1?;2,5\n;Q2;"x;y"\n');
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', out, '--split', '1,0')).toBe(0);
    const records = readRecords(path.join(out, 'train.jsonl'));
    const answers = new Map(records.map((r) => [firstQuestion(r), (r.messages[1].content[0] as { text: string }).text]));
    expect(answers).toEqual(new Map([['What is 1,5 + 1?', '2,5'], ['Q2', 'x;y']]));
    expect(io.out()).toMatch(/\(csv, delimiter ; \(detected; --delimiter to change\), 2 example\(s\) read\)/);
  });

  test('tab-separated files (.tsv) are read as CSV with a detected tab', async () => {
    const input = dir.write('d.tsv', 'image\tquestion\tanswer\n\tQ1, with a comma\tA1\n');
    expect(await run(input, '--bucket', 'b-1', '--out', dir.path('out'), '--split', '1,0')).toBe(0);
    expect(readRecords(dir.path('out', 'train.jsonl')).map(firstQuestion)).toEqual(['Q1, with a comma']);
    expect(io.out()).toContain('delimiter tab (detected');
  });

  test('--delimiter names it; a wrong one says how to fix the field count', async () => {
    const input = dir.write('d.csv', 'image|question|answer\n|Q1;x|A1\n');
    expect(await run(input, '--bucket', 'b-1', '--out', dir.path('out'), '--split', '1,0', '--delimiter', '|')).toBe(0);
    expect(io.out()).toMatch(/\(csv, delimiter \|, 1 example/);
    const semicolons = dir.write('s.csv', 'image;question;answer\n;a;b;c\n');
    io = captureIo();
    expect(await run(semicolons, '--bucket', 'b-1', '--out', dir.path('out2'), '--split', '1,0')).toBe(1);
    expect(io.err()).toMatch(/s\.csv line 2: has 4 fields but the header has 3; wrap fields that contain the delimiter \(;\) in double quotes, or name the delimiter with --delimiter/);
    io = captureIo();
    expect(await run(semicolons, '--bucket', 'b-1', '--out', dir.path('out3'), '--delimiter', 'ab')).toBe(2);
    expect(io.err()).toMatch(/--delimiter "ab" must be one character/);
  });
});

describe('empty answers: one policy for prepare and validate', () => {
  test('prepare keeps them with a warning naming the rule and where; validate warns about the same records', async () => {
    const rows = ['image,question,answer', ...Array.from({ length: 120 }, (_, i) => `,Question ${i}?,${i === 5 || i === 9 ? '  ' : `Answer ${i}`}`)];
    const input = dir.write('d.csv', rows.join('\n'));
    const llava = dir.write('l.json', JSON.stringify([{ id: 'e1', conversations: [{ from: 'human', value: 'Q' }, { from: 'gpt', value: ' ' }] }]));
    const out = dir.path('out');
    expect(await run(input, '--bucket', 'b-1', '--out', out, '--split', '1,0')).toBe(0);
    expect(io.err()).toMatch(/warning: 2 example\(s\) have an empty answer, kept as validate keeps them \(a warning, answer-empty\).*d\.csv line 7; .*d\.csv line 11\)/);

    const { code, report } = await validateJson([path.join(out, 'train.jsonl'), '--model', 'llama3.2-1b']);
    expect(code).toBe(0);
    expect(report.problems.warnings.filter((p) => p.rule === 'answer-empty')).toHaveLength(2);
    expect(report.problems.errors).toEqual([]);

    io = captureIo();
    expect(await run(llava, '--bucket', 'b-1', '--out', dir.path('out2'), '--split', '1,0')).toBe(0);
    expect(io.err()).toMatch(/1 example\(s\) have an empty answer.*l\.json \[0\] \(id "e1"\)/);
  });
});

describe('the validate command prepare prints', () => {
  test('works when pasted into a shell, with the model, the account and every split (spawned processes)', () => {
    const examples = Array.from({ length: 130 }, (_, i) => {
      dir.image(`my charts/png/c${i}.png`, 'png', 64, 48);
      return { imgname: `c${i}.png`, query: `What is the value of bar ${i}?`, label: String(i) };
    });
    const input = dir.write("my charts/it's train.json", JSON.stringify(examples));
    const out = dir.path('prepared data');
    const prepared = runCliFromSources(['prepare', input, '--bucket', 'b-1', '--account', ACCOUNT, '--out', out]);
    expect(prepared.stderr).toBe('');
    expect(prepared.status).toBe(0);
    const command = /^Check it: (llama-finetune validate .*)$/m.exec(prepared.stdout)![1];
    expect(command).toContain('--model llama3.2-11b --account 111122223333');
    expect(command).toContain(`--validation '${path.join(out, 'validation.jsonl')}'`);

    const validated = spawnSync('sh', ['-c', command.replace(/^llama-finetune /, `${CLI_FROM_SOURCES.join(' ')} `)], { cwd: REPOSITORY_ROOT, encoding: 'utf8', timeout: 110_000 });
    expect(validated.stderr).toBe('');
    expect(validated.stdout).toContain('Dataset check for llama3.2-11b: VALID');
    expect(validated.status).toBe(0);
  });
});
