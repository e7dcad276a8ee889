import { Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FinetuningStorageProps, LlamaFinetuning, StorageEncryption, FinetuningOperations } from '../../lib';
import { actionsOf, allStatements, logicalIdOf, resourcesOf, statementsOfRole, testApp, testStack } from '../support/cdk';

/**
 * Resources a user passes in that would fail runs at run time fail (or are fixed) at synth
 * instead: a bucket's own KMS key, an imported bucket whose encryption cannot be known, and a
 * topic the alarms could not publish to.
 */
describe('a passed-in bucket with its own KMS key', () => {
  function userStack(storage: (key: kms.Key, datasets: s3.Bucket) => FinetuningStorageProps) {
    const stack = testStack(testApp(), 'UserStack');
    const key = new kms.Key(stack, 'UserKey', { enableKeyRotation: true });
    const datasets = new s3.Bucket(stack, 'UserDatasets', { encryptionKey: key, enforceSSL: true, versioned: true });
    const finetuning = new LlamaFinetuning(stack, 'Finetuning', { storage: storage(key, datasets) });
    const ci = new iam.Role(stack, 'Ci', { assumedBy: new iam.AccountRootPrincipal() });
    finetuning.grantStartRuns(ci);
    return { stack, key, datasets, finetuning, ci, template: Template.fromStack(stack) };
  }
  const keyArn = (key: kms.IKey) => ({ 'Fn::GetAtt': [logicalIdOf(key), 'Arn'] });

  test('gets the key\'s grants without being told the key again: the same template as when encryptionKey is repeated', () => {
    const implicit = userStack((_key, datasets) => ({ datasetBucket: datasets }));
    const explicit = userStack((key, datasets) => ({ datasetBucket: datasets, encryption: StorageEncryption.KMS, encryptionKey: key }));
    expect(implicit.finetuning.storage.encryptionKey).toBe(implicit.key);
    expect(implicit.template.toJSON()).toEqual(explicit.template.toJSON());

    // And those grants are there: the service role, and every function that reads or writes the buckets.
    const { template, key, finetuning } = implicit;
    const usesKey = (statements: Array<{ Action: string | string[]; Resource: unknown }>) =>
      statements.some((s) => actionsOf(s as never).includes('kms:Decrypt') && resourcesOf(s as never).some((r) => JSON.stringify(r) === JSON.stringify(keyArn(key))));
    expect(usesKey(statementsOfRole(template, logicalIdOf(finetuning.customizationRole!.role)))).toBe(true);
    for (const [step, fn] of Object.entries(finetuning.workflow.functions)) {
      expect({ step, usesKey: usesKey(statementsOfRole(template, logicalIdOf(fn.role!))) }).toEqual({ step, usesKey: true });
    }
    // The artifacts bucket created here is encrypted with the same key.
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn(key) }, BucketKeyEnabled: true }] },
      NotificationConfiguration: Match.absent(),
    });
    // The user's key stays the user's: no service principal is added to its policy.
    const keyPolicy = template.toJSON().Resources[logicalIdOf(key)].Properties.KeyPolicy.Statement as Array<{ Principal?: { Service?: unknown } }>;
    expect(keyPolicy.filter((s) => s.Principal?.Service)).toEqual([]);
    // A grant helper adds the key's use too.
    const ciStatements = statementsOfRole(template, logicalIdOf(implicit.ci));
    expect(ciStatements.find((s) => actionsOf(s).includes('kms:GenerateDataKey'))?.Resource).toEqual(keyArn(key));
  });

  test('a key that is not the bucket\'s, or two buckets under different keys, fail synth naming both', () => {
    const stack = testStack(testApp(), 'UserStack');
    const key = new kms.Key(stack, 'UserKey');
    const other = new kms.Key(stack, 'OtherKey');
    const datasets = new s3.Bucket(stack, 'UserDatasets', { encryptionKey: key });
    const results = new s3.Bucket(stack, 'UserResults', { encryptionKey: other });
    expect(() => new LlamaFinetuning(stack, 'A', { storage: { datasetBucket: datasets, encryptionKey: other } })).toThrow(
      "FinetuningStorage UserStack/A/Storage: invalid prop 'encryptionKey': datasetBucket UserStack/UserDatasets is encrypted with the key UserStack/UserKey, not with encryptionKey UserStack/OtherKey, so runs would be denied its use. Drop encryptionKey",
    );
    expect(() => new LlamaFinetuning(stack, 'B', { storage: { datasetBucket: datasets, artifactsBucket: results } })).toThrow(
      /FinetuningStorage UserStack\/B\/Storage: invalid prop 'artifactsBucket': datasetBucket UserStack\/UserDatasets and artifactsBucket UserStack\/UserResults are encrypted with different keys .*Encrypt both buckets with one key/,
    );
    // One key for both is fine, and nothing is created for them.
    const shared = new s3.Bucket(stack, 'UserShared', { encryptionKey: key });
    const ok = new LlamaFinetuning(stack, 'C', { storage: { datasetBucket: datasets, artifactsBucket: shared } });
    expect(ok.storage.encryptionKey).toBe(key);
  });
});

describe('an imported bucket whose encryption cannot be known', () => {
  test('fails synth naming the bucket, the construct and both fixes', () => {
    const stack = testStack(testApp(), 'UserStack');
    const imported = s3.Bucket.fromBucketName(stack, 'TeamDatasets', 'team-datasets');
    expect(() => new LlamaFinetuning(stack, 'Finetuning', { storage: { datasetBucket: imported } })).toThrow(
      "FinetuningStorage UserStack/Finetuning/Storage: invalid prop 'datasetBucket': the bucket UserStack/TeamDatasets was imported without its encryption key, so whether runs may read it cannot be known. If it uses a customer managed KMS key, pass that key as encryptionKey (or import the bucket with Bucket.fromBucketAttributes({ bucketName, encryptionKey })); if it uses SSE-S3 or the AWS managed key aws/s3, set importedBucketsUseS3ManagedKeys: true.",
    );
    const artifacts = s3.Bucket.fromBucketArn(stack, 'TeamArtifacts', 'arn:aws:s3:::team-artifacts');
    expect(() => new LlamaFinetuning(stack, 'Other', { storage: { artifactsBucket: artifacts } })).toThrow(/invalid prop 'artifactsBucket': the bucket UserStack\/TeamArtifacts was imported/);
  });

  test('stated SSE-S3: no key and no KMS grant', () => {
    const stack = testStack(testApp(), 'UserStack');
    const finetuning = new LlamaFinetuning(stack, 'Finetuning', {
      storage: { datasetBucket: s3.Bucket.fromBucketName(stack, 'TeamDatasets', 'team-datasets'), importedBucketsUseS3ManagedKeys: true },
    });
    expect(finetuning.storage.encryptionKey).toBeUndefined();
    const template = Template.fromStack(stack);
    // KMS through S3 nowhere (the outcome topic's own key, used through SNS, is another matter).
    const throughS3 = allStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')) && JSON.stringify(s.Condition ?? {}).includes('s3.us-west-2'));
    expect(throughS3).toEqual([]);
    const customizationRoleKms = statementsOfRole(template, logicalIdOf(finetuning.customizationRole!.role)).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(customizationRoleKms).toEqual([]);
  });

  test('its key given as encryptionKey, or imported with the bucket: the grants name that key', () => {
    const stack = testStack(testApp(), 'UserStack');
    const keyArn = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const key = kms.Key.fromKeyArn(stack, 'TeamKey', keyArn);
    const viaProp = new LlamaFinetuning(stack, 'ViaProp', { storage: { datasetBucket: s3.Bucket.fromBucketName(stack, 'TeamDatasets', 'team-datasets'), encryptionKey: key } });
    const viaBucket = new LlamaFinetuning(stack, 'ViaBucket', {
      storage: { datasetBucket: s3.Bucket.fromBucketAttributes(stack, 'TeamDatasets2', { bucketName: 'team-datasets-2', encryptionKey: key }) },
    });
    const template = Template.fromStack(stack);
    for (const finetuning of [viaProp, viaBucket]) {
      expect(finetuning.storage.encryptionKey).toBe(key);
      const kmsStatement = statementsOfRole(template, logicalIdOf(finetuning.customizationRole!.role)).find((s) => actionsOf(s).includes('kms:Decrypt'));
      expect(kmsStatement?.Resource).toBe(keyArn);
    }
  });

  test('a bucket defined in the app without a key is SSE-S3 and needs no statement', () => {
    const stack = testStack(testApp(), 'UserStack');
    const datasets = new s3.Bucket(stack, 'UserDatasets', { enforceSSL: true });
    expect(new LlamaFinetuning(stack, 'Finetuning', { storage: { datasetBucket: datasets } }).storage.encryptionKey).toBeUndefined();
  });
});

describe('allowCloudWatchAlarmsToPublish on a topic the alarms notify', () => {
  const cloudwatchStatements = (template: Template, logicalId: string, type: 'AWS::SNS::TopicPolicy' | 'AWS::KMS::Key') =>
    Object.values(template.findResources(type))
      .filter((r) => type === 'AWS::KMS::Key' || JSON.stringify(r.Properties.Topics) === JSON.stringify([{ Ref: logicalId }]))
      .flatMap((r) => (type === 'AWS::KMS::Key' ? r.Properties.KeyPolicy : r.Properties.PolicyDocument).Statement as Array<{ Principal?: { Service?: string }; Action: unknown }>)
      .filter((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com');

  test.each([
    ['before', true],
    ['after', false],
  ])('works when called %s the construct is created: both policies admit the alarms, and synth has nothing to warn about', (_when, before) => {
    const stack = testStack(testApp(), 'UserStack');
    const key = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Outcomes', { masterKey: key, enforceSSL: true });
    if (before) FinetuningOperations.allowCloudWatchAlarmsToPublish(topic, key);
    new LlamaFinetuning(stack, 'Finetuning', { notificationTopic: topic });
    if (!before) FinetuningOperations.allowCloudWatchAlarmsToPublish(topic, key);
    const template = Template.fromStack(stack);
    expect(cloudwatchStatements(template, logicalIdOf(topic), 'AWS::SNS::TopicPolicy')).toHaveLength(1);
    expect(cloudwatchStatements(template, logicalIdOf(topic), 'AWS::KMS::Key')).toHaveLength(1);
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
    expect(annotations.findInfo('*', Match.stringLikeRegexp('Alarms notify'))).toEqual([]);
  });

  test('without the key argument it uses the topic\'s own key', () => {
    const stack = testStack(testApp(), 'UserStack');
    const key = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Outcomes', { masterKey: key, enforceSSL: true });
    new LlamaFinetuning(stack, 'Finetuning', { notificationTopic: topic });
    expect(FinetuningOperations.allowCloudWatchAlarmsToPublish(topic)).toEqual({ topicPolicyAdded: true, keyPolicyAdded: true });
    expect(cloudwatchStatements(Template.fromStack(stack), logicalIdOf(topic), 'AWS::KMS::Key')).toHaveLength(1);
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('not called: synth warns that no alarm would reach the topic', () => {
    const stack = testStack(testApp(), 'UserStack');
    const key = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
    new LlamaFinetuning(stack, 'Finetuning', { notificationTopic: new sns.Topic(stack, 'Outcomes', { masterKey: key, enforceSSL: true }) });
    Annotations.fromStack(stack).hasWarning('/UserStack/Finetuning/Operations', Match.stringLikeRegexp('no alarm would reach the topic. Call allowCloudWatchAlarmsToPublish'));
  });
});

describe("the README's composition example", () => {
  test('synthesizes without warnings: the bucket key granted, alarms admitted, outputs added, cdk-nag clean', () => {
    const app = testApp();
    const stack: Stack = testStack(app, 'UserStack');
    // As in README.md, "Composing the constructs".
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const datasets = new s3.Bucket(stack, 'Datasets', { encryptionKey: key, enforceSSL: true, versioned: true });
    const topic = new sns.Topic(stack, 'Outcomes', { masterKey: key, enforceSSL: true });
    const finetuning = new LlamaFinetuning(stack, 'Finetuning', {
      environmentName: 'prod',
      storage: { datasetBucket: datasets },
      notificationTopic: topic,
      requestPrefix: 'team-a/requests/',
      defaultModel: 'llama3.2-11b',
    });
    FinetuningOperations.allowCloudWatchAlarmsToPublish(topic, key);
    finetuning.addOutputs({ keyPrefix: 'TeamA' });

    const template = Template.fromStack(stack);
    expect(finetuning.storage.encryptionKey).toBe(key);
    expect(Object.keys(template.toJSON().Outputs)).toEqual(expect.arrayContaining(['TeamADatasetBucketName', 'TeamAUploadCommand']));
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    const report = new AwsSolutionsChecks(app).validateScope(finetuning);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});
