import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuningStack } from '../../app/llama-finetuning-stack';
import { parseEnvironmentSettings } from '../../app/environment-settings';

/** cdk.json `prices` and `budget` (issue 13, cost before paying): checked at synth, and handed to the validation step. */
describe('cdk.json prices and budget', () => {
  function synth(raw: unknown): Template {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const settings = parseEnvironmentSettings('prod', raw);
    const stack = new LlamaFinetuningStack(app, 'LlamaFinetuning-prod', { environmentName: 'prod', settings, env: { account: '222222222222', region: 'us-west-2' } });
    return Template.fromStack(stack);
  }
  const validateEnvironment = (template: Template) =>
    Object.values(template.findResources('AWS::Lambda::Function'))
      .map((f) => f.Properties.Environment?.Variables as Record<string, string> | undefined)
      .find((v) => v?.ALLOWED_IMAGE_LOCATIONS !== undefined)!;

  test('prices (keyed by catalogue name, a model id accepted) and the budget reach the validation step with the evaluation\'s model units', () => {
    const template = synth({
      prices: { 'meta.llama3-2-11b-instruct-v1:0:128k': { trainingPer1kTokens: 0.5, source: 'example' } },
      budget: { maxTokens: 1_000_000, maxDollars: 20 },
      evaluation: { modelUnits: 2 },
    });
    const env = validateEnvironment(template);
    expect(JSON.parse(env.COST_PRICES)).toEqual({ 'llama3.2-11b': { trainingPer1kTokens: 0.5, source: 'example' } });
    expect(JSON.parse(env.COST_BUDGET)).toEqual({ maxTokens: 1_000_000, maxDollars: 20 });
    expect(env).toMatchObject({ ENVIRONMENT_NAME: 'prod', EVALUATION_MODE: 'per-run', EVALUATION_MODEL_UNITS: '2' });
  });

  test('without prices or budget: nothing set, estimates in tokens only; an existing Provisioned Throughput is not billed to runs', () => {
    const env = validateEnvironment(synth({ evaluation: { provisionedModelArn: 'arn:aws:bedrock:us-west-2:222222222222:provisioned-model/abc123' } }));
    expect(env.COST_PRICES).toBeUndefined();
    expect(env.COST_BUDGET).toBeUndefined();
    expect(env.EVALUATION_MODE).toBe('existing');
    expect(validateEnvironment(synth({ evaluation: { enabled: false } })).EVALUATION_MODE).toBe('off');
  });

  test('the state machine refuses a run over budget between validation and the job', () => {
    const template = synth({ budget: { maxTokens: 5 } });
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const definition = JSON.stringify(machine.Properties.DefinitionString);
    expect(definition).toContain('\\"Variable\\":\\"$.validation.withinBudget\\",\\"BooleanEquals\\":false,\\"Next\\":\\"OverBudget\\"');
    expect(definition).toContain('\\"Error\\":\\"OverBudget\\"');
  });

  const where = 'cdk.json llama-finetune:environments.prod';
  test.each([
    [{ budget: 5 }, `${where}.budget': is not an object`],
    [{ budget: { maxTokens: 0 } }, `${where}.budget.maxTokens': 0 is not a positive whole number`],
    [{ budget: { maxDollars: '10' } }, `${where}.budget.maxDollars': "10" is not a positive number`],
    [{ budget: { maxHours: 1 } }, `${where}.budget.maxHours': is not a budget limit. Use maxTokens or maxDollars`],
    [{ prices: { 'llama3.1-8b': {} } }, `${where}.prices.llama3.1-8b': is not a model of the catalogue. Use one of llama3.2-1b`],
    [{ prices: { 'llama3.2-1b': { trainingPer1kTokens: -1 } } }, `${where}.prices.llama3.2-1b.trainingPer1kTokens': -1 is not a price`],
    [{ prices: { 'llama3.2-1b': { trainingPrice: 1 } } }, `${where}.prices.llama3.2-1b.trainingPrice': is not a price. Use trainingPer1kTokens`],
    [{ prices: { 'llama3.2-1b': { source: 7 } } }, `${where}.prices.llama3.2-1b.source': is not a string`],
  ])('%j', (raw, message) => {
    expect(() => parseEnvironmentSettings('prod', raw)).toThrow(message);
  });
});
