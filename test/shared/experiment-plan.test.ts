import { BudgetSource, estimateRunCost } from '../../lambda/shared/cost-estimate';
import {
  MAX_EXPERIMENT_VARIANTS,
  MAX_RUN_ID_CHARS,
  checkExperimentBudget,
  estimateExperimentCost,
  estimatePlanCost,
  experimentPlanOf,
  parseExperimentRequest,
  variantRunId,
} from '../../lambda/shared/experiment-plan';
import { JOB_NAME_PATTERN, customModelNameFor, jobNameFor } from '../../lambda/shared/job-names';
import { provisionedModelNameFor, runIdOfProvisionedModelName } from '../../lambda/shared/evaluation/provisioned-names';
import { InvalidRunRequestError, parseRunRequest } from '../../lambda/shared/run-request';

const BUCKET = 'datasets-bucket';
const SOURCE = 's3://datasets-bucket/requests/sweep.json';
const common = {
  name: 'chartqa-sweep',
  model: 'llama3.2-11b',
  trainingData: 'data/train.jsonl',
  validationData: 'data/val.jsonl',
  testData: 'data/test.jsonl',
  hyperParameters: { batchSize: 1, epochCount: 2 },
  evaluation: { maxTokens: 64, maxRecords: 100 },
};

const parse = (doc: unknown) => parseExperimentRequest(JSON.stringify(doc), SOURCE, BUCKET);
function problemsOf(doc: unknown): Array<{ field: string; rule: string; message: string }> {
  try {
    parse(doc);
  } catch (err) {
    if (err instanceof InvalidRunRequestError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('experiment expansion', () => {
  test('a list keeps request order and names; each variant is the common request with its overrides', () => {
    const { request, experiment } = parse({
      ...common,
      experiment: { variants: [{ name: 'lr-high', hyperParameters: { learningRate: 0.0002 } }, { name: 'big', model: 'llama3.2-90b' }, { hyperParameters: { epochCount: 3 } }] },
    });
    expect(request.name).toBe('chartqa-sweep');
    expect(experiment!.variants.map((v) => [v.index, v.name])).toEqual([[0, 'lr-high'], [1, 'big'], [2, 'v3']]);
    const [high, big, third] = experiment!.variants.map((v) => v.request);
    expect(high.model.name).toBe('llama3.2-11b');
    expect(high.hyperParameters).toEqual({ batchSize: 1, epochCount: 2, learningRate: 0.0002 });
    expect([...high.hyperParametersOverridden].sort()).toEqual(['batchSize', 'epochCount', 'learningRate']);
    expect(big.model.name).toBe('llama3.2-90b');
    expect(big.hyperParameters).toEqual({ batchSize: 1, epochCount: 2, learningRate: 0.0001 });
    expect(third.hyperParameters.epochCount).toBe(3);
    // Everything else is common.
    for (const v of experiment!.variants) {
      expect(v.request.name).toBe('chartqa-sweep');
      expect([v.request.trainingDataKey, v.request.validationDataKey, v.request.testDataKey]).toEqual(['data/train.jsonl', 'data/val.jsonl', 'data/test.jsonl']);
      expect(v.request.evaluation).toEqual({ enabled: true, maxTokens: 64, maxRecords: 100 });
    }
  });

  test('a grid expands keys in the order written, the last key fastest, with derived names', () => {
    const { experiment } = parse({ ...common, experiment: { grid: { learningRate: [0.0001, 0.00005], epochCount: [2, 3] } } });
    expect(experiment!.variants.map((v) => v.name)).toEqual(['lr1e-4-e2', 'lr1e-4-e3', 'lr5e-5-e2', 'lr5e-5-e3']);
    expect(experiment!.variants.map((v) => [v.request.hyperParameters.learningRate, v.request.hyperParameters.epochCount])).toEqual([
      [0.0001, 2],
      [0.0001, 3],
      [0.00005, 2],
      [0.00005, 3],
    ]);
    expect(experiment!.variants.map((v) => v.index)).toEqual([0, 1, 2, 3]);
  });

  test('a grid over models names the size; names too long for the pattern fall back to v1..vN', () => {
    const models = parse({ ...common, experiment: { grid: { model: ['llama3.2-11b', 'llama3.2-90b'], learningRate: [0.00015] } } }).experiment!;
    expect(models.variants.map((v) => [v.name, v.request.model.name])).toEqual([
      ['11b-lr1p5e-4', 'llama3.2-11b'],
      ['90b-lr1p5e-4', 'llama3.2-90b'],
    ]);
    const long = parse({ ...common, experiment: { grid: { model: ['llama3.2-90b'], learningRate: [0.000125, 0.000375], epochCount: [10], batchSize: [1] } } }).experiment!;
    expect(long.variants.map((v) => v.name)).toEqual(['v1', 'v2']);
  });

  test('a request without experiment is a single run, as parseRunRequest reads it', () => {
    const { experiment, request } = parse(common);
    expect(experiment).toBeUndefined();
    expect(request).toEqual(parseRunRequest(JSON.stringify(common), SOURCE, BUCKET));
  });

  test('parseRunRequest (the single-run reader) refuses an experiment rather than run one variant', () => {
    expect(() => parseRunRequest(JSON.stringify({ ...common, experiment: { grid: { epochCount: [2, 3] } } }), SOURCE, BUCKET)).toThrow(/experiment: .*experiment-not-single-run/s);
  });
});

describe('experiment bounds', () => {
  const nine = Array.from({ length: 9 }, (_, i) => ({ name: `v${i}`, hyperParameters: { learningRate: 0.0001 + i * 0.00001 } }));
  test.each([
    ['9 listed variants', { variants: nine }, 'experiment.variants', 'experiment-too-many-variants', /9 variants; .* at most 8/],
    ['a 3x3 grid', { grid: { epochCount: [1, 2, 3], learningRate: [0.0001, 0.0002, 0.0003] } }, 'experiment.grid', 'experiment-too-many-variants', /9 variants/],
    ['one variant', { variants: [{ name: 'only' }] }, 'experiment.variants', 'experiment-too-few-variants', /at least 2.*leave out "experiment"/],
    ['a one-value grid', { grid: { epochCount: [3] } }, 'experiment.grid', 'experiment-too-few-variants', /1 variant;/],
    ['both variants and grid', { variants: [], grid: {} }, 'experiment', 'experiment-variants-or-grid', /exactly one .* it has both/],
    ['neither', {}, 'experiment', 'experiment-variants-or-grid', /it has neither/],
    ['duplicate names', { variants: [{ name: 'a', model: 'llama3.2-90b' }, { name: 'a' }] }, 'experiment.variants[1].name', 'variant-name-unique', /also the name of variant 1/],
    ['a bad name', { variants: [{ name: 'Lr_High' }, { name: 'b', model: 'llama3.2-90b' }] }, 'experiment.variants[0].name', 'variant-name-pattern', /1-20 lowercase/],
    ['a data field in a variant', { variants: [{ name: 'a', trainingData: 'x.jsonl' }, { name: 'b' }] }, 'experiment.variants[0].trainingData', 'variant-field', /only name, model and hyperParameters/],
    ['an evaluation key in a grid', { grid: { maxTokens: [64, 128] } }, 'experiment.grid.maxTokens', 'grid-key', /may list: model, epochCount/],
    ['the same settings twice', { variants: [{ name: 'a', hyperParameters: { epochCount: 3 } }, { name: 'b', hyperParameters: { epochCount: 3 } }] }, 'experiment.variants[1]', 'variant-duplicate', /same model and hyperparameters as variant "?a/],
    ['a repeated grid value', { grid: { epochCount: [2, 2] } }, 'experiment.grid.epochCount', 'grid-values', /twice/],
  ])('%s is refused', (_label, experiment, field, rule, message) => {
    const problems = problemsOf({ ...common, experiment });
    expect(problems).toContainEqual(expect.objectContaining({ field, rule }));
    expect(problems.find((p) => p.field === field && p.rule === rule)!.message).toMatch(message);
  });

  test('8 variants, the most allowed, are accepted', () => {
    const grid = { epochCount: [1, 2, 3, 4], learningRate: [0.0001, 0.0002] };
    expect(parse({ ...common, experiment: { grid } }).experiment!.variants).toHaveLength(MAX_EXPERIMENT_VARIANTS);
  });
});

describe('each variant is checked by the single-run rules, named by field path', () => {
  test('a listed variant out of range names experiment.variants[i].hyperParameters.<key>', () => {
    const problems = problemsOf({ ...common, experiment: { variants: [{ name: 'ok', hyperParameters: { epochCount: 3 } }, { name: 'hot', hyperParameters: { learningRate: 0.5 } }] } });
    expect(problems).toEqual([
      expect.objectContaining({ field: 'experiment.variants[1].hyperParameters.learningRate', rule: 'hyperparameter-range', message: expect.stringMatching(/variant "hot".*learningRate must be between 0.000005 and 0.1/) }),
    ]);
  });

  test('a grid value out of range names experiment.grid.<key>; an unknown model names the model', () => {
    expect(problemsOf({ ...common, experiment: { grid: { epochCount: [2, 11] } } })).toEqual([
      expect.objectContaining({ field: 'experiment.grid.epochCount', rule: 'hyperparameter-range', message: expect.stringMatching(/variant "e11".*epochCount must be between 1 and 10/) }),
    ]);
    expect(problemsOf({ ...common, experiment: { variants: [{ name: 'a' }, { name: 'b', model: 'llama3.2-400b' }] } })).toEqual([
      expect.objectContaining({ field: 'experiment.variants[1].model', rule: 'unknown-model' }),
    ]);
  });

  test('a number JSON cannot carry in a variant names its path and the number as written', () => {
    const text = JSON.stringify({ ...common, experiment: { variants: [{ name: 'a' }, { name: 'b', hyperParameters: { learningRate: 1 } }] } }).replace('"learningRate":1', '"learningRate":1e999');
    let problems: readonly { field: string; rule: string; message: string }[] = [];
    try {
      parseExperimentRequest(text, SOURCE, BUCKET);
    } catch (err) {
      problems = (err as InvalidRunRequestError).problems;
    }
    expect(problems).toEqual([expect.objectContaining({ field: 'experiment.variants[1].hyperParameters.learningRate', rule: 'not-finite', message: expect.stringContaining('1e999') })]);
  });

  test('a problem of the common part is reported once, at its own field, not per variant', () => {
    const { trainingData: _t, ...withoutTraining } = common;
    const problems = problemsOf({ ...withoutTraining, experiment: { grid: { epochCount: [2, 3] } } });
    expect(problems).toEqual([expect.objectContaining({ field: 'trainingData', rule: 'required' })]);
  });

  test('experimentPlanOf returns the problems without throwing', () => {
    const result = experimentPlanOf({ ...common, experiment: { grid: { epochCount: [2] } } }, '', BUCKET);
    expect(result.plan).toBeUndefined();
    expect(result.problems.map((p) => p.rule)).toEqual(['experiment-too-few-variants']);
  });
});

describe('variant run ids', () => {
  test('<experiment run id>-<variant name> when it fits', () => {
    expect(variantRunId('chartqa-sweep-0123456789ab', 'lr-high')).toBe('chartqa-sweep-0123456789ab-lr-high');
  });

  test('the longest run id and name stay within 53 characters, unique per experiment, valid for every Bedrock name', () => {
    const a = `${'a'.repeat(40)}-0123456789ab`;
    const b = `${'a'.repeat(40)}-ba9876543210`;
    const name = 'x'.repeat(20);
    const [ida, idb] = [variantRunId(a, name), variantRunId(b, name)];
    expect(ida.length).toBeLessThanOrEqual(MAX_RUN_ID_CHARS);
    expect(ida).not.toBe(idb);
    expect(ida.endsWith(`-${name}`)).toBe(true);
    expect(variantRunId(a, name)).toBe(ida); // deterministic
    expect(JOB_NAME_PATTERN.test(jobNameFor({ runId: ida }))).toBe(true);
    expect(jobNameFor({ runId: ida })).toBe(ida);
    expect(customModelNameFor({ runId: ida })).toBe(ida);
    expect(runIdOfProvisionedModelName(provisionedModelNameFor({ runId: ida }))).toBe(ida);
  });
});

describe('experiment cost and budget', () => {
  const prices = { trainingPer1kTokens: 0.01, baseInputPer1kTokens: 0.001, baseOutputPer1kTokens: 0.002, provisionedThroughputPerModelUnitHour: 20 };
  const estimate = (model: string, epochCount: number) =>
    estimateRunCost({
      model,
      epochCount,
      training: { records: 100, tokens: 10_000 },
      validation: { records: 10, tokens: 1_000 },
      evaluation: { test: { records: 50, tokens: 5_000 }, maxTokens: 10, modelUnits: 1 },
      prices,
    });

  test('the sum of the variants plus one baseline per base model', () => {
    const a = estimate('llama3.2-11b', 2);
    const b = estimate('llama3.2-11b', 3);
    const c = estimate('llama3.2-90b', 2);
    const e = estimateExperimentCost([
      { name: 'a', estimate: a },
      { name: 'b', estimate: b },
      { name: 'c', estimate: c },
    ]);
    // Base side: 5,000 prompt + 50 x 10 answer tokens.
    expect(a.evaluation!.baseModelTokens).toBe(5_500);
    expect(e.variants.map((v) => v.tokens)).toEqual([a.totalTokens - 5_500, b.totalTokens - 5_500, c.totalTokens - 5_500]);
    expect(e.baselines.map((x) => [x.model, x.tokens, x.variants])).toEqual([
      ['llama3.2-11b', 5_500, ['a', 'b']],
      ['llama3.2-90b', 5_500, ['c']],
    ]);
    expect(e.totalTokens).toBe(a.totalTokens + b.totalTokens + c.totalTokens - 5_500); // one 11b baseline saved
    const dollars = (x: typeof a) => x.dollars.total!;
    expect(e.totalDollars).toBeCloseTo(dollars(a) + dollars(b) + dollars(c) - a.dollars.baseModel!, 10);
  });

  test('over budget: refused with each variant, the baseline, the total and what to change', () => {
    const e = estimateExperimentCost([
      { name: 'lr-high', estimate: estimate('llama3.2-11b', 2) },
      { name: 'long', estimate: estimate('llama3.2-11b', 5) },
    ]);
    const budgets: BudgetSource[] = [{ budget: { maxTokens: e.totalTokens - 1 }, where: 'the run request (budget)', field: 'raise budget.<limit> in the run request' }];
    const verdict = checkExperimentBudget(e, budgets);
    expect(verdict.withinBudget).toBe(false);
    expect(verdict.refusal).toContain('variant lr-high (llama3.2-11b): 27,500 tokens');
    expect(verdict.refusal).toContain('variant long (llama3.2-11b): 60,500 tokens');
    expect(verdict.refusal).toContain('baseline of llama3.2-11b, computed once for lr-high, long: 50 test records, 5,500 tokens');
    expect(verdict.refusal).toContain(`total: ${e.totalTokens.toLocaleString('en-US')} tokens`);
    expect(verdict.refusal).toMatch(/Nothing was paid for\. Drop variants .*the largest is long.*or raise budget\.maxTokens in the run request\./);
    expect(checkExperimentBudget(e, [{ ...budgets[0], budget: { maxTokens: e.totalTokens } }]).withinBudget).toBe(true);
    const dollars = checkExperimentBudget(e, [{ ...budgets[0], budget: { maxDollars: e.totalDollars! - 0.01 } }]);
    expect(dollars.refusal).toMatch(/over the budget of \$[0-9.,]+ set by the run request .*raise budget\.maxDollars/);
  });

  test('a dollar budget without prices refuses, naming the missing prices', () => {
    const unpriced = estimateRunCost({ model: 'llama3.2-11b', epochCount: 2, training: { records: 1, tokens: 10 } });
    const e = estimateExperimentCost([
      { name: 'a', estimate: unpriced },
      { name: 'b', estimate: unpriced },
    ]);
    expect(e.totalDollars).toBeUndefined();
    expect(checkExperimentBudget(e, [{ budget: { maxDollars: 5 }, where: 'x', field: 'y' }]).refusal).toMatch(/prices the experiment needs are not set \(trainingPer1kTokens\)/);
  });

  test('estimatePlanCost: each variant with its own model and epochs (else the recommendation), one baseline per base model', () => {
    const { experiment } = parse({
      ...common,
      hyperParameters: {},
      experiment: { variants: [{ name: 'e2', hyperParameters: { epochCount: 2 } }, { name: 'rec' }, { name: 'big', model: 'llama3.2-90b', hyperParameters: { epochCount: 1 } }] },
    });
    const data = { training: { records: 100, tokens: 10_000 }, validation: { records: 10, tokens: 1_000 }, test: { records: 200, tokens: 20_000 }, recommendedEpochCount: 4, evaluates: true, modelUnits: 1, pricesByModel: { 'llama3.2-11b': prices } };
    const e = estimatePlanCost(experiment!, data);
    expect(e.variants.map((v) => [v.name, v.model, v.estimate.training.epochs])).toEqual([
      ['e2', 'llama3.2-11b', 2],
      ['rec', 'llama3.2-11b', 4],
      ['big', 'llama3.2-90b', 1],
    ]);
    // The common evaluation: the first 100 of 200 test records (maxRecords), answers of up to 64 tokens.
    const evaluation = 10_000 + 100 * 64;
    expect(e.baselines.map((b) => [b.model, b.tokens])).toEqual([
      ['llama3.2-11b', evaluation],
      ['llama3.2-90b', evaluation],
    ]);
    expect(e.totalTokens).toBe(11_000 * (2 + 4 + 1) + 3 * evaluation + 2 * evaluation);
    // The 90b has no prices: no dollar total.
    expect(e.totalDollars).toBeUndefined();
    expect(estimatePlanCost(experiment!, { ...data, evaluates: false }).baselines).toEqual([]);
  });
});
