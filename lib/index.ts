/**
 * The public API of llama-finetune-cdk: what a CDK app imports. Everything else under lib/ is
 * internal and may change without notice (the package's `exports` allows no deep imports).
 * Every export here is jsii-compatible: `npx jsii` compiles it for Python and the other jsii
 * languages, so nothing exported may be a free function, a constant or a TypeScript-only type.
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
export type { CustomizationJobNetwork, FinetuningRunOptions, FinetuningWorkflowProps } from './workflow/finetuning-workflow';
export type { EvaluationOptions, QualityGate } from './workflow/evaluation-stage';
export type { CostBudgetSettings, ModelPriceSettings } from './workflow/cost-settings';
export type { ModelPromotionOptions } from './workflow/promotion-stage';

// The Llama 3.2 model catalogue: ids, hyperparameter ranges, dataset limits, regions.
export * from './models/llama-model';

// Acknowledging cdk-nag findings whose ids aws-cdk-lib 2.257's Validations.acknowledge refuses.
export { NagFindings } from './core/nag';

// Operations: alarms, the dashboard, the Provisioned Throughput watch and the custom metrics.
export * from './operations';
