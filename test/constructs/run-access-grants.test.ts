import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { LlamaFinetuning, StorageEncryption } from '../../lib';
import { logicalIdOf, statementsOfRole, actionsOf, testStack } from '../support/cdk';
import { PhysicalResource, RolePolicy, bucketResource } from '../support/iam-policy';

/**
 * The grant helpers a team gives its CI or its people: start runs by upload, read results,
 * follow and stop runs. Checked by evaluating the synthesized policy of a role that received
 * each grant against concrete requests, allowed and refused.
 */
describe('LlamaFinetuning grant helpers', () => {
  // The evaluator ignores conditions; the one condition these grants carry is asserted in the template.
  const ACCOUNT = '111122223333';
  const REGION = 'us-west-2';
  const DATASETS = 'datasets-bucket';
  const ARTIFACTS = 'artifacts-bucket';
  const STATE_MACHINE = 'RunStateMachine';
  const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${STATE_MACHINE}`;
  const execution = (stateMachine: string, name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${stateMachine}:${name}`;

  function setUp(kmsEncryption: boolean) {
    const stack: Stack = testStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    const finetuning = new LlamaFinetuning(stack, 'Finetuning', { storage: { encryption: kmsEncryption ? StorageEncryption.KMS : StorageEncryption.S3_MANAGED } });
    const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
    const starter = role('Starter');
    const reader = role('Reader');
    const operator = role('Operator');
    const grants = [finetuning.grantStartRuns(starter), finetuning.grantReadResults(reader), finetuning.grantStopRuns(operator)];
    const template = Template.fromStack(stack);
    const physical: Record<string, PhysicalResource> = {
      [logicalIdOf(finetuning.datasetBucket.node.defaultChild!)]: bucketResource(DATASETS),
      [logicalIdOf(finetuning.artifactsBucket.node.defaultChild!)]: bucketResource(ARTIFACTS),
      [logicalIdOf(finetuning.stateMachine.node.defaultChild!)]: { ref: stateMachineArn, arn: stateMachineArn, attributes: { Name: STATE_MACHINE } },
    };
    const key = finetuning.storage.encryptionKey;
    if (key) physical[logicalIdOf((key as kms.Key).node.defaultChild!)] = { ref: 'key-id', arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/key-id` };
    const policy = (r: iam.Role) => RolePolicy.fromTemplate(template, logicalIdOf(r.node.defaultChild!), physical);
    return { template, grants, starter: policy(starter), reader: policy(reader), operator: policy(operator), roles: { starter, reader, operator } };
  }

  test('grantStartRuns: upload data and requests to the dataset bucket, nothing else', () => {
    const { starter, grants } = setUp(false);
    expect(grants[0].success).toBe(true);
    expect(starter.allows('s3:PutObject', `arn:aws:s3:::${DATASETS}/requests/run.json`)).toBe(true);
    expect(starter.allows('s3:PutObject', `arn:aws:s3:::${DATASETS}/data/train.jsonl`)).toBe(true);
    expect(starter.allows('s3:AbortMultipartUpload', `arn:aws:s3:::${DATASETS}/images/1.png`)).toBe(true);
    expect(starter.allows('s3:GetObject', `arn:aws:s3:::${DATASETS}/data/train.jsonl`)).toBe(false);
    expect(starter.allows('s3:DeleteObject', `arn:aws:s3:::${DATASETS}/data/train.jsonl`)).toBe(false);
    expect(starter.allows('s3:PutObject', `arn:aws:s3:::${ARTIFACTS}/runs/x/run.json`)).toBe(false);
    expect(starter.allows('states:StartExecution', stateMachineArn)).toBe(false);
    expect(starter.grantedActions().sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
  });

  test('grantReadResults: read run records and reports under the runs prefix, nothing to write', () => {
    const { reader } = setUp(false);
    expect(reader.allows('s3:GetObject', `arn:aws:s3:::${ARTIFACTS}/runs/chartqa-11b-0123/report.html`)).toBe(true);
    expect(reader.allows('s3:GetObject', `arn:aws:s3:::${ARTIFACTS}/runs/chartqa-11b-0123/run.json`)).toBe(true);
    expect(reader.allows('s3:ListBucket', `arn:aws:s3:::${ARTIFACTS}`)).toBe(true);
    expect(reader.grantedActions().sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    expect(reader.allows('s3:GetObject', `arn:aws:s3:::${ARTIFACTS}/other/file`)).toBe(false);
    expect(reader.allows('s3:PutObject', `arn:aws:s3:::${ARTIFACTS}/runs/x/report.html`)).toBe(false);
    expect(reader.allows('s3:GetObject', `arn:aws:s3:::${DATASETS}/data/train.jsonl`)).toBe(false);
  });

  test('grantReadResults lists only under the runs prefix', () => {
    const { template, roles } = setUp(false);
    const list = statementsOfRole(template, logicalIdOf(roles.reader.node.defaultChild!)).find((st) => actionsOf(st).includes('s3:ListBucket'))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['runs/*'] } });
  });

  test('two instances grant to one role without conflicting statement ids', () => {
    const stack: Stack = testStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    const role = new iam.Role(stack, 'CI', { assumedBy: new iam.AccountRootPrincipal() });
    for (const id of ['TeamA', 'TeamB']) {
      const finetuning = new LlamaFinetuning(stack, id, { storage: { encryption: StorageEncryption.KMS } });
      finetuning.grantStartRuns(role);
      finetuning.grantReadResults(role);
    }
    const statements = statementsOfRole(Template.fromStack(stack), logicalIdOf(role.node.defaultChild!));
    const sids = statements.map((st) => st.Sid).filter((sid) => sid !== undefined);
    expect(new Set(sids).size).toBe(sids.length);
    expect(statements.filter((st) => actionsOf(st).includes('s3:PutObject'))).toHaveLength(2);
  });

  test('a grantee in another account is also allowed by the bucket and key policies', () => {
    const stack: Stack = testStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    const finetuning = new LlamaFinetuning(stack, 'Finetuning', { storage: { encryption: StorageEncryption.KMS } });
    const ci = iam.Role.fromRoleArn(stack, 'ToolingCi', 'arn:aws:iam::444455556666:role/ci');
    expect(finetuning.grantStartRuns(ci).success).toBe(true);
    expect(finetuning.grantReadResults(ci).success).toBe(true);
    const template = Template.fromStack(stack);
    const principal = { AWS: 'arn:aws:iam::444455556666:role/ci' };
    const bucketStatements = (bucket: IConstruct) =>
      Object.values(template.findResources('AWS::S3::BucketPolicy'))
        .filter((policy) => JSON.stringify(policy.Properties.Bucket) === JSON.stringify({ Ref: logicalIdOf(bucket.node.defaultChild!) }))
        .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<{ Principal?: unknown; Action: string | string[]; Condition?: unknown }>)
        .filter((st) => JSON.stringify(st.Principal) === JSON.stringify(principal));
    expect(bucketStatements(finetuning.datasetBucket).flatMap((st) => st.Action).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect(bucketStatements(finetuning.artifactsBucket).flatMap((st) => st.Action).sort()).toEqual(['s3:GetObject', 's3:ListBucket']);
    // The conditions hold for the other account too: listing only under the runs prefix.
    expect(bucketStatements(finetuning.artifactsBucket).find((st) => st.Action === 's3:ListBucket')?.Condition).toEqual({ StringLike: { 's3:prefix': ['runs/*'] } });
    const keyStatements = Object.values(template.findResources('AWS::KMS::Key'))
      .flatMap((key) => key.Properties.KeyPolicy.Statement as Array<{ Principal?: unknown; Action: string | string[]; Resource: unknown; Condition?: unknown }>)
      .filter((st) => JSON.stringify(st.Principal) === JSON.stringify(principal));
    expect(keyStatements.map((st) => [[st.Action].flat().sort(), st.Resource, st.Condition])).toEqual(
      expect.arrayContaining([
        [['kms:Decrypt', 'kms:GenerateDataKey'], '*', { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } }],
        [['kms:Decrypt'], '*', { StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } }],
      ]),
    );
  });

  test('grantStopRuns: list, describe and stop executions of this state machine only; start nothing', () => {
    const { operator } = setUp(false);
    expect(operator.allows('states:ListExecutions', stateMachineArn)).toBe(true);
    for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution']) {
      expect(operator.allows(action, execution(STATE_MACHINE, 'run-1'))).toBe(true);
      expect(operator.allows(action, execution('SomeOtherStateMachine', 'run-1'))).toBe(false);
    }
    expect(operator.allows('states:StartExecution', stateMachineArn)).toBe(false);
    expect(operator.grantedActions().sort()).toEqual(['states:DescribeExecution', 'states:GetExecutionHistory', 'states:ListExecutions', 'states:StopExecution']);
  });

  test('with the storage KMS key: uploads may encrypt (and decrypt, which multipart uploads need) and readers decrypt with that key alone', () => {
    const { template, roles, starter, reader } = setUp(true);
    const key = `arn:aws:kms:${REGION}:${ACCOUNT}:key/key-id`;
    expect(starter.allows('kms:GenerateDataKey', key)).toBe(true);
    expect(reader.allows('kms:Decrypt', key)).toBe(true);
    expect(reader.allows('kms:Decrypt', `arn:aws:kms:${REGION}:${ACCOUNT}:key/another-key`)).toBe(false);
    const kmsActions = (role: iam.Role) => statementsOfRole(template, logicalIdOf(role.node.defaultChild!)).flatMap(actionsOf).filter((a) => a.startsWith('kms:')).sort();
    expect(kmsActions(roles.starter)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kmsActions(roles.reader)).toEqual(['kms:Decrypt']);
    // Only through S3.
    for (const role of [roles.starter, roles.reader]) {
      const kmsStatements = statementsOfRole(template, logicalIdOf(role.node.defaultChild!)).filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
      expect(kmsStatements.map((st) => st.Condition)).toEqual([{ StringEquals: { 'kms:ViaService': 's3.us-west-2.amazonaws.com' } }]);
    }
    expect(kmsActions(roles.operator)).toEqual([]);
  });
});
