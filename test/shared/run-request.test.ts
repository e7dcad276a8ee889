import { InvalidRunRequestError, MAX_REQUEST_ERROR_CHARS, MAX_RUN_REQUEST_BYTES, parseRunRequest } from '../../lambda/shared/run-request';
import { buildRunContext, deriveRunId } from '../../lambda/shared/run-context';

const BUCKET = 'datasets-bucket';
const SOURCE = 's3://datasets-bucket/requests/run.json';
const valid = { name: 'chartqa-11b', model: 'llama3.2-11b', trainingData: 'data/train.jsonl' };

function problemsOf(doc: unknown, defaults = {}): Array<{ field: string; rule: string; message: string }> {
  try {
    parseRunRequest(typeof doc === 'string' ? doc : JSON.stringify(doc), SOURCE, BUCKET, defaults);
  } catch (err) {
    if (err instanceof InvalidRunRequestError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('parseRunRequest accepts', () => {
  test('a minimal request, filling hyperparameter and evaluation defaults', () => {
    const request = parseRunRequest(JSON.stringify(valid), SOURCE, BUCKET);
    expect(request.model.baseModelIdentifier).toBe('meta.llama3-2-11b-instruct-v1:0:128k');
    expect(request.trainingDataKey).toBe('data/train.jsonl');
    expect(request.hyperParameters).toEqual({ epochCount: 5, batchSize: 1, learningRate: 0.0001 });
    expect(request.hyperParametersOverridden).toEqual([]);
    expect(request.evaluation).toEqual({ enabled: true, maxTokens: 512, maxRecords: undefined });
  });

  test('a full request with s3:// locations in the dataset bucket and overrides', () => {
    const request = parseRunRequest(
      JSON.stringify({
        ...valid,
        model: 'meta.llama3-2-90b-instruct-v1:0:128k',
        trainingData: 's3://datasets-bucket/data/train.jsonl',
        validationData: 'data/val.jsonl',
        testData: 'data/test.jsonl',
        hyperParameters: { epochCount: 2, learningRate: '0.00002' },
        evaluation: { enabled: false, maxTokens: 64, maxRecords: 200 },
      }),
      SOURCE,
      BUCKET,
    );
    expect(request.model.name).toBe('llama3.2-90b');
    expect([request.trainingDataKey, request.validationDataKey, request.testDataKey]).toEqual(['data/train.jsonl', 'data/val.jsonl', 'data/test.jsonl']);
    expect(request.hyperParameters).toEqual({ epochCount: 2, batchSize: 1, learningRate: 0.00002 });
    expect(request.hyperParametersOverridden).toEqual(['epochCount', 'learningRate']);
    expect(request.evaluation).toEqual({ enabled: false, maxTokens: 64, maxRecords: 200 });
  });

  test('a budget, carried into the run context', () => {
    const request = parseRunRequest(JSON.stringify({ ...valid, budget: { maxTokens: 2_000_000, maxDollars: 25.5 } }), SOURCE, BUCKET);
    expect(request.budget).toEqual({ maxTokens: 2_000_000, maxDollars: 25.5 });
    const context = buildRunContext(request, { bucket: BUCKET, key: 'requests/run.json', versionId: 'v1' }, BUCKET, 'artifacts', 'runs/', 'arn:exec');
    expect(context.budget).toEqual({ maxTokens: 2_000_000, maxDollars: 25.5 });
    expect(parseRunRequest(JSON.stringify(valid), SOURCE, BUCKET).budget).toBeUndefined();
  });

  test('deployment defaults fill the model and hyperparameters; the request overrides them', () => {
    const { model: _omit, ...withoutModel } = valid;
    const request = parseRunRequest(JSON.stringify({ ...withoutModel, hyperParameters: { epochCount: 4 } }), SOURCE, BUCKET, {
      defaultModel: 'llama3.2-3b',
      defaultHyperParameters: { epochCount: 2, learningRate: 0.001 },
    });
    expect(request.model.name).toBe('llama3.2-3b');
    expect(request.hyperParameters).toEqual({ epochCount: 4, batchSize: 1, learningRate: 0.001 });
    // Both the request's and the deployment's values are explicit: the recommendation must not replace them.
    expect([...request.hyperParametersOverridden].sort()).toEqual(['epochCount', 'learningRate']);
  });
});

describe('parseRunRequest rejects, naming field, rule and fix', () => {
  test.each([
    ['not JSON', '{"name": "x",}', '(file)', 'json', /not valid JSON/],
    ['an array', [], '(file)', 'json-object', /must be a JSON object/],
    ['a missing name', { ...valid, name: undefined }, 'name', 'required', /short run name/],
    ['a bad name', { ...valid, name: 'my run!' }, 'name', 'name-pattern', /letters, digits or hyphens/],
    ['an unknown model', { ...valid, model: 'llama3.1-70b' }, 'model', 'unknown-model', /use one of llama3.2-1b/],
    ['a missing training file', { ...valid, trainingData: undefined }, 'trainingData', 'required', /key of a JSONL file/],
    ['a file in another bucket', { ...valid, trainingData: 's3://other/train.jsonl' }, 'trainingData', 'data-bucket', /outside the dataset bucket datasets-bucket/],
    ['a folder', { ...valid, validationData: 'data/' }, 'validationData', 'data-location', /names a folder/],
    ['a non-JSONL file', { ...valid, testData: 'data/test.csv' }, 'testData', 'data-extension', /must be a .jsonl file/],
    ['hyperparameters out of range', { ...valid, hyperParameters: { epochCount: 11 } }, 'hyperParameters', 'hyperparameter-range', /epochCount must be between 1 and 10/],
    ['hyperparameters not an object', { ...valid, hyperParameters: [3] }, 'hyperParameters', 'hyperparameters-object', /must be an object/],
    ['an unknown field', { ...valid, epochs: 3 }, 'epochs', 'unknown-field', /not a run request field/],
    ['a bad evaluation setting', { ...valid, evaluation: { maxTokens: 0 } }, 'evaluation.maxTokens', 'integer-range', /whole number from 1 to 4096/],
    ['an unknown evaluation setting', { ...valid, evaluation: { temperature: 1 } }, 'evaluation.temperature', 'unknown-field', /not an evaluation setting/],
    ['a budget that is not an object', { ...valid, budget: 5 }, 'budget', 'budget', /must be an object such as \{"maxTokens"/],
    ['a fractional token budget', { ...valid, budget: { maxTokens: 10.5 } }, 'budget.maxTokens', 'budget', /positive whole number of tokens, got 10.5/],
    ['a negative dollar budget', { ...valid, budget: { maxDollars: -3 } }, 'budget.maxDollars', 'budget', /positive number of US dollars, got -3/],
    ['an unknown budget limit', { ...valid, budget: { maxHours: 3 } }, 'budget.maxHours', 'budget', /not a budget limit; use maxTokens or maxDollars/],
  ])('%s', (_name, doc, field, rule, message) => {
    const problems = problemsOf(doc);
    expect(problems).toEqual(expect.arrayContaining([expect.objectContaining({ field, rule, message: expect.stringMatching(message) })]));
  });

  test('all problems at once, in a message that names the file', () => {
    let error: InvalidRunRequestError | undefined;
    try {
      parseRunRequest(JSON.stringify({ name: 'bad name', model: 'nope' }), SOURCE, BUCKET);
    } catch (err) {
      error = err as InvalidRunRequestError;
    }
    expect(error?.name).toBe('InvalidRunRequest');
    expect(error?.problems.map((p) => p.field).sort()).toEqual(['model', 'name', 'trainingData']);
    expect(error?.message).toMatch(/^Run request s3:\/\/datasets-bucket\/requests\/run.json is invalid:\n- /);
  });
});

describe('parseRunRequest never crashes on bad input (issue 10 case 8)', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
  /** The request text with `json` as the raw value of `evaluation.maxTokens`. */
  const withMaxTokens = (json: string) => `{"name": "r", "model": "llama3.2-11b", "trainingData": "data/train.jsonl", "evaluation": {"maxTokens": ${json}}}`;
  /** The error a request text raises: must be an InvalidRunRequestError, never a RangeError or a TypeError. */
  function errorOf(text: string): InvalidRunRequestError {
    try {
      parseRunRequest(text, SOURCE, BUCKET);
    } catch (err) {
      if (err instanceof InvalidRunRequestError) return err;
      throw err;
    }
    throw new Error('expected InvalidRunRequest');
  }

  test.each([
    ['an object', '{"value": 256}', 'an object ({"value":256})'],
    ['a list', '[256]', 'a list of 1 item ([256])'],
    ['a string', '"256"', '"256"'],
    ['a huge number', '1e20', '100000000000000000000'],
    ['a list nested 5 levels', '[[[[[1]]]]]', 'a list of 1 item ([[[[...]]]])'],
  ])('evaluation.maxTokens as %s: InvalidRunRequest naming the field, the value and the range', (_what, json, shown) => {
    const error = errorOf(withMaxTokens(json));
    expect(error.problems).toEqual([{ field: 'evaluation.maxTokens', rule: 'integer-range', message: `must be a whole number from 1 to 4096, got ${shown}` }]);
  });

  test('evaluation.maxTokens nested 20,000 levels deep (JSON.stringify overflowed the stack): json-too-deep', () => {
    const error = errorOf(withMaxTokens(deep(20_000)));
    expect(error.problems).toEqual([expect.objectContaining({ field: '(file)', rule: 'json-too-deep', message: expect.stringContaining('more than 16 levels deep') })]);
  });

  test('a hyperparameter nested deeply, or as an object, is InvalidRunRequest too', () => {
    expect(errorOf(`{"name": "r", "model": "llama3.2-11b", "trainingData": "t.jsonl", "hyperParameters": {"epochCount": ${deep(5000)}}}`).problems[0].rule).toBe('json-too-deep');
    const shallow = errorOf(`{"name": "r", "model": "llama3.2-11b", "trainingData": "t.jsonl", "hyperParameters": {"epochCount": {"n": [1, 2]}}}`);
    expect(shallow.problems).toEqual([expect.objectContaining({ field: 'hyperParameters', message: expect.stringContaining('epochCount must be a number, got an object') })]);
  });

  test('learningRate: 1e309 is "not a finite number" with the number as written, not "got null"', () => {
    const error = errorOf(`{"name": "r", "model": "llama3.2-11b", "trainingData": "data/train.jsonl", "hyperParameters": {"learningRate": 1e309, "epochCount": 2}}`);
    expect(error.problems).toEqual([
      { field: 'hyperParameters.learningRate', rule: 'not-finite', message: 'is not a finite number: 1e309 is beyond the largest number JSON can carry (about 1.8e308); use a number from 0.000005 to 0.1' },
    ]);
    expect(error.message).not.toContain('null');
    expect(errorOf(withMaxTokens('-1E+400')).problems[0]).toMatchObject({ field: 'evaluation.maxTokens', rule: 'not-finite', message: expect.stringContaining('-1E+400 is beyond') });
  });

  test.each([
    ['name', { name: { first: 'x' } }, /must be a string of 1-40 letters, digits or hyphens, e.g. "chartqa-11b"; got an object \(\{"first":"x"\}\)/],
    ['hyperParameters', { hyperParameters: 'fast' }, /must be an object such as \{"epochCount": 3\}; got "fast"/],
    ['evaluation', { evaluation: [true] }, /got a list of 1 item \(\[true\]\)/],
    ['model', { model: ['llama3.2-11b'] }, /got a list of 1 item/],
    ['trainingData', { trainingData: 42 }, /got 42/],
    ['evaluation.enabled', { evaluation: { enabled: 'yes' } }, /must be true or false, got "yes"/],
    ['evaluation.maxRecords', { evaluation: { maxRecords: 1.5 } }, /whole number from 1 to 100000, got 1.5/],
  ])('a wrong type for %s is InvalidRunRequest naming it', (field, patch, message) => {
    const error = errorOf(JSON.stringify({ ...valid, ...patch }));
    expect(error.problems).toEqual(expect.arrayContaining([expect.objectContaining({ field, message: expect.stringMatching(message) })]));
  });

  test('a request over 1 MiB is refused without being parsed', () => {
    const text = JSON.stringify({ ...valid, padding: 'x'.repeat(MAX_RUN_REQUEST_BYTES) });
    const error = errorOf(text);
    expect(error.problems.map((p) => p.rule)).toEqual(['request-too-large']);
    expect(error.message.length).toBeLessThan(1000);
  });

  test('echoed values are bounded and made safe to display; a flood of unknown fields is counted, not listed', () => {
    const unknown = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`field${i}\u001b[31m`, i]));
    const error = errorOf(JSON.stringify({ ...valid, name: `\u202eevil\u001b[2J${'n'.repeat(500_000)}`, ...unknown }));
    expect(error.message.length).toBeLessThanOrEqual(MAX_REQUEST_ERROR_CHARS);
    expect(error.message).not.toMatch(/[\u001b\u202e]/);
    expect(error.message).toContain('"\\u202eevil\\u001b[2J');
    expect(error.message).toContain('9995 more fields are not allowed either');
  });
});

describe('run context', () => {
  test('the run id is stable for one request version and changes with the version or ETag', () => {
    const a = deriveRunId('chartqa', { bucket: 'b', key: 'requests/r.json', versionId: 'v1' });
    expect(deriveRunId('chartqa', { bucket: 'b', key: 'requests/r.json', versionId: 'v1' })).toBe(a);
    expect(deriveRunId('chartqa', { bucket: 'b', key: 'requests/r.json', versionId: 'v2' })).not.toBe(a);
    expect(deriveRunId('chartqa', { bucket: 'b', key: 'requests/r.json', etag: 'e1' })).not.toBe(deriveRunId('chartqa', { bucket: 'b', key: 'requests/r.json', etag: 'e2' }));
    expect(a).toMatch(/^chartqa-[0-9a-f]{12}$/);
  });

  test('the context points every later step at the run\'s own prefix', () => {
    const request = parseRunRequest(JSON.stringify(valid), SOURCE, BUCKET);
    const run = buildRunContext(request, { bucket: BUCKET, key: 'requests/run.json', versionId: 'v1' }, BUCKET, 'artifacts', 'runs/', 'arn:aws:states:us-west-2:111122223333:execution:Workflow:e-1');
    expect(run.artifacts).toEqual({ bucket: 'artifacts', prefix: `runs/${run.runId}/` });
    expect(run.data).toEqual({ bucket: BUCKET, trainingKey: 'data/train.jsonl', validationKey: undefined, testKey: undefined });
    expect(run.model).toMatchObject({ name: 'llama3.2-11b', supportsImages: true, inferenceProfileId: 'us.meta.llama3-2-11b-instruct-v1:0' });
  });
});

describe('hyperparameters written as strings beyond the finite range', () => {
  test('"1e309" as a string is not a finite number either', () => {
    const problems = problemsOf({ ...valid, hyperParameters: { learningRate: '1e309' } });
    expect(problems).toEqual([expect.objectContaining({ field: 'hyperParameters', message: expect.stringContaining('learningRate must be a finite number between 0.000005 and 0.1, got a number too large to represent ("1e309")') })]);
  });
});

describe('InvalidRunRequest message size', () => {
  test('stays within its bound however many long problems there are, counting the ones left out', () => {
    const problems = Array.from({ length: 500 }, (_, i) => ({ field: `f${i}\u001b`, rule: 'r', message: '\u202e'.repeat(5000) }));
    const error = new InvalidRunRequestError(`s3://b/${'k'.repeat(5000)}`, problems);
    expect(error.message.length).toBeLessThanOrEqual(MAX_REQUEST_ERROR_CHARS);
    expect(error.message).toMatch(/\n- \.\.\. and \d+ more problems$/);
    expect(error.message).not.toMatch(/[\u001b\u202e]/);
    expect(error.problems).toHaveLength(500);
  });
});
