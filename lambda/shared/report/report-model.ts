/**
 * The evaluation report: what goes in (runs, predictions of the base and the fine-tuned
 * model, usage figures, an optional quality gate) and what comes out (a JSON-serializable
 * document the renderers turn into Markdown, HTML and a notification).
 *
 * Every score in the report is a percentage (0..100), per record as well as in total, so the
 * numbers a reader compares share one scale.
 */
import { CostEstimate } from '../cost-estimate';
import { ScoreSummary } from '../metrics';
import { TrainingMetricsSummary } from '../training-metrics';

/** Version of the {@link EvaluationReport} shape; raised on incompatible changes. */
export const EVALUATION_REPORT_SCHEMA_VERSION = 1;

/** Which run is being reported. */
export interface EvaluationRunInfo {
  readonly runId: string;
  readonly requestName: string;
  /** Deployment environment name (e.g. "dev", "prod"). */
  readonly environment: string;
  readonly model: {
    /** Catalogue name, e.g. "llama3.2-11b". */
    readonly name: string;
    /** Bedrock base model id, e.g. "meta.llama3-2-11b-instruct-v1:0:128k". */
    readonly baseModelIdentifier: string;
    /** ARN of the custom model, when known. */
    readonly customModelArn?: string;
  };
  readonly hyperParameters: Readonly<Record<string, number | string>>;
  /** s3:// URI of the run request that started the run. */
  readonly requestUri: string;
  /** ISO 8601 timestamps of the run. */
  readonly startedAt: string;
  readonly finishedAt: string;
  /** s3:// URI of the test file the records come from (the lines of the examples refer to it). */
  readonly testDataUri?: string;
}

/** One answered test record of one model. */
export interface PredictionRecord {
  /** Identifies the test record; the same id on the base and the fine-tuned side. */
  readonly recordId: string;
  readonly question: string;
  /** Reference answers (at least one); the best match counts. */
  readonly references: readonly string[];
  readonly prediction: string;
  readonly latencyMs: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** Line of the record in the test file (1-based), when known. */
  readonly line?: number;
  /** s3:// URIs of the images the question shows, in prompt order. */
  readonly imageUris?: readonly string[];
}

/** Usage figures that make up the evaluation's cost (no prices: they change and differ by region). */
export interface EvaluationCosts {
  /** Hours the fine-tuned model's Provisioned Throughput existed (it bills per hour). */
  readonly provisionedThroughputHours?: number;
  readonly modelUnits?: number;
  readonly baseInputTokens: number;
  readonly baseOutputTokens: number;
  readonly fineTunedInputTokens: number;
  readonly fineTunedOutputTokens: number;
}

/** Thresholds the fine-tuned model must meet. Unset thresholds are not checked. */
export interface QualityGate {
  /** Lowest acceptable fine-tuned F1 (0..100). */
  readonly minF1?: number;
  /** Lowest acceptable relative F1 improvement over the base model, in percent (may be negative to tolerate a small loss). */
  readonly minImprovementPercent?: number;
}

/** Everything {@link buildEvaluationReport} needs. */
export interface EvaluationReportInput {
  readonly run: EvaluationRunInfo;
  readonly training?: TrainingMetricsSummary;
  /**
   * Answers of each model. A record missing on one side (its inference failed) scores 0 for
   * that model, as the official SQuAD script scores unanswered questions, and is counted.
   */
  readonly base: readonly PredictionRecord[];
  readonly fineTuned: readonly PredictionRecord[];
  readonly costs: EvaluationCosts;
  readonly qualityGate?: QualityGate;
  /** The cost estimate made before the job was created (run.json `costEstimate`), shown beside the actual usage. */
  readonly costEstimate?: CostEstimate;
  /** How many lowest-scoring examples to keep. @default 10 */
  readonly lowestCount?: number;
  /**
   * Whether the models, the training job and the Provisioned Throughput were local stand-ins
   * (the offline demo), so every figure they produced is marked as such in the report.
   * @default false
   */
  readonly madeWithStandIns?: boolean;
}

/** Scores of one model over every record of the evaluation. */
export interface ModelScores extends ScoreSummary {
  /** Records the model answered. */
  readonly answered: number;
  /** Records without an answer (inference failed); they count as 0 in `f1` and `exactMatch`. */
  readonly missing: number;
}

/** One test record with both answers. Scores are percentages; a missing answer is `null` and scores 0. */
export interface ReportRecord {
  readonly recordId: string;
  /** Line of the record in the test file (1-based); `null` when the predictions did not say. */
  readonly line: number | null;
  /** s3:// URIs of the images the question shows, in prompt order (empty for text records). */
  readonly imageUris: readonly string[];
  readonly question: string;
  readonly references: readonly string[];
  readonly basePrediction: string | null;
  readonly fineTunedPrediction: string | null;
  readonly baseF1: number;
  readonly fineTunedF1: number;
  readonly baseExactMatch: boolean;
  readonly fineTunedExactMatch: boolean;
}

/** Latency of the answered records of one model, in milliseconds (nearest-rank percentiles). */
export interface LatencyStats {
  readonly count: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Token totals of one model's answered records. */
export interface TokenTotals {
  readonly input: number;
  readonly output: number;
}

/** The quality gate's verdict. */
export interface QualityGateResult {
  /** Whether any threshold was set; when not, `passed` is true and `reasons` is empty. */
  readonly evaluated: boolean;
  readonly passed: boolean;
  /** One sentence per threshold, starting with "PASS:" or "FAIL:". */
  readonly reasons: readonly string[];
}

/** The evaluation report (JSON-serializable). */
export interface EvaluationReport {
  readonly schemaVersion: typeof EVALUATION_REPORT_SCHEMA_VERSION;
  readonly run: EvaluationRunInfo & { readonly durationSeconds: number };
  readonly scores: { readonly base: ModelScores; readonly fineTuned: ModelScores };
  /** (fine-tuned F1 - base F1) / base F1 x 100; `null` when the base F1 is 0. */
  readonly relativeImprovementPercent: number | null;
  /** Fine-tuned minus base, in points (0..100 scale). */
  readonly absoluteDelta: { readonly f1: number; readonly exactMatch: number };
  /** Records where the fine-tuned F1 is higher, lower or equal to the base F1. */
  readonly recordComparison: { readonly improved: number; readonly worsened: number; readonly unchanged: number };
  /** Every record, in input order (base order, then records only the fine-tuned side has). */
  readonly records: readonly ReportRecord[];
  /** How many records lost points: F1 below 100 for either model (a missing answer scores 0). */
  readonly lostPoints: number;
  /**
   * The lowest-scoring records, only among those that lost points: by fine-tuned F1, then base
   * F1, ascending. Empty when every answer of both models scored F1 100.
   */
  readonly lowest: readonly ReportRecord[];
  readonly latency: { readonly base: LatencyStats | null; readonly fineTuned: LatencyStats | null };
  readonly tokens: { readonly base: TokenTotals; readonly fineTuned: TokenTotals };
  /** The usage figures given, plus model-unit hours when hours and units are known. */
  readonly costs: EvaluationCosts & { readonly modelUnitHours?: number };
  /** The estimate made before the job was created, when the run has one. */
  readonly costEstimate?: CostEstimate;
  readonly training: TrainingMetricsSummary | null;
  readonly gate: QualityGateResult;
  /**
   * True when the report was made by the offline demo: answers, scores, latency, tokens,
   * training loss and Provisioned Throughput hours come from local stand-ins, not from Bedrock.
   */
  readonly madeWithStandIns: boolean;
}
