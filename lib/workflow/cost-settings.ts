/**
 * Prices and budget of a deployment: what the validation step uses to estimate a run's cost in
 * dollars and to refuse a run over budget before its job is created (the logic is in
 * lambda/shared/cost-estimate.ts; these are the settings and their synth-time checks).
 */
import { IConstruct } from 'constructs';
import { InvalidPropsError } from '../core/props-validation';
import { findModel, LLAMA_MODELS } from '../../lambda/shared/models/llama-models';

/**
 * Prices of one model in US dollars, as published on https://aws.amazon.com/bedrock/pricing/
 * for your region. Each is optional: dollar estimates appear only where the prices are set.
 */
export interface ModelPriceSettings {
  /**
   * Model customization (training), per 1,000 tokens trained.
   * @default - training is estimated in tokens only
   */
  readonly trainingPer1kTokens?: number;
  /**
   * Provisioned Throughput without commitment, per model unit and hour.
   * @default - the evaluation's Provisioned Throughput is estimated in hours only
   */
  readonly provisionedThroughputPerModelUnitHour?: number;
  /**
   * Base model On-Demand input tokens, per 1,000.
   * @default - the baseline is estimated in tokens only
   */
  readonly baseInputPer1kTokens?: number;
  /**
   * Base model On-Demand output tokens, per 1,000.
   * @default - the baseline is estimated in tokens only
   */
  readonly baseOutputPer1kTokens?: number;
  /**
   * Where and when the prices were taken, shown beside dollar estimates
   * (e.g. "aws.amazon.com/bedrock/pricing, us-west-2, 2026-12-01").
   * @default - not shown
   */
  readonly source?: string;
}

/** A budget per run: a run whose estimate exceeds it is refused before anything is paid for. */
export interface CostBudgetSettings {
  /**
   * Most tokens one run may train (training x epochs), validate and send to both models for evaluation.
   * @default - no token limit
   */
  readonly maxTokens?: number;
  /**
   * Most US dollars one run may cost by its estimate; needs the prices of every model runs use.
   * @default - no dollar limit
   */
  readonly maxDollars?: number;
}

const PRICE_KEYS = ['trainingPer1kTokens', 'provisionedThroughputPerModelUnitHour', 'baseInputPer1kTokens', 'baseOutputPer1kTokens'] as const;

/** Checks prices and budget at synth; `where` names the prop or cdk.json key in messages. Returns the prices keyed by catalogue name. */
export function checkCostSettings(
  construct: string,
  prices: Readonly<Record<string, ModelPriceSettings>> | undefined,
  budget: CostBudgetSettings | undefined,
  where: { readonly prices: string; readonly budget: string } = { prices: 'modelPrices', budget: 'costBudget' },
  scope?: IConstruct,
): Record<string, ModelPriceSettings> | undefined {
  if (budget !== undefined) {
    if (typeof budget !== 'object' || budget === null || Array.isArray(budget)) {
      throw new InvalidPropsError(construct, where.budget, 'is not an object', 'Write it as {"maxTokens": 50000000, "maxDollars": 100}.', scope);
    }
    for (const [key, value] of Object.entries(budget)) {
      if (key !== 'maxTokens' && key !== 'maxDollars') throw new InvalidPropsError(construct, `${where.budget}.${key}`, 'is not a budget limit', 'Use maxTokens or maxDollars.', scope);
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (key === 'maxTokens' && !Number.isInteger(value))) {
        throw new InvalidPropsError(construct, `${where.budget}.${key}`, `${JSON.stringify(value)} is not a positive ${key === 'maxTokens' ? 'whole number' : 'number'}`, `Give the most ${key === 'maxTokens' ? 'tokens' : 'US dollars'} one run may use.`, scope);
      }
    }
  }
  if (prices === undefined) return undefined;
  if (typeof prices !== 'object' || prices === null || Array.isArray(prices)) {
    throw new InvalidPropsError(construct, where.prices, 'is not an object', 'Write it as {"llama3.2-11b": {"trainingPer1kTokens": ..., "source": "..."}}.', scope);
  }
  const byName: Record<string, ModelPriceSettings> = {};
  for (const [model, modelPrices] of Object.entries(prices)) {
    const found = findModel(model);
    if (!found) throw new InvalidPropsError(construct, `${where.prices}.${model}`, 'is not a model of the catalogue', `Use one of ${LLAMA_MODELS.map((m) => m.name).join(', ')}.`, scope);
    if (typeof modelPrices !== 'object' || modelPrices === null || Array.isArray(modelPrices)) {
      throw new InvalidPropsError(construct, `${where.prices}.${model}`, 'is not an object', 'Write it as {"trainingPer1kTokens": ..., "source": "..."}.', scope);
    }
    for (const [key, value] of Object.entries(modelPrices)) {
      if (key === 'source') {
        if (typeof value !== 'string') throw new InvalidPropsError(construct, `${where.prices}.${model}.source`, 'is not a string', 'Say where and when the prices were taken.', scope);
        continue;
      }
      if (!(PRICE_KEYS as readonly string[]).includes(key)) throw new InvalidPropsError(construct, `${where.prices}.${model}.${key}`, 'is not a price', `Use ${PRICE_KEYS.join(', ')} or source.`, scope);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        throw new InvalidPropsError(construct, `${where.prices}.${model}.${key}`, `${JSON.stringify(value)} is not a price`, 'Give the price in US dollars as a number >= 0.', scope);
      }
    }
    byName[found.name] = modelPrices;
  }
  return byName;
}
