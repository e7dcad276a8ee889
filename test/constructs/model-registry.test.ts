import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LlamaFinetuning, StorageEncryption } from '../../lib';
import { InvalidPropsError } from '../../lib/core/props-validation';
import { LlamaFinetuningStack } from '../../app/llama-finetuning-stack';
import { parseEnvironmentSettings } from '../../app/environment-settings';
import { logicalIdOf, testApp, testStack } from '../support/cdk';
import { RolePolicy } from '../support/iam-policy';
import { startLocalAws } from '../support/local-aws';
import { LocalSsm } from '../support/local-ssm';
import { MAX_REGISTRY_PREFIX_CHARS } from '../../lib/workflow/promotion-stage';

const SERVING = 'arn:aws:bedrock:us-west-2:111122223333:provisioned-model/abcdef123456';

/**
 * The model registry as other stacks and applications see it: the parameter name handed to a
 * second stack of the same app (a plain string, no export), the read grant evaluated against the
 * parameter a run writes (and used against the SSM stand-in), the promotion and retention
 * settings checked at synth, and cdk-nag with a serving swap configured.
 */
describe('model registry access and settings', () => {
  test('a second stack of the same app gets the entry\'s name and a read grant that works, without cross-stack exports', async () => {
    const app = testApp();
    const finetuningStack = testStack(app, 'Finetuning');
    const finetuning = new LlamaFinetuning(finetuningStack, 'Finetuning', { environmentName: 'prod' });
    const appStack = testStack(app, 'Application');
    const consumer = new iam.Role(appStack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const parameterName = finetuning.modelRegistryParameterName('chart-qa');
    const grant = finetuning.grantReadModelRegistry(consumer);
    expect(grant.success).toBe(true);
    expect(parameterName).toMatch(/^\/llama-finetune\/prod\/Finetuning-Workflow-[A-F0-9]{8}\/models\/chart-qa$/);
    // A second deployment in the same stack gets its own registry path (and deployment id).
    const second = new LlamaFinetuning(finetuningStack, 'Second', { environmentName: 'prod' });
    expect(second.modelRegistryPrefix).not.toBe(finetuning.modelRegistryPrefix);
    expect(second.workflow.deploymentId).not.toBe(finetuning.workflow.deploymentId);
    expect(parameterName).toBe(`${finetuning.modelRegistryPrefix}chart-qa`);
    // The promotion function writes exactly where the name points.
    const promote = Template.fromStack(finetuningStack).findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { REGISTRY_PREFIX: finetuning.modelRegistryPrefix } } } });
    expect(Object.keys(promote)).toHaveLength(2); // promote-model and custom-model-retention of the first deployment

    const appTemplate = Template.fromStack(appStack);
    expect(JSON.stringify(appTemplate.toJSON())).not.toContain('Fn::ImportValue');
    const outputs = (Template.fromStack(finetuningStack).toJSON().Outputs ?? {}) as Record<string, { Export?: unknown }>;
    expect(Object.values(outputs).filter((o) => o.Export !== undefined)).toEqual([]);
    const policy = RolePolicy.fromTemplate(appTemplate, logicalIdOf(consumer.node.defaultChild!), {});
    const arn = `arn:aws:ssm:us-west-2:111122223333:parameter${parameterName}`;
    expect(policy.allows('ssm:GetParameter', arn)).toBe(true);
    expect(policy.allows('ssm:GetParameterHistory', arn)).toBe(true);
    expect(policy.allows('ssm:GetParametersByPath', `arn:aws:ssm:us-west-2:111122223333:parameter${finetuning.modelRegistryPrefix.replace(/\/$/, '')}`)).toBe(true);
    expect(policy.allows('ssm:PutParameter', arn)).toBe(false);
    expect(policy.allows('ssm:GetParameter', 'arn:aws:ssm:us-west-2:111122223333:parameter/llama-finetune/prod/another-deployment/models/chart-qa')).toBe(false);

    // The same policy, enforced by the SSM stand-in, lets the application read what a promotion wrote.
    const aws = await startLocalAws();
    try {
      const writer = new SSMClient({});
      await writer.send(new PutParameterCommand({ Name: parameterName, Value: JSON.stringify({ schemaVersion: 1, customModelArn: 'arn:aws:bedrock:us-west-2:111122223333:custom-model/x', runId: 'chart-qa-1' }), Type: 'String' }));
      aws.ssm.setAuthorizer(({ action, resources }) => resources.every((r) => policy.allows(action, r)));
      const out = await writer.send(new GetParameterCommand({ Name: parameterName }));
      expect(JSON.parse(out.Parameter!.Value!)).toMatchObject({ runId: 'chart-qa-1' });
      await expect(writer.send(new PutParameterCommand({ Name: parameterName, Value: '{}', Type: 'String', Overwrite: true }))).rejects.toThrow('not authorized to perform: ssm:PutParameter');
      writer.destroy();
    } finally {
      await aws.stop();
    }
  });

  test('a registry prefix that leaves no room for a 40-character request name in SSM\'s 1011 characters (ARN included) is refused at synth; the longest accepted one works', async () => {
    const build = (registryPrefix: string) => new LlamaFinetuning(testStack(), 'Finetuning', { promotion: { registryPrefix } });
    const prefixOf = (length: number) => `/${'p'.repeat(length - 2)}/`;
    const longestRequestName = 'a'.repeat(40);
    // 45 characters of arn:aws:ssm:us-west-2:111122223333:parameter/ + 927 + 40 = 1012: Parameter Store refuses the name.
    const ssm = await LocalSsm.start({ region: 'us-west-2', accountId: '111122223333' });
    const client = new SSMClient({ endpoint: ssm.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'writer', secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      await expect(client.send(new PutParameterCommand({ Name: `${prefixOf(927)}${longestRequestName}`, Value: '{}', Type: 'String' }))).rejects.toThrow(/at most 1011/);
      expect(() => build(prefixOf(927))).toThrow(/promotion.registryPrefix.*too long/);
      expect(() => build(prefixOf(MAX_REGISTRY_PREFIX_CHARS + 1))).toThrow(InvalidPropsError);
      const longest = build(prefixOf(MAX_REGISTRY_PREFIX_CHARS));
      expect(await client.send(new PutParameterCommand({ Name: longest.modelRegistryParameterName(longestRequestName), Value: '{}', Type: 'String' }))).toMatchObject({ Version: 1 });
    } finally {
      client.destroy();
      await ssm.stop();
    }
  });

  test('settings are checked at synth with the key and the fix', () => {
    const build = (props: object) => new LlamaFinetuning(testStack(), 'Finetuning', props);
    expect(() => build({ promotion: { registryPrefix: 'models' } })).toThrow(InvalidPropsError);
    expect(() => build({ promotion: { registryPrefix: '/aws/models/' } })).toThrow(/promotion.registryPrefix/);
    expect(() => build({ promotion: { servingProvisionedModelArn: 'my-throughput' } })).toThrow(/promotion.servingProvisionedModelArn.*not a provisioned model ARN/);
    expect(() => build({ promotion: { servingSwapTimeout: Duration.seconds(30) } })).toThrow(/promotion.servingSwapTimeout/);
    expect(() => build({ modelRetention: { keepPromotedPerName: 0 } })).toThrow(/modelRetention.keepPromotedPerName/);
    expect(() => build({ modelRetention: { deleteRejectedAfter: Duration.hours(5) } })).toThrow(/modelRetention.deleteRejectedAfter/);
    expect(() => parseEnvironmentSettings('prod', { promotion: { allowWorseModel: 'yes' } })).toThrow(/promotion.allowWorseModel.*not true or false/);
    expect(() => parseEnvironmentSettings('prod', { promotion: { servingArn: SERVING } })).toThrow(/promotion.servingArn.*is not a known promotion setting/);
    expect(() => parseEnvironmentSettings('prod', { modelRetention: { keepPromotedPerName: 1.5 } })).toThrow(/modelRetention.keepPromotedPerName.*out of range/);
  });

  test('promotion off (or evaluation off) means no registry, no retention sweep, and the helpers say so', () => {
    const off = new LlamaFinetuning(testStack(), 'Finetuning', { promotion: { enabled: false } });
    expect(off.workflow._promotion).toBeUndefined();
    expect(off.modelRetention).toBeUndefined();
    expect(() => off.modelRegistryParameterName('x')).toThrow('has no model registry');
    const noEvaluation = new LlamaFinetuning(testStack(), 'Finetuning', { evaluation: { enabled: false } });
    expect(noEvaluation.workflow._promotion).toBeUndefined();
  });

  test('cdk.json settings reach the stack: serving swap, rule switches and retention policy', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const settings = parseEnvironmentSettings('prod', {
      promotion: { servingProvisionedModelArn: SERVING, requireQualityGate: false, allowWorseModel: true },
      modelRetention: { deleteRejectedAfterDays: 14, keepPromotedPerName: 5 },
    });
    const stack = new LlamaFinetuningStack(app, 'LlamaFinetuning-prod', { environmentName: 'prod', settings, env: { account: '111122223333', region: 'us-west-2' } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { SERVING_PROVISIONED_MODEL_ARN: SERVING, REQUIRE_QUALITY_GATE: 'false', ALLOW_WORSE_MODEL: 'true' } } });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { DELETE_REJECTED_AFTER_DAYS: '14', KEEP_PROMOTED_PER_NAME: '5' } } });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 day)' });
  });

  test('cdk-nag finds nothing unacknowledged with a serving swap and KMS storage', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Nagged', { env: { account: '111122223333', region: 'us-west-2' } });
    new LlamaFinetuning(stack, 'Finetuning', { storage: { encryption: StorageEncryption.KMS }, promotion: { servingProvisionedModelArn: SERVING } });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });
});
