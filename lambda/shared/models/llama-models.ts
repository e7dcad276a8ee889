/**
 * The Meta Llama 3.2 models that Amazon Bedrock can fine-tune, as typed data.
 *
 * This module is pure (no CDK, no AWS SDK): the constructs use it to check props at
 * synth time, and the Lambda handlers and the `llama-finetune` CLI use it to check run
 * requests and datasets. Facts come from the Bedrock model customization documentation;
 * see README.md "Limits".
 */

/** Short names accepted wherever a model is requested. */
export type LlamaModelName = 'llama3.2-1b' | 'llama3.2-3b' | 'llama3.2-11b' | 'llama3.2-90b';

/** The hyperparameters Bedrock accepts for Llama 3.2 customization. */
export type LlamaHyperParameterName = 'epochCount' | 'batchSize' | 'learningRate';

/** Range and default of one hyperparameter. */
export interface HyperParameterSpec {
  /** Name as Bedrock's `hyperParameters` map spells it. */
  readonly name: LlamaHyperParameterName;
  /** Smallest allowed value (inclusive). */
  readonly min: number;
  /** Largest allowed value (inclusive). */
  readonly max: number;
  /** Value Bedrock uses when the parameter is omitted. */
  readonly defaultValue: number;
  /** Whether only whole numbers are allowed. */
  readonly integer: boolean;
  /** One line for error messages and reports. */
  readonly description: string;
}

/** One fine-tunable Llama 3.2 model. */
export interface LlamaModelSpec {
  /** Short name, e.g. `llama3.2-11b`. */
  readonly name: LlamaModelName;
  /** Human-readable name. */
  readonly displayName: string;
  /** The `baseModelIdentifier` for CreateModelCustomizationJob. */
  readonly baseModelIdentifier: string;
  /** The foundation model id used for on-demand inference (without the context-length suffix). */
  readonly foundationModelId: string;
  /** The cross-region inference profile id (US geography) used for base-model inference. */
  readonly inferenceProfileId: string;
  /** Whether the model accepts images (11B and 90B do; 1B and 3B are text only). */
  readonly supportsImages: boolean;
  /** Maximum input plus output tokens of one training record. */
  readonly maxTokensPerRecord: number;
  /** Hyperparameters the model accepts, with ranges and defaults. */
  readonly hyperParameters: readonly HyperParameterSpec[];
}

const LLAMA_HYPERPARAMETERS: readonly HyperParameterSpec[] = [
  { name: 'epochCount', min: 1, max: 10, defaultValue: 5, integer: true, description: 'passes over the training data' },
  { name: 'batchSize', min: 1, max: 1, defaultValue: 1, integer: true, description: 'records per training step (Bedrock allows only 1 for Llama 3.2)' },
  { name: 'learningRate', min: 0.000005, max: 0.1, defaultValue: 0.0001, integer: false, description: 'optimizer step size' },
];

function llama(size: '1b' | '3b' | '11b' | '90b', supportsImages: boolean, maxTokensPerRecord: number): LlamaModelSpec {
  const foundationModelId = `meta.llama3-2-${size}-instruct-v1:0`;
  return {
    name: `llama3.2-${size}` as LlamaModelName,
    displayName: `Llama 3.2 ${size.toUpperCase()} Instruct`,
    baseModelIdentifier: `${foundationModelId}:128k`,
    foundationModelId,
    inferenceProfileId: `us.${foundationModelId}`,
    supportsImages,
    maxTokensPerRecord,
    hyperParameters: LLAMA_HYPERPARAMETERS,
  };
}

/** Every Llama 3.2 model that Bedrock can customize. */
export const LLAMA_MODELS: readonly LlamaModelSpec[] = [
  llama('1b', false, 16_000),
  llama('3b', false, 16_000),
  llama('11b', true, 16_000),
  llama('90b', true, 10_000),
];

/** Regions where Llama 3.2 model customization was offered when this catalogue was written. */
export const CUSTOMIZATION_REGIONS: readonly string[] = ['us-west-2'];

/** Dataset limits that Bedrock enforces for Llama 3.2 customization. */
export const DATASET_LIMITS = {
  /** Fewest training plus validation records a job accepts. */
  minRecords: 100,
  /** Most training plus validation records a job accepts (an adjustable quota). */
  maxRecords: 10_000,
  /** Largest image in bytes. */
  maxImageBytes: 10 * 1024 * 1024,
  /** Smallest image height or width in pixels. */
  minImageSide: 10,
  /** Largest image height or width in pixels. */
  maxImageSide: 8192,
  /** Image formats Bedrock accepts. */
  imageFormats: ['png', 'jpeg', 'gif', 'webp'] as readonly string[],
  /** Most validation datasets a job accepts. */
  maxValidators: 10,
} as const;

/** Thrown when a model or hyperparameter request cannot be satisfied. */
export class ModelCatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCatalogueError';
  }
}

/** Every spelling a user may give for a model: short name, base model identifier, foundation model id, inference profile id. */
function spellings(model: LlamaModelSpec): string[] {
  return [model.name, model.baseModelIdentifier, model.foundationModelId, model.inferenceProfileId].map((s) => s.toLowerCase());
}

/** Finds a model by short name or any of its Bedrock identifiers; undefined when unknown. */
export function findModel(nameOrId: string): LlamaModelSpec | undefined {
  const wanted = nameOrId.trim().toLowerCase();
  return LLAMA_MODELS.find((m) => spellings(m).includes(wanted));
}

/** Like {@link findModel}, but throws an error that lists the known models. */
export function resolveModel(nameOrId: string): LlamaModelSpec {
  const model = findModel(nameOrId);
  if (!model) {
    const known = LLAMA_MODELS.map((m) => `${m.name} (${m.baseModelIdentifier})`).join(', ');
    throw new ModelCatalogueError(`Unknown model '${nameOrId}'. Use one of: ${known}.`);
  }
  return model;
}

/** Hyperparameters with every value resolved to a number. */
export type ResolvedHyperParameters = Record<LlamaHyperParameterName, number>;

/**
 * Checks requested hyperparameters against the model's ranges and fills in defaults.
 *
 * Values may be numbers or numeric strings (Bedrock's API takes strings). Every problem is
 * reported at once, so a user fixes a request in one go.
 *
 * @throws ModelCatalogueError naming each bad parameter, its allowed range and the fix.
 */
export function resolveHyperParameters(model: LlamaModelSpec, requested: Record<string, unknown> = {}): ResolvedHyperParameters {
  const problems: string[] = [];
  const known = new Map(model.hyperParameters.map((p) => [p.name as string, p]));
  const unknown = Object.keys(requested).filter((name) => !known.has(name));
  for (const name of unknown.slice(0, 5)) {
    const hint = name === 'learningRateWarmupSteps' ? ' (that one is for Amazon Nova models, not Llama)' : '';
    problems.push(`'${name.length > 60 ? `${name.slice(0, 57)}...` : name}' is not a hyperparameter of ${model.displayName}${hint}; allowed: ${[...known.keys()].join(', ')}`);
  }
  if (unknown.length > 5) problems.push(`${unknown.length - 5} more names are not hyperparameters of ${model.displayName} either`);
  const resolved = {} as ResolvedHyperParameters;
  for (const spec of model.hyperParameters) {
    const raw = requested[spec.name];
    if (raw === undefined || raw === null) {
      resolved[spec.name] = spec.defaultValue;
      continue;
    }
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
    if (Math.abs(value) === Infinity) {
      // JSON.parse turns 1e309 into Infinity, which JSON.stringify would show as null.
      const written = typeof raw === 'string' ? ` (${shortJson(raw)})` : '';
      problems.push(`${spec.name} must be a finite number between ${spec.min} and ${spec.max}, got a number too large to represent${written}`);
    } else if (!Number.isFinite(value)) {
      problems.push(`${spec.name} must be a number, got ${shortJson(raw)}`);
    } else if (spec.integer && !Number.isInteger(value)) {
      problems.push(`${spec.name} must be a whole number between ${spec.min} and ${spec.max}, got ${value}`);
    } else if (value < spec.min || value > spec.max) {
      problems.push(`${spec.name} must be between ${spec.min} and ${spec.max} (${spec.description}), got ${value}`);
    } else {
      resolved[spec.name] = value;
    }
  }
  if (problems.length > 0) {
    throw new ModelCatalogueError(`Invalid hyperparameters for ${model.name}: ${problems.join('; ')}.`);
  }
  return resolved;
}

/**
 * A value as a message shows it: short, and never a deep walk (JSON.stringify overflows the
 * stack on deeply nested input). Callers that display it escape control characters.
 */
function shortJson(raw: unknown): string {
  if (Array.isArray(raw)) return 'a list';
  if (typeof raw === 'object' && raw !== null) return 'an object';
  const text = JSON.stringify(raw) ?? String(raw);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Formats resolved hyperparameters as the string map CreateModelCustomizationJob expects. */
export function toBedrockHyperParameters(resolved: ResolvedHyperParameters): Record<string, string> {
  return Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, String(v)]));
}

/**
 * Bedrock's estimate of the tokens one image costs:
 * min(2, max(H // 560, 1)) * min(2, max(W // 560, 1)) * 1601.
 */
export function estimateImageTokens(height: number, width: number): number {
  const tiles = (side: number) => Math.min(2, Math.max(Math.floor(side / 560), 1));
  return tiles(height) * tiles(width) * 1601;
}

/** Whether Llama 3.2 customization is offered in a region (unresolved tokens count as unknown, not false). */
export function isCustomizationRegion(region: string): boolean {
  return CUSTOMIZATION_REGIONS.includes(region);
}
