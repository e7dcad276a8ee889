import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LlamaFinetuning } from '../../lib';
import { actionsOf, allStatements, logicalIdOf, resourcesOf, statementsOfRole, testApp, testStack } from '../support/cdk';

describe('LlamaFinetuning (default props)', () => {
  let stack: Stack;
  let construct: LlamaFinetuning;
  let template: Template;
  let ref: (c: { node: { defaultChild?: unknown } }) => string;

  beforeAll(() => {
    stack = testStack();
    construct = new LlamaFinetuning(stack, 'Finetuning');
    // A caller that launches jobs; issue-2 wiring of grantPassRole is checked through it.
    const launcher = new iam.Role(stack, 'Launcher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    construct.grantPassRole(launcher);
    template = Template.fromStack(stack);
    ref = (c) => stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId);
  });

  test('Bedrock may assume the service role only for this account and its customization jobs in this region', () => {
    const roleId = ref(construct.customizationRole!.role as never);
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'bedrock.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': '111122223333' },
          ArnEquals: {
            'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:us-west-2:111122223333:model-customization-job/*']] },
          },
        },
      },
    ]);
  });

  test('the service role reads the dataset bucket (images) and the runs\' pinned data copies, writes only into runs/*/bedrock-output/ of the artifacts bucket, and has nothing else', () => {
    const datasetId = ref(construct.datasetBucket as never);
    const artifactsId = ref(construct.artifactsBucket as never);
    const statements = statementsOfRole(template, ref(construct.customizationRole!.role as never));
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['ListDataAndOutputBuckets', 'ReadTrainingData0', 'ReadTrainingData1', 'WriteJobOutput']);
    expect(bySid.ReadTrainingData0.Action).toBe('s3:GetObject');
    expect(bySid.ReadTrainingData0.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [datasetId, 'Arn'] }, '/*']] });
    // Training and validation data: only the copies each run makes of what it validated.
    expect(bySid.ReadTrainingData1.Action).toBe('s3:GetObject');
    expect(bySid.ReadTrainingData1.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [artifactsId, 'Arn'] }, '/runs/*/data/*']] });
    expect(actionsOf(bySid.WriteJobOutput).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    // Only each run's bedrock-output/ folder: Bedrock cannot overwrite run records or reports.
    expect(bySid.WriteJobOutput.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [artifactsId, 'Arn'] }, '/runs/*/bedrock-output/*']] });
    expect(bySid.ListDataAndOutputBuckets.Action).toBe('s3:ListBucket');
    expect(resourcesOf(bySid.ListDataAndOutputBuckets)).toEqual([{ 'Fn::GetAtt': [datasetId, 'Arn'] }, { 'Fn::GetAtt': [artifactsId, 'Arn'] }]);
    // No KMS and no EC2 permissions without a key or a VPC.
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('kms:') || a.startsWith('ec2:'))).toEqual([]);
  });

  test('grantPassRole passes exactly this role, and only to Bedrock', () => {
    const statements = statementsOfRole(template, 'Launcher');
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: { 'Fn::GetAtt': [ref(construct.customizationRole!.role as never), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'bedrock.amazonaws.com' } },
      },
    ]);
  });

  test('the read-request function reads requests (by version), checks data files, and nothing more', () => {
    const datasetId = ref(construct.datasetBucket as never);
    const statements = statementsOfRole(template, 'FinetuningWorkflowReadRequestRole');
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid ?? actionsOf(s).join(','), s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'CheckDataFilesExist',
      'ReadRunRequests',
      'TellMissingFromDenied',
      'WriteOwnLogs',
      'xray:PutTraceSegments,xray:PutTelemetryRecords',
    ]);
    expect(actionsOf(bySid.ReadRunRequests).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(bySid.ReadRunRequests.Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [datasetId, 'Arn'] }, '/requests/*']] });
    expect(bySid.CheckDataFilesExist.Action).toBe('s3:GetObject');
    expect(bySid.TellMissingFromDenied).toMatchObject({ Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [datasetId, 'Arn'] } });
    // It never writes to S3.
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('s3:') && /Put|Delete/.test(a))).toEqual([]);
  });

  test('no IAM statement grants Resource "*" except the actions AWS offers no narrower form for', () => {
    const allowedStar = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      'bedrock:ListProvisionedModelThroughputs',
      // The retention sweep lists the account's custom models; ListCustomModels has no resource type.
      'bedrock:ListCustomModels',
      // A task token names no resource: the Service Authorization Reference lists no resource type
      // for SendTaskSuccess/Failure/Heartbeat (the runner's IAM check denies a state-machine-scoped grant).
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
    ]);
    const starStatements = allStatements(template).filter((s) => resourcesOf(s).includes('*'));
    expect(starStatements.length).toBeGreaterThan(0);
    for (const s of starStatements) {
      expect(actionsOf(s).filter((a) => !allowedStar.has(a))).toEqual([]);
    }
  });

  test('every bucket is encrypted, private, versioned and SSL-only; data buckets log access', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const [id, bucket] of Object.entries(buckets)) {
      const p = bucket.Properties;
      expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.DeletionPolicy).toBe('Retain');
      const policies = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: id } } }));
      const denyInsecure = policies.flatMap((bp) => bp.Properties.PolicyDocument.Statement).find((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false');
      expect(denyInsecure).toBeDefined();
    }
    for (const b of [construct.datasetBucket, construct.artifactsBucket]) {
      const p = buckets[ref(b as never)].Properties;
      expect(p.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: ref(construct.storage.accessLogsBucket as never) });
      expect(p.LifecycleConfiguration.Rules[0].NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 90 });
    }
    expect(buckets[ref(construct.datasetBucket as never)].Properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
  });

  test('the topic is encrypted and SSL-only; the dead-letter queue is encrypted and SSL-only', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const topicPolicy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0];
    expect(topicPolicy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    const queuePolicy = Object.values(template.findResources('AWS::SQS::QueuePolicy'))[0];
    expect(queuePolicy.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
  });

  test('an upload of requests/*.json to the dataset bucket, and nothing else, starts the state machine, with retries and a dead-letter queue', () => {
    const rule = Object.values(template.findResources('AWS::Events::Rule')).find((r) => r.Properties.EventPattern.source[0] === 'aws.s3')!;
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [{ Ref: ref(construct.datasetBucket as never) }] }, object: { key: [{ wildcard: 'requests/*.json' }] } },
    });
    const target = rule.Properties.Targets[0];
    expect(target.Arn).toEqual({ Ref: ref(construct.stateMachine as never) });
    expect(target.InputPath).toBe('$.detail');
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86400 });
    expect(target.DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/DeadLetterQueue/), 'Arn'] });
  });

  test('the state machine is a standard workflow with full logging, tracing and a timeout', () => {
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    expect(sm.Properties.StateMachineType).toBe('STANDARD');
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: true });
    const definition = JSON.parse(
      (sm.Properties.DefinitionString['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(''),
    );
    expect(definition.TimeoutSeconds).toBe(7 * 24 * 3600);
    // An upload starts at ReadRunRequest; the state machine's own child executions (an experiment's
    // variants, the promotion of its best variant) enter by their input's shape.
    expect(definition.StartAt).toBe('RunKind');
    expect(definition.States.RunKind).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.variant', IsPresent: true, Next: 'AdoptVariant' }, { Variable: '$.promoteVariant', IsPresent: true, Next: 'AdoptPromotedVariant' }],
      Default: 'ReadRunRequest',
    });
    // An invalid request ends in the Fail state with the step's error and cause, after a notification.
    expect(definition.States.ReadRunRequest.Catch[0]).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'RecordRequestFailure' });
    expect(definition.States.RunFailed).toEqual({ Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' });
    const logGroup = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('FinetuningWorkflowLogs'))!;
    expect(logGroup[1].Properties.RetentionInDays).toBe(90);
  });

  test('functions run on the newest Node.js runtime, arm64, traced, with their own log group', () => {
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });
});

describe('LlamaFinetuning with a KMS key', () => {
  test('buckets use the key, the service role may use it only through S3 and Bedrock', () => {
    const stack = testStack(testApp());
    const construct = new LlamaFinetuning(stack, 'Finetuning', { storage: { encryption: 'KMS' as never } });
    const template = Template.fromStack(stack);
    const keyId = logicalIdOf(construct.storage.encryptionKey!);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const b of [construct.datasetBucket, construct.artifactsBucket]) {
      const id = logicalIdOf(b);
      expect(buckets[id].Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]).toEqual({
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        BucketKeyEnabled: true,
      });
    }
    const roleId = logicalIdOf(construct.customizationRole!.role);
    const kmsStatement = statementsOfRole(template, roleId).find((s) => s.Sid === 'UseEncryptionKeysThroughS3AndBedrock')!;
    expect(actionsOf(kmsStatement).sort()).toEqual(['kms:CreateGrant', 'kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey']);
    expect(kmsStatement.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(kmsStatement.Condition).toEqual({ StringEquals: { 'kms:ViaService': ['s3.us-west-2.amazonaws.com', 'bedrock.us-west-2.amazonaws.com'] } });
    // The topic and the log groups use the same key.
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.allResourcesProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });
});

describe('LlamaFinetuning with a data prefix', () => {
  test('every read grant on the dataset bucket is narrowed to the prefix, and the functions read and write exactly the pinned copies', () => {
    const stack = testStack();
    const construct = new LlamaFinetuning(stack, 'Finetuning', { dataPrefix: 'teams/vision' });
    const template = Template.fromStack(stack);
    const datasetId = logicalIdOf(construct.datasetBucket);
    const artifactsId = logicalIdOf(construct.artifactsBucket);
    const objects = (bucketId: string, pattern: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, pattern]] });
    expect(construct.workflow.dataPrefix).toBe('teams/vision/');

    // Every object grant on the dataset bucket, of every role in the stack.
    const datasetObjectGrants = Object.keys(template.findResources('AWS::IAM::Role'))
      .flatMap((roleId) => statementsOfRole(template, roleId).map((statement) => ({ roleId, statement })))
      .flatMap(({ roleId, statement }) =>
        resourcesOf(statement)
          .filter((r) => JSON.stringify(r).includes(datasetId) && JSON.stringify(r).includes('/'))
          .map((resource) => ({ roleId, sid: statement.Sid, actions: actionsOf(statement).sort(), resource })),
      );
    expect(datasetObjectGrants.length).toBeGreaterThanOrEqual(4);
    const readRequestRole = logicalIdOf(construct.workflow.node.findChild('ReadRequest').node.findChild('Role'));
    for (const grant of datasetObjectGrants) {
      // Run requests are read under the request prefix; everything else only under the data prefix.
      const allowed = grant.roleId === readRequestRole && grant.sid === 'ReadRunRequests' ? '/requests/*' : '/teams/vision/*';
      expect(grant).toMatchObject({ resource: objects(datasetId, allowed) });
    }
    const roleOf = (id: string) => logicalIdOf(construct.workflow.node.findChild(id).node.findChild('Role'));
    const sid = (roleId: string, name: string) => statementsOfRole(template, roleId).find((s) => s.Sid === name)!;
    expect(sid(logicalIdOf(construct.customizationRole!.role), 'ReadTrainingData0').Resource).toEqual(objects(datasetId, '/teams/vision/*'));
    expect(sid(roleOf('ReadRequest'), 'CheckDataFilesExist').Resource).toEqual(objects(datasetId, '/teams/vision/*'));
    // Validation reads exact versions and copies them under the run (CopyObject: Get(+Version) on the source, Put on the copy).
    expect(actionsOf(sid(roleOf('ValidateDataset'), 'ReadDataset')).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(sid(roleOf('ValidateDataset'), 'PinValidatedData')).toMatchObject({ Action: 's3:PutObject', Resource: objects(artifactsId, '/runs/*/data/*') });
    // The evaluation reads the pinned test set, not the dataset bucket.
    const prepareRole = logicalIdOf(construct.workflow._evaluation!.node.findChild('PrepareEvaluation').node.findChild('Role'));
    expect(sid(prepareRole, 'ReadPinnedTestData')).toMatchObject({ Action: 's3:GetObject', Resource: objects(artifactsId, '/runs/*/data/*') });
    // The functions know the prefix: requests are checked against it, images are validated against it.
    const env = (description: string) => Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Description?.startsWith(description))!.Properties.Environment.Variables;
    expect(env('Reads an uploaded run request').DATA_PREFIX).toBe('teams/vision/');
    expect(env('Validates the training').ALLOWED_IMAGE_LOCATIONS).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: datasetId }, '/teams/vision/']] });
  });

  test('cdk-nag stays clean with a data prefix (the narrowed wildcards are acknowledged precisely)', () => {
    const stack = testStack();
    new LlamaFinetuning(stack, 'Finetuning', { dataPrefix: 'teams/vision/' });
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test('grantStartRuns lets a team upload only under its data prefix and the request prefix', () => {
    const stack = testStack();
    const construct = new LlamaFinetuning(stack, 'Finetuning', { dataPrefix: 'teams/vision/' });
    const uploader = new iam.Role(stack, 'Uploader', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantStartRuns(uploader);
    const datasetId = logicalIdOf(construct.datasetBucket);
    const [upload] = statementsOfRole(Template.fromStack(stack), 'Uploader');
    expect(actionsOf(upload).sort()).toEqual(['s3:AbortMultipartUpload', 's3:PutObject']);
    expect(resourcesOf(upload)).toEqual(['/teams/vision/*', '/requests/*'].map((p) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [datasetId, 'Arn'] }, p]] })));
  });

  test('a prefix with a wildcard is refused at synth, naming the prop', () => {
    expect(() => new LlamaFinetuning(testStack(), 'Finetuning', { dataPrefix: 'teams/*' })).toThrow(/invalid prop 'dataPrefix': 'teams\/\*' contains a wildcard/);
  });
});

describe('LlamaFinetuning maxConcurrentJobs', () => {
  /** MaxConcurrency of the experiment's RunVariants Map, as synthesized (tokens of the definition replaced by a placeholder). */
  function runVariantsConcurrency(construct: (stack: Stack) => void): number {
    const stack = testStack();
    construct(stack);
    const machines = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
    expect(machines).toHaveLength(1);
    const definition = machines[0].Properties.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
    const text = typeof definition === 'string' ? definition : definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
    const found: number[] = [];
    JSON.parse(text, (_key, value) => {
      if (value && typeof value === 'object' && (value as Record<string, unknown>).RunVariants) found.push((value as { RunVariants: { MaxConcurrency: number } }).RunVariants.MaxConcurrency);
      return value;
    });
    expect(found).toHaveLength(1);
    return found[0];
  }

  test('the prop reaches the experiment\'s RunVariants Map (default 2)', () => {
    expect(runVariantsConcurrency((stack) => new LlamaFinetuning(stack, 'Finetuning', { maxConcurrentJobs: 4 }))).toBe(4);
    expect(runVariantsConcurrency((stack) => new LlamaFinetuning(stack, 'Finetuning'))).toBe(2);
  });
});

describe('LlamaFinetuning with evaluation: releasing the Provisioned Throughput', () => {
  /** The states of the synthesized definition named `names`, wherever they are nested (tokens replaced by a placeholder). */
  function statesNamed(names: readonly string[]): Record<string, { Retry?: unknown[]; Catch?: Array<{ Next: string }> }> {
    const stack = testStack();
    new LlamaFinetuning(stack, 'Finetuning', { evaluation: {} });
    const machines = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
    const definition = machines[0].Properties.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
    const text = typeof definition === 'string' ? definition : definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
    const found: Record<string, { Retry?: unknown[] }> = {};
    JSON.parse(text, (key, value) => {
      if (names.includes(key) && value && typeof value === 'object' && (value as { Type?: string }).Type === 'Task') found[key] = value;
      return value;
    });
    return found;
  }

  test('both release steps retry any error 5 times, 10 s apart and doubling: the spacing of the one deletion call each try makes', () => {
    const states = statesNamed(['ReleaseModel', 'ReleaseModelAfterFailure']);
    expect(Object.keys(states).sort()).toEqual(['ReleaseModel', 'ReleaseModelAfterFailure']);
    for (const [name, state] of Object.entries(states)) {
      // After the transient-error retries every task has; States.ALL must come last.
      const catchAll = (state.Retry as Array<{ ErrorEquals: string[] }>).filter((retry) => retry.ErrorEquals.includes('States.ALL'));
      expect({ name, catchAll, last: state.Retry!.at(-1) }).toEqual({ name, catchAll: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 10, MaxAttempts: 5, BackoffRate: 2 }], last: catchAll[0] });
    }
    // Still refused after them: ReleaseModel records the refusal, the failure path records the failure.
    expect(states.ReleaseModel.Catch?.map((c) => c.Next)).toEqual(['RecordModelNotReleased']);
  });
});
