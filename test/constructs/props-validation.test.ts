import * as s3 from 'aws-cdk-lib/aws-s3';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning, FinetuningStorage, RunNotifications, StorageEncryption } from '../../lib';
import { parseEnvironmentSettings } from '../../app/environment-settings';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { statementsOfRole, testApp, testStack } from '../support/cdk';

describe('invalid props fail at synth time with the prop and the fix', () => {
  test('an existing bucket and bucket props together', () => {
    const stack = testStack();
    const bucket = new s3.Bucket(stack, 'Mine');
    expect(() => new LlamaFinetuning(stack, 'F', { storage: { datasetBucket: bucket, datasetBucketProps: { bucketName: 'x' } } })).toThrow(
      "FinetuningStorage: invalid prop 'datasetBucket': both 'datasetBucket' and 'datasetBucketProps' were given. Pass 'datasetBucket' to use an existing resource, or 'datasetBucketProps' to create one, not both.",
    );
  });

  test('an unknown default model lists the models to use', () => {
    expect(() => new LlamaFinetuning(testStack(), 'F', { defaultModel: 'llama3.1-8b' })).toThrow(
      /FinetuningWorkflow: invalid prop 'defaultModel': Unknown model 'llama3.1-8b'. Use one of: llama3.2-1b \(meta.llama3-2-1b-instruct-v1:0:128k\), .*llama3.2-90b.*Fix the model name/,
    );
  });

  test('hyperparameters out of range name the parameter and its range', () => {
    expect(() => new LlamaFinetuning(testStack(), 'F', { defaultModel: 'llama3.2-11b', defaultHyperParameters: { epochCount: 12 } })).toThrow(
      /invalid prop 'defaultHyperParameters': .*epochCount must be between 1 and 10/,
    );
    expect(() => new LlamaFinetuning(testStack(), 'F', { defaultHyperParameters: { learningRateWarmupSteps: 5 } })).toThrow(
      /'learningRateWarmupSteps' is not a hyperparameter of .*Amazon Nova/,
    );
  });

  test('an empty or wildcard prefix is rejected', () => {
    expect(() => new LlamaFinetuning(testStack(), 'F', { requestPrefix: '' })).toThrow(/invalid prop 'requestPrefix': the prefix is empty\. Give a folder-like prefix/);
    expect(() => new LlamaFinetuning(testStack(), 'F', { runsPrefix: '/' })).toThrow(/invalid prop 'runsPrefix': the prefix is empty/);
    expect(() => new LlamaFinetuning(testStack(), 'F', { requestPrefix: 'req*/' })).toThrow(/contains a wildcard/);
  });

  test('a key with S3-managed encryption, and per-bucket encryption overrides, are rejected', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'K');
    expect(() => new FinetuningStorage(stack, 'S', { encryption: StorageEncryption.S3_MANAGED, encryptionKey: key })).toThrow(/invalid prop 'encryptionKey'.*Set encryption to StorageEncryption.KMS/);
    expect(() => new FinetuningStorage(testStack(), 'S', { artifactsBucketProps: { encryption: s3.BucketEncryption.KMS_MANAGED } })).toThrow(
      /invalid prop 'artifactsBucketProps.encryption'.*Use the construct-level encryption/,
    );
  });

  test('prefixes are normalized', () => {
    const construct = new LlamaFinetuning(testStack(), 'F', { requestPrefix: '/incoming', runsPrefix: 'out/runs' });
    expect(construct.workflow.requestPrefix).toBe('incoming/');
    expect(construct.workflow.runsPrefix).toBe('out/runs/');
  });

  test('cdk.json environment settings are checked key by key', () => {
    expect(() => parseEnvironmentSettings('dev', { account: '1234' })).toThrow(/'cdk.json llama-finetune:environments.dev.account': '1234' is not a 12-digit account id/);
    expect(() => parseEnvironmentSettings('dev', { regoin: 'us-west-2' })).toThrow(/dev.regoin': is not a known setting/);
    expect(() => parseEnvironmentSettings('dev', { logRetentionDays: 42 })).toThrow(/42 is not a CloudWatch Logs retention/);
    expect(() => parseEnvironmentSettings('dev', { removalPolicy: 'delete' })).toThrow(/Use 'retain' or 'destroy'/);
    expect(parseEnvironmentSettings('dev', { account: '111111111111', region: 'us-west-2', logRetentionDays: 30 })).toEqual({ account: '111111111111', region: 'us-west-2', logRetentionDays: 30 });
  });
});

describe('region check', () => {
  test('a region without Llama 3.2 customization gets a warning annotation; a supported one does not', () => {
    const app = testApp();
    const unsupported = testStack(app, 'Frankfurt', 'eu-central-1');
    new LlamaFinetuning(unsupported, 'F');
    Annotations.fromStack(unsupported).hasWarning('/Frankfurt/F', Match.stringLikeRegexp('Region eu-central-1 does not offer Llama 3.2 model customization .*us-west-2'));
    const supported = testStack(app, 'Oregon', 'us-west-2');
    new LlamaFinetuning(supported, 'F');
    expect(Annotations.fromStack(supported).findWarning('*', Match.stringLikeRegexp('does not offer'))).toHaveLength(0);
  });
});

describe('RunNotifications.grantPublish', () => {
  test('grants sns:Publish on the topic and only the two KMS actions SNS needs, through SNS', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
    const notifications = new RunNotifications(stack, 'N', { encryptionKey: key });
    const publisher = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    notifications.grantPublish(publisher);
    const statements = statementsOfRole(Template.fromStack(stack), 'Publisher');
    expect(statements.map((s) => ({ actions: s.Action, condition: s.Condition }))).toEqual([
      { actions: 'sns:Publish', condition: undefined },
      { actions: ['kms:GenerateDataKey', 'kms:Decrypt'], condition: { StringEquals: { 'kms:ViaService': 'sns.us-west-2.amazonaws.com' } } },
    ]);
  });
});
