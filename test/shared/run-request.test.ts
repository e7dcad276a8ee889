import { InvalidRunRequestError, parseRunRequest } from '../../lambda/shared/run-request';
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
