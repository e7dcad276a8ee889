/**
 * Hyperparameter recommendation from the dataset size and the model, explained in words.
 *
 * With Llama 3.2's batch size of 1, one epoch is one optimizer step per training record, so
 * the number of epochs decides how many steps the model takes:
 *
 * | training records | epochs | why |
 * |---|---|---|
 * | < 250 | 6 | few examples: several passes are needed to learn the format |
 * | 250 - 999 | 4 | |
 * | 1,000 - 4,999 | 3 | |
 * | >= 5,000 | 2 | many examples: more passes mostly add cost and overfitting risk |
 *
 * The learning rate stays at Bedrock's default (0.0001): the published experiments give no
 * reason to change it, and the validation loss is the signal to lower it. Batch size is 1,
 * the only value Bedrock allows for Llama 3.2. Values the run request sets win.
 */
import { LlamaHyperParameterName, LlamaModelSpec, ResolvedHyperParameters, resolveHyperParameters } from '../models/llama-models';

/** The recommendation as the report shows it. */
export interface HyperParameterRecommendation {
  /** What the job should use: the recommendation with the run request's values applied. */
  readonly values: ResolvedHyperParameters;
  /** What the engine recommends from the data alone. */
  readonly recommended: ResolvedHyperParameters;
  /** Names the run request set itself (these are kept as requested). */
  readonly overridden: readonly LlamaHyperParameterName[];
  /** Training records the recommendation is based on. */
  readonly trainingRecords: number;
  /** One sentence per hyperparameter, saying why. */
  readonly explanation: readonly string[];
}

/** Epochs by training set size: [records below which the row applies, epochs]. */
export const EPOCHS_BY_TRAINING_RECORDS: readonly (readonly [number, number])[] = [
  [250, 6],
  [1000, 4],
  [5000, 3],
  [Infinity, 2],
];

/** Recommended epochs for a training set size. */
export function recommendedEpochs(trainingRecords: number): number {
  return EPOCHS_BY_TRAINING_RECORDS.find(([below]) => trainingRecords < below)![1];
}

/**
 * Recommends hyperparameters for `model` trained on `trainingRecords` records.
 *
 * @param overrides values the run request set; they are checked against the model's ranges
 *   (throws ModelCatalogueError when out of range) and kept.
 */
export function recommendHyperParameters(
  model: LlamaModelSpec,
  trainingRecords: number,
  overrides: Partial<Record<LlamaHyperParameterName, number>> = {},
): HyperParameterRecommendation {
  const defaults = resolveHyperParameters(model, {});
  const epochs = recommendedEpochs(trainingRecords);
  const recommended: ResolvedHyperParameters = { ...defaults, epochCount: epochs };
  const overridden = (Object.keys(overrides) as LlamaHyperParameterName[]).filter((name) => overrides[name] !== undefined);
  const values = resolveHyperParameters(model, { ...recommended, ...pick(overrides, overridden) });

  const steps = trainingRecords * epochs;
  const reasons: Record<LlamaHyperParameterName, string> = {
    epochCount:
      `epochCount ${epochs}: ${trainingRecords.toLocaleString('en-US')} training record${trainingRecords === 1 ? '' : 's'} x ${epochs} epochs = ${steps.toLocaleString('en-US')} steps at batch size 1; ` +
      (trainingRecords < 1000
        ? 'a small dataset needs several passes to learn the answer format.'
        : 'a larger dataset needs fewer passes, and extra passes mostly add cost and overfitting risk.'),
    batchSize: `batchSize ${recommended.batchSize}: the only value Bedrock allows for ${model.displayName}.`,
    learningRate:
      `learningRate ${recommended.learningRate}: Bedrock's default; lower it (e.g. ${recommended.learningRate / 2}) if the validation loss rises while the training loss keeps falling.`,
  };
  const explanation = model.hyperParameters.map((spec) => {
    const name = spec.name;
    return overridden.includes(name) ? `${name} ${values[name]}: set by the run request (recommended: ${recommended[name]}).` : reasons[name];
  });
  return { values, recommended, overridden, trainingRecords, explanation };
}

function pick(values: Partial<Record<LlamaHyperParameterName, number>>, names: readonly LlamaHyperParameterName[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, values[n]!]));
}
