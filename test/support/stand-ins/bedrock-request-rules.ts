/**
 * The input rules Amazon Bedrock applies to CreateModelCustomizationJob and
 * CreateProvisionedModelThroughput before it accepts a request, as pure functions.
 *
 * Shape constraints (required members, lengths, patterns, enums) come from the Bedrock API
 * reference and are reported the way AWS services report them: "N validation error(s)
 * detected: Value '...' at 'member' failed to satisfy constraint: ...". Semantic checks (the
 * base model must be a Llama 3.2 customization identifier, hyperparameters within the
 * catalogue's ranges) follow, each as its own ValidationException message.
 */
import { LlamaModelSpec, LLAMA_MODELS, ModelCatalogueError, resolveHyperParameters, toBedrockHyperParameters, DATASET_LIMITS } from '../../../lambda/shared/models/llama-models';
import { foundationModelIdOf } from './bedrock-arns';

/** A parsed JSON request body. */
export type JsonObject = Record<string, unknown>;

/** Thrown when a request breaks a rule; `message` is what Bedrock would answer. */
export class RequestRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestRuleError';
  }
}

/** Patterns from the Bedrock API reference. */
export const PATTERNS = {
  jobName: /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/,
  customModelName: /^([0-9a-zA-Z][_-]?){1,63}$/,
  provisionedModelName: /^([0-9a-zA-Z][_-]?){1,63}$/,
  roleArn: /^arn:aws(-[^:]+)?:iam::([0-9]{12})?:role\/.+$/,
  s3Uri: /^s3:\/\/[a-z0-9][-.a-z0-9]{1,61}[a-z0-9](?:\/[-!_*'().a-z0-9A-Z]+(?:\/[-!_*'().a-z0-9A-Z]+)*)?\/?$/,
  clientRequestToken: /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/,
} as const;

/** Collects shape violations in AWS's wording. */
class Violations {
  private readonly found: string[] = [];

  private describe(value: unknown): string {
    return value === undefined || value === null ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
  }

  required(path: string, value: unknown): boolean {
    if (value === undefined || value === null) {
      this.found.push(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
      return false;
    }
    return true;
  }

  string(path: string, value: unknown, rule: { min?: number; max?: number; pattern?: RegExp; allowed?: readonly string[] }): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'string') {
      this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must be a string`);
      return;
    }
    if (rule.min !== undefined && value.length < rule.min) this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must have length greater than or equal to ${rule.min}`);
    if (rule.max !== undefined && value.length > rule.max) this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${rule.max}`);
    if (rule.pattern && !rule.pattern.test(value)) {
      const source = rule.pattern.source.replace(/^\^/, '').replace(/\$$/, '');
      this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${source}`);
    }
    if (rule.allowed && !rule.allowed.includes(value)) this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must satisfy enum value set: [${rule.allowed.join(', ')}]`);
  }

  integer(path: string, value: unknown, min: number): void {
    if (value === undefined || value === null) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
    }
  }

  list(path: string, value: unknown, max: number): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.found.push(`Value ${this.describe(value)} at '${path}' failed to satisfy constraint: Member must be a list`);
      return [];
    }
    if (value.length > max) this.found.push(`Value '[${value.length} items]' at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
    return value;
  }

  throwIfAny(): void {
    if (this.found.length === 0) return;
    const count = this.found.length;
    throw new RequestRuleError(`${count} validation error${count === 1 ? '' : 's'} detected: ${this.found.join('; ')}`);
  }
}

function objectAt(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** What a valid CreateModelCustomizationJob request resolves to. */
export interface AcceptedCustomizationJob {
  /** The catalogue entry of the base model. */
  readonly model: LlamaModelSpec;
  /** Hyperparameters with defaults filled in, as Bedrock's string map. */
  readonly hyperParameters: Record<string, string>;
  /** Validation data locations (possibly empty). */
  readonly validatorUris: readonly string[];
}

/**
 * Checks a CreateModelCustomizationJob body.
 * @throws RequestRuleError with the message Bedrock would send in a ValidationException.
 */
export function checkCustomizationJobRequest(body: JsonObject): AcceptedCustomizationJob {
  const v = new Violations();
  const training = objectAt(body.trainingDataConfig);
  const output = objectAt(body.outputDataConfig);
  const validation = objectAt(body.validationDataConfig);

  if (v.required('jobName', body.jobName)) v.string('jobName', body.jobName, { min: 1, max: 63, pattern: PATTERNS.jobName });
  if (v.required('customModelName', body.customModelName)) v.string('customModelName', body.customModelName, { min: 1, max: 63, pattern: PATTERNS.customModelName });
  if (v.required('roleArn', body.roleArn)) v.string('roleArn', body.roleArn, { min: 0, max: 2048, pattern: PATTERNS.roleArn });
  if (v.required('baseModelIdentifier', body.baseModelIdentifier)) v.string('baseModelIdentifier', body.baseModelIdentifier, { min: 1, max: 2048 });
  if (v.required('trainingDataConfig', body.trainingDataConfig) && v.required('trainingDataConfig.s3Uri', training.s3Uri)) {
    v.string('trainingDataConfig.s3Uri', training.s3Uri, { min: 1, max: 1024, pattern: PATTERNS.s3Uri });
  }
  if (v.required('outputDataConfig', body.outputDataConfig) && v.required('outputDataConfig.s3Uri', output.s3Uri)) {
    v.string('outputDataConfig.s3Uri', output.s3Uri, { min: 1, max: 1024, pattern: PATTERNS.s3Uri });
  }
  v.string('clientRequestToken', body.clientRequestToken, { min: 1, max: 256, pattern: PATTERNS.clientRequestToken });
  v.string('customizationType', body.customizationType, { allowed: ['FINE_TUNING', 'CONTINUED_PRE_TRAINING', 'DISTILLATION', 'REINFORCEMENT_FINE_TUNING'] });
  v.list('jobTags', body.jobTags, 200);
  v.list('customModelTags', body.customModelTags, 200);
  const validators = body.validationDataConfig === undefined ? [] : v.list('validationDataConfig.validators', validation.validators, DATASET_LIMITS.maxValidators);
  validators.forEach((item, index) => {
    const uri = objectAt(item).s3Uri;
    const path = `validationDataConfig.validators.${index + 1}.member.s3Uri`;
    if (v.required(path, uri)) v.string(path, uri, { min: 1, max: 1024, pattern: PATTERNS.s3Uri });
  });
  v.throwIfAny();

  const baseModelIdentifier = body.baseModelIdentifier as string;
  const wanted = foundationModelIdOf(baseModelIdentifier);
  const model = LLAMA_MODELS.find((m) => m.baseModelIdentifier === wanted);
  if (!model) {
    const known = LLAMA_MODELS.map((m) => m.baseModelIdentifier).join(', ');
    const hint = LLAMA_MODELS.some((m) => m.foundationModelId === wanted || m.inferenceProfileId === wanted)
      ? ` Customization needs the identifier with the context-length suffix (e.g. ${wanted.replace(/^us\./, '')}:128k).`
      : '';
    throw new RequestRuleError(`The provided model identifier is invalid: '${baseModelIdentifier}' cannot be customized.${hint} LocalBedrock accepts: ${known}.`);
  }
  const customizationType = (body.customizationType as string | undefined) ?? 'FINE_TUNING';
  if (customizationType !== 'FINE_TUNING') {
    throw new RequestRuleError(`Customization type ${customizationType} is not supported for model ${model.baseModelIdentifier}; ${model.displayName} supports FINE_TUNING only.`);
  }

  const requested = objectAt(body.hyperParameters);
  const notStrings = Object.entries(requested).filter(([, value]) => typeof value !== 'string');
  if (notStrings.length > 0) throw new RequestRuleError(`Hyperparameter values must be strings; got ${notStrings.map(([k, value]) => `${k}=${JSON.stringify(value)}`).join(', ')}.`);
  let hyperParameters: Record<string, string>;
  try {
    hyperParameters = toBedrockHyperParameters(resolveHyperParameters(model, requested));
  } catch (err) {
    if (err instanceof ModelCatalogueError) throw new RequestRuleError(err.message);
    throw err;
  }
  return { model, hyperParameters, validatorUris: validators.map((item) => objectAt(item).s3Uri as string) };
}

/**
 * Checks a CreateProvisionedModelThroughput body.
 * @throws RequestRuleError with the message Bedrock would send in a ValidationException.
 */
export function checkProvisionedThroughputRequest(body: JsonObject): void {
  const v = new Violations();
  if (v.required('modelUnits', body.modelUnits)) v.integer('modelUnits', body.modelUnits, 1);
  if (v.required('provisionedModelName', body.provisionedModelName)) {
    v.string('provisionedModelName', body.provisionedModelName, { min: 1, max: 63, pattern: PATTERNS.provisionedModelName });
  }
  if (v.required('modelId', body.modelId)) v.string('modelId', body.modelId, { min: 1, max: 2048 });
  v.string('commitmentDuration', body.commitmentDuration, { allowed: ['OneMonth', 'SixMonths'] });
  v.string('clientRequestToken', body.clientRequestToken, { min: 1, max: 256, pattern: PATTERNS.clientRequestToken });
  v.list('tags', body.tags, 200);
  v.throwIfAny();
}

/** Splits `s3://bucket/key` into bucket and key ('' for a bucket root). */
export function splitS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new RequestRuleError(`'${uri}' is not an S3 URI (s3://bucket/key).`);
  return { bucket: match[1], key: match[2] };
}
