/**
 * The public API of llama-finetune-cdk: what a CDK app imports. Everything else under lib/ is
 * internal and may change without notice (the package's `exports` allows no deep imports).
 *
 * @packageDocumentation
 */

// The all-in-one construct. (The repository's own per-environment stack and cdk.json parsing
// are its app, in app/, not part of the library.)
export * from './llama-finetuning';

// The building blocks LlamaFinetuning composes, for apps that wire their own.
export * from './storage/finetuning-storage';
export * from './iam/bedrock-customization-role';
export * from './notifications/run-notifications';
export * from './trigger/run-request-trigger';
export * from './outputs/finetuning-outputs';
export { FinetuningWorkflow } from './workflow/finetuning-workflow';
export type { FinetuningRunSettings, FinetuningWorkflowProps } from './workflow/finetuning-workflow';
export type { EvaluationProps, QualityGate } from './workflow/evaluation-stage';
export type { CostBudgetSettings, ModelPriceSettings } from './workflow/cost-settings';
export type { ModelPromotionProps } from './workflow/promotion-stage';

// Internal constructs reachable through public properties (FinetuningWorkflow.evaluation and
// its functions): their types can be named, but they are not meant to be created directly.
export type { EvaluationStage, EvaluationStageProps } from './workflow/evaluation-stage';
export type { PromotionStage, PromotionStageProps } from './workflow/promotion-stage';
export type { WorkflowFunction, WorkflowFunctionProps } from './workflow/workflow-function';
// FinetuningWorkflow.historyEstimate: the worst-case execution history the settings allow.
export { HISTORY_EVENT_BUDGET, MAX_HISTORY_EVENTS } from './workflow/history-budget';
export type { HistoryEstimate, PollLoop } from './workflow/history-budget';

// The Llama 3.2 model catalogue: ids, hyperparameter ranges, dataset limits, regions.
export * from './models';

// Thrown at synth time when props contradict each other or break a Bedrock limit.
export { InvalidPropsError } from './core/props-validation';
// Acknowledging a cdk-nag finding whose id aws-cdk-lib 2.257's Validations.acknowledge refuses.
export { acknowledgeFinding } from './core/nag';

// Operations: alarms, the dashboard, the Provisioned Throughput watch and the custom metrics.
export * from './operations';
