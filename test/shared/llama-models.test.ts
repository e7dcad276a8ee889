import {
  LLAMA_MODELS,
  estimateImageTokens,
  findModel,
  resolveHyperParameters,
  resolveModel,
  toBedrockHyperParameters,
} from '../../lambda/shared/models/llama-models';

describe('model catalogue', () => {
  test('every spelling of a model finds it: short name, customization id, foundation model id, inference profile', () => {
    for (const spelling of ['llama3.2-11b', 'LLAMA3.2-11B', 'meta.llama3-2-11b-instruct-v1:0:128k', 'meta.llama3-2-11b-instruct-v1:0', 'us.meta.llama3-2-11b-instruct-v1:0']) {
      expect(findModel(spelling)?.name).toBe('llama3.2-11b');
    }
    expect(findModel('meta.llama3-1-8b-instruct-v1:0')).toBeUndefined();
  });

  test('vision, token limits and ids follow Bedrock', () => {
    const byName = Object.fromEntries(LLAMA_MODELS.map((m) => [m.name, m]));
    expect(byName['llama3.2-1b'].supportsImages).toBe(false);
    expect(byName['llama3.2-3b'].supportsImages).toBe(false);
    expect(byName['llama3.2-11b'].supportsImages).toBe(true);
    expect(byName['llama3.2-90b'].maxTokensPerRecord).toBe(10_000);
    expect(byName['llama3.2-11b'].maxTokensPerRecord).toBe(16_000);
    expect(byName['llama3.2-90b'].baseModelIdentifier).toBe('meta.llama3-2-90b-instruct-v1:0:128k');
  });

  test('resolveModel names every known model when it fails', () => {
    expect(() => resolveModel('gpt-4')).toThrow(/Unknown model 'gpt-4'. Use one of: llama3.2-1b .*llama3.2-3b .*llama3.2-11b .*llama3.2-90b/);
  });

  test('hyperparameters: defaults, numeric strings, and every problem reported at once', () => {
    const model = resolveModel('llama3.2-11b');
    expect(resolveHyperParameters(model)).toEqual({ epochCount: 5, batchSize: 1, learningRate: 0.0001 });
    expect(resolveHyperParameters(model, { epochCount: '3', learningRate: 5e-6 })).toEqual({ epochCount: 3, batchSize: 1, learningRate: 5e-6 });
    let message = '';
    try {
      resolveHyperParameters(model, { epochCount: 2.5, batchSize: 4, learningRate: 'fast', warmup: 1 });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain("'warmup' is not a hyperparameter");
    expect(message).toContain('epochCount must be a whole number between 1 and 10, got 2.5');
    expect(message).toContain('batchSize must be between 1 and 1');
    expect(message).toContain('learningRate must be a number, got "fast"');
  });

  test('Bedrock receives hyperparameters as strings', () => {
    expect(toBedrockHyperParameters({ epochCount: 3, batchSize: 1, learningRate: 0.00005 })).toEqual({ epochCount: '3', batchSize: '1', learningRate: '0.00005' });
  });

  test('image token estimate follows min(2, max(H // 560, 1)) * min(2, max(W // 560, 1)) * 1601', () => {
    expect(estimateImageTokens(100, 100)).toBe(1601);
    expect(estimateImageTokens(1120, 500)).toBe(2 * 1601);
    expect(estimateImageTokens(1119, 1119)).toBe(1601);
    expect(estimateImageTokens(8000, 8000)).toBe(4 * 1601);
  });
});
