/**
 * What a run will cost, computed before anything is paid for, and the budget rule that refuses
 * a run over budget. Pure: the validate-dataset step feeds it the token estimates of the
 * validation report (token-estimate.ts, the same estimator as the `tokens per record` limit),
 * records the result in run.json and the validation summary; the evaluation report sets it
 * beside the actual figures.
 *
 * Bedrock's accounting, as far as it is documented:
 * - training: "the number of epochs you specify increases your model customization cost by
 *   processing more tokens. Each epoch processes the entire training dataset once"
 *   (Bedrock User Guide, Meta Llama 3.2 model customization hyperparameters,
 *   docs.aws.amazon.com/bedrock/latest/userguide/cm-hp-meta-llama32.html), so trained tokens = training tokens x epochs.
 * - validation data: no public page says whether its tokens are billed; they are estimated
 *   apart (tokens x epochs, as Bedrock computes a validation loss per epoch) and counted in the
 *   budget, so a budget errs on the safe side.
 * - evaluation: the base model is billed per input and output token (On-Demand); the fine-tuned
 *   model runs on a Provisioned Throughput "billed hourly" per model unit (User Guide,
 *   Provisioned Throughput). Answers are estimated at their maximum (`maxTokens`).
 */

// Type only: the report model names the cost estimate too; no module cycle at run time.
import type { EvaluationCosts } from './report/report-model';

/** Prices of one model, in US dollars; each is optional and dollars appear only where set. */
export interface ModelPrices {
  /** Model customization (training), per 1,000 tokens trained. */
  readonly trainingPer1kTokens?: number;
  /** Provisioned Throughput (no commitment), per model unit and hour. */
  readonly provisionedThroughputPerModelUnitHour?: number;
  /** Base model On-Demand input tokens, per 1,000. */
  readonly baseInputPer1kTokens?: number;
  /** Base model On-Demand output tokens, per 1,000. */
  readonly baseOutputPer1kTokens?: number;
  /** Where and when the prices were taken (e.g. "aws.amazon.com/bedrock/pricing, us-west-2, 2026-12-01"). */
  readonly source?: string;
}

/** A budget: a run whose estimate exceeds either limit is refused before its job is created. */
export interface CostBudget {
  /** Most tokens one run may train, validate and send for evaluation (estimate). */
  readonly maxTokens?: number;
  /** Most US dollars one run may cost (estimate); needs the model's prices. */
  readonly maxDollars?: number;
}

/** Records and estimated tokens of one data file (all records, one pass). */
export interface DataTokens {
  readonly records: number;
  readonly tokens: number;
}

/** What {@link estimateRunCost} needs. */
export interface CostEstimateInput {
  /** Catalogue name of the model. */
  readonly model: string;
  readonly epochCount: number;
  readonly training: DataTokens;
  readonly validation?: DataTokens;
  /** Absent when the run does not evaluate. */
  readonly evaluation?: {
    readonly test: DataTokens;
    /** Cap on test records evaluated (the request's `evaluation.maxRecords`). */
    readonly maxRecords?: number;
    /** Most tokens generated per answer (the request's `evaluation.maxTokens`). */
    readonly maxTokens: number;
    /** Model units of the Provisioned Throughput the run creates; absent when it evaluates on an existing one. */
    readonly modelUnits?: number;
  };
  readonly prices?: ModelPrices;
}

/** Tokens of one pass over a file times the epochs. */
export interface EpochTokens {
  readonly records: number;
  readonly tokensPerEpoch: number;
  readonly epochs: number;
  readonly tokens: number;
}

/** The evaluation's estimated usage. */
export interface EvaluationUsageEstimate {
  /** Test records sent to each model. */
  readonly records: number;
  /** Estimated prompt tokens of those records (each record's tokens, its reference answer included: an upper bound). */
  readonly promptTokens: number;
  /** records x maxTokens: the most answer tokens each model may generate. */
  readonly maxAnswerTokens: number;
  /** Tokens sent to and answered by the base model (prompt + max answer). */
  readonly baseModelTokens: number;
  /** The same for the fine-tuned model. */
  readonly fineTunedModelTokens: number;
  /** Model units of the Provisioned Throughput created for the run (absent: an existing one is used, not billed to the run). */
  readonly provisionedThroughputModelUnits?: number;
  /**
   * Hours the Provisioned Throughput is estimated to exist: 1, the billing unit (it is billed
   * hourly); its real lifetime (creation, inference, deletion) is in the report after the run.
   */
  readonly provisionedThroughputHours?: number;
}

/** Dollar amounts, each present only when its prices are set. */
export interface DollarEstimate {
  readonly training?: number;
  /** Validation tokens at the training price, in case they are billed (not documented). */
  readonly validation?: number;
  readonly baseModel?: number;
  readonly provisionedThroughput?: number;
  /** Present only when every price the run needs is set. */
  readonly total?: number;
  /** Names of the prices the run needs that are not set. */
  readonly missingPrices: readonly (keyof ModelPrices)[];
}

/** The estimate recorded in run.json (`costEstimate`), the validation summary and the report. */
export interface CostEstimate {
  readonly model: string;
  readonly training: EpochTokens;
  readonly validation: EpochTokens;
  readonly evaluation?: EvaluationUsageEstimate;
  /** Training + validation + evaluation tokens (both models): what a token budget limits. */
  readonly totalTokens: number;
  readonly dollars: DollarEstimate;
  /** The prices used (so the report prices the actuals the same way). */
  readonly prices?: ModelPrices;
}

/** Hours a Provisioned Throughput is estimated to exist: its billing unit (it is billed hourly). */
const PROVISIONED_THROUGHPUT_BILLING_HOURS = 1;

/** Computes the estimate; see the module comment for the accounting. */
export function estimateRunCost(input: CostEstimateInput): CostEstimate {
  const epochs = input.epochCount;
  const pass = (data: DataTokens | undefined): EpochTokens => {
    const records = data?.records ?? 0;
    const tokensPerEpoch = data?.tokens ?? 0;
    return { records, tokensPerEpoch, epochs, tokens: tokensPerEpoch * epochs };
  };
  const training = pass(input.training);
  const validation = pass(input.validation);

  let evaluation: EvaluationUsageEstimate | undefined;
  if (input.evaluation) {
    const { test, maxRecords, maxTokens, modelUnits } = input.evaluation;
    const records = Math.min(test.records, maxRecords ?? test.records);
    // A capped evaluation sends the first records: scale the file's tokens by the share sent.
    const promptTokens = test.records === 0 ? 0 : Math.ceil((test.tokens * records) / test.records);
    const maxAnswerTokens = records * maxTokens;
    evaluation = {
      records,
      promptTokens,
      maxAnswerTokens,
      baseModelTokens: promptTokens + maxAnswerTokens,
      fineTunedModelTokens: promptTokens + maxAnswerTokens,
      ...(modelUnits !== undefined ? { provisionedThroughputModelUnits: modelUnits, provisionedThroughputHours: PROVISIONED_THROUGHPUT_BILLING_HOURS } : {}),
    };
  }
  const totalTokens = training.tokens + validation.tokens + (evaluation ? evaluation.baseModelTokens + evaluation.fineTunedModelTokens : 0);
  return {
    model: input.model,
    training,
    validation,
    ...(evaluation ? { evaluation } : {}),
    totalTokens,
    dollars: dollarsOf(training, validation, evaluation, input.prices),
    ...(input.prices ? { prices: input.prices } : {}),
  };
}

function dollarsOf(training: EpochTokens, validation: EpochTokens, evaluation: EvaluationUsageEstimate | undefined, prices: ModelPrices = {}): DollarEstimate {
  const missing: (keyof ModelPrices)[] = [];
  const need = (name: keyof ModelPrices): number | undefined => {
    const price = prices[name];
    if (typeof price !== 'number') {
      if (!missing.includes(name)) missing.push(name);
      return undefined;
    }
    return price;
  };
  const perThousand = (tokens: number, price: number | undefined) => (price === undefined ? undefined : (tokens / 1000) * price);
  const out: { -readonly [K in keyof DollarEstimate]: DollarEstimate[K] } = { missingPrices: missing };
  out.training = perThousand(training.tokens, need('trainingPer1kTokens'));
  if (validation.tokens > 0) out.validation = perThousand(validation.tokens, prices.trainingPer1kTokens);
  if (evaluation) {
    const input = need('baseInputPer1kTokens');
    const output = need('baseOutputPer1kTokens');
    if (input !== undefined && output !== undefined) out.baseModel = (evaluation.promptTokens / 1000) * input + (evaluation.maxAnswerTokens / 1000) * output;
    if (evaluation.provisionedThroughputModelUnits !== undefined) {
      const hourly = need('provisionedThroughputPerModelUnitHour');
      if (hourly !== undefined) out.provisionedThroughput = evaluation.provisionedThroughputModelUnits * (evaluation.provisionedThroughputHours ?? 0) * hourly;
    }
  }
  if (missing.length === 0) out.total = (out.training ?? 0) + (out.validation ?? 0) + (out.baseModel ?? 0) + (out.provisionedThroughput ?? 0);
  for (const key of ['training', 'validation', 'baseModel', 'provisionedThroughput', 'total'] as const) if (out[key] === undefined) delete out[key];
  return out;
}

/** Where a budget was set, so a refusal can say where to raise it. */
export interface BudgetSource {
  readonly budget: CostBudget;
  /** Says where it is set, e.g. "the environment 'prod' (cdk.json llama-finetune:environments.prod.budget, or the construct prop costs.budget)". */
  readonly where: string;
  /** How to raise it, e.g. "raise budget.maxTokens in the run request". */
  readonly field: string;
}

/** The verdict of {@link checkBudget}. */
export interface BudgetVerdict {
  readonly withinBudget: boolean;
  /** Why the run was refused: the estimate, the budget, and what to change. */
  readonly refusal?: string;
}

const fmt = (n: number) => n.toLocaleString('en-US');
/** Dollars with cents, e.g. "$1,234.56" (amounts under a cent show as "$0.00"). */
export const formatDollars = (n: number) => `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

/** One line on where the tokens come from, for messages. */
export function describeTokens(e: CostEstimate): string {
  const parts = [`training ${fmt(e.training.records)} records, ${fmt(e.training.tokensPerEpoch)} tokens x ${fmt(e.training.epochs)} epoch(s) = ${fmt(e.training.tokens)}`];
  if (e.validation.records > 0) parts.push(`validation ${fmt(e.validation.tokens)}`);
  if (e.evaluation) parts.push(`evaluation ${fmt(e.evaluation.records)} test records x 2 models = ${fmt(e.evaluation.baseModelTokens + e.evaluation.fineTunedModelTokens)}`);
  return `${fmt(e.totalTokens)} tokens (${parts.join('; ')})`;
}

/**
 * Checks the estimate against every budget given (environment and request both apply: a
 * request may only tighten its environment's budget). The first budget exceeded refuses the run.
 */
export function checkBudget(estimate: CostEstimate, budgets: readonly BudgetSource[]): BudgetVerdict {
  const reduce =
    'Train on fewer records or fewer epochs (hyperParameters.epochCount)' +
    (estimate.evaluation ? ', evaluate fewer test records (evaluation.maxRecords) or shorter answers (evaluation.maxTokens)' : '');
  for (const { budget, where, field } of budgets) {
    if (budget.maxTokens !== undefined && estimate.totalTokens > budget.maxTokens) {
      return {
        withinBudget: false,
        refusal:
          `The run is estimated at ${describeTokens(estimate)}, over the budget of ${fmt(budget.maxTokens)} tokens set by ${where}. ` +
          `Nothing was paid for. ${reduce}, or ${field.replace('<limit>', 'maxTokens')}.`,
      };
    }
    if (budget.maxDollars !== undefined) {
      const { total, missingPrices } = estimate.dollars;
      if (total === undefined) {
        return {
          withinBudget: false,
          refusal:
            `A budget of ${formatDollars(budget.maxDollars)} is set by ${where}, but the prices of ${estimate.model} needed to check it are not set (${missingPrices.join(', ')}). ` +
            `Nothing was paid for. Set them in the deployment's prices (cdk.json prices.${estimate.model}, or the construct prop modelPrices), or remove the dollar limit.`,
        };
      }
      if (total > budget.maxDollars) {
        return {
          withinBudget: false,
          refusal:
            `The run is estimated at ${formatDollars(total)} (${describeTokens(estimate)}), over the budget of ${formatDollars(budget.maxDollars)} set by ${where}. ` +
            `Nothing was paid for. ${reduce}, or ${field.replace('<limit>', 'maxDollars')}.`,
        };
      }
    }
  }
  return { withinBudget: true };
}

/** The estimate in a few lines, for the validation summary. */
export function renderCostEstimateLines(e: CostEstimate): string[] {
  const lines = [`Cost estimate: ${describeTokens(e)}.`];
  if (e.evaluation?.provisionedThroughputModelUnits !== undefined) {
    lines.push(`Provisioned Throughput: ${fmt(e.evaluation.provisionedThroughputModelUnits)} model unit(s), billed hourly (at least ${fmt(e.evaluation.provisionedThroughputHours ?? 1)} hour).`);
  }
  const d = e.dollars;
  if (d.total !== undefined) lines.push(`Estimated cost: ${formatDollars(d.total)}${e.prices?.source ? ` (prices: ${e.prices.source})` : ''}.`);
  else if (d.training !== undefined) lines.push(`Estimated training cost: ${formatDollars(d.training)}; other prices not set (${d.missingPrices.join(', ')}).`);
  return lines;
}

/** What the run actually used: the evaluation report's usage figures. */
export type ActualUsage = EvaluationCosts;

/** One row of the estimate-versus-actual table. */
export interface CostComparisonRow {
  readonly item: string;
  readonly estimate: string;
  readonly actual: string;
}

/** What a Provisioned Throughput that existed `hours` with `modelUnits` cost: billed hourly, so every started hour counts. */
export function provisionedThroughputDollars(hours: number, modelUnits: number, pricePerModelUnitHour: number): number {
  return Math.ceil(hours) * modelUnits * pricePerModelUnitHour;
}

/** The estimate beside the actual usage (and dollars where prices are set), row by row. */
export function compareEstimateWithActual(e: CostEstimate, actual: ActualUsage): CostComparisonRow[] {
  const rows: CostComparisonRow[] = [{ item: 'Tokens trained (training x epochs)', estimate: fmt(e.training.tokens), actual: 'not reported by Bedrock' }];
  const ev = e.evaluation;
  if (ev) {
    rows.push(
      { item: 'Base model tokens (input + output)', estimate: `${fmt(ev.promptTokens)} + up to ${fmt(ev.maxAnswerTokens)}`, actual: `${fmt(actual.baseInputTokens)} + ${fmt(actual.baseOutputTokens)}` },
      { item: 'Fine-tuned model tokens (input + output)', estimate: `${fmt(ev.promptTokens)} + up to ${fmt(ev.maxAnswerTokens)}`, actual: `${fmt(actual.fineTunedInputTokens)} + ${fmt(actual.fineTunedOutputTokens)}` },
    );
    if (ev.provisionedThroughputModelUnits !== undefined || actual.provisionedThroughputHours !== undefined) {
      const estimate = ev.provisionedThroughputHours !== undefined ? `${fmt(ev.provisionedThroughputHours)} h x ${fmt(ev.provisionedThroughputModelUnits ?? 0)} MU` : '–';
      const hours = actual.provisionedThroughputHours;
      rows.push({ item: 'Provisioned Throughput', estimate, actual: hours !== undefined ? `${hours.toFixed(2)} h x ${fmt(actual.modelUnits ?? 0)} MU` : '–' });
    }
    const p = e.prices;
    if (p?.baseInputPer1kTokens !== undefined && p.baseOutputPer1kTokens !== undefined && e.dollars.baseModel !== undefined) {
      const cost = (actual.baseInputTokens / 1000) * p.baseInputPer1kTokens + (actual.baseOutputTokens / 1000) * p.baseOutputPer1kTokens;
      rows.push({ item: 'Base model cost', estimate: formatDollars(e.dollars.baseModel), actual: formatDollars(cost) });
    }
    if (p?.provisionedThroughputPerModelUnitHour !== undefined && e.dollars.provisionedThroughput !== undefined && actual.provisionedThroughputHours !== undefined) {
      const cost = provisionedThroughputDollars(actual.provisionedThroughputHours, actual.modelUnits ?? 0, p.provisionedThroughputPerModelUnitHour);
      rows.push({ item: 'Provisioned Throughput cost', estimate: formatDollars(e.dollars.provisionedThroughput), actual: formatDollars(cost) });
    }
  }
  return rows;
}

/** A problem with a budget or price value: which field and what to do. */
export interface CostSettingProblem {
  readonly field: string;
  readonly message: string;
}

/** Checks a budget object as written (run request `budget`, or a deployment setting); `field` prefixes the problems. */
export function costBudgetProblems(raw: unknown, field: string): CostSettingProblem[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [{ field, message: 'must be an object such as {"maxTokens": 5000000, "maxDollars": 50}' }];
  const problems: CostSettingProblem[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'maxTokens' && key !== 'maxDollars') {
      problems.push({ field: `${field}.${key}`, message: 'is not a budget limit; use maxTokens or maxDollars' });
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (key === 'maxTokens' && !Number.isInteger(value))) {
      problems.push({ field: `${field}.${key}`, message: `must be a positive ${key === 'maxTokens' ? 'whole number of tokens' : 'number of US dollars'}, got ${JSON.stringify(value)?.slice(0, 40)}` });
    }
  }
  return problems;
}
