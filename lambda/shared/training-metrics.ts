/**
 * Reads Bedrock's training and validation metrics CSVs into a summary: final and best loss,
 * and the loss per epoch. Pure: the caller fetches the text.
 *
 * training_artifacts/step_wise_training_metrics.csv: step_number,epoch_number,training_loss,perplexity
 * validation_artifacts/post_fine_tuning_validation/validation_metrics.csv: step_number,epoch_number,validation_loss,perplexity
 */

/** Loss figures of one CSV. */
export interface LossSummary {
  /** Number of rows read. */
  readonly steps: number;
  /** Loss of the last row. */
  readonly finalLoss: number;
  /** Lowest loss and the step where it occurred. */
  readonly bestLoss: number;
  readonly bestStep: number;
  /** Mean loss per epoch, in epoch order. */
  readonly lossPerEpoch: ReadonlyArray<{ readonly epoch: number; readonly meanLoss: number; readonly steps: number }>;
  /** Every point (step, loss), thinned to at most `maxPoints` for charts. */
  readonly curve: ReadonlyArray<readonly [number, number]>;
}

/** The metrics summary kept in the run record. */
export interface TrainingMetricsSummary {
  readonly training?: LossSummary;
  readonly validation?: LossSummary;
}

/**
 * Parses one metrics CSV. The loss column is found by name (`training_loss` or
 * `validation_loss`), so column order does not matter.
 *
 * @throws Error naming the line of a malformed row.
 */
export function summarizeLossCsv(csv: string, lossColumn: 'training_loss' | 'validation_loss', maxPoints = 200): LossSummary | undefined {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const header = lines[0].split(',').map((h) => h.trim());
  const stepIndex = header.indexOf('step_number');
  const epochIndex = header.indexOf('epoch_number');
  const lossIndex = header.indexOf(lossColumn);
  if (stepIndex < 0 || epochIndex < 0 || lossIndex < 0) {
    throw new Error(`metrics CSV header "${lines[0]}" lacks step_number, epoch_number or ${lossColumn}`);
  }
  const points: Array<{ step: number; epoch: number; loss: number }> = [];
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',');
    const step = Number(cells[stepIndex]);
    const epoch = Number(cells[epochIndex]);
    const loss = Number(cells[lossIndex]);
    if (![step, epoch, loss].every(Number.isFinite)) throw new Error(`metrics CSV line ${i + 2} is malformed: "${line}"`);
    points.push({ step, epoch, loss });
  });
  let best = points[0];
  const epochs = new Map<number, { sum: number; steps: number }>();
  for (const p of points) {
    if (p.loss < best.loss) best = p;
    const e = epochs.get(p.epoch) ?? { sum: 0, steps: 0 };
    e.sum += p.loss;
    e.steps += 1;
    epochs.set(p.epoch, e);
  }
  const stride = Math.max(1, Math.ceil(points.length / maxPoints));
  const curve = points.filter((_, i) => i % stride === 0 || i === points.length - 1).map((p) => [p.step, p.loss] as const);
  return {
    steps: points.length,
    finalLoss: points[points.length - 1].loss,
    bestLoss: best.loss,
    bestStep: best.step,
    lossPerEpoch: [...epochs.entries()].sort(([a], [b]) => a - b).map(([epoch, e]) => ({ epoch, meanLoss: e.sum / e.steps, steps: e.steps })),
    curve,
  };
}

/** Where Bedrock writes the metrics CSVs for a job, under the job's output location. */
export function metricsKeys(outputPrefix: string, jobId: string): { training: string; validation: string } {
  const base = `${outputPrefix}model-customization-job-${jobId}/`;
  return {
    training: `${base}training_artifacts/step_wise_training_metrics.csv`,
    validation: `${base}validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`,
  };
}
