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
  LlamaModelSpec,
  ModelCatalogueError,
  ResolvedHyperParameters,
  findModel,
  LLAMA_MODELS,
  resolveHyperParameters,
} from './models/llama-models';
import { CostBudget, costBudgetProblems } from './cost-estimate';
import { describeValue, quoted, safeText } from './display-text';
import { exceedsJsonDepth, isStackOverflow, MAX_RUN_REQUEST_DEPTH } from './json-depth';

/** The run request as a user writes it. */
export interface RunRequestDocument {
  readonly name: string;
  readonly model: string;
  readonly trainingData: string;
  readonly validationData?: string;
  readonly testData?: string;
  readonly hyperParameters?: Record<string, number | string>;
  readonly evaluation?: EvaluationRequest;
  /** This run's budget; the environment's budget applies as well (a request may only tighten it). */
  readonly budget?: CostBudget;
  /**
   * Several variants of this request, trained and evaluated as an experiment (experiment-plan.ts).
   * @default - a single run
   */
  readonly experiment?: unknown;
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
  readonly model: LlamaModelSpec;
  /** Keys in the dataset bucket. */
  readonly trainingDataKey: string;
  readonly validationDataKey?: string;
  readonly testDataKey?: string;
  readonly hyperParameters: ResolvedHyperParameters;
  /** Names set explicitly by the request or the deployment's defaults; the rest may follow the recommendation. */
  readonly hyperParametersOverridden: readonly string[];
  readonly evaluation: Required<Pick<EvaluationRequest, 'enabled' | 'maxTokens'>> & Pick<EvaluationRequest, 'maxRecords'>;
  /** The request's own budget, checked against the cost estimate before the job is created. */
  readonly budget?: CostBudget;
}

/** One thing wrong with a request: the field, a stable rule id and what to do. */
export interface RunRequestProblem {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/**
 * Largest run request read, in bytes. A request is a few hundred bytes of JSON; 1 MiB leaves
 * room for any real one, and bounds what a function with 512 MB of memory ever holds or echoes.
 */
export const MAX_RUN_REQUEST_BYTES = 1024 * 1024;

/**
 * Longest InvalidRunRequest message. It becomes the Lambda error, whose JSON (with the message
 * again in its stack trace) must stay far below Step Functions' 32,768-character cause limit.
 */
export const MAX_REQUEST_ERROR_CHARS = 6000;

/** Longest single problem in the message: values are quoted as bounded excerpts; this is the backstop. */
const MAX_PROBLEM_MESSAGE_CHARS = 600;

/**
 * Raised with every problem found in a run request. Its message is bounded (problems are listed
 * while they fit in {@link MAX_REQUEST_ERROR_CHARS}, the rest counted) and safe to display:
 * values from the request are escaped (see display-text.ts), whatever the request holds.
 */
export class InvalidRunRequestError extends Error {
  constructor(readonly source: string, readonly problems: readonly RunRequestProblem[]) {
    let message = `Run request ${safeText(source, { maxChars: 1100 })} is invalid:`;
    let listed = 0;
    for (const p of problems) {
      const line = `\n- ${safeText(p.field, { maxChars: 100 })}: ${safeText(p.message, { maxChars: MAX_PROBLEM_MESSAGE_CHARS })} [${p.rule}]`;
      if (message.length + line.length > MAX_REQUEST_ERROR_CHARS - 100) break; // room for the count below
      message += line;
      listed++;
    }
    const more = problems.length - listed;
    super(more > 0 ? `${message}\n- ... and ${more} more problem${more === 1 ? '' : 's'}` : message);
    this.name = 'InvalidRunRequest';
  }
}

/** Longest request name (NAME_PATTERN: 1 + 38 + 1 characters); it also ends the model registry's parameter names. */
export const MAX_REQUEST_NAME_CHARS = 40;
/** Names that become part of Bedrock job and model names: letters, digits and hyphens. */
const NAME_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,38}[a-zA-Z0-9])?$/;
const KNOWN_FIELDS = new Set(['name', 'model', 'trainingData', 'validationData', 'testData', 'hyperParameters', 'evaluation', 'budget', 'experiment']);
const KNOWN_EVALUATION_FIELDS = new Set(['enabled', 'maxTokens', 'maxRecords']);
export const MAX_EVALUATION_TOKENS = 4096;
/**
 * Most test records one run evaluates: `evaluation.maxRecords` may not exceed it, and a larger
 * test file is evaluated on its first this many records.
 */
export const MAX_EVALUATION_RECORDS = 100_000;

/** Deployment-wide defaults that a request may omit or override. */
export interface RunRequestDefaults {
  /** Model used when the request names none. */
  readonly defaultModel?: string;
  /** Hyperparameters used unless the request sets them. */
  readonly defaultHyperParameters?: Record<string, number>;
}

/** Parses and checks a run request; `source` names the file in messages (e.g. s3://bucket/key). */
export function parseRunRequest(text: string, source: string, datasetBucket: string, defaults: RunRequestDefaults = {}): RunRequest {
  if (text.length > MAX_RUN_REQUEST_BYTES || Buffer.byteLength(text, 'utf8') > MAX_RUN_REQUEST_BYTES) throw requestTooLarge(source, Buffer.byteLength(text, 'utf8'));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (isStackOverflow(err)) throw requestTooDeep(source);
    throw new InvalidRunRequestError(source, [
      { field: '(file)', rule: 'json', message: `is not valid JSON (${safeText((err as Error).message, { maxChars: 200 })}); check quotes and commas` },
    ]);
  }
  // Before anything walks the document (JSON.stringify in a message would overflow the stack).
  if (exceedsJsonDepth(doc, MAX_RUN_REQUEST_DEPTH)) throw requestTooDeep(source);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidRunRequestError(source, [
      { field: '(file)', rule: 'json-object', message: 'must be a JSON object such as {"name": ..., "model": ..., "trainingData": ...}' },
    ]);
  }
  const d = doc as Record<string, unknown>;
  const experimentProblems: RunRequestProblem[] = d.experiment === undefined ? [] : [
    {
      field: 'experiment',
      rule: 'experiment-not-single-run',
      // Single-run readers only; experiments are read with parseExperimentRequest (experiment-plan.ts).
      message: 'makes this request an experiment (several variants, each its own run), which is not read as a single run here. To run one setting, remove "experiment" and set model and hyperParameters in the request',
    },
  ];
  const { request, problems } = parseRunRequestDocument(d, text, datasetBucket, defaults);
  if (experimentProblems.length > 0 || !request) throw new InvalidRunRequestError(source, [...experimentProblems, ...problems]);
  return request;
}

/** The result of {@link parseRunRequestDocument}: the request when it has no problems, else every problem found. */
export interface ParsedRunRequestDocument {
  readonly request?: RunRequest;
  readonly problems: RunRequestProblem[];
}

/**
 * Checks a run request already parsed from JSON (an object), without throwing: every problem is
 * returned. An `experiment` field is ignored here (experiment-plan.ts reads it); `text` is the
 * request as written, used only to quote numbers JSON cannot carry.
 */
export function parseRunRequestDocument(d: Record<string, unknown>, text: string, datasetBucket: string, defaults: RunRequestDefaults = {}): ParsedRunRequestDocument {
  const problems: RunRequestProblem[] = [];
  const problem = (field: string, rule: string, message: string) => problems.push({ field, rule, message });

  reportUnknownFields(Object.keys(d), KNOWN_FIELDS, '', 'is not a run request field', problem);

  const name = d.name;
  if (name !== undefined && typeof name !== 'string') {
    problem('name', 'name-pattern', `must be a string of 1-40 letters, digits or hyphens, e.g. "chartqa-11b"; got ${describeValue(name)}`);
  } else if (typeof name !== 'string' || name === '') {
    problem('name', 'required', 'is required: a short run name of letters, digits and hyphens, e.g. "chartqa-11b"');
  } else if (!NAME_PATTERN.test(name)) {
    problem('name', 'name-pattern', `${quoted(name, 60)} must be 1-40 letters, digits or hyphens, starting and ending with a letter or digit`);
  }

  let model: LlamaModelSpec | undefined;
  const requestedModel = d.model ?? defaults.defaultModel;
  if (requestedModel !== undefined && typeof requestedModel !== 'string') {
    problem('model', 'model-type', `must be a model name such as "llama3.2-11b", got ${describeValue(requestedModel)}`);
  } else if (typeof requestedModel !== 'string' || requestedModel === '') {
    problem('model', 'required', `is required; use one of ${LLAMA_MODELS.map((m) => m.name).join(', ')}`);
  } else {
    model = findModel(requestedModel);
    if (!model) {
      problem('model', 'unknown-model', `${quoted(requestedModel, 60)} is not a Llama 3.2 model Bedrock can fine-tune; use one of ${LLAMA_MODELS.map((m) => `${m.name} (${m.baseModelIdentifier})`).join(', ')}`);
    }
  }

  const dataKey = (field: string, required: boolean): string | undefined => {
    const value = d[field];
    if (value === undefined) {
      if (required) problem(field, 'required', 'is required: the key of a JSONL file in the dataset bucket, e.g. "datasets/train.jsonl"');
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      problem(field, 'data-location', `must be a non-empty string: a key in the dataset bucket or s3://<dataset bucket>/<key>; got ${describeValue(value)}`);
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
    problem('hyperParameters', 'hyperparameters-object', `must be an object such as {"epochCount": 3}; got ${describeValue(requestedHp)}`);
  } else if (model) {
    const requested = withoutNonFiniteNumbers(model, text, (requestedHp ?? {}) as Record<string, unknown>, problem);
    try {
      hyperParameters = resolveHyperParameters(model, { ...defaults.defaultHyperParameters, ...requested });
    } catch (err) {
      if (!(err instanceof ModelCatalogueError)) throw err;
      problem('hyperParameters', 'hyperparameter-range', err.message);
    }
  }

  const evaluation = parseEvaluation(d.evaluation, text, problem);
  const budgetProblems = d.budget === undefined ? [] : costBudgetProblems(d.budget, 'budget');
  for (const p of budgetProblems) problem(p.field, 'budget', p.message);

  if (problems.length > 0 || !model || !hyperParameters || !trainingDataKey || !evaluation) return { problems };
  const request: RunRequest = {
    name: name as string,
    model,
    trainingDataKey,
    validationDataKey,
    testDataKey,
    hyperParameters,
    // Values set explicitly (by the request or the deployment) win over the data-driven recommendation.
    hyperParametersOverridden: [...new Set([...Object.keys(defaults.defaultHyperParameters ?? {}), ...Object.keys((requestedHp ?? {}) as object)])],
    evaluation,
    ...(d.budget !== undefined ? { budget: { ...(d.budget as CostBudget) } } : {}),
  };
  return { request, problems };
}

function toDatasetKey(field: string, value: string, datasetBucket: string, problem: (f: string, r: string, m: string) => void): string | undefined {
  let key = value.trim();
  if (key.startsWith('s3://')) {
    const rest = key.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (bucket !== datasetBucket) {
      problem(field, 'data-bucket', `${quoted(value)} is outside the dataset bucket ${datasetBucket}; copy the file there (the customization role may read only that bucket)`);
      return undefined;
    }
    key = slash < 0 ? '' : rest.slice(slash + 1);
  }
  if (key === '' || key.endsWith('/')) {
    problem(field, 'data-location', `${quoted(value)} names a folder; name the JSONL file itself`);
    return undefined;
  }
  if (!key.toLowerCase().endsWith('.jsonl')) {
    problem(field, 'data-extension', `${quoted(value)} must be a .jsonl file (one JSON record per line)`);
    return undefined;
  }
  return key;
}

function parseEvaluation(raw: unknown, text: string, problem: (f: string, r: string, m: string) => void): RunRequest['evaluation'] | undefined {
  if (raw === undefined) return { enabled: true, maxTokens: 512 };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problem('evaluation', 'evaluation-object', `must be an object such as {"enabled": true, "maxTokens": 256}; got ${describeValue(raw)}`);
    return undefined;
  }
  const e = raw as Record<string, unknown>;
  let ok = reportUnknownFields(Object.keys(e), KNOWN_EVALUATION_FIELDS, 'evaluation.', 'is not an evaluation setting', problem) === 0;
  if (e.enabled !== undefined && typeof e.enabled !== 'boolean') {
    problem('evaluation.enabled', 'boolean', `must be true or false, got ${describeValue(e.enabled)}`);
    ok = false;
  }
  const positiveInt = (field: string, max: number) => {
    const v = e[field];
    if (v === undefined) return true;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      problem(`evaluation.${field}`, 'not-finite', notFiniteMessage(writtenNumber(text, field), `a whole number from 1 to ${max}`));
      return false;
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      problem(`evaluation.${field}`, 'integer-range', `must be a whole number from 1 to ${max}, got ${describeValue(v)}`);
      return false;
    }
    return true;
  };
  ok = positiveInt('maxTokens', MAX_EVALUATION_TOKENS) && ok;
  ok = positiveInt('maxRecords', MAX_EVALUATION_RECORDS) && ok;
  if (!ok) return undefined;
  return {
    enabled: (e.enabled as boolean | undefined) ?? true,
    maxTokens: (e.maxTokens as number | undefined) ?? 512,
    maxRecords: e.maxRecords as number | undefined,
  };
}

/** The error for a request over {@link MAX_RUN_REQUEST_BYTES} (`bytes` may be a lower bound when the size was not given). */
export function requestTooLarge(source: string, bytes: number): InvalidRunRequestError {
  return new InvalidRunRequestError(source, [
    {
      field: '(file)',
      rule: 'request-too-large',
      message: `has ${bytes.toLocaleString('en-US')} bytes; a run request may have at most ${MAX_RUN_REQUEST_BYTES.toLocaleString('en-US')} (1 MiB). It names the data files, it does not hold them: upload the JSONL files separately and name their keys`,
    },
  ]);
}

function requestTooDeep(source: string): InvalidRunRequestError {
  return new InvalidRunRequestError(source, [
    {
      field: '(file)',
      rule: 'json-too-deep',
      message: `nests lists or objects more than ${MAX_RUN_REQUEST_DEPTH} levels deep; a run request needs 2 (e.g. "evaluation": {"maxTokens": 256})`,
    },
  ]);
}

/** Reports fields not in `known` (the first few by name, the rest counted); returns how many there were. */
function reportUnknownFields(
  keys: readonly string[],
  known: ReadonlySet<string>,
  prefix: string,
  what: string,
  problem: (f: string, r: string, m: string) => void,
): number {
  const unknown = keys.filter((k) => !known.has(k));
  const listed = 5;
  for (const key of unknown.slice(0, listed)) problem(`${prefix}${safeText(key, { maxChars: 60 })}`, 'unknown-field', `${what}; allowed: ${[...known].join(', ')}`);
  if (unknown.length > listed) {
    problem(`${prefix}(${unknown.length - listed} more)`, 'unknown-field', `${unknown.length - listed} more fields are not allowed either; allowed: ${[...known].join(', ')}`);
  }
  return unknown.length;
}

/**
 * The hyperparameters without the numbers JSON.parse turned into Infinity (e.g. 1e309): those
 * are reported here, with the number as written, instead of as "null" further on.
 */
function withoutNonFiniteNumbers(model: LlamaModelSpec, text: string, requested: Record<string, unknown>, problem: (f: string, r: string, m: string) => void): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(requested)) {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const spec = model.hyperParameters.find((p) => p.name === name);
      const range = spec ? `a ${spec.integer ? 'whole number' : 'number'} from ${spec.min} to ${spec.max}` : 'a number';
      problem(`hyperParameters.${safeText(name, { maxChars: 60 })}`, 'not-finite', notFiniteMessage(spec ? writtenNumber(text, name) : undefined, range));
      continue;
    }
    kept[name] = value;
  }
  return kept;
}

function notFiniteMessage(written: string | undefined, allowed: string): string {
  const value = written ? `${safeText(written, { maxChars: 40 })} is` : 'the value is';
  return `is not a finite number: ${value} beyond the largest number JSON can carry (about 1.8e308); use ${allowed}`;
}

/** The number literal written for `"field": <number>` in the request text, if it can be found. */
function writtenNumber(text: string, field: string): string | undefined {
  if (!/^[A-Za-z]+$/.test(field)) return undefined;
  const pattern = new RegExp(`"${field}"\\s*:\\s*(-?[0-9][0-9.eE+-]{0,40})`, 'g');
  for (const match of text.matchAll(pattern)) {
    if (!Number.isFinite(Number(match[1]))) return match[1];
  }
  return undefined;
}
