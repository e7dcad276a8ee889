import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuningStack } from '../../app/llama-finetuning-stack';
import { parseEnvironmentSettings } from '../../app/environment-settings';

/**
 * What one environment's cdk.json settings become in its stack: e-mail subscriptions on the
 * outcome topic (which the alarms notify), and the operations switches and thresholds.
 */
describe('LlamaFinetuningStack from cdk.json settings', () => {
  function synth(raw: unknown): Template {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const settings = parseEnvironmentSettings('prod', raw);
    const stack = new LlamaFinetuningStack(app, 'LlamaFinetuning-prod', { environmentName: 'prod', settings, env: { account: '222222222222', region: 'us-west-2' } });
    return Template.fromStack(stack);
  }
  const outcomeTopics = (template: Template) => Object.keys(template.findResources('AWS::SNS::Topic'));

  test('each notificationEmails address is subscribed to the outcome topic, the one the alarms notify', () => {
    const template = synth({ notificationEmails: ['ml-team@example.com', 'oncall@example.com'] });
    const [topic] = outcomeTopics(template);
    expect(outcomeTopics(template)).toHaveLength(1);
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map((resource) => resource.Properties);
    expect(subscriptions).toEqual([
      { Protocol: 'email', Endpoint: 'ml-team@example.com', TopicArn: { Ref: topic } },
      { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topic } },
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }] });
  });

  test('without notificationEmails nothing is subscribed', () => {
    expect(synth({}).findResources('AWS::SNS::Subscription')).toEqual({});
  });

  test('operations settings switch alarms and dashboard off', () => {
    const template = synth({ operations: { alarmsEnabled: false, dashboardEnabled: false } });
    expect(template.findResources('AWS::CloudWatch::Alarm')).toEqual({});
    expect(template.findResources('AWS::CloudWatch::Dashboard')).toEqual({});
    const defaults = synth({});
    expect(Object.keys(defaults.findResources('AWS::CloudWatch::Alarm')).length).toBeGreaterThan(5);
    expect(Object.keys(defaults.findResources('AWS::CloudWatch::Dashboard'))).toHaveLength(1);
  });

  test('dataPrefix confines the requests\' data of the environment: read-request checks it and the service role reads only under it', () => {
    const template = synth({ dataPrefix: 'teams/vision/' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ DATA_PREFIX: 'teams/vision/' }) } });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'ReadTrainingData0', Resource: { 'Fn::Join': ['', [Match.anyValue(), '/teams/vision/*']] } })]) },
    });
  });

  test('jobWatchErrorBudgetHours sets how long check-job and the safety poll (wait-for-job-end) wait out throttling and server errors (default 6 hours)', () => {
    const checkJobBudget = (template: Template) =>
      Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables?.JOB_WATCH_ERROR_BUDGET_SECONDS)
        .filter((v) => v !== undefined);
    expect(checkJobBudget(synth({ jobWatchErrorBudgetHours: 12 }))).toEqual(['43200', '43200']);
    expect(checkJobBudget(synth({}))).toEqual(['21600', '21600']);
    // Shorter runs: at most half of the execution timeout by default.
    expect(checkJobBudget(synth({ executionTimeoutHours: 8, quotaWaitHours: 1 }))).toEqual(['14400', '14400']);
    expect(() => synth({ executionTimeoutHours: 8, quotaWaitHours: 1, jobWatchErrorBudgetHours: 9 })).toThrow(/jobWatchErrorBudget.*is not shorter than executionTimeout/);
    expect(() => parseEnvironmentSettings('prod', { jobWatchErrorBudgetHours: -1 })).toThrow("jobWatchErrorBudgetHours': -1 is out of range");
  });

  test('maxConcurrentJobs sets how many variants of an experiment train at once (the RunVariants Map), default 2', () => {
    const concurrency = (template: Template) => {
      const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
      const text = (sm.Properties.DefinitionString['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
      return JSON.parse(text).States.RunVariants.MaxConcurrency as number;
    };
    expect(concurrency(synth({ maxConcurrentJobs: 5 }))).toBe(5);
    expect(concurrency(synth({}))).toBe(2);
    expect(() => parseEnvironmentSettings('prod', { maxConcurrentJobs: 9 })).toThrow("maxConcurrentJobs': 9 is not a whole number from 1 to 8");
  });

  test('provisionedThroughputMaxAgeHours sets the Provisioned Throughput age alarm and the watch', () => {
    const template = synth({ operations: { provisionedThroughputMaxAgeHours: 2.5 } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestRunProvisionedThroughputAge', Threshold: 9000 });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MAX_AGE_MINUTES: '150' }) } });
  });
});

describe('cdk.json notificationEmails, operations and dataPrefix are checked', () => {
  const where = 'cdk.json llama-finetune:environments.prod';
  test.each([
    [{ notificationEmails: 'ml-team@example.com' }, `${where}.notificationEmails': is not a list`],
    [{ notificationEmails: ['ml-team@example.com', 'ml-team.example.com'] }, `${where}.notificationEmails[1]': 'ml-team.example.com' is not an e-mail address`],
    [{ notificationEmails: ['a@example.com, b@example.com'] }, 'is not an e-mail address. Give one address per list item'],
    [{ notificationEmails: ['a@example.com', 'a@example.com'] }, "lists 'a@example.com' twice"],
    [{ operations: { alarms: false } }, `${where}.operations.alarms': is not a known operations setting. Use one of: alarmsEnabled, dashboardEnabled, provisionedThroughputMaxAgeHours`],
    [{ operations: { alarmsEnabled: 'no' } }, 'no is not true or false'],
    [{ operations: { provisionedThroughputMaxAgeHours: 0 } }, '0 is out of range. Use a number of hours from 0.25'],
    [{ operations: { provisionedThroughputMaxAgeHours: 0.1 } }, `${where}.operations.provisionedThroughputMaxAgeHours': 0.1 is out of range`],
    [{ dataPrefix: 'teams/*' }, `${where}.dataPrefix': "teams/*" is not a key prefix. Give a folder-like prefix without wildcards`],
    [{ dataPrefix: '/' }, `${where}.dataPrefix': "/" is not a key prefix`],
    [{ dataPrefix: 3 }, `${where}.dataPrefix': 3 is not a key prefix`],
  ])('%j', (raw, message) => {
    expect(() => parseEnvironmentSettings('prod', raw)).toThrow(message);
  });
});
