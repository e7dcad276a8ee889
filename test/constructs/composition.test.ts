import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LlamaFinetuning, StorageEncryption } from '../../lib';
import { actionsOf, statementsOfRole, testApp, testStack } from '../support/cdk';

const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;

describe('composing into a user stack', () => {
  test('two instances live in one stack next to the user\'s own bucket, key and topic', () => {
    const app = testApp();
    const stack = testStack(app, 'UserStack');
    // The user's own resources.
    const userKey = new kms.Key(stack, 'UserKey', { enableKeyRotation: true });
    const userTopic = new sns.Topic(stack, 'UserTopic', { masterKey: userKey, enforceSSL: true });
    const logs = new s3.Bucket(stack, 'UserLogs', { enforceSSL: true, encryption: s3.BucketEncryption.S3_MANAGED, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
    const userDatasets = new s3.Bucket(stack, 'UserDatasets', {
      enforceSSL: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: userKey,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      versioned: true,
      serverAccessLogsBucket: logs,
    });

    const teamA = new LlamaFinetuning(stack, 'TeamA', {
      storage: { datasetBucket: userDatasets, encryption: StorageEncryption.KMS, encryptionKey: userKey, accessLogsBucket: logs },
      notificationTopic: userTopic,
      requestPrefix: 'team-a/requests',
    });
    const teamB = new LlamaFinetuning(stack, 'TeamB', { defaultModel: 'llama3.2-90b' });
    const template = Template.fromStack(stack);

    // The existing bucket, key and topic are used, not copied.
    expect(teamA.datasetBucket).toBe(userDatasets);
    expect(teamA.notificationTopic).toBe(userTopic);
    expect(teamA.storage.encryptionKey).toBe(userKey);
    // The user's key, and team B's topic key (CloudWatch alarms cannot publish under alias/aws/sns); team A makes none.
    template.resourceCountIs('AWS::KMS::Key', 2);
    template.resourceCountIs('AWS::SNS::Topic', 2); // the user's and team B's
    // user datasets + user logs + A artifacts + B (datasets, artifacts, access logs)
    template.resourceCountIs('AWS::S3::Bucket', 6);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);

    // The user's bucket is switched to EventBridge notifications so uploads start runs.
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: Match.anyValue(),
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stack, logs) } },
    });
    // Each instance's rule watches its own bucket and prefix.
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => r.Properties.EventPattern.detail);
    expect(rules).toEqual(
      expect.arrayContaining([
        { bucket: { name: [{ Ref: logicalId(stack, userDatasets) }] }, object: { key: [{ wildcard: 'team-a/requests/*.json' }] } },
        { bucket: { name: [{ Ref: logicalId(stack, teamB.datasetBucket) }] }, object: { key: [{ wildcard: 'requests/*.json' }] } },
      ]),
    );
    // Team A's service role may use the user's key, only through S3 and Bedrock.
    const kmsStatement = statementsOfRole(template, logicalId(stack, teamA.customizationRole!.role)).find((s) => actionsOf(s).includes('kms:Decrypt'))!;
    expect(kmsStatement.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack, userKey), 'Arn'] });
    // Team B's own service role cannot read team A's data.
    const teamBRead = statementsOfRole(template, logicalId(stack, teamB.customizationRole!.role)).find((s) => s.Sid === 'ReadTrainingData0')!;
    expect(JSON.stringify(teamBRead.Resource)).toContain(logicalId(stack, teamB.datasetBucket));
    expect(JSON.stringify(teamBRead.Resource)).not.toContain(logicalId(stack, userDatasets));
  });

  test('with a VPC, the service role gets network interface permissions limited to the subnets and the Bedrock tag; nag stays clean', () => {
    const app = testApp();
    const stack = testStack(app, 'VpcStack');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const sg = new ec2.SecurityGroup(stack, 'JobSg', { vpc, allowAllOutbound: false });
    const construct = new LlamaFinetuning(stack, 'Finetuning', {
      customizationVpc: { vpc, securityGroups: [sg], subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } },
    });
    const template = Template.fromStack(stack);
    const statements = statementsOfRole(template, logicalId(stack, construct.customizationRole!.role));
    const manage = statements.find((s) => s.Sid === 'ManageBedrockNetworkInterfaces')!;
    expect(manage.Condition!.StringEquals).toEqual({ 'ec2:ResourceTag/BedrockManaged': 'true' });
    expect((manage.Condition!.ArnEquals['ec2:Subnet'] as unknown[]).length).toBe(2);
    expect(construct.customizationRole!.subnetIds).toHaveLength(2);
    expect(construct.customizationRole!.securityGroupIds).toHaveLength(1);

    // Only the finetuning construct's resources are checked; the test VPC is not ours.
    const report = new AwsSolutionsChecks(app).validateScope(construct);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
