import {
  AnswerCoverageCounter,
  DEFAULT_MIN_ANSWERED_SHARE,
  EvaluationIncompleteError,
  answerCoverageOf,
  minAnsweredShareFrom,
  modelsShortOfAnswers,
  requireEnoughAnswers,
} from '../../lambda/shared/evaluation/answer-coverage';
import type { ModelPredictionLine } from '../../lambda/shared/evaluation/model-prediction';

type Line = Pick<ModelPredictionLine, 'model' | 'prediction' | 'error'>;
const DENIED = 'AccessDeniedException: User: InferShard is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-west-2:111122223333:inference-profile/us.meta.llama3-2-11b-instruct-v1:0';
const URI = 's3://artifacts/runs/r-0123456789ab/evaluation/predictions/';

/** `records` records; the base model refuses those `baseRefuses` picks, the fine-tuned those `tunedRefuses` picks. */
function lines(records: number, baseRefuses: (i: number) => string | undefined, tunedRefuses: (i: number) => string | undefined = () => undefined): Line[] {
  return Array.from({ length: records }, (_, i) => {
    const b = baseRefuses(i);
    const t = tunedRefuses(i);
    return [
      b === undefined ? { model: 'base' as const, prediction: `answer ${i}` } : { model: 'base' as const, error: b },
      t === undefined ? { model: 'fine-tuned' as const, prediction: `answer ${i}` } : { model: 'fine-tuned' as const, error: t },
    ];
  }).flat();
}

function thrown(fn: () => void): EvaluationIncompleteError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EvaluationIncompleteError) return err;
    throw err;
  }
  throw new Error('expected EvaluationIncomplete');
}

describe('answer coverage of an evaluation', () => {
  test('counts records, answers per model and distinct errors with their record counts', () => {
    const coverage = answerCoverageOf(lines(10, (i) => (i < 4 ? DENIED : i === 9 ? 'ValidationException: bad image' : undefined), (i) => (i === 2 ? 'ModelErrorException: oops' : undefined)));
    expect(coverage.records).toBe(10);
    expect(coverage.answered).toEqual({ base: 5, fineTuned: 9 });
    expect(coverage.errors).toEqual([
      { model: 'base', error: DENIED, records: 4 },
      { model: 'fine-tuned', error: 'ModelErrorException: oops', records: 1 },
      { model: 'base', error: 'ValidationException: bad image', records: 1 },
    ]);
  });

  test('an empty answer is an answer; a line with neither prediction nor error is not', () => {
    const counter = new AnswerCoverageCounter();
    counter.add({ model: 'base', prediction: '' });
    counter.add({ model: 'fine-tuned' });
    expect(counter.coverage()).toMatchObject({ records: 1, answered: { base: 1, fineTuned: 0 }, errors: [{ model: 'fine-tuned', records: 1 }] });
  });

  test('each model must reach the share on its own: a perfect fine-tuned model does not make up for a refused base model', () => {
    const allBaseDenied = answerCoverageOf(lines(30, () => DENIED));
    expect(modelsShortOfAnswers(allBaseDenied, 0.95)).toEqual(['base']);
    expect(modelsShortOfAnswers(answerCoverageOf(lines(30, () => undefined, () => DENIED)), 0.95)).toEqual(['fine-tuned']);
    expect(modelsShortOfAnswers(answerCoverageOf(lines(30, () => DENIED, () => DENIED)), 0.95)).toEqual(['base', 'fine-tuned']);
  });

  test('the share is inclusive: exactly the minimum passes, one record fewer fails', () => {
    // 19 of 20 answered is 95%.
    expect(modelsShortOfAnswers(answerCoverageOf(lines(20, (i) => (i === 0 ? DENIED : undefined))), 0.95)).toEqual([]);
    expect(modelsShortOfAnswers(answerCoverageOf(lines(20, (i) => (i < 2 ? DENIED : undefined))), 0.95)).toEqual(['base']);
    expect(modelsShortOfAnswers(answerCoverageOf(lines(20, (i) => (i < 2 ? DENIED : undefined))), 0.9)).toEqual([]);
  });

  test('enough answers: nothing is thrown', () => {
    expect(() => requireEnoughAnswers(answerCoverageOf(lines(20, (i) => (i === 3 ? DENIED : undefined))), 0.95, URI)).not.toThrow();
  });

  test('too few answers: EvaluationIncomplete says how many each model answered, the errors, where they are and what to do', () => {
    const error = thrown(() => requireEnoughAnswers(answerCoverageOf(lines(30, () => DENIED, (i) => (i === 7 ? 'ValidationException: image too large' : undefined))), 0.95, URI));
    expect(error.name).toBe('EvaluationIncomplete');
    expect(error.message).toContain('the base model answered 0 of 30 test records and the fine-tuned model 29 of 30');
    expect(error.message).toContain('at least 95%');
    expect(error.message).toContain(`base model, 30 records: ${DENIED}`);
    // Only the errors of the model that fell short are listed.
    expect(error.message).not.toContain('image too large');
    expect(error.message).toContain(URI);
    expect(error.message).toMatch(/What to do: for AccessDeniedException, enable access to the base model/);
    expect(error.message).toContain('upload the request again');
  });

  test('lists at most three distinct errors, the most frequent first, and counts the rest; long texts are clipped', () => {
    const errors = ['ValidationException: a', 'ValidationException: b', `ThrottlingException: ${'x'.repeat(1000)}`, 'ValidationException: d'];
    // Error k is given for k + 1 records (d the most frequent).
    const assigned = [0, 1, 1, 2, 2, 2, 3, 3, 3, 3];
    const error = thrown(() => requireEnoughAnswers(answerCoverageOf(lines(10, (i) => errors[assigned[i]])), 0.95, URI));
    const listed = /Errors: (.*?)\. Every record/.exec(error.message)![1];
    const parts = listed.split('; ');
    expect(parts).toHaveLength(4);
    expect(parts[3]).toBe('and 1 more distinct error');
    expect(listed).toMatch(/^base model, 4 records: ValidationException: d; base model, 3 records: ThrottlingException: x+\.\.\.; base model, 2 records: ValidationException: b/);
    expect(error.message.length).toBeLessThan(2000);
    expect(error.message).toContain('for ValidationException, check the test records');
  });

  test('no records: nothing to judge (the caller reports the missing predictions itself)', () => {
    expect(modelsShortOfAnswers(answerCoverageOf([]), 0.95)).toEqual([]);
  });

  test('the minimum share comes from its environment text, with the default when unset and a clear error when invalid', () => {
    expect(minAnsweredShareFrom(undefined)).toBe(DEFAULT_MIN_ANSWERED_SHARE);
    expect(minAnsweredShareFrom('')).toBe(DEFAULT_MIN_ANSWERED_SHARE);
    expect(minAnsweredShareFrom('0.8')).toBe(0.8);
    expect(minAnsweredShareFrom('1')).toBe(1);
    for (const bad of ['0', '-0.1', '1.5', '95', 'most']) {
      expect(() => minAnsweredShareFrom(bad)).toThrow(`Environment variable MIN_ANSWERED_SHARE must be a fraction above 0 and at most 1 (e.g. 0.95), got '${bad}'`);
    }
  });
});
