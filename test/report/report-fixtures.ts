/**
 * Report inputs built so the expected figures are known by construction: each record's
 * outcome per model is chosen from a table, and every outcome has a hand-computed F1.
 */
import { EvaluationReportInput, PredictionRecord } from '../../lambda/shared/report';
import { summarizeLossCsv, TrainingMetricsSummary } from '../../lambda/shared/training-metrics';

/** How a model answered a record. */
export type Outcome = 'right' | 'partial' | 'wrong' | 'missing';

/**
 * F1 (0..1) and exact match of each outcome against the reference "answer <i>" (tokens
 * [answer, i]): right "Answer <i>." matches fully; partial "answer <i> maybe" has precision
 * 2/3 and recall 1, so F1 = 2 * (2/3) / (5/3) = 0.8; wrong and missing score 0.
 */
export const OUTCOME_SCORES: Record<Outcome, { f1: number; exactMatch: number }> = {
  right: { f1: 1, exactMatch: 1 },
  partial: { f1: 0.8, exactMatch: 0 },
  wrong: { f1: 0, exactMatch: 0 },
  missing: { f1: 0, exactMatch: 0 },
};

/** Outcomes per record: [base, fine-tuned]. */
export const OUTCOMES: ReadonlyArray<readonly [Outcome, Outcome]> = [
  ['right', 'right'],
  ['right', 'wrong'],
  ['partial', 'right'],
  ['partial', 'right'],
  ['wrong', 'right'],
  ['wrong', 'right'],
  ['wrong', 'partial'],
  ['wrong', 'wrong'],
  ['wrong', 'missing'],
  ['missing', 'right'],
  ['partial', 'partial'],
  ['wrong', 'right'],
];

/** The wrong answer of record 7 tries to inject markup. */
export const HOSTILE_ANSWER = '<script>alert("pwned")</script> | **bold** & <img src=x onerror=alert(1)>';

function answerFor(outcome: Outcome, i: number): string {
  if (outcome === 'right') return `Answer ${i}.`;
  if (outcome === 'partial') return `answer ${i} maybe`;
  return i === 7 ? HOSTILE_ANSWER : `something else entirely ${i * 7 + 1000}`;
}

/** The chart image record i shows (records 0, 3, 6, 9). */
export function chartUri(i: number): string {
  return `s3://datasets-bucket/data/charts/chart-${i}.png`;
}

function predictions(side: 0 | 1): PredictionRecord[] {
  const records: PredictionRecord[] = [];
  OUTCOMES.forEach((outcomes, i) => {
    const outcome = outcomes[side];
    if (outcome === 'missing') return;
    records.push({
      recordId: `rec-${String(i).padStart(3, '0')}`,
      question: side === 0 ? `Prompt-optimized: what is shown in chart ${i}?` : `What is shown in chart ${i}?`,
      references: [`answer ${i}`],
      prediction: answerFor(outcome, i),
      // Latency and tokens follow the record number, so their statistics are known.
      latencyMs: side === 0 ? 100 + 10 * i : 1000 + 100 * i,
      inputTokens: 50 + side * 10,
      outputTokens: i + 1,
      // Records sit on lines 3, 4, ... of the test file; every third one shows a chart.
      line: i + 3,
      ...(i % 3 === 0 ? { imageUris: [chartUri(i)] } : {}),
    });
  });
  return records;
}

/** Training and validation curves from Bedrock-style CSVs: 5 epochs of 12 steps, validation once per epoch. */
export function trainingSummary(): TrainingMetricsSummary {
  const trainingRows = Array.from({ length: 60 }, (_, i) => {
    const step = i + 1;
    const loss = 0.35 + 2.2 * Math.exp(-step / 14) + 0.06 * Math.sin(step * 1.7);
    return `${step},${Math.floor(i / 12) + 1},${loss.toFixed(5)},${Math.exp(loss).toFixed(4)}`;
  });
  const validationRows = [1, 2, 3, 4, 5].map((epoch) => {
    const loss = 0.55 + 1.5 * Math.exp(-epoch / 1.4);
    return `${epoch * 12},${epoch},${loss.toFixed(5)},${Math.exp(loss).toFixed(4)}`;
  });
  return {
    training: summarizeLossCsv(['step_number,epoch_number,training_loss,perplexity', ...trainingRows].join('\n'), 'training_loss'),
    validation: summarizeLossCsv(['step_number,epoch_number,validation_loss,perplexity', ...validationRows].join('\n'), 'validation_loss'),
  };
}

/** A complete report input; override any part. */
export function sampleInput(overrides: Partial<EvaluationReportInput> = {}): EvaluationReportInput {
  return {
    run: {
      runId: 'chartqa-11b-3f2a9c1d7e01',
      requestName: 'chartqa-11b',
      environment: 'dev',
      model: { name: 'llama3.2-11b', baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0:128k', customModelArn: 'arn:aws:bedrock:us-west-2:111122223333:custom-model/meta.llama3-2-11b-instruct-v1:0:128k/abc123' },
      hyperParameters: { epochCount: 5, batchSize: 1, learningRate: 0.0001 },
      requestUri: 's3://datasets-bucket/requests/chartqa-11b.json',
      startedAt: '2024-09-25T08:00:00.000Z',
      finishedAt: '2024-09-25T10:05:30.000Z',
      testDataUri: 's3://datasets-bucket/data/test.jsonl',
    },
    training: trainingSummary(),
    base: predictions(0),
    fineTuned: predictions(1),
    costs: {
      provisionedThroughputHours: 1.5,
      modelUnits: 2,
      baseInputTokens: 700,
      baseOutputTokens: 90,
      fineTunedInputTokens: 800,
      fineTunedOutputTokens: 95,
    },
    qualityGate: { minF1: 50, minImprovementPercent: 10 },
    ...overrides,
  };
}
