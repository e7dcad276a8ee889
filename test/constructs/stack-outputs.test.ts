import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../../lib';
import { LlamaFinetuningStack } from '../../app/llama-finetuning-stack';
import { parseEnvironmentSettings } from '../../app/environment-settings';
import { logicalIdOf, testApp, testStack } from '../support/cdk';
import { matchesEventPattern } from '../support/local-workflow/eventbridge-pattern';

interface Output {
  readonly Value: unknown;
  readonly Description?: string;
  readonly Export?: { readonly Name: string };
}

/** The outputs of the repository's stack for one environment's cdk.json settings. */
function environmentStack(raw: unknown) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new LlamaFinetuningStack(app, 'LlamaFinetuning-prod', { environmentName: 'prod', settings: parseEnvironmentSettings('prod', raw), env: { account: '222222222222', region: 'us-west-2' } });
  const template = Template.fromStack(stack);
  return { stack, template, outputs: (template.toJSON().Outputs ?? {}) as Record<string, Output> };
}

/** An output value whose Refs and GetAtts are replaced by `<logical id>`, as text. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref) return `<${String(v.Ref)}>`;
  if (v['Fn::GetAtt']) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Fn::Join']) {
    const [delimiter, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(text).join(delimiter);
  }
  throw new Error(`unexpected output value ${JSON.stringify(value)}`);
}

describe('stack outputs', () => {
  test('the repository stack outputs what a user and other stacks need, and exports nothing by default', () => {
    const { stack, outputs } = environmentStack({});
    const f = stack.finetuning;
    const values = Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, text(output.Value)]));
    expect(values).toEqual({
      DatasetBucketName: `<${logicalIdOf(f.datasetBucket)}>`,
      ArtifactsBucketName: `<${logicalIdOf(f.artifactsBucket)}>`,
      RequestPrefix: 'requests/',
      RunsPrefix: 'runs/',
      StateMachineArn: `<${logicalIdOf(f.stateMachine)}>`,
      OutcomeTopicArn: `<${logicalIdOf(f.notificationTopic)}>`,
      DashboardName: `<${logicalIdOf(f.operations.dashboard!)}>`,
      UploadCommand: `aws s3 cp request.json s3://<${logicalIdOf(f.datasetBucket)}>/requests/request.json`,
      // Promotion is on by default: where applications read the current model, and the rollback function.
      ModelRegistryPrefix: f.modelRegistryPrefix,
      PromoteFunctionName: `<${logicalIdOf(f.workflow._promotion!.function.function)}>`,
    });
    expect(f.modelRegistryPrefix).toMatch(/^\/llama-finetune\/prod\/[^/]+\/models\/$/);
    for (const [key, output] of Object.entries(outputs)) {
      expect({ key, exported: output.Export }).toEqual({ key, exported: undefined });
      expect(output.Description?.length).toBeGreaterThan(20);
    }
    expect(Object.keys(stack.outputs.outputs).sort()).toEqual(Object.keys(outputs).sort());
  });

  test("the upload command's key is one the trigger rule starts a run for", () => {
    const { stack, template, outputs } = environmentStack({});
    const bucket = logicalIdOf(stack.finetuning.datasetBucket);
    const [, key] = /^aws s3 cp request\.json s3:\/\/<[A-Za-z0-9]+>\/(.+)$/.exec(text(outputs.UploadCommand.Value))!;
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.EventPattern?.source?.includes('aws.s3'))!;
    const event = (objectKey: string) => ({ source: 'aws.s3', 'detail-type': 'Object Created', detail: { bucket: { name: { Ref: bucket } }, object: { key: objectKey } } });
    // The rule names the bucket by the same Ref the output does; compare the patterns with it in place.
    const pattern = JSON.parse(JSON.stringify(rule.Properties.EventPattern).split(JSON.stringify({ Ref: bucket })).join(JSON.stringify('BUCKET')));
    const withName = (e: ReturnType<typeof event>) => ({ ...e, detail: { ...e.detail, bucket: { name: 'BUCKET' } } });
    expect(matchesEventPattern(pattern, withName(event(key)))).toBe(true);
    expect(matchesEventPattern(pattern, withName(event('data/request.json')))).toBe(false);
  });

  test('cdk.json outputsExportPrefix exports every output under that prefix', () => {
    const { outputs } = environmentStack({ outputsExportPrefix: 'LlamaFinetuning-prod-' });
    const exports = Object.fromEntries(Object.entries(outputs).map(([key, output]) => [key, output.Export?.Name]));
    expect(exports).toEqual(Object.fromEntries(Object.keys(outputs).map((key) => [key, `LlamaFinetuning-prod-${key}`])));
    expect(exports.DatasetBucketName).toBe('LlamaFinetuning-prod-DatasetBucketName');
  });

  test('a data prefix is output; without a dashboard there is no dashboard output', () => {
    const { outputs } = environmentStack({ dataPrefix: 'teams/vision', operations: { dashboardEnabled: false } });
    expect(outputs.DataPrefix.Value).toBe('teams/vision/');
    expect(outputs.DashboardName).toBeUndefined();
  });

  test('cdk.json outputsExportPrefix is checked', () => {
    expect(() => parseEnvironmentSettings('prod', { outputsExportPrefix: 'llama finetuning/' })).toThrow(
      `'cdk.json llama-finetune:environments.prod.outputsExportPrefix': "llama finetuning/" is not an export name prefix. Use 1 to 200 letters, digits, '-' and ':'`,
    );
    expect(() => parseEnvironmentSettings('prod', { outputsExportPrefix: '' })).toThrow(/outputsExportPrefix': "" is not an export name prefix/);
  });

  test('in a user stack, outputs are opt-in: none unless addOutputs is called; several instances take their own key prefix', () => {
    const stack = testStack(testApp(), 'UserStack');
    new LlamaFinetuning(stack, 'Quiet');
    const teamA = new LlamaFinetuning(stack, 'TeamA', { requestPrefix: 'team-a/requests/' });
    const teamB = new LlamaFinetuning(stack, 'TeamB');
    teamA.addOutputs({ keyPrefix: 'TeamA' });
    teamB.addOutputs({ keyPrefix: 'TeamB', exportPrefix: 'shared-' });
    const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, Output>;
    expect(Object.keys(outputs).filter((key) => !key.startsWith('TeamA') && !key.startsWith('TeamB'))).toEqual([]);
    expect(text(outputs.TeamAUploadCommand.Value)).toBe(`aws s3 cp request.json s3://<${logicalIdOf(teamA.datasetBucket)}>/team-a/requests/request.json`);
    expect(outputs.TeamAStateMachineArn.Export).toBeUndefined();
    expect(text(outputs.TeamBStateMachineArn.Value)).toBe(`<${logicalIdOf(teamB.stateMachine)}>`);
    expect(outputs.TeamBStateMachineArn.Export).toEqual({ Name: 'shared-TeamBStateMachineArn' });
  });

  test('a key prefix used twice in one stack, or a key or export prefix CloudFormation refuses, fails synth naming the fix', () => {
    const stack = testStack(testApp(), 'UserStack');
    new LlamaFinetuning(stack, 'TeamA').addOutputs();
    const teamB = new LlamaFinetuning(stack, 'TeamB');
    expect(() => teamB.addOutputs()).toThrow(
      "FinetuningOutputs UserStack/TeamB/Outputs: invalid prop 'keyPrefix': the outputs of UserStack/TeamA/Outputs already use the key prefix '' in stack UserStack. Give each LlamaFinetuning in one stack its own keyPrefix",
    );
    const other = testStack(testApp(), 'OtherStack');
    expect(() => new LlamaFinetuning(other, 'A').addOutputs({ keyPrefix: 'team-a' })).toThrow(/invalid prop 'keyPrefix': 'team-a' is not letters and digits/);
    expect(() => new LlamaFinetuning(other, 'B').addOutputs({ exportPrefix: 'team a/' })).toThrow(/invalid prop 'exportPrefix': 'team a\/' is empty or has characters other than letters, digits, '-' and ':'/);
    expect(() => new LlamaFinetuning(other, 'C').addOutputs({ keyPrefix: 'C', exportPrefix: 'x'.repeat(250) })).toThrow(/makes export names longer than 255 characters/);
  });
});
