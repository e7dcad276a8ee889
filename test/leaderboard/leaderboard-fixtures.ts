/** Run records of an experiment's variants, shaped as the workflow writes them, for the leaderboard tests. */
import { RunContext } from '../../lambda/shared/run-context';
import { RunEvaluation, RunRecord } from '../../lambda/shared/run-record';
import { LossSummary } from '../../lambda/shared/training-metrics';

export const BUCKET = 'leaderboard-artifacts';

/** A training-loss summary whose curve falls from `start` to `end` over `steps` steps. */
export function lossSummary(start: number, end: number, steps = 30): LossSummary {
  const curve = Array.from({ length: steps }, (_, i) => [i + 1, start + ((end - start) * i) / (steps - 1)] as const);
  return { steps, finalLoss: end, bestLoss: end, bestStep: steps, lossPerEpoch: [{ epoch: 1, meanLoss: (start + end) / 2, steps }], curve };
}

export interface VariantFixture {
  readonly name: string;
  readonly status?: RunRecord['status'];
  readonly f1?: number;
  readonly em?: number;
  readonly baseF1?: number;
  readonly gate?: { evaluated: boolean; passed: boolean };
  readonly error?: { name: string; cause: string };
  readonly hyperParameters?: Record<string, number>;
  readonly model?: string;
  readonly loss?: [number, number];
}

export function variantRunId(experimentRunId: string, name: string): string {
  return `${experimentRunId}-${name}`;
}

/** The run record of one variant. */
export function variantRecord(experimentRunId: string, v: VariantFixture): RunRecord {
  const runId = variantRunId(experimentRunId, v.name);
  const status = v.status ?? (v.error ? 'FAILED' : 'SUCCEEDED');
  const baseF1 = v.baseF1 ?? 50;
  const evaluation: RunEvaluation | undefined =
    v.f1 === undefined
      ? undefined
      : {
          baseF1,
          fineTunedF1: v.f1,
          baseExactMatch: 40,
          fineTunedExactMatch: v.em ?? 40,
          relativeImprovementPercent: baseF1 === 0 ? null : ((v.f1 - baseF1) / baseF1) * 100,
          records: 20,
          gate: { evaluated: v.gate?.evaluated ?? false, passed: v.gate?.passed ?? true, reasons: v.gate?.evaluated ? [v.gate.passed ? 'PASS: fine.' : 'FAIL: below the minimum.'] : [] },
          reportUri: `s3://${BUCKET}/runs/${runId}/evaluation/report.md`,
          reportHtmlUri: `s3://${BUCKET}/runs/${runId}/evaluation/report.html`,
        };
  const run = {
    runId,
    requestName: 'sweep',
    model: { name: v.model ?? 'llama3.2-11b', baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0:128k', inferenceProfileId: 'x', supportsImages: true, maxTokensPerRecord: 16000 },
    hyperParameters: v.hyperParameters ?? { epochCount: 2, learningRate: 0.0001 },
    artifacts: { bucket: BUCKET, prefix: `runs/${runId}/` },
    executionArn: `arn:aws:states:us-west-2:111122223333:execution:Workflow:${runId}`,
  } as unknown as RunContext;
  const [start, end] = v.loss ?? [2, 0.5];
  return {
    schemaVersion: 1,
    runId,
    executionArn: run.executionArn,
    createdAt: '2026-12-01T10:00:00.000Z',
    status,
    run,
    costEstimate: {
      model: run.model.name,
      training: { records: 100, tokensPerEpoch: 10_000, epochs: 2, tokens: 20_000 },
      validation: { records: 0, tokensPerEpoch: 0, epochs: 2, tokens: 0 },
      totalTokens: 30_000,
      dollars: { total: 1.5, missingPrices: [] },
      prices: { trainingPer1kTokens: 0.01, provisionedThroughputPerModelUnitHour: 20, baseInputPer1kTokens: 0.001, baseOutputPer1kTokens: 0.001 },
    },
    ...(status === 'SUCCEEDED' ? { metrics: { training: lossSummary(start, end), validation: lossSummary(start + 0.1, end + 0.1, 3) } } : {}),
    ...(evaluation ? { evaluation, provisionedThroughput: { arn: 'arn:pt', name: 'pt', modelUnits: 1, createdAt: '2026-12-01T11:00:00.000Z', hours: 1.2 } } : {}),
    ...(v.error || status !== 'SUCCEEDED'
      ? { outcome: { status: status as 'FAILED', finishedAt: '2026-12-01T12:00:00.000Z', error: v.error?.name, cause: v.error?.cause, summary: v.error ? `${v.error.name}: ${v.error.cause}` : 'ended' } }
      : { outcome: { status: 'SUCCEEDED', finishedAt: '2026-12-01T12:00:00.000Z', summary: 'The run completed.' } }),
    timeline: [],
  };
}
