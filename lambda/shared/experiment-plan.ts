/**
 * The experiment: a run request with an `experiment` field names several variants of itself,
 * each trained and evaluated as its own run. Everything in the request is common to all
 * variants; a variant may set only `model` and `hyperParameters` keys. Pure: parsing,
 * expansion, bounds, the variants' run ids and the experiment's cost estimate and budget.
 *
 * Example (a list):
 * { "name": "chartqa-sweep", "model": "llama3.2-11b", "trainingData": "...", "testData": "...",
 *   "experiment": { "variants": [ { "name": "lr-high", "hyperParameters": { "learningRate": 0.0001 } },
 *                                 { "name": "big", "model": "llama3.2-90b" } ] } }
 * or a grid: "experiment": { "grid": { "learningRate": [0.0001, 0.00005], "epochCount": [2, 3] } }
 * (keys in the order written, the last one changing fastest; names derived, e.g. "lr1e-4-e2").
 */
import { createHash } from 'crypto';
import { LLAMA_MODELS, findModel } from './models/llama-models';
import { BudgetSource, BudgetVerdict, CostEstimate, DataTokens, ModelPrices, estimateRunCost, formatDollars } from './cost-estimate';
import { describeValue, quoted, safeText } from './display-text';
import { exceedsJsonDepth, isStackOverflow, MAX_RUN_REQUEST_DEPTH } from './json-depth';
import {
  InvalidRunRequestError,
  MAX_RUN_REQUEST_BYTES,
  RunRequest,
  RunRequestDefaults,
  RunRequestProblem,
  parseRunRequestDocument,
  requestTooLarge,
} from './run-request';

/** Most variants one experiment may have: each is a training job and a fine-tuned evaluation. */
export const MAX_EXPERIMENT_VARIANTS = 8;
/** Fewest variants: one variant is a single run (leave out `experiment`). */
export const MIN_EXPERIMENT_VARIANTS = 2;
/** Variant names: short, as they end the variant's run id (and so its job and model names). */
export const VARIANT_NAME_PATTERN = /^[a-z0-9-]{1,20}$/;
/** Longest run id: `eval-<run id>` must fit Bedrock's 63-character Provisioned Throughput name uncut (provisioned-names.ts). */
export const MAX_RUN_ID_CHARS = 53;

/** One variant of an experiment. */
export interface ExperimentVariant {
  /** Unique in the experiment, `[a-z0-9-]{1,20}`. */
  readonly name: string;
  /** 0-based position in request order (the order variants are queued in). */
  readonly index: number;
  /** The variant's fully resolved single-run request (its `name` is the request's name). */
  readonly request: RunRequest;
}

/** The variants of one request, in request order. */
export interface ExperimentPlan {
  readonly variants: readonly ExperimentVariant[];
}

/** The request read with its experiment: `request` is the common part, `experiment` present when the request has one. */
export interface ParsedExperimentRequest {
  readonly request: RunRequest;
  readonly experiment?: ExperimentPlan;
}

const OVERRIDABLE_VARIANT_FIELDS = new Set(['name', 'model', 'hyperParameters']);
const HYPERPARAMETER_NAMES = [...new Set(LLAMA_MODELS.flatMap((m) => m.hyperParameters.map((p) => p.name as string)))];
const GRID_KEYS = new Set(['model', ...HYPERPARAMETER_NAMES]);
/** Short forms in derived variant names. */
const GRID_NAME_ABBREVIATIONS: Record<string, string> = { model: '', learningRate: 'lr', epochCount: 'e', batchSize: 'bs' };

/**
 * Reads a run request that may carry an `experiment`: the common request and, when present, the
 * plan. Throws InvalidRunRequestError with every problem (the common fields' and each variant's,
 * named by field path, e.g. `experiment.variants[1].hyperParameters.learningRate`).
 */
export function parseExperimentRequest(text: string, source: string, datasetBucket: string, defaults: RunRequestDefaults = {}): ParsedExperimentRequest {
  if (text.length > MAX_RUN_REQUEST_BYTES || Buffer.byteLength(text, 'utf8') > MAX_RUN_REQUEST_BYTES) throw requestTooLarge(source, Buffer.byteLength(text, 'utf8'));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    if (isStackOverflow(err)) throw tooDeep(source);
    throw new InvalidRunRequestError(source, [
      { field: '(file)', rule: 'json', message: `is not valid JSON (${safeText((err as Error).message, { maxChars: 200 })}); check quotes and commas` },
    ]);
  }
  if (exceedsJsonDepth(doc, MAX_RUN_REQUEST_DEPTH)) throw tooDeep(source);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidRunRequestError(source, [
      { field: '(file)', rule: 'json-object', message: 'must be a JSON object such as {"name": ..., "model": ..., "trainingData": ...}' },
    ]);
  }
  const d = doc as Record<string, unknown>;
  if (d.experiment === undefined) {
    const single = parseRunRequestDocument(d, text, datasetBucket, defaults);
    if (!single.request) throw new InvalidRunRequestError(source, single.problems);
    return { request: single.request };
  }
  const { request, plan, problems } = experimentPlanOf(d, text, datasetBucket, defaults);
  if (!request || !plan || problems.length > 0) throw new InvalidRunRequestError(source, problems);
  return { request, experiment: plan };
}

/** The result of {@link experimentPlanOf}. */
export interface ExperimentPlanResult {
  /** The common request (what every variant starts from), when there are no problems. */
  readonly request?: RunRequest;
  /** The variants, when there are no problems. */
  readonly plan?: ExperimentPlan;
  readonly problems: RunRequestProblem[];
}

/**
 * The plan of a request document with an `experiment` field, without throwing. `problems` holds
 * the common fields' problems (as parseRunRequest names them) and the experiment's; `plan` is
 * present only when there are none.
 */
export function experimentPlanOf(
  document: Record<string, unknown>,
  text: string,
  datasetBucket: string,
  defaults: RunRequestDefaults = {},
): ExperimentPlanResult {
  const { experiment, ...common } = document;
  const base = parseRunRequestDocument(common, text, datasetBucket, defaults);
  const problems: RunRequestProblem[] = [...base.problems];
  const problem = (field: string, rule: string, message: string) => problems.push({ field, rule, message });

  const overrides = variantOverridesOf(experiment, problem);
  if (!overrides) return { problems };

  // Each variant is the common request with its overrides, checked by the single-run rules.
  const commonHp = isPlainObject(common.hyperParameters) ? common.hyperParameters : {};
  const baseFields = new Set(base.problems.map((p) => `${p.field}|${p.rule}|${p.message}`));
  const variants: ExperimentVariant[] = [];
  overrides.forEach((o, index) => {
    const variantDoc: Record<string, unknown> = {
      ...common,
      ...(o.model !== undefined ? { model: o.model } : {}),
      ...(o.hyperParameters ? { hyperParameters: { ...commonHp, ...o.hyperParameters } } : {}),
    };
    const parsed = parseRunRequestDocument(variantDoc, text, datasetBucket, defaults);
    for (const p of parsed.problems) {
      if (baseFields.has(`${p.field}|${p.rule}|${p.message}`)) continue; // already reported for the common part
      problems.push({ field: variantFieldPath(o, hyperParameterField(o, p)), rule: p.rule, message: `(variant ${quoted(o.name, 30)}) ${p.message}` });
    }
    if (parsed.request) variants.push({ name: o.name, index, request: parsed.request });
  });
  if (problems.length > 0 || variants.length !== overrides.length || !base.request) return { problems };
  return { request: base.request, plan: { variants }, problems };
}

/** What one variant changes, where it was written (for field paths), and its name. */
interface VariantOverrides {
  readonly name: string;
  readonly model?: unknown;
  readonly hyperParameters?: Record<string, unknown>;
  /** `experiment.variants[i]` or `experiment.grid`. */
  readonly path: string;
  /** Whether it came from a grid: a problem then names `experiment.grid.<key>` rather than the variant. */
  readonly grid: boolean;
}

/** A range problem names `hyperParameters` only; when it is about one of the variant's own values, name that value. */
function hyperParameterField(o: VariantOverrides, p: RunRequestProblem): string {
  if (p.field !== 'hyperParameters' || p.rule !== 'hyperparameter-range') return p.field;
  const mentioned = Object.keys(o.hyperParameters ?? {}).filter((key) => new RegExp(`(^|[^A-Za-z])'?${key.replace(/[^A-Za-z0-9]/g, '')}'?[^A-Za-z]`).test(p.message));
  return mentioned.length === 1 ? `hyperParameters.${mentioned[0]}` : p.field;
}

function variantFieldPath(o: VariantOverrides, field: string): string {
  const overridden = field === 'model' ? o.model !== undefined : field.startsWith('hyperParameters') && o.hyperParameters !== undefined;
  if (!overridden) return field;
  if (!o.grid) return `${o.path}.${field}`;
  // A grid names the key the value came from: experiment.grid.learningRate.
  const key = field === 'model' ? 'model' : field.slice('hyperParameters.'.length);
  return key !== '' && (key === 'model' || Object.prototype.hasOwnProperty.call(o.hyperParameters ?? {}, key)) ? `${o.path}.${key}` : o.path;
}

/** Checks the `experiment` object's shape and bounds and expands it to each variant's overrides, in request order. */
function variantOverridesOf(experiment: unknown, problem: (f: string, r: string, m: string) => void): VariantOverrides[] | undefined {
  const example = '{"variants": [{"name": "lr-high", "hyperParameters": {"learningRate": 0.0001}}, {"name": "big", "model": "llama3.2-90b"}]} or {"grid": {"learningRate": [0.0001, 0.00005]}}';
  if (!isPlainObject(experiment)) {
    problem('experiment', 'experiment-object', `must be an object such as ${example}; got ${describeValue(experiment)}`);
    return undefined;
  }
  const unknown = Object.keys(experiment).filter((k) => k !== 'variants' && k !== 'grid');
  for (const key of unknown.slice(0, 5)) problem(`experiment.${safeText(key, { maxChars: 60 })}`, 'unknown-field', 'is not an experiment setting; allowed: variants, grid');
  const hasVariants = experiment.variants !== undefined;
  const hasGrid = experiment.grid !== undefined;
  if (hasVariants === hasGrid) {
    problem('experiment', 'experiment-variants-or-grid', `must have exactly one of "variants" (a list) or "grid" (values per setting); ${hasVariants ? 'it has both' : 'it has neither'}. E.g. ${example}`);
    return undefined;
  }
  const overrides = hasVariants ? listOverrides(experiment.variants, problem) : gridOverrides(experiment.grid, problem);
  if (!overrides || unknown.length > 0) return undefined;
  let ok = true;
  const seen = new Map<string, number>();
  overrides.forEach((o, i) => {
    if (!VARIANT_NAME_PATTERN.test(o.name)) {
      problem(`${o.path}.name`, 'variant-name-pattern', `${quoted(o.name, 40)} must be 1-20 lowercase letters, digits or hyphens (it ends the variant's run id), e.g. "lr-high"`);
      ok = false;
    } else if (seen.has(o.name)) {
      problem(`${o.path}.name`, 'variant-name-unique', `${quoted(o.name, 40)} is also the name of variant ${seen.get(o.name)! + 1}; give every variant its own name`);
      ok = false;
    } else {
      seen.set(o.name, i);
    }
  });
  // The same settings twice would pay for the same job twice.
  const settings = new Map<string, string>();
  for (const o of overrides) {
    const key = JSON.stringify([o.model ?? null, Object.entries(o.hyperParameters ?? {}).sort(([a], [b]) => a.localeCompare(b))]);
    const other = settings.get(key);
    if (other !== undefined) {
      problem(o.path, 'variant-duplicate', `variant ${quoted(o.name, 30)} has the same model and hyperparameters as variant ${quoted(other, 30)}; each variant must differ`);
      ok = false;
    } else {
      settings.set(key, o.name);
    }
  }
  return ok ? overrides : undefined;
}

function countProblem(count: number, path: string, problem: (f: string, r: string, m: string) => void): boolean {
  if (count > MAX_EXPERIMENT_VARIANTS) {
    problem(path, 'experiment-too-many-variants', `makes ${count} variants; an experiment may have at most ${MAX_EXPERIMENT_VARIANTS} (each trains its own job). Drop values or split it into several requests`);
    return false;
  }
  if (count < MIN_EXPERIMENT_VARIANTS) {
    problem(path, 'experiment-too-few-variants', `makes ${count} variant${count === 1 ? '' : 's'}; an experiment needs at least ${MIN_EXPERIMENT_VARIANTS}. For one setting, leave out "experiment" and set model and hyperParameters in the request`);
    return false;
  }
  return true;
}

function listOverrides(raw: unknown, problem: (f: string, r: string, m: string) => void): VariantOverrides[] | undefined {
  if (!Array.isArray(raw)) {
    problem('experiment.variants', 'variants-list', `must be a list of variants such as [{"name": "lr-high", "hyperParameters": {"learningRate": 0.0001}}]; got ${describeValue(raw)}`);
    return undefined;
  }
  if (!countProblem(raw.length, 'experiment.variants', problem)) return undefined;
  let ok = true;
  const out: VariantOverrides[] = [];
  raw.forEach((v, i) => {
    const path = `experiment.variants[${i}]`;
    if (!isPlainObject(v)) {
      problem(path, 'variant-object', `must be an object such as {"name": "lr-high", "hyperParameters": {"learningRate": 0.0001}}; got ${describeValue(v)}`);
      ok = false;
      return;
    }
    for (const key of Object.keys(v).filter((k) => !OVERRIDABLE_VARIANT_FIELDS.has(k)).slice(0, 5)) {
      problem(`${path}.${safeText(key, { maxChars: 60 })}`, 'variant-field', 'cannot differ between variants: a variant may set only name, model and hyperParameters (data, evaluation and budget are common to the whole experiment)');
      ok = false;
    }
    if (v.name !== undefined && typeof v.name !== 'string') {
      problem(`${path}.name`, 'variant-name-pattern', `must be a string of 1-20 lowercase letters, digits or hyphens; got ${describeValue(v.name)}`);
      ok = false;
      return;
    }
    if (v.hyperParameters !== undefined && !isPlainObject(v.hyperParameters)) {
      problem(`${path}.hyperParameters`, 'hyperparameters-object', `must be an object such as {"learningRate": 0.0001}; got ${describeValue(v.hyperParameters)}`);
      ok = false;
      return;
    }
    if (v.model !== undefined && typeof v.model !== 'string') {
      problem(`${path}.model`, 'model-type', `must be a model name such as "llama3.2-90b", got ${describeValue(v.model)}`);
      ok = false;
      return;
    }
    out.push({ name: (v.name as string | undefined) ?? `v${i + 1}`, model: v.model, hyperParameters: v.hyperParameters as Record<string, unknown> | undefined, path, grid: false });
  });
  return ok ? out : undefined;
}

function gridOverrides(raw: unknown, problem: (f: string, r: string, m: string) => void): VariantOverrides[] | undefined {
  if (!isPlainObject(raw)) {
    problem('experiment.grid', 'grid-object', `must be an object of value lists such as {"learningRate": [0.0001, 0.00005], "epochCount": [2, 3]}; got ${describeValue(raw)}`);
    return undefined;
  }
  const entries = Object.entries(raw);
  let ok = true;
  for (const [key, values] of entries) {
    const path = `experiment.grid.${safeText(key, { maxChars: 60 })}`;
    if (!GRID_KEYS.has(key)) {
      problem(path, 'grid-key', `cannot differ between variants; a grid may list: ${[...GRID_KEYS].join(', ')}`);
      ok = false;
    } else if (!Array.isArray(values) || values.length === 0) {
      problem(path, 'grid-values', `must be a non-empty list of values, e.g. ${key === 'model' ? '["llama3.2-11b", "llama3.2-90b"]' : '[2, 3]'}; got ${describeValue(values)}`);
      ok = false;
    } else if (new Set(values.map((v) => JSON.stringify(v))).size !== values.length) {
      problem(path, 'grid-values', 'lists a value twice; each value makes its own variants, so list it once');
      ok = false;
    } else if (values.some((v) => (key === 'model' ? typeof v !== 'string' : typeof v !== 'number' && typeof v !== 'string'))) {
      problem(path, 'grid-values', `must list ${key === 'model' ? 'model names such as "llama3.2-90b"' : 'numbers'}; got ${describeValue(values.find((v) => typeof v !== 'number' && typeof v !== 'string'))}`);
      ok = false;
    }
  }
  if (!ok) return undefined;
  if (entries.length === 0) {
    problem('experiment.grid', 'grid-values', 'lists no settings; give values for model or a hyperparameter, e.g. {"learningRate": [0.0001, 0.00005]}');
    return undefined;
  }
  // Counted before expanding, so a huge grid is never built.
  const count = entries.reduce((n, [, values]) => n * (values as unknown[]).length, 1);
  if (!countProblem(count, 'experiment.grid', problem)) return undefined;

  // Keys in the order written, the last one changing fastest.
  let combinations: Array<Array<[string, unknown]>> = [[]];
  for (const [key, values] of entries) combinations = combinations.flatMap((combo) => (values as unknown[]).map((v) => [...combo, [key, v] as [string, unknown]]));
  const names = gridVariantNames(combinations);
  return combinations.map((combo, i) => {
    const hp = Object.fromEntries(combo.filter(([k]) => k !== 'model'));
    const model = combo.find(([k]) => k === 'model')?.[1];
    return { name: names[i], ...(model !== undefined ? { model } : {}), ...(Object.keys(hp).length > 0 ? { hyperParameters: hp } : {}), path: 'experiment.grid', grid: true };
  });
}

/**
 * Names of grid variants from their values, e.g. `lr1e-4-e2` or `90b-lr5e-5`; `v1..vN` when a
 * derived name would not fit {@link VARIANT_NAME_PATTERN} or two would be the same.
 */
export function gridVariantNames(combinations: ReadonlyArray<ReadonlyArray<readonly [string, unknown]>>): string[] {
  const derived = combinations.map((combo) => combo.map(([key, value]) => `${GRID_NAME_ABBREVIATIONS[key] ?? key.toLowerCase()}${nameValue(key, value)}`).join('-'));
  const usable = derived.every((n) => VARIANT_NAME_PATTERN.test(n)) && new Set(derived).size === derived.length;
  return usable ? derived : combinations.map((_, i) => `v${i + 1}`);
}

function nameValue(key: string, value: unknown): string {
  if (key === 'model') {
    const model = typeof value === 'string' ? findModel(value) : undefined;
    return (model?.name ?? String(value)).replace(/^llama3\.2-/, '').toLowerCase();
  }
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) return String(value).toLowerCase();
  // 0.0001 -> 1e-4, 0.000015 -> 1p5e-5: short, and only letters, digits and hyphens.
  const text = n !== 0 && Math.abs(n) < 0.01 ? n.toExponential() : String(n);
  return text.replace('.', 'p').replace('+', '');
}

/**
 * The run id of one variant: `<experiment run id>-<variant name>`, at most
 * {@link MAX_RUN_ID_CHARS}. A longer one keeps the start of the experiment's id, a digest of the
 * whole id (so two experiments never share a variant's id) and the variant name.
 */
export function variantRunId(experimentRunId: string, variantName: string): string {
  const plain = `${experimentRunId}-${variantName}`;
  if (plain.length <= MAX_RUN_ID_CHARS) return plain;
  const digest = createHash('sha256').update(experimentRunId).digest('hex').slice(0, 8);
  const room = MAX_RUN_ID_CHARS - variantName.length - digest.length - 2;
  const start = experimentRunId.slice(0, Math.max(0, room)).replace(/-+$/, '');
  return `${start ? `${start}-` : ''}${digest}-${variantName}`;
}

// ---- Cost and budget ----

/** One variant's share of the experiment's estimate. */
export interface ExperimentVariantCost {
  readonly name: string;
  readonly model: string;
  /** The variant's estimate as a single run (its baseline included), as its own run record shows it. */
  readonly estimate: CostEstimate;
  /** Training, validation and fine-tuned evaluation tokens: the variant's share without the shared baseline. */
  readonly tokens: number;
  /** The same in dollars, when every price the variant needs is set. */
  readonly dollars?: number;
}

/** The base-model baseline shared by the variants of one model. */
export interface ExperimentBaselineCost {
  readonly model: string;
  /** Test records sent to the base model. */
  readonly records: number;
  /** Prompt plus most answer tokens of the base model. */
  readonly tokens: number;
  readonly dollars?: number;
  /** Names of the variants that share it. */
  readonly variants: readonly string[];
}

/** The experiment's estimate: the variants plus ONE baseline per base model. */
export interface ExperimentCostEstimate {
  readonly variants: readonly ExperimentVariantCost[];
  readonly baselines: readonly ExperimentBaselineCost[];
  readonly totalTokens: number;
  /** Present only when every price is set. */
  readonly totalDollars?: number;
  readonly missingPrices: readonly (keyof ModelPrices)[];
}

/**
 * Adds up an experiment: each variant's training, validation and fine-tuned evaluation, plus the
 * base-model baseline once per base model (the variants of one model share it).
 */
export function estimateExperimentCost(variants: ReadonlyArray<{ readonly name: string; readonly estimate: CostEstimate }>): ExperimentCostEstimate {
  const missing = new Set<keyof ModelPrices>();
  const baselines = new Map<string, { model: string; records: number; tokens: number; dollars?: number; variants: string[] }>();
  const costs: ExperimentVariantCost[] = variants.map(({ name, estimate }) => {
    for (const p of estimate.dollars.missingPrices) missing.add(p);
    const ev = estimate.evaluation;
    const baseTokens = ev?.baseModelTokens ?? 0;
    if (ev) {
      const shared = baselines.get(estimate.model);
      if (shared) shared.variants.push(name);
      else baselines.set(estimate.model, { model: estimate.model, records: ev.records, tokens: baseTokens, ...(estimate.dollars.baseModel !== undefined ? { dollars: estimate.dollars.baseModel } : {}), variants: [name] });
    }
    const total = estimate.dollars.total;
    return {
      name,
      model: estimate.model,
      estimate,
      tokens: estimate.totalTokens - baseTokens,
      ...(total !== undefined ? { dollars: total - (estimate.dollars.baseModel ?? 0) } : {}),
    };
  });
  const shared = [...baselines.values()];
  const totalTokens = costs.reduce((n, c) => n + c.tokens, 0) + shared.reduce((n, b) => n + b.tokens, 0);
  const priced = missing.size === 0 && costs.every((c) => c.dollars !== undefined);
  return {
    variants: costs,
    baselines: shared,
    totalTokens,
    ...(priced ? { totalDollars: costs.reduce((n, c) => n + c.dollars!, 0) + shared.reduce((n, b) => n + (b.dollars ?? 0), 0) } : {}),
    missingPrices: [...missing],
  };
}

/** What {@link estimatePlanCost} needs besides the plan: the data's token estimates (validated once) and the deployment's settings. */
export interface ExperimentCostData {
  readonly training: DataTokens;
  readonly validation?: DataTokens;
  /** Absent when the request has no test data. */
  readonly test?: DataTokens;
  /** Epochs the data's recommendation gives a variant that sets no epochCount (the validation report's value). */
  readonly recommendedEpochCount: number;
  /** Whether the deployment evaluates (its evaluation mode is not off). */
  readonly evaluates: boolean;
  /** Model units of the Provisioned Throughput each variant creates; absent when evaluating on an existing one. */
  readonly modelUnits?: number;
  /** Prices per catalogue model name. */
  readonly pricesByModel?: Readonly<Record<string, ModelPrices>>;
}

/**
 * The experiment's estimate from the plan: each variant estimated as a single run (its model,
 * its epochs: its own epochCount, else the recommendation), then added up with
 * {@link estimateExperimentCost} (one baseline per base model).
 */
export function estimatePlanCost(plan: ExperimentPlan, data: ExperimentCostData): ExperimentCostEstimate {
  return estimateExperimentCost(
    plan.variants.map((v) => {
      const r = v.request;
      const epochCount = r.hyperParametersOverridden.includes('epochCount') ? r.hyperParameters.epochCount : data.recommendedEpochCount;
      const evaluates = data.evaluates && r.evaluation.enabled && data.test !== undefined;
      return {
        name: v.name,
        estimate: estimateRunCost({
          model: r.model.name,
          epochCount,
          training: data.training,
          validation: data.validation,
          evaluation: evaluates ? { test: data.test!, maxRecords: r.evaluation.maxRecords, maxTokens: r.evaluation.maxTokens, ...(data.modelUnits !== undefined ? { modelUnits: data.modelUnits } : {}) } : undefined,
          prices: data.pricesByModel?.[r.model.name],
        }),
      };
    }),
  );
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The estimate in one line per variant and baseline, for messages and the validation summary. */
export function describeExperimentCost(e: ExperimentCostEstimate): string[] {
  const money = (d: number | undefined) => (d !== undefined ? ` (${formatDollars(d)})` : '');
  return [
    ...e.variants.map((v) => `variant ${v.name} (${v.model}): ${fmt(v.tokens)} tokens${money(v.dollars)}`),
    ...e.baselines.map((b) => `baseline of ${b.model}, computed once for ${b.variants.join(', ')}: ${fmt(b.records)} test records, ${fmt(b.tokens)} tokens${money(b.dollars)}`),
    `total: ${fmt(e.totalTokens)} tokens${money(e.totalDollars)}`,
  ];
}

/**
 * Checks the experiment's total against every budget (environment and request; the request's
 * `budget` applies to the whole experiment). The first budget exceeded refuses the experiment
 * before any job, with the per-variant estimates, the total and what to change.
 */
export function checkExperimentBudget(estimate: ExperimentCostEstimate, budgets: readonly BudgetSource[]): BudgetVerdict {
  const n = estimate.variants.length;
  const detail = `The experiment of ${n} variants is estimated at: ${describeExperimentCost(estimate).join('; ')}`;
  const biggest = [...estimate.variants].sort((a, b) => b.tokens - a.tokens)[0];
  const reduce =
    `Drop variants (experiment.variants or fewer values in experiment.grid${biggest ? `; the largest is ${biggest.name}` : ''}), ` +
    'train fewer epochs (hyperParameters.epochCount) or on fewer records, evaluate fewer test records (evaluation.maxRecords) or shorter answers (evaluation.maxTokens)';
  for (const { budget, where, field } of budgets) {
    if (budget.maxTokens !== undefined && estimate.totalTokens > budget.maxTokens) {
      return {
        withinBudget: false,
        refusal: `${detail}. That is over the budget of ${fmt(budget.maxTokens)} tokens set by ${where}. Nothing was paid for. ${reduce}, or ${field.replace('<limit>', 'maxTokens')}.`,
      };
    }
    if (budget.maxDollars !== undefined) {
      if (estimate.totalDollars === undefined) {
        return {
          withinBudget: false,
          refusal:
            `A budget of ${formatDollars(budget.maxDollars)} is set by ${where}, but prices the experiment needs are not set (${estimate.missingPrices.join(', ')}). ` +
            `Nothing was paid for. Set them in the deployment's prices (cdk.json prices.<model>, or the construct prop modelPrices), or remove the dollar limit.`,
        };
      }
      if (estimate.totalDollars > budget.maxDollars) {
        return {
          withinBudget: false,
          refusal: `${detail}. That is over the budget of ${formatDollars(budget.maxDollars)} set by ${where}. Nothing was paid for. ${reduce}, or ${field.replace('<limit>', 'maxDollars')}.`,
        };
      }
    }
  }
  return { withinBudget: true };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function tooDeep(source: string): InvalidRunRequestError {
  return new InvalidRunRequestError(source, [
    { field: '(file)', rule: 'json-too-deep', message: `nests lists or objects more than ${MAX_RUN_REQUEST_DEPTH} levels deep; a run request with an experiment needs 4` },
  ]);
}
