import { Duration } from 'aws-cdk-lib';
import { CostEstimate } from '../../lambda/shared/cost-estimate';
import { EvaluationReport } from '../../lambda/shared/report';
import { ValidationReport } from '../../lambda/shared/validation';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/**
 * Cost before paying (issue 13), end to end through the synthesized state machine with the
 * stand-ins: every run gets a cost estimate before its job is created, recorded in run.json,
 * the validation summary and the report; a run over its environment's or its request's budget
 * is refused before any CreateModelCustomizationJob call.
 */

/** Made-up prices for the test only (the deployment's real ones are settings). */
const PRICES = { trainingPer1kTokens: 0.5, provisionedThroughputPerModelUnitHour: 10, baseInputPer1kTokens: 0.01, baseOutputPer1kTokens: 0.02, source: 'test prices' };
/** The environment's token budget: a 1-epoch run with evaluation fits, 10 epochs do not (asserted below). */
const ENVIRONMENT_MAX_TOKENS = 20_000;

function respond(invocation: ConverseInvocation): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
  return String(a + b);
}

describe('cost before paying (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const request = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    model: 'llama3.2-11b',
    trainingData: 'data/train.jsonl',
    validationData: 'data/validation.jsonl',
    testData: 'data/test.jsonl',
    evaluation: { maxTokens: 16 },
    hyperParameters: { epochCount: 1 },
    ...extra,
  });
  const runOf = (name: string) => h.runRecords().find((r) => r.run.requestName === name)!;
  const createJobCalls = () => h.aws.callLog.count({ action: 'bedrock:CreateModelCustomizationJob' });
  const text = (key: string) => h.aws.s3.getObject(h.artifacts, key)!.toString('utf8');

  beforeAll(async () => {
    h = await startHarness({
      ...TEST_PROPS,
      evaluation: { shardSize: 10, maxConcurrency: 2, provisioningPollInterval: Duration.minutes(1), modelUnits: 2 },
      modelPrices: { 'llama3.2-11b': PRICES },
      costBudget: { maxTokens: ENVIRONMENT_MAX_TOKENS },
    });
    h.aws.runtime.respond = respond;
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/validation.jsonl', arithmeticRecords(20, 500));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(20, 1000));
  });
  afterAll(async () => h?.stop());

  test('a run within budget records its estimate in run.json, the validation summary and the report, beside the actuals', async () => {
    const { executions } = await h.upload('requests/within.json', request('within'));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).not.toContain('OverBudget');

    const record = runOf('within');
    const validation = JSON.parse(text(`runs/${record.runId}/validation/report.json`)) as ValidationReport;
    const fileTokens = (role: string) => validation.files.find((f) => f.role === role)!;
    const estimate = record.costEstimate as CostEstimate;
    // The validation estimator's own totals, times the epochs; evaluation: prompt + maxTokens per test record.
    expect(fileTokens('training').estimatedTokens).toBeGreaterThan(120 * 10);
    expect(estimate.training).toEqual({ records: 120, tokensPerEpoch: fileTokens('training').estimatedTokens, epochs: 1, tokens: fileTokens('training').estimatedTokens });
    expect(estimate.validation.tokens).toBe(fileTokens('validation').estimatedTokens);
    expect(estimate.evaluation).toMatchObject({ records: 20, promptTokens: fileTokens('test').estimatedTokens, maxAnswerTokens: 20 * 16, provisionedThroughputModelUnits: 2, provisionedThroughputHours: 1 });
    expect(estimate.totalTokens).toBeLessThanOrEqual(ENVIRONMENT_MAX_TOKENS);
    expect(estimate.dollars.total).toBeGreaterThan(0);
    expect(estimate.dollars.provisionedThroughput).toBe(2 * 1 * 10);

    const summary = text(`runs/${record.runId}/validation/summary.txt`);
    expect(summary).toContain(`Cost estimate: ${estimate.totalTokens.toLocaleString('en-US')} tokens`);
    expect(summary).toContain('(prices: test prices)');

    // The report: the same estimate beside the tokens answered and the Provisioned Throughput's hours.
    const report = JSON.parse(text(`runs/${record.runId}/report.json`)) as EvaluationReport;
    expect(report.costEstimate).toEqual(estimate);
    const markdown = text(`runs/${record.runId}/report.md`);
    expect(markdown).toContain('## Cost: estimate and actual');
    expect(markdown).toContain(`| Base model tokens (input + output) | ${estimate.evaluation!.promptTokens.toLocaleString('en-US')} + up to 320 | ${report.costs.baseInputTokens.toLocaleString('en-US')} + ${report.costs.baseOutputTokens.toLocaleString('en-US')} |`);
    expect(markdown).toMatch(/\| Provisioned Throughput \| 1 h x 2 MU \| \d+\.\d\d h x 2 MU \|/);
    expect(text(`runs/${record.runId}/report.html`)).toContain('<h2>Cost: estimate and actual</h2>');
  });

  test("a request over its own token budget is refused before any CreateModelCustomizationJob call", async () => {
    const callsBefore = createJobCalls();
    const { executions } = await h.upload('requests/tight.json', request('tight', { budget: { maxTokens: 1000 } }));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('OverBudget');
    expect(outcome.transitions).toContain('OverBudget');
    expect(outcome.transitions).not.toContain('LaunchJob');
    expect(createJobCalls()).toBe(callsBefore);

    const record = runOf('tight');
    const estimate = record.costEstimate!;
    expect(record.outcome?.error).toBe('OverBudget');
    expect(record.outcome?.cause).toContain(`estimated at ${estimate.totalTokens.toLocaleString('en-US')} tokens`);
    expect(record.outcome?.cause).toContain('over the budget of 1,000 tokens set by the run request (budget)');
    expect(record.outcome?.cause).toContain('raise budget.maxTokens in the run request');
    expect(record.timeline.map((t) => t.event)).toContain('over budget');
    // Nothing was copied for training either.
    expect(h.aws.s3.listKeys(h.artifacts, `runs/${record.runId}/data/`)).toEqual([]);
    expect(text(`runs/${record.runId}/validation/summary.txt`)).toContain('OVER BUDGET: The run is estimated at');
  });

  test("a run over the environment's budget is refused, and a request cannot raise it", async () => {
    const callsBefore = createJobCalls();
    const { executions } = await h.upload('requests/long.json', request('long', { hyperParameters: { epochCount: 10 }, budget: { maxTokens: 10_000_000 } }));
    const outcome = await executions[0].result;
    expect(outcome.error).toBe('OverBudget');
    expect(createJobCalls()).toBe(callsBefore);
    const record = runOf('long');
    expect(record.costEstimate!.training.epochs).toBe(10);
    expect(record.costEstimate!.totalTokens).toBeGreaterThan(ENVIRONMENT_MAX_TOKENS);
    expect(record.outcome?.cause).toContain(`over the budget of ${ENVIRONMENT_MAX_TOKENS.toLocaleString('en-US')} tokens set by the environment 'test'`);
    expect(record.outcome?.cause).toContain('fewer epochs (hyperParameters.epochCount)');
  });

  test('a request over its dollar budget is refused with the estimate in dollars', async () => {
    const callsBefore = createJobCalls();
    const { executions } = await h.upload('requests/cheap.json', request('cheap', { budget: { maxDollars: 1 } }));
    const outcome = await executions[0].result;
    expect(outcome.error).toBe('OverBudget');
    expect(createJobCalls()).toBe(callsBefore);
    const record = runOf('cheap');
    expect(record.outcome?.cause).toMatch(/^The run is estimated at \$2\d\.\d\d \(/);
    expect(record.outcome?.cause).toContain('over the budget of $1.00 set by the run request (budget)');
    expect(record.outcome?.cause).toContain('raise budget.maxDollars in the run request');
  });
});
