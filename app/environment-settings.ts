/**
 * Per-environment settings read from cdk.json (`context["llama-finetune:environments"]`), so
 * one app deploys dev, prod and more with their own accounts, regions and policies.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { InvalidPropsError } from '../lib/core/props-validation';
import { checkCostSettings, CostBudgetSettings, ModelPriceSettings } from '../lib/workflow/cost-settings';
import { LLAMA_MODELS, LlamaModelSpec, ModelCatalogueError, findModel, resolveHyperParameters } from '../lambda/shared/models/llama-models';

/** The context key in cdk.json that holds the environments. */
export const ENVIRONMENTS_CONTEXT_KEY = 'llama-finetune:environments';

/** Settings of one environment as written in cdk.json. */
export interface EnvironmentSettings {
  /** AWS account id (12 digits). */
  readonly account?: string;
  /** AWS region. */
  readonly region?: string;
  /** Whether buckets use a customer managed KMS key (created with rotation). @default false */
  readonly kmsEncryption?: boolean;
  /** `retain` (default) or `destroy`: what happens to buckets and logs when the stack is deleted. */
  readonly removalPolicy?: 'retain' | 'destroy';
  /** Days to keep logs; one of CloudWatch Logs' retention values. @default 90 */
  readonly logRetentionDays?: number;
  /**
   * Key prefix in the dataset bucket that this environment's run requests may name data
   * (training, validation, test files and images) under; see FinetuningRunOptions.dataPrefix.
   * @default - anywhere in the dataset bucket
   */
  readonly dataPrefix?: string;
  /** Model used when a request names none. */
  readonly defaultModel?: string;
  /** Hyperparameters used unless a request sets them. */
  readonly defaultHyperParameters?: Record<string, number>;
  /** Longest run, in hours. @default 168 */
  readonly executionTimeoutHours?: number;
  /** Minutes between job status checks. @default 5 */
  readonly pollIntervalMinutes?: number;
  /** Hours a run waits for Bedrock's concurrent-job quota before failing. @default 6 */
  readonly quotaWaitHours?: number;
  /** Variants of an experiment that train at once (within Bedrock's concurrent-job quota), 1 to 8. @default 2 */
  readonly maxConcurrentJobs?: number;
  /**
   * Hours checks of a training job may keep failing with throttling or server errors before the
   * run fails (the job trains on meanwhile); see jobWatchErrorBudget. @default 6
   */
  readonly jobWatchErrorBudgetHours?: number;
  /** Evaluation settings of this environment. @default - evaluate runs with test data, with the defaults of EvaluationOptions */
  readonly evaluation?: EnvironmentEvaluationSettings;
  /**
   * E-mail addresses subscribed to the run outcome topic, which also carries the alarms. Each
   * address gets a confirmation message from SNS and receives nothing until it confirms.
   * @default - no subscription
   */
  readonly notificationEmails?: readonly string[];
  /** Alarms and dashboard of this environment. @default - alarms and dashboard on, with the defaults of FinetuningOperationsOptions */
  readonly operations?: EnvironmentOperationsSettings;
  /**
   * Exports the stack's outputs as `<prefix><output key>` (e.g. `LlamaFinetuning-prod-DatasetBucketName`)
   * for other stacks' `Fn::ImportValue`; see FinetuningOutputsOptions.exportPrefix.
   * @default - outputs are not exported
   */
  readonly outputsExportPrefix?: string;
  /**
   * Prices per model in US dollars (see LlamaFinetuningProps.modelPrices), with their source and date.
   * @default - cost estimates in tokens only
   */
  readonly prices?: Readonly<Record<string, ModelPriceSettings>>;
  /**
   * The most one run may cost by its estimate (see LlamaFinetuningProps.costBudget).
   * @default - no budget
   */
  readonly budget?: CostBudgetSettings;
  /** Promotion to the model registry and the serving swap. @default - runs whose gate passed are promoted; no serving swap */
  readonly promotion?: EnvironmentPromotionSettings;
  /** Retention of custom models. @default - rejected models deleted after 30 days, 3 promoted kept per name */
  readonly modelRetention?: EnvironmentModelRetentionSettings;
}

/** Per-environment promotion settings (see ModelPromotionOptions). */
export interface EnvironmentPromotionSettings {
  /** Whether evaluated runs are promoted. @default true */
  readonly enabled?: boolean;
  /** Promote only runs whose quality gate passed. @default true */
  readonly requireQualityGate?: boolean;
  /** Promote over a current model with a higher fine-tuned F1. @default false */
  readonly allowWorseModel?: boolean;
  /** No-commitment Provisioned Throughput pointed at each promoted model. @default - none */
  readonly servingProvisionedModelArn?: string;
  /** SSM path of the registry. @default `/llama-finetune/<environment>/<deployment id>/models/` */
  readonly registryPrefix?: string;
}

/** Per-environment custom model retention (see CustomModelRetentionPolicy). */
export interface EnvironmentModelRetentionSettings {
  /** Whether the daily sweep exists. @default true */
  readonly enabled?: boolean;
  /** Days a rejected run's model is kept after the run ended. @default 30 */
  readonly deleteRejectedAfterDays?: number;
  /** Most recently promoted models kept per request name. @default 3 */
  readonly keepPromotedPerName?: number;
}

/** Per-environment operations settings (a subset of FinetuningOperationsOptions that fits in JSON). */
export interface EnvironmentOperationsSettings {
  /** Whether the CloudWatch alarms are created. @default true */
  readonly alarmsEnabled?: boolean;
  /** Whether the CloudWatch dashboard is created. @default true */
  readonly dashboardEnabled?: boolean;
  /** Hours (0.25 to 720) a Provisioned Throughput created by a run may exist before its alarm is raised; applies when evaluation is on. @default 6 */
  readonly provisionedThroughputMaxAgeHours?: number;
}

/** Per-environment evaluation settings (a subset of EvaluationOptions that fits in JSON). */
export interface EnvironmentEvaluationSettings {
  /** Whether runs with test data evaluate. @default true */
  readonly enabled?: boolean;
  /** Model units of the per-run Provisioned Throughput. @default 1 */
  readonly modelUnits?: number;
  /** An existing Provisioned Throughput to evaluate on, never deleted. @default - one per run */
  readonly provisionedModelArn?: string;
  /** Baseline model id (inference profile). @default - the run model's US inference profile */
  readonly baseModelId?: string;
  /** Shards inferred at once. @default 10 */
  readonly maxConcurrency?: number;
  /** Thresholds the fine-tuned model must meet. @default - no gate */
  readonly qualityGate?: { readonly minF1?: number; readonly minImprovementPercent?: number };
}

const KNOWN_KEYS = new Set(['account', 'region', 'kmsEncryption', 'removalPolicy', 'logRetentionDays', 'dataPrefix', 'defaultModel', 'defaultHyperParameters', 'executionTimeoutHours', 'pollIntervalMinutes', 'quotaWaitHours', 'maxConcurrentJobs', 'jobWatchErrorBudgetHours', 'evaluation', 'notificationEmails', 'operations', 'outputsExportPrefix', 'prices', 'budget', 'promotion', 'modelRetention']);

/** Every problem found in cdk.json's environments, reported together. */
export class InvalidEnvironmentSettingsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      problems.length === 1
        ? problems[0]
        : `cdk.json has ${problems.length} problems in context["${ENVIRONMENTS_CONTEXT_KEY}"]:\n${problems.map((p) => `- ${p}`).join('\n')}`,
    );
    this.name = 'InvalidEnvironmentSettings';
  }
}

/** Collects problems, worded like InvalidPropsError (the key, the problem, the fix). */
class Problems {
  readonly list: string[] = [];
  add(where: string, problem: string, fix: string): void {
    this.list.push(new InvalidPropsError('EnvironmentSettings', where, problem, fix).message);
  }
}

/**
 * Checks one environment's settings; errors name the cdk.json key and the fix.
 * @throws InvalidEnvironmentSettingsError listing every problem of the environment, not only the first.
 */
export function parseEnvironmentSettings(name: string, raw: unknown): EnvironmentSettings {
  const problems = new Problems();
  const settings = checkEnvironmentSettings(name, raw, problems);
  if (problems.list.length > 0) throw new InvalidEnvironmentSettingsError(problems.list);
  return settings;
}

/**
 * Checks every environment of cdk.json's `context["llama-finetune:environments"]`.
 * @throws InvalidEnvironmentSettingsError listing every problem of every environment at once,
 *   so one `cdk synth` shows all there is to fix.
 */
export function parseEnvironments(raw: unknown): Record<string, EnvironmentSettings> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    throw new InvalidEnvironmentSettingsError([
      `cdk.json has no environments under context["${ENVIRONMENTS_CONTEXT_KEY}"]; add at least one, e.g. "dev": {"account": "111111111111", "region": "us-west-2"}`,
    ]);
  }
  const problems = new Problems();
  const settings = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, checkEnvironmentSettings(name, value, problems)]));
  if (problems.list.length > 0) throw new InvalidEnvironmentSettingsError(problems.list);
  return settings;
}

function checkEnvironmentSettings(name: string, raw: unknown, problems: Problems): EnvironmentSettings {
  const where = `cdk.json ${ENVIRONMENTS_CONTEXT_KEY}.${name}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(where, 'is not an object', 'Write it as {"account": "...", "region": "..."}.');
    return {};
  }
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (!KNOWN_KEYS.has(key)) problems.add(`${where}.${key}`, 'is not a known setting', `Use one of: ${[...KNOWN_KEYS].join(', ')}.`);
  }
  if (s.account !== undefined && (typeof s.account !== 'string' || !/^\d{12}$/.test(s.account))) {
    problems.add(`${where}.account`, `'${String(s.account)}' is not a 12-digit account id`, 'Put your AWS account id there.');
  }
  if (s.region !== undefined && (typeof s.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(s.region))) {
    problems.add(`${where}.region`, `'${String(s.region)}' is not a region name`, 'Use a region such as us-west-2.');
  }
  if (s.removalPolicy !== undefined && s.removalPolicy !== 'retain' && s.removalPolicy !== 'destroy') {
    problems.add(`${where}.removalPolicy`, `'${String(s.removalPolicy)}' is not allowed`, "Use 'retain' or 'destroy'.");
  }
  if (s.logRetentionDays !== undefined && !(Object.values(logs.RetentionDays) as unknown[]).includes(s.logRetentionDays)) {
    problems.add(`${where}.logRetentionDays`, `${String(s.logRetentionDays)} is not a CloudWatch Logs retention`, 'Use e.g. 30, 90, 365.');
  }
  if (s.dataPrefix !== undefined && (typeof s.dataPrefix !== 'string' || s.dataPrefix.trim().replace(/^\/+/, '') === '' || /[*?]/.test(s.dataPrefix))) {
    problems.add(`${where}.dataPrefix`, `${JSON.stringify(s.dataPrefix)} is not a key prefix`, "Give a folder-like prefix without wildcards, such as 'teams/vision/'.");
  }
  if (s.executionTimeoutHours !== undefined && (typeof s.executionTimeoutHours !== 'number' || s.executionTimeoutHours < 1 || s.executionTimeoutHours > 24 * 365)) {
    problems.add(`${where}.executionTimeoutHours`, `${String(s.executionTimeoutHours)} is out of range`, 'Use a number of hours from 1 to 8760.');
  }
  for (const [key, max] of [['pollIntervalMinutes', 24 * 60], ['quotaWaitHours', 24 * 30], ['jobWatchErrorBudgetHours', 24 * 30]] as const) {
    const value = s[key];
    if (value !== undefined && (typeof value !== 'number' || value <= 0 || value > max)) {
      problems.add(`${where}.${key}`, `${String(value)} is out of range`, `Use a positive number up to ${max}.`);
    }
  }
  if (s.maxConcurrentJobs !== undefined && (typeof s.maxConcurrentJobs !== 'number' || !Number.isInteger(s.maxConcurrentJobs) || s.maxConcurrentJobs < 1 || s.maxConcurrentJobs > 8)) {
    problems.add(`${where}.maxConcurrentJobs`, `${String(s.maxConcurrentJobs)} is not a whole number from 1 to 8`, 'Set how many variants of an experiment may train at once, within your Bedrock concurrent-job quota, e.g. 2.');
  }
  if (s.outputsExportPrefix !== undefined && (typeof s.outputsExportPrefix !== 'string' || !/^[A-Za-z0-9:-]{1,200}$/.test(s.outputsExportPrefix))) {
    problems.add(`${where}.outputsExportPrefix`, `${JSON.stringify(s.outputsExportPrefix)} is not an export name prefix`, 'Use 1 to 200 letters, digits, \'-\' and \':\', such as "LlamaFinetuning-prod-".');
  }
  if (s.kmsEncryption !== undefined && typeof s.kmsEncryption !== 'boolean') {
    problems.add(`${where}.kmsEncryption`, `${JSON.stringify(s.kmsEncryption)} is not true or false`, 'Write true or false.');
  }
  checkDefaults(where, s, problems);
  if (s.evaluation !== undefined) checkEvaluationSettings(`${where}.evaluation`, s.evaluation, problems);
  if (s.notificationEmails !== undefined) checkNotificationEmails(`${where}.notificationEmails`, s.notificationEmails, problems);
  if (s.operations !== undefined) checkOperationsSettings(`${where}.operations`, s.operations, problems);
  if (s.promotion !== undefined) checkPromotionSettings(`${where}.promotion`, s.promotion, problems);
  if (s.modelRetention !== undefined) checkModelRetentionSettings(`${where}.modelRetention`, s.modelRetention, problems);
  try {
    checkCostSettings('EnvironmentSettings', s.prices as EnvironmentSettings['prices'], s.budget as EnvironmentSettings['budget'], { prices: `${where}.prices`, budget: `${where}.budget` });
  } catch (err) {
    // The cost settings' own check stops at its first problem; it is listed with the others.
    if (!(err instanceof InvalidPropsError)) throw err;
    problems.list.push(err.message);
  }
  return s as EnvironmentSettings;
}

/** defaultModel must be a model of the catalogue, and defaultHyperParameters within its ranges. */
function checkDefaults(where: string, s: Record<string, unknown>, problems: Problems): void {
  let model: LlamaModelSpec | undefined;
  if (s.defaultModel !== undefined) {
    model = typeof s.defaultModel === 'string' ? findModel(s.defaultModel) : undefined;
    if (!model) problems.add(`${where}.defaultModel`, `${JSON.stringify(s.defaultModel)} is not a Llama 3.2 model Bedrock fine-tunes`, `Use one of: ${LLAMA_MODELS.map((m) => m.name).join(', ')}.`);
  }
  const hp = s.defaultHyperParameters;
  if (hp === undefined) return;
  if (typeof hp !== 'object' || hp === null || Array.isArray(hp)) {
    problems.add(`${where}.defaultHyperParameters`, 'is not an object', 'Write it as {"epochCount": 3}.');
    return;
  }
  try {
    // Every model shares the hyperparameter names; the ranges checked are those of the default model when there is one.
    resolveHyperParameters(model ?? LLAMA_MODELS[0], hp as Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof ModelCatalogueError)) throw err;
    problems.add(`${where}.defaultHyperParameters`, err.message.replace(/\.$/, ''), 'Fix the values named.');
  }
}

/** Maps the removal policy setting. */
export function removalPolicyOf(settings: EnvironmentSettings): RemovalPolicy {
  return settings.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

const EVALUATION_KEYS = new Set(['enabled', 'modelUnits', 'provisionedModelArn', 'baseModelId', 'maxConcurrency', 'qualityGate']);

function checkEvaluationSettings(where: string, raw: unknown, problems: Problems): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(where, 'is not an object', 'Write it as {"modelUnits": 1, "qualityGate": {"minImprovementPercent": 5}}.');
    return;
  }
  for (const key of Object.keys(raw)) {
    if (!EVALUATION_KEYS.has(key)) problems.add(`${where}.${key}`, 'is not a known evaluation setting', `Use one of: ${[...EVALUATION_KEYS].join(', ')}.`);
  }
  const gate = (raw as { qualityGate?: unknown }).qualityGate;
  if (gate !== undefined) {
    if (typeof gate !== 'object' || gate === null || Array.isArray(gate)) {
      problems.add(`${where}.qualityGate`, 'is not an object', 'Write it as {"minF1": 60, "minImprovementPercent": 5}.');
      return;
    }
    for (const [key, value] of Object.entries(gate)) {
      if (!['minF1', 'minImprovementPercent'].includes(key)) problems.add(`${where}.qualityGate.${key}`, 'is not a known threshold', 'Use minF1 or minImprovementPercent.');
      if (typeof value !== 'number') problems.add(`${where}.qualityGate.${key}`, `${String(value)} is not a number`, 'Give a number.');
    }
  }
}

/** Deliberately loose (SNS checks the address itself); catches a missing or doubled `@` and separators left in. */
const EMAIL_ADDRESS = /^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$/;

function checkNotificationEmails(where: string, raw: unknown, problems: Problems): void {
  if (!Array.isArray(raw)) {
    problems.add(where, 'is not a list', 'Write it as ["ml-team@example.com"].');
    return;
  }
  raw.forEach((address, index) => {
    if (typeof address !== 'string' || !EMAIL_ADDRESS.test(address)) {
      problems.add(`${where}[${index}]`, `'${String(address)}' is not an e-mail address`, 'Give one address per list item, e.g. "ml-team@example.com".');
    }
  });
  const duplicate = raw.find((address, index) => raw.indexOf(address) !== index);
  if (duplicate !== undefined) problems.add(where, `lists '${String(duplicate)}' twice`, 'List each address once.');
}

const OPERATIONS_KEYS = new Set(['alarmsEnabled', 'dashboardEnabled', 'provisionedThroughputMaxAgeHours']);

function checkOperationsSettings(where: string, raw: unknown, problems: Problems): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(where, 'is not an object', 'Write it as {"alarmsEnabled": true, "provisionedThroughputMaxAgeHours": 6}.');
    return;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!OPERATIONS_KEYS.has(key)) problems.add(`${where}.${key}`, 'is not a known operations setting', `Use one of: ${[...OPERATIONS_KEYS].join(', ')}.`);
    if (key.endsWith('Enabled') && typeof value !== 'boolean') problems.add(`${where}.${key}`, `${String(value)} is not true or false`, 'Write true or false.');
  }
  const maxAge = (raw as EnvironmentOperationsSettings).provisionedThroughputMaxAgeHours;
  // At least the watch's 15-minute check interval, which the construct requires.
  if (maxAge !== undefined && (typeof maxAge !== 'number' || maxAge < 0.25 || maxAge > 24 * 30)) {
    problems.add(`${where}.provisionedThroughputMaxAgeHours`, `${String(maxAge)} is out of range`, 'Use a number of hours from 0.25 (the 15-minute check interval) to 720.');
  }
}

const PROMOTION_KEYS = new Set(['enabled', 'requireQualityGate', 'allowWorseModel', 'servingProvisionedModelArn', 'registryPrefix']);

function checkPromotionSettings(where: string, raw: unknown, problems: Problems): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(where, 'is not an object', 'Write it as {"requireQualityGate": true, "servingProvisionedModelArn": "arn:aws:bedrock:...:provisioned-model/..."}.');
    return;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (!PROMOTION_KEYS.has(key)) {
      problems.add(`${where}.${key}`, 'is not a known promotion setting', `Use one of: ${[...PROMOTION_KEYS].join(', ')}.`);
      continue;
    }
    const text = key === 'servingProvisionedModelArn' || key === 'registryPrefix';
    if (text && typeof value !== 'string') problems.add(`${where}.${key}`, `${String(value)} is not a string`, 'Give it in quotes.');
    if (!text && typeof value !== 'boolean') problems.add(`${where}.${key}`, `${String(value)} is not true or false`, 'Write true or false.');
  }
}

function checkModelRetentionSettings(where: string, raw: unknown, problems: Problems): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(where, 'is not an object', 'Write it as {"deleteRejectedAfterDays": 30, "keepPromotedPerName": 3}.');
    return;
  }
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'enabled') {
      if (typeof value !== 'boolean') problems.add(`${where}.enabled`, `${String(value)} is not true or false`, 'Write true or false.');
    } else if (key === 'deleteRejectedAfterDays' || key === 'keepPromotedPerName') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || (key === 'keepPromotedPerName' && value > 100)) {
        problems.add(`${where}.${key}`, `${String(value)} is out of range`, key === 'keepPromotedPerName' ? 'Use a whole number from 1 to 100.' : 'Use a whole number of days, at least 1.');
      }
    } else {
      problems.add(`${where}.${key}`, 'is not a known retention setting', 'Use enabled, deleteRejectedAfterDays or keepPromotedPerName.');
    }
  }
}
