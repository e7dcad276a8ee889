import { BaselineReference } from '../../lambda/shared/evaluation/baseline';
import { parseExperimentRequest } from '../../lambda/shared/experiment-plan';
import {
  distinctVariantModels,
  experimentOfPlan,
  experimentVariantRuns,
  planVariantStarts,
  promotionExecutionName,
  variantExecutionArn,
} from '../../lambda/shared/experiment-runs';
import { pinnedDataLocation } from '../../lambda/shared/pinned-data';
import { RunContext, buildRunContext } from '../../lambda/shared/run-context';

const BUCKET = 'datasets';
const MACHINE = 'arn:aws:states:us-west-2:111122223333:stateMachine:Workflow-AbC123';

/** The experiment's own context, as read-request builds it. */
function experimentRun(experiment: unknown): RunContext {
  const text = JSON.stringify({ name: 'sweep', model: 'llama3.2-11b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', hyperParameters: { epochCount: 2 }, experiment });
  const { request, experiment: plan } = parseExperimentRequest(text, 's3://datasets/requests/sweep.json', BUCKET);
  const single = buildRunContext(request, { bucket: BUCKET, key: 'requests/sweep.json', versionId: 'v1' }, BUCKET, 'artifacts', 'runs/', `${MACHINE.replace(':stateMachine:', ':execution:')}:upload-1`);
  return { ...single, experiment: experimentOfPlan(plan!, single.runId) };
}

const VARIANTS = { variants: [{ name: 'lr-high', hyperParameters: { learningRate: 0.0002 } }, { name: 'big', model: 'llama3.2-90b' }, { name: 'lr-low', hyperParameters: { learningRate: 0.00005 } }] };
const recommended = (names: string[]) => names.map((name, i) => ({ name, values: { epochCount: 2, batchSize: 1, learningRate: 0.0001 * (i + 1) } }));
const baseline = (model: string): BaselineReference => ({ bucket: 'artifacts', key: `runs/x/baseline/${model}/manifest.json`, baseModelId: model, records: 12 });

describe('experiment runs', () => {
  test('the experiment context lists each variant with its run id, model and hyperparameters, in request order', () => {
    const run = experimentRun(VARIANTS);
    expect(run.experiment).toEqual({
      kind: 'experiment',
      variants: [
        expect.objectContaining({ name: 'lr-high', index: 0, runId: `${run.runId}-lr-high`, model: 'llama3.2-11b', hyperParametersOverridden: expect.arrayContaining(['learningRate', 'epochCount']) }),
        expect.objectContaining({ name: 'big', index: 1, runId: `${run.runId}-big`, model: 'llama3.2-90b' }),
        expect.objectContaining({ name: 'lr-low', index: 2, runId: `${run.runId}-lr-low` }),
      ],
    });
    expect(distinctVariantModels(run.experiment as Parameters<typeof distinctVariantModels>[0])).toEqual(['llama3.2-11b', 'llama3.2-90b']);
  });

  test('each variant is a run of its own: own id, prefix, model, execution; the experiment\'s pinned data; the baseline of its base model', () => {
    const run = experimentRun(VARIANTS);
    const starts = planVariantStarts(run, recommended(['lr-high', 'big', 'lr-low']), MACHINE, undefined, [baseline('us.meta.llama3-2-11b-instruct-v1:0'), baseline('us.meta.llama3-2-90b-instruct-v1:0')]);
    expect(starts.map((s) => [s.name, s.index, s.executionName, s.runRecordKey])).toEqual([
      ['lr-high', 0, `${run.runId}-lr-high`, `runs/${run.runId}-lr-high/run.json`],
      ['big', 1, `${run.runId}-big`, `runs/${run.runId}-big/run.json`],
      ['lr-low', 2, `${run.runId}-lr-low`, `runs/${run.runId}-lr-low/run.json`],
    ]);
    const big = starts[1].input.variant;
    expect(big.run.model.name).toBe('llama3.2-90b');
    expect(big.run.model.supportsImages).toBe(true);
    expect(big.run.artifacts).toEqual({ bucket: 'artifacts', prefix: `runs/${run.runId}-big/` });
    expect(big.run.executionArn).toBe(`arn:aws:states:us-west-2:111122223333:execution:Workflow-AbC123:${run.runId}-big`);
    expect(big.run.experiment).toEqual({ kind: 'variant', experimentRunId: run.runId, variantName: 'big', variantIndex: 1 });
    // Validated once: the variant reads the experiment's copies.
    expect(pinnedDataLocation(big.run, 'training')).toEqual({ bucket: 'artifacts', key: `runs/${run.runId}/data/training.jsonl` });
    expect(big.run.evaluation.baseline?.baseModelId).toBe('us.meta.llama3-2-90b-instruct-v1:0');
    expect(starts[0].input.variant.run.evaluation.baseline?.baseModelId).toBe('us.meta.llama3-2-11b-instruct-v1:0');
    expect(big.validation).toEqual({ valid: true, withinBudget: true, recommendedHyperParameters: { epochCount: 2, batchSize: 1, learningRate: 0.0002 } });
    // The request and its identity stay the experiment's (one upload), so a variant's record says where it came from.
    expect(big.run.request).toEqual(run.request);
  });

  test('one baseline serves every variant when their models share it; a count that fits no model is refused', () => {
    const run = experimentRun({ grid: { learningRate: [0.0001, 0.00005] } });
    const starts = planVariantStarts(run, recommended(['lr1e-4', 'lr5e-5']), MACHINE, undefined, [baseline('custom-base')]);
    expect(starts.map((s) => s.input.variant.run.evaluation.baseline?.baseModelId)).toEqual(['custom-base', 'custom-base']);
    expect(planVariantStarts(run, recommended(['lr1e-4', 'lr5e-5']), MACHINE, undefined, [])[0].input.variant.run.evaluation.baseline).toBeUndefined();
    const mixed = experimentRun(VARIANTS);
    expect(() => planVariantStarts(mixed, recommended(['lr-high', 'big', 'lr-low']), MACHINE, undefined, [baseline('a'), baseline('b'), baseline('c')])).toThrow('expected 2 baselines (llama3.2-11b, llama3.2-90b), got 3');
  });

  test('a variant without hyperparameters from the validation, or a context that is not an experiment, is refused', () => {
    const run = experimentRun(VARIANTS);
    expect(() => planVariantStarts(run, recommended(['lr-high', 'big']), MACHINE, undefined)).toThrow('the validation result has no hyperparameters for variant lr-low');
    const { experiment: _e, ...single } = run;
    expect(() => planVariantStarts(single, [], MACHINE, undefined)).toThrow(`run ${run.runId} is not an experiment`);
  });

  test('execution ARNs and names follow Step Functions\' format and limits', () => {
    expect(variantExecutionArn(MACHINE, 'sweep-0123456789ab-a')).toBe('arn:aws:states:us-west-2:111122223333:execution:Workflow-AbC123:sweep-0123456789ab-a');
    expect(() => variantExecutionArn('arn:aws:states:us-west-2:111122223333:execution:Workflow:x', 'a')).toThrow('not a state machine ARN');
    expect(() => variantExecutionArn(MACHINE, 'x'.repeat(81))).toThrow('longer than an execution name may be (80)');
    expect(promotionExecutionName('x'.repeat(53))).toBe(`${'x'.repeat(53)}_promote`);
    // A variant may be named "promote": its execution and the promotion's must differ.
    const run = experimentRun({ variants: [{ name: 'promote', hyperParameters: { learningRate: 0.0002 } }, { name: 'b' }] });
    const starts = planVariantStarts(run, recommended(['promote', 'b']), MACHINE, undefined);
    expect(starts.map((s) => s.executionName)).not.toContain(promotionExecutionName(run.runId));
    expect(() => promotionExecutionName('x'.repeat(73))).toThrow("leaves no room for '_promote'");
  });

  test('the experiment record lists every variant\'s execution and record before any starts', () => {
    const run = experimentRun(VARIANTS);
    const starts = planVariantStarts(run, recommended(['lr-high', 'big', 'lr-low']), MACHINE, {
      validation: { valid: true, errorCount: 0, warningCount: 1, reportUri: 's3://artifacts/r.json' },
      experiment: { costEstimate: undefined },
    });
    expect(starts[0].input.variant.seed).toEqual({ validation: { valid: true, errorCount: 0, warningCount: 1, reportUri: 's3://artifacts/r.json' } });
    expect(experimentVariantRuns(starts, MACHINE, 'artifacts')).toEqual(
      starts.map((s) => ({ name: s.name, index: s.index, runId: s.runId, executionArn: variantExecutionArn(MACHINE, s.runId), recordUri: `s3://artifacts/runs/${s.runId}/run.json` })),
    );
  });
});
