/**
 * The members that replace the free functions and constants jsii cannot carry (issue 14):
 * LlamaModel, on* rules, metric* methods, the public replacements of internal properties, the
 * construct path on synth-time errors, and FinetuningWorkflow taking any iam.IRole.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { FinetuningStorage, FinetuningWorkflow, LlamaFinetuning, LlamaHyperParameter, LlamaModel, StorageEncryption } from '../../lib';
import { isInvalidPropsError } from '../../lib/core/props-validation';
import { HISTORY_EVENT_BUDGET } from '../../lib/workflow/history-budget';
import { CUSTOMIZATION_REGIONS, DATASET_LIMITS, LLAMA_MODELS } from '../../lambda/shared/models/llama-models';
import { testApp, testStack } from '../support/cdk';

describe('LlamaModel', () => {
  test('one static member per Llama 3.2 model, with the catalogue facts', () => {
    expect(LlamaModel.all().map((m) => m.name)).toEqual(LLAMA_MODELS.map((m) => m.name));
    expect(LlamaModel.LLAMA_3_2_11B.supportsImages).toBe(true);
    expect(LlamaModel.LLAMA_3_2_1B.supportsImages).toBe(false);
    expect(LlamaModel.LLAMA_3_2_90B.maxTokensPerRecord).toBe(10_000);
    expect(LlamaModel.LLAMA_3_2_3B.baseModelIdentifier).toBe('meta.llama3-2-3b-instruct-v1:0:128k');
    expect(LlamaModel.LLAMA_3_2_1B.hyperParameters.map((p) => p.name)).toEqual([LlamaHyperParameter.EPOCH_COUNT, LlamaHyperParameter.BATCH_SIZE, LlamaHyperParameter.LEARNING_RATE]);
    expect(LlamaModel.DATASET_LIMITS).toEqual({ ...DATASET_LIMITS, imageFormats: [...DATASET_LIMITS.imageFormats] });
    expect(LlamaModel.CUSTOMIZATION_REGIONS).toEqual([...CUSTOMIZATION_REGIONS]);
  });

  test('fromId takes every spelling a run request takes, and returns the static member', () => {
    expect(LlamaModel.fromId('llama3.2-11b')).toBe(LlamaModel.LLAMA_3_2_11B);
    expect(LlamaModel.fromId('META.LLAMA3-2-90B-INSTRUCT-V1:0:128K')).toBe(LlamaModel.LLAMA_3_2_90B);
    expect(LlamaModel.fromId('us.meta.llama3-2-1b-instruct-v1:0')).toBe(LlamaModel.LLAMA_3_2_1B);
    expect(() => LlamaModel.fromId('llama3.1-8b')).toThrow(/Unknown model 'llama3.1-8b'. Use one of: llama3.2-1b/);
  });

  test('hyperparameters resolve against the model, region and image-token helpers', () => {
    expect(LlamaModel.LLAMA_3_2_11B.resolveHyperParameters({ epochCount: '3' })).toEqual({ epochCount: 3, batchSize: 1, learningRate: 0.0001 });
    expect(() => LlamaModel.LLAMA_3_2_11B.resolveHyperParameters({ epochCount: 11 })).toThrow(/epochCount must be between 1 and 10/);
    expect(LlamaModel.isCustomizationRegion('us-west-2')).toBe(true);
    expect(LlamaModel.isCustomizationRegion('eu-west-1')).toBe(false);
    expect(LlamaModel.estimateImageTokens(1120, 600)).toBe(2 * 1 * 1601);
  });
});

describe('members on LlamaFinetuning', () => {
  const build = (props = {}) => {
    const stack = testStack(testApp(), 'Api');
    return { stack, finetuning: new LlamaFinetuning(stack, 'Finetuning', { environmentName: 'prod', evaluation: { modelUnits: 1 }, ...props }) };
  };

  test('onRunFinished matches this deployment\'s outcome events on its bus, with the given target', () => {
    const { stack, finetuning } = build();
    const queue = new sqs.Queue(stack, 'Outcomes', { enforceSSL: true });
    const rule = finetuning.onRunFinished('RunFinished', { target: new targets.SqsQueue(queue) });
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(rule.node.defaultChild as never)];
    const pattern = resource.Properties.EventPattern;
    expect(pattern.source).toEqual(['llama-finetune']);
    expect(pattern['detail-type']).toEqual(['Fine-tuning Run Finished']);
    expect(pattern.detail.environment).toEqual(['prod']);
    expect(JSON.stringify(stack.resolve(pattern.detail.runRecord))).toContain('/runs/');
    expect(resource.Properties.Targets).toHaveLength(1);
  });

  test('onModelPromoted matches promotions under this deployment\'s registry prefix, and refuses when nothing is promoted', () => {
    const { stack, finetuning } = build();
    const rule = finetuning.onModelPromoted('Promoted');
    const pattern = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(rule.node.defaultChild as never)].Properties.EventPattern;
    expect(pattern['detail-type']).toEqual(['Fine-tuned Model Promoted']);
    expect(pattern.detail.parameterName).toEqual([{ prefix: finetuning.modelRegistryPrefix }]);
    const { finetuning: noPromotion } = build({ evaluation: { enabled: false } });
    expect(() => noPromotion.onModelPromoted('Promoted')).toThrow(/invalid prop 'promotion': promotion \(or evaluation\) is disabled.*\(at Api\/Finetuning\/Workflow\)/);
  });

  test('metric methods name the custom metrics of this environment', () => {
    const { finetuning } = build();
    const metrics = [finetuning.metricFineTunedF1(), finetuning.metricBaseF1(), finetuning.metricRelativeImprovement(), finetuning.metricJobDuration(), finetuning.metricNotificationFailures()];
    expect(metrics.map((m) => m.metricName)).toEqual(['FineTunedF1', 'BaseF1', 'RelativeImprovementPercent', 'JobDuration', 'NotificationFailures']);
    for (const m of metrics) {
      expect(m.namespace).toBe('LlamaFinetune');
      expect(m.dimensions).toEqual({ Environment: 'prod' });
    }
  });

  test('public replacements of the internal stages: promoteFunction, modelRegistryPrefix, worstCaseHistoryEvents', () => {
    const { finetuning } = build();
    expect(finetuning.workflow.promoteFunction).toBe(finetuning.workflow.functions['promote-model']);
    expect(finetuning.workflow.modelRegistryPrefix).toBe(finetuning.modelRegistryPrefix);
    expect(finetuning.workflow.worstCaseHistoryEvents).toBe(finetuning.workflow._historyEstimate.total);
    expect(finetuning.workflow.worstCaseHistoryEvents).toBeLessThanOrEqual(HISTORY_EVENT_BUDGET);
    const { finetuning: noEvaluation } = build({ evaluation: { enabled: false } });
    expect(noEvaluation.workflow.promoteFunction).toBeUndefined();
  });
});

describe('synth-time errors carry the construct path', () => {
  test('an InvalidPropsError names the construct path, keeps its message and is recognisable by name', () => {
    const stack = testStack(testApp(), 'Paths');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    let caught: unknown;
    try {
      new FinetuningStorage(stack, 'Storage', { encryption: StorageEncryption.S3_MANAGED, encryptionKey: key });
    } catch (err) {
      caught = err;
    }
    expect(isInvalidPropsError(caught)).toBe(true);
    expect((caught as Error).message).toBe("FinetuningStorage: invalid prop 'encryptionKey': a key was given with S3-managed encryption. Set encryption to StorageEncryption.KMS or drop encryptionKey. (at Paths/Storage)");
    expect((caught as { constructPath?: string }).constructPath).toBe('Paths/Storage');
  });
});

describe('synth-time errors raised in helper functions carry the construct path too', () => {
  test.each([
    ['quotaWaitTimeout (workflow duration check)', { quotaRetryInterval: Duration.minutes(10), quotaWaitTimeout: Duration.minutes(5) }, /invalid prop 'quotaWaitTimeout': is shorter than quotaRetryInterval.*\(at Helpers\/Finetuning\/Workflow\)$/],
    ['alarmPeriod (operations check)', { operations: { alarmPeriod: Duration.seconds(90) } }, /invalid prop 'alarmPeriod'.*\(at Helpers\/Finetuning\/Operations\)$/],
    ['defaultModel (catalogue check)', { defaultModel: 'llama3.1-8b' }, /invalid prop 'defaultModel'.*\(at Helpers\/Finetuning\/Workflow\)$/],
    ['modelPrices (cost check)', { modelPrices: { 'llama9': { trainingPer1kTokens: 1, source: 'x' } } }, /invalid prop 'modelPrices.llama9'.*\(at Helpers\/Finetuning\/Workflow\)$/],
  ])('%s', (_what, props, expected) => {
    const stack = testStack(testApp(), 'Helpers');
    expect(() => new LlamaFinetuning(stack, 'Finetuning', props as never)).toThrow(expected);
  });
});

describe('FinetuningWorkflow takes any iam.IRole as the customization role', () => {
  const workflowWith = (role: (stack: ReturnType<typeof testStack>) => iam.IRole) => {
    const stack = testStack(testApp(), 'OwnRole');
    const storage = new FinetuningStorage(stack, 'Storage');
    const workflow = new FinetuningWorkflow(stack, 'Workflow', {
      datasetBucket: storage.datasetBucket,
      artifactsBucket: storage.artifactsBucket,
      notificationTopic: new sns.Topic(stack, 'Topic', { enforceSSL: true }),
      customizationRole: role(stack),
    });
    return { stack, workflow };
  };

  test('a role created here that trusts Bedrock synthesizes; the launch function may pass it to Bedrock only', () => {
    const { stack } = workflowWith((s) => new iam.Role(s, 'Own', { assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com') }));
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: { Action: unknown; Condition?: unknown }[] } } }).Properties.PolicyDocument.Statement)
      .filter((st) => st.Action === 'iam:PassRole');
    expect(statements).toHaveLength(1);
    expect(statements[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } });
  });

  test('a role created here that does not trust Bedrock fails synth with the role\'s path and the fix', () => {
    const { stack } = workflowWith((s) => new iam.Role(s, 'Wrong', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    expect(() => Template.fromStack(stack)).toThrow(/customization role OwnRole\/Wrong does not trust bedrock\.amazonaws\.com.*assumedBy: new iam\.ServicePrincipal\('bedrock\.amazonaws\.com'\)/);
  });

  test('an imported role cannot be checked and is accepted', () => {
    const { stack } = workflowWith((s) => iam.Role.fromRoleArn(s, 'Imported', 'arn:aws:iam::111122223333:role/own-bedrock-role'));
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});

describe('LlamaFinetuning takes your own customization role', () => {
  test('the workflow passes your role to Bedrock and no BedrockCustomizationRole is created; grantPassRole scopes to it', () => {
    const stack = testStack(testApp(), 'OwnRoleAllInOne');
    const own = new iam.Role(stack, 'Own', { assumedBy: new iam.ServicePrincipal('bedrock.amazonaws.com') });
    const finetuning = new LlamaFinetuning(stack, 'Finetuning', { customizationRole: own });
    const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    finetuning.grantPassRole(launcher);
    expect(finetuning.customizationRole).toBeUndefined();
    expect(finetuning.customizationServiceRole).toBe(own);
    const template = Template.fromStack(stack).toJSON();
    const roles = Object.keys(template.Resources).filter((id) => template.Resources[id].Type === 'AWS::IAM::Role' && id.includes('CustomizationRole'));
    expect(roles).toEqual([]);
    const ownId = stack.getLogicalId(own.node.defaultChild as never);
    const passes = Object.values(template.Resources as Record<string, { Type: string; Properties: { PolicyDocument?: { Statement: { Action: unknown; Resource: unknown; Condition?: unknown }[] } } }>)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument!.Statement)
      .filter((st) => st.Action === 'iam:PassRole');
    expect(passes.length).toBe(2); // the launch function and the launcher
    for (const st of passes) {
      expect(st.Resource).toEqual({ 'Fn::GetAtt': [ownId, 'Arn'] });
      expect(st.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } });
    }
  });

  test('your role together with customizationVpc is refused, naming both props', () => {
    const stack = testStack(testApp(), 'OwnRoleVpc');
    const own = iam.Role.fromRoleArn(stack, 'Own', 'arn:aws:iam::111122223333:role/own');
    expect(() => new LlamaFinetuning(stack, 'Finetuning', { customizationRole: own, customizationVpc: { vpc: {} as never, securityGroups: [] } }))
      .toThrow(/LlamaFinetuning: invalid prop 'customizationRole': both 'customizationRole' and 'customizationVpc' were given.*\(at OwnRoleVpc\/Finetuning\)/);
  });
});

