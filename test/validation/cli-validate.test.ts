/**
 * `llama-finetune validate`: exit codes, text and JSON output, usage errors, local images via
 * --image-root, an s3:// dataset against LocalS3, the progress line, and one real process.
 */
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { S3Client } from '@aws-sdk/client-s3';
import { VALIDATE_USAGE } from '../../cli/commands/validate';
import { createS3ClientForImageReads, DEFAULT_IMAGE_CONCURRENCY, ValidationReport } from '../../lambda/shared/validation';
import { startLocalAws } from '../support/local-aws';
import { CLI_FROM_SOURCES, REPOSITORY_ROOT, runCliFromSources } from '../support/cli-from-sources';
import { runValidateCommand } from './validate-command';
import { imageBytes } from '../support/images';
import { DATA_BUCKET, imageRecord, tempDir, textRecord, textRecords, toJsonl, writeImage } from './fixtures';

const run = runValidateCommand;

let dir: string;
let cleanup: () => void;
let validFile: string;
let invalidFile: string;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('cli-validate-'));
  validFile = path.join(dir, 'valid.jsonl');
  writeFileSync(validFile, toJsonl(textRecords(120)));
  invalidFile = path.join(dir, 'invalid.jsonl');
  const lines: (object | string)[] = textRecords(119);
  lines.splice(41, 0, '{"schemaVersion": "bedrock-conversation-2024", "messages": [');
  writeFileSync(invalidFile, toJsonl(lines));
});
afterAll(() => cleanup());

describe('exit codes and output', () => {
  it('exits 0 and prints a readable report for valid data', async () => {
    const { code, stdout, stderr } = await run([validFile, '--model', 'llama3.2-3b']);
    expect(code).toBe(0);
    expect(stdout).toContain('Dataset check for llama3.2-3b: VALID');
    expect(stdout).toContain(validFile);
    expect(stderr).toBe('');
  });

  it('exits 1 and names the line and rule for invalid data', async () => {
    const { code, stdout } = await run([invalidFile, '--model', 'meta.llama3-2-11b-instruct-v1:0:128k']);
    expect(code).toBe(1);
    expect(stdout).toContain(`${invalidFile} line 42 [json-syntax]`);
  });

  it('prints the JSON report with --json', async () => {
    const { code, stdout } = await run([invalidFile, '--model', 'llama3.2-1b', '--json', '--max-problems', '5']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ValidationReport;
    expect(report.valid).toBe(false);
    expect(report.model.name).toBe('llama3.2-1b');
    expect(report.problems.errors[0]).toMatchObject({ rule: 'json-syntax', line: 42, file: invalidFile });
    expect(report.problems.maxListed).toBe(5);
    expect(report.files[0].role).toBe('training');
  });

  it('exits 0 with warnings only', async () => {
    const file = path.join(dir, 'warnings.jsonl');
    writeFileSync(file, toJsonl([...textRecords(120), textRecord(3)]));
    const { code, stdout } = await run([file, '--model=llama3.2-1b']);
    expect(code).toBe(0);
    expect(stdout).toContain('[duplicate-record]');
  });

  it('applies the 100-record minimum to the single file', async () => {
    const file = path.join(dir, 'small.jsonl');
    writeFileSync(file, toJsonl(textRecords(20)));
    const { code, stdout } = await run([file, '--model', 'llama3.2-1b']);
    expect(code).toBe(1);
    expect(stdout).toContain('[record-count-too-low]');
  });

  it('prints usage with --help', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain(VALIDATE_USAGE);
  });
});

describe('bad usage exits 2 with a clear message', () => {
  it.each([
    ['an unknown flag', () => [validFile, '--model', 'llama3.2-1b', '--colour'], "Unknown option '--colour'"],
    ['a missing file', () => [path.join(dir, 'nope.jsonl'), '--model', 'llama3.2-1b'], 'file not found'],
    ['an unknown model', () => [validFile, '--model', 'llama3.1-8b'], "Unknown model 'llama3.1-8b'"],
    ['no model', () => [validFile], '--model is required'],
    ['no file', () => ['--model', 'llama3.2-1b'], 'Name the JSONL file'],
    ['two positional files', () => [validFile, invalidFile, '--model', 'llama3.2-1b'], 'give the others with --validation and --test'],
    ['a bad account', () => [validFile, '--model', 'llama3.2-1b', '--account', '12345'], '12-digit'],
    ['a bad concurrency', () => [validFile, '--model', 'llama3.2-1b', '--concurrency', '0'], '--concurrency must be'],
    ['a missing image root', () => [validFile, '--model', 'llama3.2-11b', '--image-root', path.join(dir, 'none')], 'is not a directory'],
    ['a flag without value', () => [validFile, '--model'], '--model needs a value'],
  ])('%s', async (_what, args, message) => {
    const { code, stdout, stderr } = await run(args());
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stdout).toBe('');
  });
});

describe('images', () => {
  it('reads images from --image-root/<bucket>/<key>', async () => {
    const root = path.join(dir, 'images-root');
    const lines: object[] = Array.from({ length: 100 }, (_, i) => imageRecord(i, { uri: writeImage(root, `s3://${DATA_BUCKET}/img/${i}.png`, 'png', 64, 64) }));
    lines.push(imageRecord(100, { uri: `s3://${DATA_BUCKET}/img/missing.png` }));
    lines.push(imageRecord(101, { uri: writeImage(root, `s3://${DATA_BUCKET}/img/tiny.png`, 'png', 4, 4) }));
    const file = path.join(dir, 'images.jsonl');
    writeFileSync(file, toJsonl(lines));
    const { code, stdout } = await run([file, '--model', 'llama3.2-11b', '--image-root', root, '--json', '--concurrency', '4']);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as ValidationReport;
    expect(report.problems.errors.map((p) => [p.line, p.rule])).toEqual([
      [101, 'image-not-found'],
      [102, 'image-dimensions'],
    ]);
    expect(report.totals.uniqueImagesChecked).toBe(102);
  });

  it('skips image reads with --skip-images and says so', async () => {
    const file = path.join(dir, 'skip.jsonl');
    writeFileSync(file, toJsonl(Array.from({ length: 100 }, (_, i) => imageRecord(i))));
    const { code, stdout } = await run([file, '--model', 'llama3.2-11b', '--skip-images']);
    expect(code).toBe(0);
    expect(stdout).toContain('[images-not-checked]');
  });

  it('validates an s3:// dataset and its images in S3 (LocalS3), allowing only the dataset bucket by default', async () => {
    const aws = await startLocalAws({ buckets: [DATA_BUCKET, 'other-bucket'] });
    try {
      const lines: object[] = [];
      for (let i = 0; i < 100; i++) {
        aws.s3.putObject(DATA_BUCKET, `images/${i}.webp`, imageBytes('webp', 100 + i, 50));
        lines.push(imageRecord(i, { uri: `s3://${DATA_BUCKET}/images/${i}.webp`, format: 'webp' }));
      }
      aws.s3.putObject('other-bucket', 'x.png', imageBytes('png', 50, 50));
      lines.push(imageRecord(100, { uri: 's3://other-bucket/x.png' }));
      aws.s3.putObject(DATA_BUCKET, 'datasets/train.jsonl', toJsonl(lines));
      const clients: S3Client[] = [];
      const { code, stdout } = await run([`s3://${DATA_BUCKET}/datasets/train.jsonl`, '--model', 'llama3.2-90b', '--json', '--account', '111122223333'], {
        createS3Client: (concurrency) => {
          const client = createS3ClientForImageReads(concurrency);
          clients.push(client);
          return client;
        },
      });
      expect(code).toBe(1);
      const report = JSON.parse(stdout) as ValidationReport;
      expect(report.problems.errors.map((p) => [p.line, p.rule])).toEqual([[101, 'image-location']]);
      expect(report.totals.uniqueImagesChecked).toBe(100);
      // The dataset, one ranged read per image, and an end read for the first images only (read before their lengths were known: all small).
      const gets = aws.callLog.count({ operation: 'GetObject', succeeded: true });
      // (+1: the ranged read of the dataset's first 64 KiB that tells a file prepare should convert first.)
      expect(gets).toBeGreaterThanOrEqual(2 + 100);
      expect(gets).toBeLessThanOrEqual(2 + 100 + DEFAULT_IMAGE_CONCURRENCY);
      expect(aws.callLog.operations()).toEqual(['GetObject', 'HeadObject']);
      expect(clients).toHaveLength(1);

      const missing = await run([`s3://${DATA_BUCKET}/datasets/none.jsonl`, '--model', 'llama3.2-90b']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('does not exist');
    } finally {
      await aws.stop();
    }
  });
});

describe('progress', () => {
  it('shows a progress line on a terminal once reading takes long, and clears it', async () => {
    let clock = 0;
    const { stderr, code } = await run([validFile, '--model', 'llama3.2-1b'], { stderrIsTty: true, now: () => (clock += 2000) });
    expect(code).toBe(0);
    expect(stderr).toMatch(/validating .*valid\.jsonl: 120 lines \(100%\)/);
    expect(stderr.endsWith('\r\x1b[K')).toBe(true);
  });

  it('shows nothing when stderr is not a terminal', async () => {
    let clock = 0;
    const { stderr } = await run([validFile, '--model', 'llama3.2-1b'], { stderrIsTty: false, now: () => (clock += 600) });
    expect(stderr).toBe('');
  });
});

describe('as a process', () => {
  it('runs through the llama-finetune dispatcher from the sources, with the command README gives', () => {
    expect(readFileSync(path.join(REPOSITORY_ROOT, 'README.md'), 'utf8')).toContain(`From this repository: \`${CLI_FROM_SOURCES.join(' ')} <command> ...\``);
    const result = runCliFromSources(['validate', invalidFile, '--model', 'llama3.2-3b']);
    expect(result.stderr).not.toMatch(/llama-finetune|Error/);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('line 42 [json-syntax]');
  });
});

describe('hostile data (issue 10 case 8)', () => {
  const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
  let hostileFile: string;
  beforeAll(() => {
    hostileFile = path.join(dir, 'hostile.jsonl');
    const lines: (object | string)[] = textRecords(116);
    const user = { role: 'user', content: [{ text: 'q' }] };
    lines.splice(3, 0, { schemaVersion: 'bedrock-conversation-2024', messages: [user, { role: 'assistant', content: [{ text: 'a' }] }], '\u001b]0;owned\u0007\u001b[2J': 1 });
    lines.splice(5, 0, { schemaVersion: 'bedrock-conversation-2024', messages: [user, { role: '\u009b31m\u202eresu', content: [{ text: 'a' }] }] });
    lines.splice(7, 0, '\u001b[31m{not json');
    lines.splice(9, 0, `{"schemaVersion": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    const text = toJsonl(lines);
    // Line 11: a record with an invalid UTF-8 byte (0xff) inside its answer.
    const bytes = Buffer.from(text, 'utf8');
    const at = bytes.indexOf(Buffer.from('\n')); // end of line 1
    const bad = Buffer.from(JSON.stringify(textRecord(9999, 'caf\u00e9')), 'utf8');
    bad[bad.indexOf(0xc3)] = 0xff;
    writeFileSync(hostileFile, Buffer.concat([bytes.subarray(0, at + 1), bad, Buffer.from('\n'), bytes.subarray(at + 1)]));
  });

  it('reports escapes, controls and bidi overrides escaped, deep nesting and invalid UTF-8 by rule and line, and never crashes', async () => {
    for (const json of [false, true]) {
      const { code, stdout, stderr } = await run([hostileFile, '--model', 'llama3.2-3b', ...(json ? ['--json'] : [])]);
      expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
      expect(stdout).not.toMatch(CONTROLS);
      if (!json) continue;
      const report = JSON.parse(stdout) as ValidationReport;
      const problems = [...report.problems.errors, ...report.problems.warnings];
      const at = (rule: string) => problems.filter((p) => p.rule === rule).map((p) => p.line);
      expect(at('invalid-utf8')).toEqual([2]);
      expect(at('json-too-deep')).toEqual([11]);
      expect(at('json-syntax')).toEqual([9]);
      expect(problems.find((p) => p.rule === 'unknown-field')!.message).toContain('"\\u001b]0;owned\\u0007\\u001b[2J"');
      expect(problems.find((p) => p.rule === 'role-invalid')!.message).toContain('"\\u009b31m\\u202eresu"');
      expect(problems.find((p) => p.rule === 'invalid-utf8')).toMatchObject({ line: 2, message: expect.stringContaining('is 0xff, which is not valid UTF-8') });
    }
  });
});
