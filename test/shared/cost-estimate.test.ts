import { checkBudget, compareEstimateWithActual, costBudgetProblems, CostEstimateInput, estimateRunCost, renderCostEstimateLines } from '../../lambda/shared/cost-estimate';

const BASE: CostEstimateInput = {
  model: 'llama3.2-11b',
  epochCount: 3,
  training: { records: 1000, tokens: 400_000 },
  validation: { records: 100, tokens: 40_000 },
  evaluation: { test: { records: 200, tokens: 60_000 }, maxTokens: 256, modelUnits: 2 },
};
const PRICES = { trainingPer1kTokens: 0.01, provisionedThroughputPerModelUnitHour: 20, baseInputPer1kTokens: 0.001, baseOutputPer1kTokens: 0.002, source: 'test prices' };
const ENV = { where: "the environment 'dev'", field: "raise budget.<limit> of the environment 'dev' in cdk.json" };
const REQUEST = { where: 'the run request (budget)', field: 'raise budget.<limit> in the run request' };

describe('estimateRunCost', () => {
  test('trained tokens are training tokens x epochs, validation counted apart, evaluation sends prompt + maxTokens to both models', () => {
    const e = estimateRunCost(BASE);
    expect(e.training).toEqual({ records: 1000, tokensPerEpoch: 400_000, epochs: 3, tokens: 1_200_000 });
    expect(e.validation).toEqual({ records: 100, tokensPerEpoch: 40_000, epochs: 3, tokens: 120_000 });
    expect(e.evaluation).toEqual({
      records: 200,
      promptTokens: 60_000,
      maxAnswerTokens: 200 * 256,
      baseModelTokens: 60_000 + 51_200,
      fineTunedModelTokens: 60_000 + 51_200,
      provisionedThroughputModelUnits: 2,
      provisionedThroughputHours: 1,
    });
    expect(e.totalTokens).toBe(1_200_000 + 120_000 + 2 * 111_200);
  });

  test('evaluation.maxRecords caps the test records and scales their prompt tokens', () => {
    const e = estimateRunCost({ ...BASE, evaluation: { ...BASE.evaluation!, maxRecords: 50 } });
    expect(e.evaluation!.records).toBe(50);
    expect(e.evaluation!.promptTokens).toBe(15_000);
    expect(e.evaluation!.maxAnswerTokens).toBe(50 * 256);
  });

  test('a run without evaluation, or on an existing Provisioned Throughput, estimates no model-unit hours', () => {
    expect(estimateRunCost({ ...BASE, evaluation: undefined }).evaluation).toBeUndefined();
    expect(estimateRunCost({ ...BASE, evaluation: undefined }).totalTokens).toBe(1_320_000);
    const existing = estimateRunCost({ ...BASE, evaluation: { ...BASE.evaluation!, modelUnits: undefined } });
    expect(existing.evaluation!.provisionedThroughputHours).toBeUndefined();
  });

  test('no prices: no dollars, and the missing prices are named', () => {
    const e = estimateRunCost(BASE);
    expect(e.dollars.total).toBeUndefined();
    expect(e.dollars.training).toBeUndefined();
    expect(e.dollars.missingPrices).toEqual(['trainingPer1kTokens', 'baseInputPer1kTokens', 'baseOutputPer1kTokens', 'provisionedThroughputPerModelUnitHour']);
    expect(renderCostEstimateLines(e).join('\n')).not.toContain('$');
  });

  test('with prices: each part and the total in dollars', () => {
    const e = estimateRunCost({ ...BASE, prices: PRICES });
    expect(e.dollars.training).toBeCloseTo(12);
    expect(e.dollars.validation).toBeCloseTo(1.2);
    expect(e.dollars.baseModel).toBeCloseTo(60 * 0.001 + 51.2 * 0.002);
    expect(e.dollars.provisionedThroughput).toBeCloseTo(40);
    expect(e.dollars.total).toBeCloseTo(12 + 1.2 + 0.1624 + 40);
    expect(renderCostEstimateLines(e).join('\n')).toContain('Estimated cost: $53.36 (prices: test prices)');
  });

  test('only some prices: the priced parts in dollars, no total', () => {
    const e = estimateRunCost({ ...BASE, prices: { trainingPer1kTokens: 0.01 } });
    expect(e.dollars.training).toBeCloseTo(12);
    expect(e.dollars.total).toBeUndefined();
    expect(e.dollars.missingPrices).toContain('provisionedThroughputPerModelUnitHour');
  });
});

describe('checkBudget', () => {
  const e = estimateRunCost(BASE);

  test('within every budget', () => {
    expect(checkBudget(e, [{ budget: { maxTokens: e.totalTokens }, ...ENV }, { budget: { maxTokens: e.totalTokens + 1 }, ...REQUEST }])).toEqual({ withinBudget: true });
    expect(checkBudget(e, [])).toEqual({ withinBudget: true });
  });

  test('over the token budget: the estimate, the budget, where it is set and what to change', () => {
    const verdict = checkBudget(e, [{ budget: { maxTokens: 1_000_000 }, ...ENV }]);
    expect(verdict.withinBudget).toBe(false);
    expect(verdict.refusal).toContain(
      'The run is estimated at 1,542,400 tokens (training 1,000 records, 400,000 tokens x 3 epoch(s) = 1,200,000; validation 120,000; evaluation 200 test records x 2 models = 222,400)',
    );
    expect(verdict.refusal).toContain('budget of 1,000,000 tokens set by the environment \'dev\'');
    expect(verdict.refusal).toContain('fewer epochs (hyperParameters.epochCount)');
    expect(verdict.refusal).toContain('evaluation.maxRecords');
    expect(verdict.refusal).toContain("raise budget.maxTokens of the environment 'dev' in cdk.json");
  });

  test('the request budget applies on top of the environment budget', () => {
    const verdict = checkBudget(e, [{ budget: { maxTokens: 10_000_000 }, ...ENV }, { budget: { maxTokens: 1_500_000 }, ...REQUEST }]);
    expect(verdict.withinBudget).toBe(false);
    expect(verdict.refusal).toContain('set by the run request (budget)');
    expect(verdict.refusal).toContain('raise budget.maxTokens in the run request');
  });

  test('over the dollar budget where prices are set', () => {
    const priced = estimateRunCost({ ...BASE, prices: PRICES });
    expect(checkBudget(priced, [{ budget: { maxDollars: 60 }, ...REQUEST }]).withinBudget).toBe(true);
    const verdict = checkBudget(priced, [{ budget: { maxDollars: 50 }, ...REQUEST }]);
    expect(verdict.withinBudget).toBe(false);
    expect(verdict.refusal).toContain('estimated at $53.36');
    expect(verdict.refusal).toContain('budget of $50.00');
    expect(verdict.refusal).toContain('raise budget.maxDollars in the run request');
  });

  test('a dollar budget without the prices to check it refuses, naming the missing prices', () => {
    const verdict = checkBudget(estimateRunCost({ ...BASE, prices: { trainingPer1kTokens: 0.01 } }), [{ budget: { maxDollars: 1000 }, ...ENV }]);
    expect(verdict.withinBudget).toBe(false);
    expect(verdict.refusal).toContain('prices of llama3.2-11b needed to check it are not set (baseInputPer1kTokens, baseOutputPer1kTokens, provisionedThroughputPerModelUnitHour)');
  });
});

describe('compareEstimateWithActual', () => {
  test('Provisioned Throughput hours and tokens answered side by side; dollars where prices are set', () => {
    const e = estimateRunCost({ ...BASE, prices: PRICES });
    const rows = compareEstimateWithActual(e, {
      provisionedThroughputHours: 1.5,
      modelUnits: 2,
      baseInputTokens: 55_000,
      baseOutputTokens: 3_000,
      fineTunedInputTokens: 55_000,
      fineTunedOutputTokens: 2_000,
    });
    const byItem = Object.fromEntries(rows.map((r) => [r.item, r]));
    expect(byItem['Provisioned Throughput']).toEqual({ item: 'Provisioned Throughput', estimate: '1 h x 2 MU', actual: '1.50 h x 2 MU' });
    expect(byItem['Base model tokens (input + output)'].actual).toBe('55,000 + 3,000');
    expect(byItem['Fine-tuned model tokens (input + output)'].estimate).toBe('60,000 + up to 51,200');
    // Billed hourly: 1.5 h counts as 2 started hours x 2 units x $20.
    expect(byItem['Provisioned Throughput cost']).toEqual({ item: 'Provisioned Throughput cost', estimate: '$40.00', actual: '$80.00' });
    expect(byItem['Base model cost'].actual).toBe('$0.06');
  });

  test('no prices: no dollar rows', () => {
    const rows = compareEstimateWithActual(estimateRunCost(BASE), { baseInputTokens: 1, baseOutputTokens: 1, fineTunedInputTokens: 1, fineTunedOutputTokens: 1 });
    expect(rows.some((r) => r.item.endsWith('cost'))).toBe(false);
  });
});

describe('costBudgetProblems', () => {
  test('accepts positive limits, names each bad field', () => {
    expect(costBudgetProblems({ maxTokens: 5, maxDollars: 2.5 }, 'budget')).toEqual([]);
    expect(costBudgetProblems({ maxTokens: 1.5, maxDollars: -1, extra: 1 }, 'budget').map((p) => p.field)).toEqual(['budget.maxTokens', 'budget.maxDollars', 'budget.extra']);
    expect(costBudgetProblems(7, 'budget')).toEqual([{ field: 'budget', message: expect.stringContaining('must be an object') }]);
  });
});
