import { describeStepError } from '../../lambda/shared/step-error';
import { outcomeDetail, outcomeSubject, outcomeText } from '../../lambda/shared/outcome-message';
import { RunOutcomeStatus, RunRecord } from '../../lambda/shared/run-record';
import { seededRandom } from '../support/seeded-random';

describe('step errors', () => {
  test('a Lambda error cause is unwrapped to its message', () => {
    expect(describeStepError({ Error: 'ValidationException', Cause: JSON.stringify({ errorType: 'ValidationException', errorMessage: 'bad role', trace: [] }) })).toEqual({
      name: 'ValidationException',
      message: 'bad role',
    });
  });
  test('a plain cause is kept; a missing one falls back to the name', () => {
    expect(describeStepError({ Error: 'InvalidDataset', Cause: '3 errors' })).toEqual({ name: 'InvalidDataset', message: '3 errors' });
    expect(describeStepError({ Error: 'States.Timeout' })).toEqual({ name: 'States.Timeout', message: 'States.Timeout' });
    expect(describeStepError(undefined).name).toBe('UnknownError');
  });
});

describe('outcome message', () => {
  const record = {
    job: { jobArn: 'arn:job/1', status: 'Completed', outputModelArn: 'arn:model/1', hyperParameters: { epochCount: '3' } },
    metrics: { training: { finalLoss: 0.51234, bestLoss: 0.5, bestStep: 9, steps: 10 } },
  } as unknown as RunRecord;

  test('success names the model, the job, the hyperparameters and the loss', () => {
    const text = outcomeText({ status: 'SUCCEEDED', runId: 'r-1', model: 'llama3.2-11b', record, environmentName: 'dev', recordUri: 's3://a/runs/r-1/run.json' });
    expect(text).toContain('[dev] Llama fine-tuning run r-1 succeeded');
    expect(text).toContain('Custom model: arn:model/1');
    expect(text).toContain('Hyperparameters: epochCount=3');
    expect(text).toContain('Training loss: final 0.5123, best 0.5000 (step 9), 10 steps');
    expect(text).toContain('Run record: s3://a/runs/r-1/run.json');
  });

  test('failure says which error and why; the subject fits SNS\'s 100 characters', () => {
    const facts = { status: 'FAILED' as const, runId: 'x'.repeat(120), error: { name: 'InvalidDataset', message: 'train.jsonl line 4: ...' }, environmentName: 'prod' };
    expect(outcomeText(facts)).toContain('Error: InvalidDataset\ntrain.jsonl line 4: ...');
    expect(outcomeSubject(facts).length).toBeLessThan(100);
  });

  test('the event detail carries stable fields a rule can match', () => {
    expect(outcomeDetail({ status: 'SUCCEEDED', runId: 'r-1', record, environmentName: 'dev' })).toMatchObject({
      runId: 'r-1',
      outcome: 'SUCCEEDED',
      environment: 'dev',
      customModelArn: 'arn:model/1',
      finalTrainingLoss: 0.51234,
    });
  });

  test('a Provisioned Throughput Bedrock would not delete is told plainly (which, that it bills, what deletes it) until it is deleted', () => {
    const arn = 'arn:aws:bedrock:us-west-2:111122223333:provisioned-model/abc123';
    const refused = {
      ...record,
      provisionedThroughput: { arn, name: 'eval-r-1', modelUnits: 2, createdAt: '2026-01-01T00:00:00Z', deletionRefused: { at: '2026-01-01T03:00:00Z', error: 'ConflictException: busy', watchIntervalMinutes: 30 } },
    } as RunRecord;
    const text = outcomeText({ status: 'SUCCEEDED', runId: 'r-1', record: refused, environmentName: 'dev' });
    expect(text).toContain(
      `ACTION NEEDED: Provisioned Throughput ${arn} (eval-r-1) could not be deleted: Bedrock still refused after every retry (ConflictException: busy). It bills per hour for its 2 model units until it is deleted. ` +
        `The Provisioned Throughput watch deletes it: it checks every 30 minutes and deletes the Provisioned Throughputs of ended runs as soon as Bedrock accepts. To delete it now: aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${arn}`,
    );
    expect(outcomeDetail({ status: 'SUCCEEDED', runId: 'r-1', record: refused, environmentName: 'dev' }).undeletedProvisionedThroughput).toBe(arn);
    // Once the watch deleted it, nothing is asked of anyone.
    const deleted = { ...refused, provisionedThroughput: { ...refused.provisionedThroughput!, deletedAt: '2026-01-01T03:20:00Z', hours: 3.33 } } as RunRecord;
    expect(outcomeText({ status: 'SUCCEEDED', runId: 'r-1', record: deleted, environmentName: 'dev' })).not.toContain('ACTION NEEDED');
    expect(outcomeDetail({ status: 'SUCCEEDED', runId: 'r-1', record: deleted, environmentName: 'dev' }).undeletedProvisionedThroughput).toBeUndefined();
  });

  /** What SNS Publish accepts as a subject: fewer than 100 printable ASCII characters, starting with one that is not a space. */
  const SNS_SUBJECT = /^[!-~][ -~]{0,98}$/;
  const STATUSES: RunOutcomeStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];
  const VERBS: Record<RunOutcomeStatus, string> = { SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'was aborted' };

  test('the subject SNS would have refused: production-west, a 40-character run name, failed', () => {
    // 40-character name + '-' + 12 hex digits: 53 characters; the full wording makes exactly 100.
    const runId = `${'a'.repeat(40)}-0123456789ab`;
    for (const status of STATUSES) {
      const subject = outcomeSubject({ status, runId, environmentName: 'production-west' });
      expect(subject).toMatch(SNS_SUBJECT);
      expect(subject.endsWith(` ${VERBS[status]}`)).toBe(true);
      // The run stays identifiable: its name's start and its unique digest's end are kept.
      expect(subject).toContain('[production-west]');
      expect(subject).toContain('0123456789ab');
    }
    expect(outcomeSubject({ status: 'FAILED', runId, environmentName: 'production-west' })).toBe(`[production-west] Run ${runId} failed`);
    expect(outcomeSubject({ status: 'SUCCEEDED', runId: 'r-1', environmentName: 'dev' })).toBe('[dev] Llama fine-tuning run r-1 succeeded');
    expect(outcomeSubject({ status: 'FAILED', environmentName: 'dev' })).toBe('[dev] Llama fine-tuning run failed');
  });

  test('every subject is valid for SNS, for any environment name, run id and outcome (generated)', () => {
    const random = seededRandom(20261204);
    const alphabet = ['a', 'Z', '7', '-', '_', ' ', '\n', '\r', '\t', '\u0000', '\u001b', '\u007f', 'é', '字', '\u2028', '😀', '[', ']'];
    const text = (length: number) => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    let checked = 0;
    for (let envLength = 0; envLength <= 130; envLength += 7) {
      for (let runIdLength = 0; runIdLength <= 260; runIdLength += 11) {
        for (const status of STATUSES) {
          const environmentName = random() < 0.5 ? 'x'.repeat(envLength) : text(envLength);
          const runId = random() < 0.5 ? `${'r'.repeat(Math.max(0, runIdLength - 13))}-0123456789ab`.slice(-runIdLength || undefined) : text(runIdLength);
          const subject = outcomeSubject({ status, runId: runIdLength === 0 ? undefined : runId, environmentName });
          if (!SNS_SUBJECT.test(subject)) throw new Error(`invalid subject ${JSON.stringify(subject)} (${subject.length} characters) for environment ${JSON.stringify(environmentName)}, run id ${JSON.stringify(runId)}`);
          expect(subject.endsWith(` ${VERBS[status]}`)).toBe(true);
          checked++;
        }
      }
    }
    expect(checked).toBe(19 * 24 * 4);
  });
});

describe('outcome message: untrusted text (issue 10 case 8)', () => {
  const ESC = '\u001b';
  const facts = {
    status: 'FAILED' as const,
    runId: 'r-2',
    environmentName: 'dev',
    requestUri: `s3://datasets/requests/${ESC}]0;pwned${'\u0007'}.json`,
    error: { name: 'InvalidDataset', message: `Dataset check: INVALID\n- train.jsonl line 4 [json-syntax]: "${ESC}[2J${'\u202e'}txt.exe" \u009b31m` },
  };

  it('escapes control characters, C1 and bidi overrides from the request and the data, keeping the message lines', () => {
    const text = outcomeText(facts);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(text).toContain('Request: s3://datasets/requests/\\u001b]0;pwned\\u0007.json');
    expect(text).toContain('Dataset check: INVALID\n- train.jsonl line 4 [json-syntax]: "\\u001b[2J\\u202etxt.exe" \\u009b31m');
    expect(outcomeDetail(facts).errorMessage).not.toContain(ESC);
  });
});
