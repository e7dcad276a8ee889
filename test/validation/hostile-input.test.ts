/**
 * Bad input that used to crash validation or pass silently (issue 10 case 8): each is reported
 * with its rule, file and line, the dataset is invalid, and nothing from the data reaches a
 * message unescaped or unbounded.
 */
import { resolveModel } from '../../lambda/shared/models/llama-models';
import { DatasetSource, renderReportText, renderSummary, validateDataset } from '../../lambda/shared/validation';
import { MAX_RECORD_DEPTH } from '../../lambda/shared/json-depth';
import { problemsOf, validateLines, withBadLineAt } from './engine-harness';
import { textRecord, textRecords, toJsonl } from './fixtures';

const deepList = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const SCHEMA = '"schemaVersion": "bedrock-conversation-2024"';
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('json-too-deep', () => {
  it.each([
    ['a 40 KB line of nested lists', deepList(20_000)],
    ['nested objects', deepObject(10_000)],
    ['nested lists as schemaVersion', `{"schemaVersion": ${deepList(20_000)}, "messages": []}`],
    ['nested lists as a role', `{${SCHEMA}, "messages": [{"role": ${deepList(20_000)}, "content": [{"text": "q"}]}]}`],
    ['nested lists as an image format', `{${SCHEMA}, "messages": [{"role": "user", "content": [{"image": {"format": ${deepList(20_000)}}}]}]}`],
    ['nested lists in an unknown field', `{${SCHEMA}, "extra": ${deepList(MAX_RECORD_DEPTH)}, "messages": []}`],
  ])('%s: reported at its line, the dataset invalid, no crash', async (_what, line) => {
    const report = await validateLines(withBadLineAt(7, line));
    expect(problemsOf(report, 'json-too-deep')).toEqual([
      expect.objectContaining({ file: 'train.jsonl', line: 7, severity: 'error', message: expect.stringContaining(`more than ${MAX_RECORD_DEPTH} levels deep`) }),
    ]);
    expect(report.valid).toBe(false);
  });

  it(`accepts nesting up to ${MAX_RECORD_DEPTH} levels (then other rules apply)`, async () => {
    const report = await validateLines(withBadLineAt(7, `{${SCHEMA}, "extra": ${deepList(MAX_RECORD_DEPTH - 1)}, "messages": [{"role": "user", "content": [{"text": "q"}]}, {"role": "assistant", "content": [{"text": "a"}]}]}`));
    expect(problemsOf(report, 'json-too-deep')).toEqual([]);
    expect(problemsOf(report, 'unknown-field')).toEqual([expect.objectContaining({ line: 7 })]);
  });
});

describe('invalid-utf8', () => {
  it('reports the line and the first bad byte, and still checks the record', async () => {
    const bad = Buffer.from(JSON.stringify(textRecord(5000, 'caf\u00e9')), 'utf8');
    const at = bad.indexOf(0xc3);
    bad[at] = 0xe9; // "café" as Windows-1252 writes it
    bad[at + 1] = 0x21;
    const head = Buffer.from(toJsonl(textRecords(3)), 'utf8');
    const bytes = Buffer.concat([head, bad, Buffer.from('\n'), Buffer.from(toJsonl(textRecords(116, 100)), 'utf8')]);
    // Raw bytes in 7-byte chunks (the harness would encode text as UTF-8, repairing nothing but hiding the bytes).
    const source: DatasetSource = {
      name: 'train.jsonl',
      open: async () => ({
        stream: (async function* () {
          for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
        })(),
      }),
    };
    const report = await validateDataset({ model: resolveModel('llama3.2-3b'), files: [{ role: 'training', source }] });
    expect(problemsOf(report, 'invalid-utf8')).toEqual([
      expect.objectContaining({
        file: 'train.jsonl',
        line: 4,
        severity: 'error',
        message: expect.stringContaining(`Byte ${at + 1} of the line (file offset ${(head.length + at).toLocaleString('en-US')}) is 0xe9, which is not valid UTF-8`),
      }),
    ]);
    expect(report.valid).toBe(false);
    expect(report.totals.records).toBe(120);
  });

  it('accepts valid multi-byte text and a genuine U+FFFD', async () => {
    const report = await validateLines(withBadLineAt(4, textRecord(5000, 'caf\u00e9 \ufffd \u65e5\u672c \ud83d\ude00')));
    expect(problemsOf(report, 'invalid-utf8')).toEqual([]);
  });
});

describe('untrusted text in messages, report, summary and CLI text', () => {
  const hostileRecord = {
    schemaVersion: 'bedrock-conversation-2024',
    ['\u001b]0;owned\u0007\u001b[2J']: 1,
    messages: [
      { role: 'user', content: [{ text: 'q' }] },
      { role: '\u009b31m\u202e\u2066resu', content: [{ text: 'a' }] },
    ],
  };

  it('escapes controls, escape sequences and bidi overrides visibly, and bounds long values', async () => {
    const longField = `x${'\u001b'.repeat(100_000)}`;
    const report = await validateLines(withBadLineAt(3, hostileRecord).concat([{ ...textRecord(9000), [longField]: 1 }]), {}, 'data/\u001b[31mtrain.jsonl');
    const messages = [...report.problems.errors, ...report.problems.warnings];
    for (const text of [JSON.stringify(report), renderReportText(report), renderSummary(report, { maxChars: 1900 }), ...messages.map((p) => p.message)]) {
      expect(text).not.toMatch(CONTROLS);
    }
    expect(problemsOf(report, 'unknown-field')[0].message).toContain('"\\u001b]0;owned\\u0007\\u001b[2J"');
    expect(problemsOf(report, 'role-invalid')[0].message).toContain('"\\u009b31m\\u202e\\u2066resu"');
    expect(report.files[0].name).toBe('data/\\u001b[31mtrain.jsonl');
    expect(messages[0].file).toBe('data/\\u001b[31mtrain.jsonl');
    expect(Math.max(...messages.map((p) => p.message.length))).toBeLessThan(1000);
  });
});
