/**
 * The model registry: one SSM parameter per request name, under a per-deployment path, whose
 * value (JSON) says which custom model is the *current model* of that name in this environment,
 * which run made it, its scores, when, and the report. Applications and other stacks read it
 * with one GetParameter. This module is pure: the entry's shape, the parameter name, and the
 * promotion rule.
 */
import { RunRecord } from './run-record';

export { PROMOTED_DETAIL_TYPE } from './event-names';

/** How a Provisioned Throughput that applications call was pointed at the current model. */
export interface ServingState {
  /** The serving Provisioned Throughput the environment names. */
  readonly provisionedModelArn: string;
  /**
   * `Updating` while Bedrock moves it to the model; `InService` once it serves it; `SwapFailed`
   * when Bedrock refused or failed the update, or it did not finish in time (the previous model
   * keeps serving); `SwapRefused` when the library would not touch it (a commitment term).
   */
  readonly status: 'Updating' | 'InService' | 'SwapFailed' | 'SwapRefused';
  /** The model it serves as far as the library last saw. */
  readonly servingModelArn?: string;
  readonly requestedAt: string;
  readonly completedAt?: string;
  /** Why the swap failed or was refused. */
  readonly error?: string;
}

/** The value of a registry parameter. */
export interface RegistryEntry {
  readonly schemaVersion: 1;
  readonly requestName: string;
  readonly environment: string;
  /** What an application passes as modelId, through a Provisioned Throughput that serves it. */
  readonly customModelArn: string;
  readonly runId: string;
  /** Short model name, e.g. llama3.2-11b. */
  readonly model: string;
  readonly baseF1: number;
  readonly fineTunedF1: number;
  readonly relativeImprovementPercent: number | null;
  readonly qualityGate: 'PASSED' | 'NOT_SET';
  readonly promotedAt: string;
  /** `workflow` when a run promoted itself; `manual` for a promotion (or rollback) asked for by run id. */
  readonly promotedBy: 'workflow' | 'manual';
  readonly reportUri: string;
  readonly runRecordUri: string;
  /** The entry this one replaced. */
  readonly previous?: { readonly runId: string; readonly customModelArn: string; readonly fineTunedF1: number };
  /** The serving Provisioned Throughput, when the environment names one. */
  readonly serving?: ServingState;
}

/** What the environment decides about promotion. */
export interface PromotionPolicy {
  /** Only runs whose quality gate PASSED are promoted; false also promotes evaluated runs with no gate set. */
  readonly requireQualityGate: boolean;
  /** Promote even when the current model scored a higher fine-tuned F1. */
  readonly allowWorseModel: boolean;
}

/** Why a run was or was not promoted. */
export type PromotionReason =
  | 'PROMOTED'
  | 'ALREADY_CURRENT'
  | 'NO_CUSTOM_MODEL'
  | 'NOT_EVALUATED'
  | 'GATE_FAILED'
  | 'GATE_NOT_SET'
  | 'WORSE_THAN_CURRENT';

export interface PromotionDecision {
  readonly promote: boolean;
  readonly reason: PromotionReason;
  /** One sentence for the record, the message and the log. */
  readonly explanation: string;
}

/** Path segment rules of SSM parameter names: letters, digits, `_.-/`. */
const PARAMETER_PATH = /^\/[a-zA-Z0-9_.\-/]*\/$/;

/** The registry parameter of a request name: `<prefix><request name>`. */
export function registryParameterName(prefix: string, requestName: string): string {
  if (!PARAMETER_PATH.test(prefix)) throw new Error(`Model registry prefix '${prefix}' must begin and end with '/' and hold only letters, digits and _.-/`);
  if (!/^[a-zA-Z0-9_.-]+$/.test(requestName)) throw new Error(`Request name '${requestName}' cannot be part of an SSM parameter name`);
  return `${prefix}${requestName}`;
}

/**
 * The promotion rule. A run is promoted when it produced a custom model, was evaluated, and
 * its quality gate PASSED (or, with `requireQualityGate: false`, no gate was set), unless the
 * current model of its name scored a strictly higher fine-tuned F1 and the policy does not
 * allow a worse model. Equal F1: the newer run wins. A run that is already current stays so
 * (a retried step changes nothing).
 */
export function decidePromotion(record: RunRecord, current: RegistryEntry | undefined, policy: PromotionPolicy): PromotionDecision {
  const modelArn = record.job?.outputModelArn;
  if (!modelArn) return { promote: false, reason: 'NO_CUSTOM_MODEL', explanation: 'The run has no custom model.' };
  const evaluation = record.evaluation;
  if (!evaluation) return { promote: false, reason: 'NOT_EVALUATED', explanation: 'The run was not evaluated, so it has no score to be promoted on.' };
  if (evaluation.gate.evaluated && !evaluation.gate.passed) {
    return { promote: false, reason: 'GATE_FAILED', explanation: `The quality gate failed (${evaluation.gate.reasons.join('; ')}).` };
  }
  if (!evaluation.gate.evaluated && policy.requireQualityGate) {
    return { promote: false, reason: 'GATE_NOT_SET', explanation: 'No quality gate is set, and this environment promotes only runs that pass one (promotion.requireQualityGate).' };
  }
  if (current?.runId === record.runId) return { promote: true, reason: 'ALREADY_CURRENT', explanation: 'The run is already the current model.' };
  if (current && current.fineTunedF1 > evaluation.fineTunedF1 && !policy.allowWorseModel) {
    return {
      promote: false,
      reason: 'WORSE_THAN_CURRENT',
      explanation: `The current model (run ${current.runId}) scored a higher fine-tuned F1 (${current.fineTunedF1.toFixed(1)} > ${evaluation.fineTunedF1.toFixed(1)}); it stays current (promotion.allowWorseModel is off).`,
    };
  }
  return { promote: true, reason: 'PROMOTED', explanation: current ? `Replaces run ${current.runId} (fine-tuned F1 ${current.fineTunedF1.toFixed(1)} -> ${evaluation.fineTunedF1.toFixed(1)}).` : 'First model of this name.' };
}

/**
 * Whether a run may be promoted by hand (a rollback to it, or a promotion a failed step missed):
 * the same gate rule as {@link decidePromotion}, without the better-model rule, which the person
 * asking overrides on purpose. Returns the reason it may not, or undefined.
 */
export function manualPromotionRefusal(record: RunRecord, policy: PromotionPolicy): string | undefined {
  const decision = decidePromotion(record, undefined, { ...policy, allowWorseModel: true });
  if (decision.promote) return undefined;
  return decision.explanation;
}

/** The registry entry for a run that is promoted now. */
export function registryEntryFor(
  record: RunRecord,
  environment: string,
  now: Date,
  promotedBy: RegistryEntry['promotedBy'],
  current: RegistryEntry | undefined,
  serving?: ServingState,
): RegistryEntry {
  const evaluation = record.evaluation!;
  const run = record.run;
  return {
    schemaVersion: 1,
    requestName: run.requestName,
    environment,
    customModelArn: record.job!.outputModelArn!,
    runId: record.runId,
    model: run.model.name,
    baseF1: evaluation.baseF1,
    fineTunedF1: evaluation.fineTunedF1,
    relativeImprovementPercent: evaluation.relativeImprovementPercent,
    qualityGate: evaluation.gate.evaluated ? 'PASSED' : 'NOT_SET',
    promotedAt: now.toISOString(),
    promotedBy,
    reportUri: evaluation.reportHtmlUri,
    runRecordUri: `s3://${run.artifacts.bucket}/${run.artifacts.prefix}run.json`,
    ...(current && current.runId !== record.runId ? { previous: { runId: current.runId, customModelArn: current.customModelArn, fineTunedF1: current.fineTunedF1 } } : {}),
    ...(serving ? { serving } : {}),
  };
}

/** Parses a registry parameter's value; undefined for a value this library did not write. */
export function parseRegistryEntry(value: string | undefined): RegistryEntry | undefined {
  if (!value) return undefined;
  try {
    const parsed = JSON.parse(value) as RegistryEntry;
    return parsed && parsed.schemaVersion === 1 && typeof parsed.customModelArn === 'string' && typeof parsed.runId === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a Provisioned Throughput's state means for a swap to `desiredModelArn`: `done` when it is
 * InService serving it; `updating` while Bedrock is still moving it; `failed` when the update
 * failed or it ended up serving another model (the previous model keeps serving).
 */
export function swapProgress(pt: { status?: string; modelArn?: string; desiredModelArn?: string }, desiredModelArn: string): 'done' | 'updating' | 'failed' {
  if (pt.status === 'InService') return pt.modelArn === desiredModelArn ? 'done' : 'failed';
  if (pt.status === 'Updating' || pt.status === 'Creating') return pt.desiredModelArn === desiredModelArn ? 'updating' : 'failed';
  return 'failed';
}
