/**
 * An experiment's runs: from the experiment's own run context (one upload) to each variant's
 * run context and child-execution input, and the names both sides agree on. Pure; used by
 * read-request (the variants' specs), plan-variants (the child executions), cleanup-run (which
 * stops them) and the tests.
 */
import type { BaselineReference } from './evaluation/baseline';
import { ExperimentPlan, variantRunId } from './experiment-plan';
import { findModel } from './models/llama-models';
import { ExperimentVariantSpec, RunContext, RunExperiment, runModelOf } from './run-context';
import { ExperimentVariantRun, RunRecord, runRecordKey } from './run-record';
import type { CostEstimate } from './cost-estimate';

/** The experiment field of the experiment's own run context. */
export type ExperimentOfRun = Extract<RunExperiment, { kind: 'experiment' }>;

/** Step Functions' longest execution name. */
export const MAX_EXECUTION_NAME_CHARS = 80;

/** The experiment section of the experiment's own context: each variant's spec and run id. */
export function experimentOfPlan(plan: ExperimentPlan, experimentRunId: string): ExperimentOfRun {
  return {
    kind: 'experiment',
    variants: plan.variants.map((v) => ({
      name: v.name,
      index: v.index,
      runId: variantRunId(experimentRunId, v.name),
      model: v.request.model.name,
      hyperParameters: { ...v.request.hyperParameters },
      hyperParametersOverridden: [...v.request.hyperParametersOverridden],
    })),
  };
}

/**
 * The execution of a variant: named after its run id (unique per upload, so a duplicated event
 * or a retry of the start finds ExecutionAlreadyExists instead of a second run), in the same
 * state machine as the experiment.
 */
export function variantExecutionArn(stateMachineArn: string, runId: string): string {
  if (!/^arn:[^:]+:states:[^:]+:\d{12}:stateMachine:[^:]+$/.test(stateMachineArn)) throw new Error(`not a state machine ARN: ${stateMachineArn}`);
  if (runId.length > MAX_EXECUTION_NAME_CHARS) throw new Error(`run id ${runId} is longer than an execution name may be (${MAX_EXECUTION_NAME_CHARS})`);
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
}

/**
 * The execution of the promotion of an experiment's best variant: `<experiment run id>_promote`.
 * The underscore keeps it apart from every variant's execution (`<experiment run id>-<variant
 * name>`; run ids and variant names never hold one), a variant named `promote` included.
 */
export function promotionExecutionName(experimentRunId: string): string {
  if (experimentRunId.length + '_promote'.length > MAX_EXECUTION_NAME_CHARS) throw new Error(`run id ${experimentRunId} leaves no room for '_promote' in an execution name (${MAX_EXECUTION_NAME_CHARS} characters)`);
  return `${experimentRunId}_promote`;
}

/** What a variant's own record starts with: the experiment's validation, pinned data and the variant's share of the estimate. */
export interface VariantRecordSeed {
  readonly validation?: RunRecord['validation'];
  readonly data?: RunRecord['data'];
  readonly costEstimate?: CostEstimate;
}

/** The part of the validation result a variant's run uses (LaunchJob reads recommendedHyperParameters). */
export interface VariantValidation {
  readonly valid: true;
  readonly withinBudget: true;
  readonly recommendedHyperParameters: Record<string, number>;
  readonly reportUri?: string;
}

/** The input of one variant's child execution. */
export interface VariantExecutionInput {
  readonly variant: { readonly run: RunContext; readonly validation: VariantValidation; readonly seed: VariantRecordSeed };
}

/** One item of the experiment's Map: the child execution to start and what the leaderboard reads. */
export interface VariantStart {
  readonly name: string;
  readonly index: number;
  readonly runId: string;
  readonly executionName: string;
  readonly runRecordKey: string;
  readonly input: VariantExecutionInput;
}

/**
 * A variant's run context: the experiment's context with the variant's run id, model and
 * hyperparameters, its own artifacts prefix, the experiment's pinned data, the shared baseline of
 * its base model (when there is one) and the child execution's ARN (which alone may change the
 * variant's record).
 */
export function variantRunContext(
  experimentRun: RunContext,
  spec: ExperimentVariantSpec,
  stateMachineArn: string,
  baseline?: BaselineReference,
): RunContext {
  const runsPrefix = experimentRun.artifacts.prefix.slice(0, experimentRun.artifacts.prefix.length - `${experimentRun.runId}/`.length);
  const { experiment: _experiment, ...common } = experimentRun;
  return {
    ...common,
    runId: spec.runId,
    model: catalogueModel(spec.model),
    data: { ...experimentRun.data, pinnedPrefix: experimentRun.data.pinnedPrefix ?? experimentRun.artifacts.prefix },
    hyperParameters: { ...spec.hyperParameters },
    hyperParametersOverridden: [...spec.hyperParametersOverridden],
    evaluation: { ...experimentRun.evaluation, ...(baseline ? { baseline } : {}) },
    experiment: { kind: 'variant', experimentRunId: experimentRun.runId, variantName: spec.name, variantIndex: spec.index },
    artifacts: { bucket: experimentRun.artifacts.bucket, prefix: `${runsPrefix}${spec.runId}/` },
    executionArn: variantExecutionArn(stateMachineArn, spec.runId),
  };
}

/** The distinct models of the variants, in request order: each is validated once and gets one shared baseline. */
export function distinctVariantModels(experiment: ExperimentOfRun): string[] {
  return [...new Set(experiment.variants.map((v) => v.model))];
}

/** A catalogue model, by name, as a run context names it. */
function catalogueModel(name: string): RunContext['model'] {
  const model = findModel(name);
  if (!model) throw new Error(`the model catalogue does not know model ${name}`);
  return runModelOf(model);
}

/** The experiment's record as plan-variants reads it: its validation, pinned data and estimate. */
export type ExperimentRecordView = Pick<RunRecord, 'validation' | 'data' | 'experiment'>;

/**
 * Every variant's child execution, in request order: its context, the validation it inherits
 * (its own hyperparameters from the experiment's validation) and its record's seed.
 */
export function planVariantStarts(
  experimentRun: RunContext,
  variantHyperParameters: ReadonlyArray<{ readonly name: string; readonly values: Record<string, number> }>,
  stateMachineArn: string,
  record: ExperimentRecordView | undefined,
  baselines: readonly BaselineReference[] = [],
): VariantStart[] {
  const experiment = experimentRun.experiment;
  if (experiment?.kind !== 'experiment') throw new Error(`run ${experimentRun.runId} is not an experiment`);
  const baselineModels = distinctVariantModels(experiment);
  // One baseline serves every variant when all their models share one base model (or the deployment names one base model id).
  if (baselines.length > 1 && baselines.length !== baselineModels.length) throw new Error(`expected ${baselineModels.length} baselines (${baselineModels.join(', ')}), got ${baselines.length}`);
  return experiment.variants.map((spec) => {
    // The baseline piece answers one baseline per distinct model, in the order of distinctVariantModels.
    const baseline = baselines.length === 1 ? baselines[0] : baselines.length > 1 ? baselines[baselineModels.indexOf(spec.model)] : undefined;
    const run = variantRunContext(experimentRun, spec, stateMachineArn, baseline);
    const recommended = variantHyperParameters.find((h) => h.name === spec.name)?.values;
    if (!recommended) throw new Error(`the validation result has no hyperparameters for variant ${spec.name}`);
    const costEstimate = record?.experiment?.costEstimate?.variants.find((v) => v.name === spec.name)?.estimate;
    return {
      name: spec.name,
      index: spec.index,
      runId: spec.runId,
      executionName: spec.runId,
      runRecordKey: runRecordKey(run),
      input: {
        variant: {
          run,
          validation: { valid: true, withinBudget: true, recommendedHyperParameters: { ...recommended }, ...(record?.validation ? { reportUri: record.validation.reportUri } : {}) },
          seed: { ...(record?.validation ? { validation: record.validation } : {}), ...(record?.data ? { data: record.data } : {}), ...(costEstimate ? { costEstimate } : {}) },
        },
      },
    };
  });
}

/** The variants as the experiment's record lists them before they start. */
export function experimentVariantRuns(starts: readonly VariantStart[], stateMachineArn: string, bucket: string): ExperimentVariantRun[] {
  return starts.map((s) => ({ name: s.name, index: s.index, runId: s.runId, executionArn: variantExecutionArn(stateMachineArn, s.executionName), recordUri: `s3://${bucket}/${s.runRecordKey}` }));
}
