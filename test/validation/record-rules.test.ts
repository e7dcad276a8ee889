/**
 * Every rule that needs no image bytes: a violating record at a known line is reported with
 * that line, the file name and the rule id, and makes the dataset invalid (errors) or not
 * (warnings).
 */
import { RULES, RuleId } from '../../lambda/shared/validation';
import { ACCOUNT_ID, DATA_BUCKET, imageBlock, imageRecord, textRecord } from './fixtures';
import { HarnessOptions, problemsOf, validateLines, withBadLineAt } from './engine-harness';

const SCHEMA = 'bedrock-conversation-2024';
const user = (text = 'What is shown?') => ({ role: 'user', content: [{ text }] });
const assistant = (text = '42') => ({ role: 'assistant', content: [{ text }] });
const record = (messages: unknown[], extra: object = {}) => ({ schemaVersion: SCHEMA, messages, ...extra });

interface RuleCase {
  readonly name: string;
  readonly rule: RuleId;
  readonly bad: object | string;
  readonly options?: HarnessOptions;
}

const cases: RuleCase[] = [
  { name: 'an empty line', rule: 'blank-line', bad: '' },
  { name: 'a whitespace-only line', rule: 'blank-line', bad: '   \t' },
  { name: 'a line longer than the limit', rule: 'line-too-long', bad: JSON.stringify(textRecord(5000, 'x'.repeat(3000))), options: { maxLineBytes: 2000 } },
  { name: 'broken JSON', rule: 'json-syntax', bad: '{"schemaVersion": "bedrock-conversation-2024", "messages": [' },
  { name: 'single-quoted JSON', rule: 'json-syntax', bad: "{'schemaVersion': 'bedrock-conversation-2024'}" },
  { name: 'a JSON list', rule: 'record-not-object', bad: '[1, 2, 3]' },
  { name: 'a JSON string', rule: 'record-not-object', bad: '"hello"' },
  { name: 'a missing schemaVersion', rule: 'schema-version', bad: { messages: [user(), assistant()] } },
  { name: 'a wrong schemaVersion', rule: 'schema-version', bad: record([user(), assistant()], { schemaVersion: 'bedrock-conversation-2023' }) },
  { name: 'an unknown top-level field', rule: 'unknown-field', bad: record([user(), assistant()], { id: 7 }) },
  { name: 'an unknown message field', rule: 'unknown-field', bad: record([{ ...user(), name: 'bob' }, assistant()]) },
  { name: 'a system string', rule: 'system-shape', bad: record([user(), assistant()], { system: 'Be brief.' }) },
  { name: 'a system block without text', rule: 'system-shape', bad: record([user(), assistant()], { system: [{ content: 'Be brief.' }] }) },
  { name: 'two system blocks', rule: 'system-too-many', bad: record([user(), assistant()], { system: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] }) },
  { name: 'no messages', rule: 'messages-shape', bad: { schemaVersion: SCHEMA } },
  { name: 'an empty message list', rule: 'messages-shape', bad: record([]) },
  { name: 'a message that is a string', rule: 'messages-shape', bad: record(['hello', assistant()]) },
  { name: 'a message without content', rule: 'messages-shape', bad: record([{ role: 'user' }, assistant()]) },
  { name: 'a system role message', rule: 'role-invalid', bad: record([{ role: 'system', content: [{ text: 'x' }] }, user(), assistant()]) },
  { name: 'a conversation starting with the assistant', rule: 'first-role-not-user', bad: record([assistant(), user(), assistant()]) },
  { name: 'two user messages in a row', rule: 'roles-not-alternating', bad: record([user(), user('And?'), assistant()]) },
  { name: 'a conversation ending with the user', rule: 'last-role-not-assistant', bad: record([user(), assistant(), user('Thanks')]) },
  { name: 'an empty content list', rule: 'content-empty', bad: record([{ role: 'user', content: [] }, assistant()]) },
  { name: 'a typed text block', rule: 'content-block-shape', bad: record([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }, assistant()]) },
  { name: 'a numeric text', rule: 'content-block-shape', bad: record([{ role: 'user', content: [{ text: 5 }] }, assistant()]) },
  { name: 'a block with text and image', rule: 'content-block-shape', bad: record([{ role: 'user', content: [{ text: 'x', ...imageBlock(`s3://${DATA_BUCKET}/a.png`) }] }, assistant()]) },
  { name: 'an image in an assistant turn', rule: 'assistant-non-text', bad: record([user(), { role: 'assistant', content: [imageBlock(`s3://${DATA_BUCKET}/a.png`)] }]) },
  { name: 'an image for a text-only model', rule: 'images-not-supported', bad: imageRecord(1), options: { model: 'llama3.2-1b' } },
  { name: 'an image for the 3B model', rule: 'images-not-supported', bad: imageRecord(1), options: { model: 'llama3.2-3b' } },
  { name: 'format "jpg"', rule: 'image-format-unsupported', bad: imageRecord(1, { format: 'jpg' }) },
  { name: 'format "bmp"', rule: 'image-format-unsupported', bad: imageRecord(1, { format: 'bmp' }) },
  { name: 'an https image URI', rule: 'image-source-shape', bad: imageRecord(1, { uri: 'https://example.com/a.png' }) },
  { name: 'inline image bytes', rule: 'image-source-shape', bad: record([{ role: 'user', content: [{ image: { format: 'png', source: { bytes: 'iVBORw0' } } }] }, assistant()]) },
  { name: 'an image in another bucket', rule: 'image-location', bad: imageRecord(1, { uri: 's3://somebody-elses-bucket/a.png' }), options: { allowedImageLocations: [`s3://${DATA_BUCKET}/`] } },
  { name: 'an image outside the allowed prefix', rule: 'image-location', bad: imageRecord(1, { uri: `s3://${DATA_BUCKET}/private/a.png` }), options: { allowedImageLocations: [`s3://${DATA_BUCKET}/images/`] } },
  {
    name: 'an image without bucketOwner',
    rule: 'image-bucket-owner-missing',
    bad: record([{ role: 'user', content: [{ text: 'x' }, { image: { format: 'png', source: { s3Location: { uri: `s3://${DATA_BUCKET}/a.png` } } } }] }, assistant()]),
  },
  { name: 'a bucketOwner of another account', rule: 'image-bucket-owner-mismatch', bad: imageRecord(1, { bucketOwner: '999988887777' }), options: { expectedAccountId: ACCOUNT_ID } },
  { name: 'a bucketOwner that is no account id', rule: 'image-bucket-owner-mismatch', bad: imageRecord(1, { bucketOwner: 'my-team' }) },
  { name: 'an empty answer', rule: 'answer-empty', bad: record([user(), assistant('   ')]) },
  { name: 'two images in one record', rule: 'multiple-images', bad: record([{ role: 'user', content: [imageBlock(`s3://${DATA_BUCKET}/a.png`), imageBlock(`s3://${DATA_BUCKET}/b.png`), { text: 'Compare.' }] }, assistant('3')]) },
];

describe('record rules', () => {
  it.each(cases.map((c) => [c.rule, c.name, c] as const))('%s: rejects %s at its line', async (_rule, _name, c) => {
    const line = 57;
    const report = await validateLines(withBadLineAt(line, c.bad), c.options);
    const found = problemsOf(report, c.rule);
    expect(found).toEqual([expect.objectContaining({ rule: c.rule, file: 'train.jsonl', line, severity: RULES[c.rule].severity })]);
    expect(found[0].message.length).toBeGreaterThan(30);
    // No other line is blamed for anything.
    const blamed = [...report.problems.errors, ...report.problems.warnings].filter((p) => p.line !== undefined && p.line !== line);
    expect(blamed).toEqual([]);
    expect(report.valid).toBe(RULES[c.rule].severity === 'warning');
  });

  it('accepts a record with one system block, and one with none (Bedrock: one optional system prompt)', async () => {
    const withOne = record([user(), assistant()], { system: [{ text: 'Be brief.\nAnswer in French.' }] });
    const report = await validateLines(withBadLineAt(57, withOne));
    expect(report.problems.errors).toEqual([]);
    expect(report.valid).toBe(true);
    expect(problemsOf(await validateLines(withBadLineAt(57, record([user(), assistant()]))), 'system-too-many')).toEqual([]);
  });

  it('lists each bad line with its own number', async () => {
    const lines: (object | string)[] = withBadLineAt(10, '{oops', 130);
    lines.splice(99, 0, record([assistant(), user(), assistant()]));
    const report = await validateLines(lines);
    expect(report.problems.errors.map((p) => [p.line, p.rule])).toEqual([
      [10, 'json-syntax'],
      [100, 'first-role-not-user'],
    ]);
  });

  it('counts a line-too-long line as a record but does not parse it', async () => {
    const report = await validateLines(withBadLineAt(3, JSON.stringify(textRecord(999, 'y'.repeat(5000))), 100), { maxLineBytes: 1000 });
    expect(report.files[0].records).toBe(100);
    expect(problemsOf(report, 'json-syntax')).toEqual([]);
  });
});
