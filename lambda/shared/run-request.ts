/**
 * The run request: the small JSON file a user uploads (by default under `requests/` in the
 * dataset bucket) to start one fine-tuning run. Pure parsing and checking; no AWS calls.
 *
 * Example:
 * {
 *   "name": "chartqa-11b",
 *   "model": "llama3.2-11b",
 *   "trainingData": "datasets/chartqa/train.jsonl",
 *   "validationData": "datasets/chartqa/validation.jsonl",
 *   "testData": "datasets/chartqa/test.jsonl",
 *   "hyperParameters": { "epochCount": 3, "learningRate": 0.0001 },
 *   "evaluation": { "enabled": true, "maxTokens": 256 }
 * }
 */
import {
  LlamaModel,
  ModelCatalogueError,
  ResolvedHyperParameters,
  findModel,
  LLAMA_MODELS,
  resolveHyperParameters,
} from '../../lib/models/llama-models';

/** The run request as a user writes it. */
export interface RunRequestDocument {
  readonly name: string;
  readonly model: string;
  readonly trainingData: string;
  readonly validationData?: string;
  readonly testData?: string;
  readonly hyperParameters?: Record<string, number | string>;
  readonly evaluation?: EvaluationRequest;
}

/** Evaluation settings a request may give. */
export interface EvaluationRequest {
  /** Whether to evaluate when test data is given. @default true */
  readonly enabled?: boolean;
  /** Most tokens generated per test record. @default 512 */
  readonly maxTokens?: number;
  /** Cap on test records used (a cheaper evaluation). @default all records */
  readonly maxRecords?: number;
}

/** A checked run request with its model and hyperparameters resolved. */
export interface RunRequest {
  readonly name: string;
  readonly model: LlamaModel;
  /** Keys in the dataset bucket. */
  readonly trainingDataKey: string;
  readonly validationDataKey?: string;
  readonly testDataKey?: string;
  readonly hyperParameters: ResolvedHyperParameters;
  /** Names set explicitly by the request or the deployment's defaults; the rest may follow the recommendation. */
  readonly hyperParametersOverridden: readonly string[];
  readonly evaluation: Required<Pick<EvaluationRequest, 'enabled' | 'maxTokens'>> & Pick<EvaluationRequest, 'maxRecords'>;
}

/** One thing wrong with a request: the field, a stable rule id and what to do. */
export interface RunRequestProblem {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/** Raised with every problem found in a run request. */
export class InvalidRunRequestError extends Error {
  constructor(readonly source: string, readonly problems: readonly RunRequestProblem[]) {
    super(
      `Run request ${source} is invalid:\n` +
        problems.map((p) => `- ${p.field}: ${p.message} [${p.rule}]`).join('\n'),
    );
    this.name = 'InvalidRunRequest';
  }
}

/** Names that become part of Bedrock job and model names: letters, digits and hyphens. */
const NAME_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,38}[a-zA-Z0-9])?$/;
const KNOWN_FIELDS = new Set(['name', 'model', 'trainingData', 'validationData', 'testData', 'hyperParameters', 'evaluation']);
const KNOWN_EVALUATION_FIELDS = new Set(['enabled', 'maxTokens', 'maxRecords']);
export const MAX_EVALUATION_TOKENS = 4096;

/** Deployment-wide defaults that a request may omit or override. */
export interface RunRequestDefaults {
  /** Model used when the request names none. */
  readonly defaultModel?: string;
  /** Hyperparameters used unless the request sets them. */
  readonly defaultHyperParameters?: Record<string, number>;
}

/** Parses and checks a run request; `source` names the file in messages (e.g. s3://bucket/key). */
export function parseRunRequest(text: string, source: string, datasetBucket: string, defaults: RunRequestDefaults = {}): RunRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InvalidRunRequestError(source, [
      { field: '(file)', rule: 'json', message: `is not valid JSON (${(err as Error).message}); check quotes and commas` },
    ]);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidRunRequestError(source, [
      { field: '(file)', rule: 'json-object', message: 'must be a JSON object such as {"name": ..., "model": ..., "trainingData": ...}' },
    ]);
  }
  const d = doc as Record<string, unknown>;
  const problems: RunRequestProblem[] = [];
  const problem = (field: string, rule: string, message: string) => problems.push({ field, rule, message });

  for (const key of Object.keys(d)) {
    if (!KNOWN_FIELDS.has(key)) problem(key, 'unknown-field', `is not a run request field; allowed: ${[...KNOWN_FIELDS].join(', ')}`);
  }

  const name = d.name;
  if (typeof name !== 'string' || name === '') {
    problem('name', 'required', 'is required: a short run name of letters, digits and hyphens, e.g. "chartqa-11b"');
  } else if (!NAME_PATTERN.test(name)) {
    problem('name', 'name-pattern', `"${name}" must be 1-40 letters, digits or hyphens, starting and ending with a letter or digit`);
  }

  let model: LlamaModel | undefined;
  const requestedModel = d.model ?? defaults.defaultModel;
  if (typeof requestedModel !== 'string' || requestedModel === '') {
    problem('model', 'required', `is required; use one of ${LLAMA_MODELS.map((m) => m.name).join(', ')}`);
  } else {
    model = findModel(requestedModel);
    if (!model) {
      problem('model', 'unknown-model', `"${requestedModel}" is not a Llama 3.2 model Bedrock can fine-tune; use one of ${LLAMA_MODELS.map((m) => `${m.name} (${m.baseModelIdentifier})`).join(', ')}`);
    }
  }

  const dataKey = (field: string, required: boolean): string | undefined => {
    const value = d[field];
    if (value === undefined) {
      if (required) problem(field, 'required', 'is required: the key of a JSONL file in the dataset bucket, e.g. "datasets/train.jsonl"');
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      problem(field, 'data-location', 'must be a non-empty string: a key in the dataset bucket or s3://<dataset bucket>/<key>');
      return undefined;
    }
    return toDatasetKey(field, value, datasetBucket, problem);
  };
  const trainingDataKey = dataKey('trainingData', true);
  const validationDataKey = dataKey('validationData', false);
  const testDataKey = dataKey('testData', false);

  let hyperParameters: ResolvedHyperParameters | undefined;
  const requestedHp = d.hyperParameters;
  if (requestedHp !== undefined && (typeof requestedHp !== 'object' || requestedHp === null || Array.isArray(requestedHp))) {
    problem('hyperParameters', 'hyperparameters-object', 'must be an object such as {"epochCount": 3}');
  } else if (model) {
    try {
      hyperParameters = resolveHyperParameters(model, { ...defaults.defaultHyperParameters, ...(requestedHp as Record<string, unknown> | undefined) });
    } catch (err) {
      if (!(err instanceof ModelCatalogueError)) throw err;
      problem('hyperParameters', 'hyperparameter-range', err.message);
    }
  }

  const evaluation = parseEvaluation(d.evaluation, problem);

  if (problems.length > 0 || !model || !hyperParameters || !trainingDataKey || !evaluation) {
    throw new InvalidRunRequestError(source, problems);
  }
  return {
    name: name as string,
    model,
    trainingDataKey,
    validationDataKey,
    testDataKey,
    hyperParameters,
    // Values set explicitly (by the request or the deployment) win over the data-driven recommendation.
    hyperParametersOverridden: [...new Set([...Object.keys(defaults.defaultHyperParameters ?? {}), ...Object.keys((requestedHp ?? {}) as object)])],
    evaluation,
  };
}

function toDatasetKey(field: string, value: string, datasetBucket: string, problem: (f: string, r: string, m: string) => void): string | undefined {
  let key = value.trim();
  if (key.startsWith('s3://')) {
    const rest = key.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (bucket !== datasetBucket) {
      problem(field, 'data-bucket', `"${value}" is outside the dataset bucket ${datasetBucket}; copy the file there (the customization role may read only that bucket)`);
      return undefined;
    }
    key = slash < 0 ? '' : rest.slice(slash + 1);
  }
  if (key === '' || key.endsWith('/')) {
    problem(field, 'data-location', `"${value}" names a folder; name the JSONL file itself`);
    return undefined;
  }
  if (!key.toLowerCase().endsWith('.jsonl')) {
    problem(field, 'data-extension', `"${value}" must be a .jsonl file (one JSON record per line)`);
    return undefined;
  }
  return key;
}

function parseEvaluation(raw: unknown, problem: (f: string, r: string, m: string) => void): RunRequest['evaluation'] | undefined {
  if (raw === undefined) return { enabled: true, maxTokens: 512 };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem('evaluation', 'evaluation-object', 'must be an object such as {"enabled": true, "maxTokens": 256}');
    return undefined;
  }
  const e = raw as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(e)) {
    if (!KNOWN_EVALUATION_FIELDS.has(key)) {
      problem(`evaluation.${key}`, 'unknown-field', `is not an evaluation setting; allowed: ${[...KNOWN_EVALUATION_FIELDS].join(', ')}`);
      ok = false;
    }
  }
  if (e.enabled !== undefined && typeof e.enabled !== 'boolean') {
    problem('evaluation.enabled', 'boolean', 'must be true or false');
    ok = false;
  }
  const positiveInt = (field: string, max: number) => {
    const v = e[field];
    if (v === undefined) return true;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      problem(`evaluation.${field}`, 'integer-range', `must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
      return false;
    }
    return true;
  };
  ok = positiveInt('maxTokens', MAX_EVALUATION_TOKENS) && ok;
  ok = positiveInt('maxRecords', 100_000) && ok;
  if (!ok) return undefined;
  return {
    enabled: (e.enabled as boolean | undefined) ?? true,
    maxTokens: (e.maxTokens as number | undefined) ?? 512,
    maxRecords: e.maxRecords as number | undefined,
  };
}
