import { imageBytes } from '../support/images';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/**
 * Bad input end to end (issue 10 case 8), offline with the synthesized state machine: data that
 * crashed validation or passed silently ends the run as InvalidDataset with its validation report
 * written; requests that crashed the first step end it as InvalidRunRequest. Neither reaches a
 * training job, and nothing from the input reaches the notification unescaped.
 */

const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('bad input ends as InvalidDataset or InvalidRunRequest, never as a crash (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const messageAbout = (text: string) => h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(text));

  beforeAll(async () => {
    h = await startHarness(TEST_PROPS);
  });
  afterAll(async () => h?.stop());

  /** Uploads a request as raw text (so it can hold what JSON.stringify would never write) and runs it. */
  async function uploadRaw(key: string, text: string) {
    h.aws.s3.putObject(h.datasets, key, text);
    const { executions } = await h.runner.putS3ObjectCreated(h.datasets, key);
    return executions[0].result;
  }

  test('a dataset with a 40 KB nested line, invalid UTF-8, terminal escapes and a truncated PNG: InvalidDataset, report written, nothing crashed', async () => {
    const png = imageBytes('png', 100, 100, { paddingBytes: 60_000 });
    h.aws.s3.putObject(h.datasets, 'images/cut.png', png.subarray(0, 30_000)); // an upload cut short: header intact
    const image = { image: { format: 'png', source: { s3Location: { uri: `s3://${h.datasets}/images/cut.png`, bucketOwner: h.aws.accountId } } } };
    const lines = arithmeticRecords(110).split('\n');
    lines.splice(4, 0, `{"schemaVersion": ${'[['.repeat(10_000)}${']]'.repeat(10_000)}}`); // line 5: 40 KB; its message once overflowed the stack
    lines.splice(9, 0, JSON.stringify({ schemaVersion: 'bedrock-conversation-2024', messages: [{ role: 'user', content: [{ text: 'Chart?' }, image] }, { role: 'assistant', content: [{ text: '4' }] }] })); // line 10
    lines.splice(14, 0, JSON.stringify({ schemaVersion: 'bedrock-conversation-2024', messages: [{ role: '\u001b[2J\u001b]0;owned\u0007\u009b31m\u202e', content: [{ text: 'q' }] }] })); // line 15
    const text = Buffer.from(lines.join('\n') + '\n', 'utf8');
    const line20 = text.indexOf('What is', nthNewline(text, 19) + 1);
    text[line20] = 0xff; // line 20: a stray byte where "W" was
    h.aws.s3.putObject(h.datasets, 'data/hostile.jsonl', text);

    const outcome = await uploadRaw('requests/hostile.json', JSON.stringify({ name: 'hostile', model: 'llama3.2-11b', trainingData: 'data/hostile.jsonl' }));
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvalidDataset');
    expect(outcome.transitions).not.toContain('LaunchJob');
    expect(h.aws.bedrock.jobs()).toEqual([]);

    const record = h.runRecords().find((r) => r.run.requestName === 'hostile')!;
    expect(record.outcome?.error).toBe('InvalidDataset');
    const report = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/validation/report.json`)!.toString('utf8'));
    const problems = [...report.problems.errors, ...report.problems.warnings] as Array<{ rule: string; line?: number; file?: string; message: string }>;
    const linesOf = (rule: string) => problems.filter((p) => p.rule === rule).map((p) => p.line);
    expect(linesOf('json-too-deep')).toEqual([5]);
    expect(linesOf('image-truncated')).toEqual([10]);
    expect(linesOf('role-invalid')).toEqual([15]);
    expect(linesOf('invalid-utf8')).toEqual([20]);
    expect(problems.filter((p) => p.line !== undefined).map((p) => p.file)).toEqual(problems.filter((p) => p.line !== undefined).map(() => `s3://${h.datasets}/data/hostile.jsonl`));
    expect(problems.find((p) => p.rule === 'image-truncated')!.message).toContain('does not end with its IEND chunk');

    const summary = h.aws.s3.getObject(h.artifacts, `runs/${record.runId}/validation/summary.txt`)!.toString('utf8');
    const message = messageAbout(record.runId)!.message;
    for (const shown of [summary, message, outcome.cause ?? '', JSON.stringify(report)]) expect(shown).not.toMatch(CONTROLS);
    expect(summary).toContain('json-too-deep');
    expect(message).toContain('Error: InvalidDataset');
  });

  test.each([
    ['a 44 MB request', () => JSON.stringify({ name: 'x'.repeat(44 * 1024 * 1024), model: 'llama3.2-1b', trainingData: 'data/train.jsonl' }), 'request-too-large', 'a run request may have at most 1,048,576'],
    ['evaluation.maxTokens nested 20,000 deep', () => `{"name": "deep", "model": "llama3.2-1b", "trainingData": "data/train.jsonl", "evaluation": {"maxTokens": ${'['.repeat(20_000)}${']'.repeat(20_000)}}}`, 'json-too-deep', 'more than 16 levels deep'],
    ['evaluation.maxTokens as an object', () => '{"name": "object", "model": "llama3.2-1b", "trainingData": "data/train.jsonl", "evaluation": {"maxTokens": {"n": 1}}}', 'integer-range', 'evaluation.maxTokens: must be a whole number from 1 to 4096, got an object'],
    ['learningRate: 1e309', () => '{"name": "inf", "model": "llama3.2-1b", "trainingData": "data/train.jsonl", "hyperParameters": {"learningRate": 1e309}}', 'not-finite', 'hyperParameters.learningRate: is not a finite number: 1e309 is beyond'],
  ])('%s: InvalidRunRequest with the rule and a short, safe message', async (what, text, rule, says) => {
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    const key = `requests/${what.replace(/\W+/g, '-')}.json`;
    const outcome = await uploadRaw(key, text());
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('InvalidRunRequest');
    expect(outcome.cause).toContain(`[${rule}]`);
    expect(outcome.cause).toContain(says);
    expect(outcome.cause!.length).toBeLessThan(2000);
    const message = messageAbout(key)!.message;
    expect(message).toContain('Error: InvalidRunRequest');
    expect(message.length).toBeLessThan(4000);
  });
});

/** Offset of the n-th (1-based) newline byte. */
function nthNewline(bytes: Buffer, n: number): number {
  let at = -1;
  for (let i = 0; i < n; i++) at = bytes.indexOf(0x0a, at + 1);
  return at;
}
