/**
 * `llama-finetune score`: output (text and --json), exit codes for malformed lines and bad
 * usage, in-process, plus one real process through the CLI dispatcher.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runScore, SCORE_USAGE } from '../../cli/commands/score';
import { f1Score } from '../../lambda/shared/metrics';
import { runCliFromSources } from '../support/cli-from-sources';

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(args: string[]): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await runScore(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

let dir: string;
let goodFile: string;
/** Built so the answer is known: 2 exact answers, 1 wrong, 1 half right (F1 2/3), 1 empty. */
const GOOD_LINES = [
  { prediction: 'Paris', references: ['paris', 'Paris, France'] },
  { prediction: 'The blue bar.', reference: 'blue bar' },
  { prediction: 'red', references: ['green'] },
  { prediction: 'tall blue bar', references: ['blue bar'] },
  { prediction: '', references: ['seven'] },
];
const EXPECTED_F1 = (100 * (1 + 1 + 0 + f1Score('tall blue bar', 'blue bar') + 0)) / 5;
const EXPECTED_EXACT_MATCH = (100 * 2) / 5;

function writeLines(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n'));
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'score-command-'));
  goodFile = writeLines('good.jsonl', ['', ...GOOD_LINES.map((l) => JSON.stringify(l)), '', '']);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('scoring a file', () => {
  it('prints the JSON summary with --json', async () => {
    const { code, stdout, stderr } = await run([goodFile, '--json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as { f1: number; exactMatch: number; count: number };
    expect(Object.keys(summary).sort()).toEqual(['count', 'exactMatch', 'f1']);
    expect(summary.count).toBe(5);
    expect(summary.f1).toBeCloseTo(EXPECTED_F1, 9);
    expect(summary.exactMatch).toBeCloseTo(EXPECTED_EXACT_MATCH, 9);
  });

  it('prints one readable line without --json', async () => {
    const { code, stdout } = await run([goodFile]);
    expect(code).toBe(0);
    expect(stdout).toBe(`F1 ${EXPECTED_F1.toFixed(2)}  exact match ${EXPECTED_EXACT_MATCH.toFixed(2)}  (5 records)\n`);
  });
});

describe('malformed input exits 1 naming file and line', () => {
  it('reports each malformed line and prints no score', async () => {
    const file = writeLines('bad.jsonl', [
      JSON.stringify(GOOD_LINES[0]),
      '{"prediction": "x", "references": [',
      '',
      '{"references": ["x"]}',
      '{"prediction": "x", "references": []}',
      '{"prediction": "x", "references": ["a", null]}',
    ]);
    const { code, stdout, stderr } = await run([file, '--json']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^${escapeRegExp(file)}:2: not valid JSON`));
    expect(lines[1]).toBe(`${file}:4: "prediction" is missing; each line needs the model's answer as "prediction": "..."`);
    expect(lines[2]).toBe(`${file}:5: "references" is empty; give at least one reference answer`);
    expect(lines[3]).toBe(`${file}:6: "references"[1] must be a string, got null`);
    expect(lines[4]).toContain('4 malformed line(s)');
  });

  it('lists the first 20 malformed lines and counts the rest', async () => {
    const file = writeLines('many-bad.jsonl', Array.from({ length: 25 }, () => '{"prediction": 1, "reference": "x"}'));
    const { code, stderr } = await run([file]);
    expect(code).toBe(1);
    expect(stderr.split('\n').filter((l) => l.startsWith(`${file}:`))).toHaveLength(20);
    expect(stderr).toContain('... and 5 more malformed lines');
  });

  it('treats a file without records as an error', async () => {
    const file = writeLines('blank.jsonl', ['', '  ', '']);
    const { code, stderr } = await run([file]);
    expect(code).toBe(1);
    expect(stderr).toBe(`${file}: no records to score (the file is empty or holds only blank lines).\n`);
  });
});

describe('usage', () => {
  it.each([
    [[], 'Name the predictions JSONL file to score.'],
    [['a.jsonl', 'b.jsonl'], 'Score one file at a time'],
    [['--csv', 'a.jsonl'], "Unknown option '--csv'."],
  ])('exits 2 for %j with the problem and the way to full help, not the whole manual', async (args, message) => {
    const { code, stderr } = await run(args as string[]);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain("Run 'llama-finetune score --help' to see every option.");
    expect(stderr).not.toContain(SCORE_USAGE);
    expect(stderr.trim().split('\n')).toHaveLength(2);
  });

  it('exits 2 for a missing file', async () => {
    const { code, stderr } = await run([path.join(dir, 'nope.jsonl')]);
    expect(code).toBe(2);
    expect(stderr).toContain('file not found');
  });

  it('prints the usage with --help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(SCORE_USAGE + '\n');
  });
});

describe('as a real process', () => {
  it('runs through the llama-finetune dispatcher', () => {
    const result = runCliFromSources(['score', goodFile, '--json']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout).f1).toBeCloseTo(EXPECTED_F1, 9);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
