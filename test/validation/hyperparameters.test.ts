import { LLAMA_MODELS, ModelCatalogueError, resolveModel } from '../../lambda/shared/models/llama-models';
import { EPOCHS_BY_TRAINING_RECORDS, recommendHyperParameters, recommendedEpochs } from '../../lambda/shared/validation';
import { validateLines } from './engine-harness';
import { textRecords } from './fixtures';

describe('recommendHyperParameters', () => {
  it('recommends more epochs for small datasets and fewer for large ones', () => {
    const model = resolveModel('llama3.2-11b');
    const sizes = [100, 249, 250, 999, 1000, 4999, 5000, 10_000];
    const epochs = sizes.map((n) => recommendHyperParameters(model, n).values.epochCount);
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeLessThanOrEqual(epochs[i - 1]);
    expect(epochs[0]).toBeGreaterThan(epochs[epochs.length - 1]);
    sizes.forEach((n, i) => expect(epochs[i]).toBe(recommendedEpochs(n)));
  });

  it('stays inside every model range and uses the default learning rate and batch size', () => {
    for (const model of LLAMA_MODELS) {
      for (const n of [100, 10_000]) {
        const { values } = recommendHyperParameters(model, n);
        for (const spec of model.hyperParameters) {
          expect(values[spec.name]).toBeGreaterThanOrEqual(spec.min);
          expect(values[spec.name]).toBeLessThanOrEqual(spec.max);
        }
        expect(values.learningRate).toBe(model.hyperParameters.find((p) => p.name === 'learningRate')!.defaultValue);
        expect(values.batchSize).toBe(1);
      }
    }
  });

  it('explains each value in words, with the number of steps', () => {
    const rec = recommendHyperParameters(resolveModel('llama3.2-90b'), 300);
    expect(rec.explanation).toHaveLength(3);
    expect(rec.explanation[0]).toContain(`${(300 * rec.values.epochCount).toLocaleString('en-US')} steps`);
    expect(rec.explanation.join(' ')).toMatch(/learningRate .*default/);
  });

  it('keeps the values the run request set, and says so', () => {
    const rec = recommendHyperParameters(resolveModel('llama3.2-11b'), 200, { epochCount: 2 });
    expect(rec.values.epochCount).toBe(2);
    expect(rec.recommended.epochCount).toBe(recommendedEpochs(200));
    expect(rec.overridden).toEqual(['epochCount']);
    expect(rec.explanation[0]).toContain('set by the run request');
  });

  it('rejects an override outside the model range', () => {
    expect(() => recommendHyperParameters(resolveModel('llama3.2-11b'), 200, { epochCount: 50 })).toThrow(ModelCatalogueError);
  });

  it('goes into the report, based on the training record count', async () => {
    const report = await validateLines(textRecords(1500), { hyperParameterOverrides: { learningRate: 0.00005 } });
    expect(report.hyperParameters.trainingRecords).toBe(1500);
    expect(report.hyperParameters.values.epochCount).toBe(recommendedEpochs(1500));
    expect(report.hyperParameters.values.learningRate).toBe(0.00005);
    expect(EPOCHS_BY_TRAINING_RECORDS.length).toBeGreaterThan(1);
  });
});
