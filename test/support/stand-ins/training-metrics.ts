/**
 * Plausible training curves for the simulated customization jobs, written as the CSV files
 * Bedrock leaves in the job's output folder. Deterministic for a given seed, so a test run
 * is repeatable. Pure functions.
 *
 *   training_artifacts/step_wise_training_metrics.csv:
 *     step_number,epoch_number,training_loss,perplexity
 *   validation_artifacts/post_fine_tuning_validation/validation_metrics.csv:
 *     step_number,epoch_number,validation_loss,perplexity
 * Steps and epochs count from 1. Perplexity is exp(loss).
 */
import { seededRandomFrom } from '../seeded-random';

/** What to simulate. */
export interface TrainingRunShape {
  /** Anything stable (the job id); equal seeds give equal curves. */
  readonly seed: string;
  readonly epochs: number;
  /** Optimizer steps per epoch (records / batch size; batch size is 1 for Llama 3.2). */
  readonly stepsPerEpoch: number;
  /** Whether validation data was given (then validation_metrics.csv is produced). */
  readonly withValidation: boolean;
  /** Most rows in the step-wise file; longer runs are sampled evenly (the last step is always kept). */
  readonly maxRows?: number;
}

/** The simulated curves. */
export interface SimulatedTraining {
  readonly trainingCsv: string;
  readonly validationCsv?: string;
  /** Loss at the last step (GetModelCustomizationJob trainingMetrics.trainingLoss). */
  readonly finalTrainingLoss: number;
  /** Validation loss after the last epoch (validationMetrics[].validationLoss). */
  readonly finalValidationLoss?: number;
}


function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** Simulates a run: loss decays from about 2.5 toward about 0.4 with small noise. */
export function simulateTraining(shape: TrainingRunShape): SimulatedTraining {
  if (!(shape.epochs >= 1) || !(shape.stepsPerEpoch >= 1)) {
    throw new Error(`simulateTraining needs at least one epoch and one step per epoch; got epochs=${shape.epochs}, stepsPerEpoch=${shape.stepsPerEpoch}.`);
  }
  const random = seededRandomFrom(shape.seed);
  const start = 2.2 + random() * 0.6;
  const floor = 0.3 + random() * 0.2;
  const totalSteps = shape.epochs * shape.stepsPerEpoch;
  const decay = totalSteps / 3;
  const lossAt = (step: number) => floor + (start - floor) * Math.exp(-step / decay);

  const maxRows = Math.max(1, shape.maxRows ?? 2000);
  const stride = Math.max(1, Math.ceil(totalSteps / maxRows));
  const rows = ['step_number,epoch_number,training_loss,perplexity'];
  let finalTrainingLoss = 0;
  for (let step = 1; step <= totalSteps; step++) {
    const noise = (random() - 0.5) * 0.04 * lossAt(step);
    const loss = round(Math.max(0.01, lossAt(step) + noise));
    if (step % stride === 0 || step === 1 || step === totalSteps) {
      rows.push(`${step},${Math.ceil(step / shape.stepsPerEpoch)},${loss},${round(Math.exp(loss))}`);
    }
    finalTrainingLoss = loss;
  }

  if (!shape.withValidation) return { trainingCsv: rows.join('\n') + '\n', finalTrainingLoss };
  const validationRows = ['step_number,epoch_number,validation_loss,perplexity'];
  let finalValidationLoss = 0;
  for (let epoch = 1; epoch <= shape.epochs; epoch++) {
    const step = epoch * shape.stepsPerEpoch;
    // Validation loss sits a little above training loss, as on held-out data.
    const loss = round(lossAt(step) * (1.08 + random() * 0.05));
    validationRows.push(`${step},${epoch},${loss},${round(Math.exp(loss))}`);
    finalValidationLoss = loss;
  }
  return { trainingCsv: rows.join('\n') + '\n', validationCsv: validationRows.join('\n') + '\n', finalTrainingLoss, finalValidationLoss };
}
