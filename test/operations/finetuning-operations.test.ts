import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LlamaFinetuning, LlamaFinetuningProps, ProvisionedThroughputWatch, StorageEncryption, FinetuningOperations } from '../../lib';
import { InvalidPropsError } from '../../lib/core/props-validation';
import { HANDLER_METADATA_KEY } from '../../lib/workflow/workflow-function';
import { actionsOf, logicalIdOf, resourcesOf, statementsOfRole, testApp, testStack } from '../support/cdk';

interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, any>;
  readonly Metadata?: Record<string, unknown>;
}

function synth(props: LlamaFinetuningProps = {}) {
  const stack = testStack(testApp());
  const construct = new LlamaFinetuning(stack, 'Finetuning', { environmentName: 'prod', ...props });
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  return { stack, construct, template, resources, ofType, ref: (c: IConstruct) => logicalIdOf(c) };
}

/** The alarm whose metric (namespace, name) and dimension value match. */
function alarmOn(alarms: Array<[string, CfnResource]>, namespace: string, metricName: string, dimension?: unknown): CfnResource {
  const found = alarms.filter(
    ([, a]) => a.Properties.Namespace === namespace && a.Properties.MetricName === metricName && (dimension === undefined || JSON.stringify(a.Properties.Dimensions).includes(JSON.stringify(dimension))),
  );
  if (found.length !== 1) throw new Error(`expected one alarm on ${namespace}/${metricName} ${JSON.stringify(dimension)}, found ${found.length}`);
  return found[0][1];
}

/** The dashboard body as JSON, with CloudFormation references replaced by their logical ids. */
function dashboardBody(dashboard: CfnResource): { widgets: Array<{ type: string; properties: Record<string, any> }> } {
  const body = dashboard.Properties.DashboardBody;
  const parts = (body['Fn::Join'] ? body['Fn::Join'][1] : [body]) as unknown[];
  const text = parts.map((p) => (typeof p === 'string' ? p : `REF(${JSON.stringify(p).replace(/"/g, '')})`)).join('');
  return JSON.parse(text);
}

/** Acknowledged rule ids (with their reasons) recorded on one construct. */
function acknowledgements(construct: IConstruct): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of construct.node.metadata) {
    if (!/acknowledged/i.test(entry.type)) continue;
    for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) out[id.replace(/^annotation::/i, '')] = reason;
  }
  return out;
}

describe('FinetuningOperations in LlamaFinetuning (defaults)', () => {
  let s: ReturnType<typeof synth>;
  let alarms: Array<[string, CfnResource]>;
  let topicRef: { Ref: string };
  beforeAll(() => {
    s = synth();
    alarms = s.ofType('AWS::CloudWatch::Alarm');
    topicRef = { Ref: s.ref(s.construct.notificationTopic) };
  });

  test('failed, timed-out and aborted runs each raise an alarm on the state machine at 1 per 5 minutes', () => {
    const sm = { Name: 'StateMachineArn', Value: { Ref: s.ref(s.construct.stateMachine) } };
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      const alarm = alarmOn(alarms, 'AWS/States', metric, sm);
      expect(alarm.Properties).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef],
      });
      expect(alarm.Properties.AlarmDescription).toContain('(prod)');
    }
  });

  test('every function of the template has its own errors alarm (more than the 10 metrics a math alarm may read)', () => {
    const functions = s.ofType('AWS::Lambda::Function').map(([id]) => id).sort();
    expect(functions.length).toBeGreaterThan(10);
    const errorAlarms = alarms.filter(([, a]) => a.Properties.Namespace === 'AWS/Lambda');
    expect(errorAlarms.map(([, a]) => a.Properties.Dimensions[0].Value.Ref).sort()).toEqual(functions);
    for (const [, a] of errorAlarms) {
      expect(a.Properties).toMatchObject({ MetricName: 'Errors', Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [topicRef] });
    }
    expect(s.construct.operations.alarms['errors-launch-job']).toBeDefined();
    expect(s.construct.operations.alarms['errors-provisioned-throughput-watch']).toBeDefined();
  });

  test('a message in the trigger\'s or the cleanup\'s dead-letter queue raises an alarm, kept while SQS reports nothing', () => {
    for (const queue of [s.construct.trigger.deadLetterQueue, s.construct.workflow.cleanupDeadLetterQueue]) {
      const alarm = alarmOn(alarms, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [s.ref(queue), 'QueueName'] });
      expect(alarm.Properties).toMatchObject({ Statistic: 'Maximum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'ignore', AlarmActions: [topicRef] });
    }
  });

  test('a Provisioned Throughput of a run older than 6 hours raises an alarm on the watch\'s custom metric', () => {
    const alarm = alarmOn(alarms, 'LlamaFinetune', 'OldestRunProvisionedThroughputAge', { Name: 'Environment', Value: 'prod' });
    expect(alarm.Properties).toMatchObject({
      Statistic: 'Maximum',
      Period: 900,
      Threshold: 6 * 3600,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 1,
      AlarmActions: [topicRef],
    });
    // Nothing else: 3 run alarms + one per function + 2 dead-letter queues + 1 notification + 1 undeleted + 1 age alarm.
    expect(alarms).toHaveLength(3 + s.ofType('AWS::Lambda::Function').length + 2 + 1 + 1 + 1);
    expect(Object.keys(s.construct.operations.alarms)).toHaveLength(alarms.length);
  });

  test('an outcome that could not be announced (SNS or EventBridge refused) raises an alarm on the handlers\' custom metric', () => {
    const alarm = alarmOn(alarms, 'LlamaFinetune', 'NotificationFailures', { Name: 'Environment', Value: 'prod' });
    expect(alarm.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
    });
    expect(alarm.Properties.AlarmDescription).toContain('run outcome not announced');
  });

  test('a Provisioned Throughput a run could not delete (Bedrock refused past every retry) raises an alarm at once, which says what deletes it', () => {
    const alarm = alarmOn(alarms, 'LlamaFinetune', 'UndeletedProvisionedThroughputs', { Name: 'Environment', Value: 'prod' });
    expect(alarm.Properties).toMatchObject({
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef],
    });
    expect(s.construct.operations.alarms['undeleted-provisioned-throughputs']).toBeDefined();
    expect(alarm.Properties.AlarmDescription).toContain('bills per hour');
    expect(alarm.Properties.AlarmDescription).toContain('The Provisioned Throughput watch deletes it within 15 minutes');
    expect(alarm.Properties.AlarmDescription).toContain('aws bedrock delete-provisioned-model-throughput --provisioned-model-id <arn>');
    // The release step names the watch's interval in the record and the message.
    const release = s.resources[s.ref(s.construct.workflow._evaluation!.functions['provisioned-throughput'].function)];
    expect(release.Properties.Environment.Variables.PROVISIONED_THROUGHPUT_WATCH_MINUTES).toBe('15');
  });

  test('the outcome topic alarms notify has a rotated customer managed key that CloudWatch alarms of this account may use', () => {
    const [[keyId, key]] = s.ofType('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const alarmSource = {
      StringEquals: { 'aws:SourceAccount': '111122223333' },
      ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:us-west-2:111122223333:alarm:*']] } },
    };
    const keyStatement = (key.Properties.KeyPolicy.Statement as Array<Record<string, any>>).find((st) => st.Principal?.Service === 'cloudwatch.amazonaws.com')!;
    expect(keyStatement).toMatchObject({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: alarmSource });
    const [[, topicPolicy]] = s.ofType('AWS::SNS::TopicPolicy');
    const publish = (topicPolicy.Properties.PolicyDocument.Statement as Array<Record<string, any>>).find((st) => st.Principal?.Service === 'cloudwatch.amazonaws.com')!;
    expect(publish).toMatchObject({ Effect: 'Allow', Action: 'sns:Publish', Resource: topicRef, Condition: alarmSource });
    // Nobody is told to fix a topic the construct set up itself.
    Annotations.fromStack(s.stack).hasNoInfo('*', Match.stringLikeRegexp('Alarms notify'));
    Annotations.fromStack(s.stack).hasNoWarning('*', Match.stringLikeRegexp('alias/aws/sns'));
  });

  test('the dashboard shows runs, run and job duration, F1 of recent runs, errors, dead letters, old Provisioned Throughputs and the alarms', () => {
    const [[, dashboard]] = s.ofType('AWS::CloudWatch::Dashboard');
    expect(dashboard.Properties.Tags).toBeUndefined();
    const { widgets } = dashboardBody(dashboard);
    const byTitle = (pattern: RegExp) => widgets.find((w) => pattern.test(w.properties.title ?? ''))!;
    const metricNames = (w: { properties: Record<string, any> }) => JSON.stringify(w.properties.metrics ?? []);

    const runs = metricNames(byTitle(/^Runs started/));
    for (const m of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) expect(runs).toContain(`"AWS/States","${m}"`);
    const durations = metricNames(byTitle(/duration/));
    expect(durations).toContain('"AWS/States","ExecutionTime"');
    expect(durations).toContain('"LlamaFinetune","JobDuration","Environment","prod"');
    const f1 = metricNames(byTitle(/F1 of recent runs/));
    for (const m of ['BaseF1', 'FineTunedF1', 'RelativeImprovementPercent']) expect(f1).toContain(`"LlamaFinetune","${m}","Environment","prod"`);
    const evaluations = byTitle(/Recent evaluations/);
    expect(evaluations.type).toBe('log');
    expect(evaluations.properties.query).toContain("filter message = 'evaluation scored'");
    expect(evaluations.properties.query).toContain(s.ref(s.construct.workflow._evaluation!.functions['score-evaluation'].logGroup));
    expect(metricNames(byTitle(/Lambda errors/)).match(/"AWS\/Lambda","Errors"/g)).toHaveLength(s.ofType('AWS::Lambda::Function').length);
    expect(metricNames(byTitle(/dead-letter/)).match(/ApproximateNumberOfMessagesVisible/g)).toHaveLength(2);
    const throughputs = byTitle(/Provisioned Throughputs created by runs/);
    expect(metricNames(throughputs)).toContain('"LlamaFinetune","OldestRunProvisionedThroughputAge","Environment","prod"');
    expect(metricNames(throughputs)).toContain('"LlamaFinetune","UndeletedProvisionedThroughputs","Environment","prod"');
    expect(throughputs.properties.annotations.horizontal[0].value).toBe(6);
    const alarmWidget = widgets.find((w) => w.type === 'alarm')!;
    expect(alarmWidget.properties.alarms).toHaveLength(alarms.length);
  });

  test('the dashboard graphs fine-tuned F1 by request name with one SEARCH expression, so names need not be known at synth', () => {
    const { widgets } = dashboardBody(s.ofType('AWS::CloudWatch::Dashboard')[0][1]);
    const byName = widgets.filter((w) => /F1 by request name/.test(w.properties.title ?? ''));
    expect(byName).toHaveLength(1);
    const [widget] = byName;
    expect(widget.properties.metrics).toEqual([
      // No label (an empty one is left out): CloudWatch names each line by its RequestName.
      [{ expression: `SEARCH('{LlamaFinetune,Environment,RequestName} MetricName="FineTunedF1" Environment="prod"', 'Average', 3600)`, period: 3600 }],
    ]);
    expect(widget.properties.yAxis.left).toMatchObject({ min: 0, max: 100 });
    // record-outcome and cleanup-run keep the history the widget's metric comes with, N runs per name.
    for (const fn of [s.construct.workflow.functions['record-outcome'], s.construct.workflow.functions['cleanup-run']]) {
      expect(s.resources[s.ref(fn)].Properties.Environment.Variables.RUN_HISTORY_LENGTH).toBe('20');
    }
  });

  test('the history length is a prop (1 to 1,000 runs), refused at synth outside that range', () => {
    const longer = synth({ runHistoryLength: 50 });
    expect(longer.resources[longer.ref(longer.construct.workflow.functions['record-outcome'])].Properties.Environment.Variables.RUN_HISTORY_LENGTH).toBe('50');
    expect(() => synth({ runHistoryLength: 0 })).toThrow(/invalid prop 'runHistoryLength': 0 is not a whole number of runs from 1 to 1000/);
    expect(() => synth({ runHistoryLength: 2.5 })).toThrow(InvalidPropsError);
  });

  test('the watch runs every 15 minutes through EventBridge Scheduler, with a role only Scheduler of this account may assume', () => {
    const watch = s.construct.operations.provisionedThroughputWatch!;
    const fnId = s.ref(watch.function);
    const fn = s.resources[fnId];
    expect(fn.Metadata?.[HANDLER_METADATA_KEY]).toBe('provisioned-throughput-watch');
    expect(fn.Properties.Environment.Variables).toMatchObject({ ENVIRONMENT_NAME: 'prod', MAX_AGE_MINUTES: '360' });
    // The watch's schedule (the custom model retention sweep has its own, tested with the registry).
    const [[, schedule]] = s.ofType('AWS::Scheduler::Schedule').filter(([id]) => id.includes('ProvisionedThroughputWatch'));
    expect(schedule.Properties).toMatchObject({ ScheduleExpression: 'rate(15 minutes)', State: 'ENABLED', Target: { Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 900 } } });
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0];
    expect(s.resources[roleId].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': '111122223333',
            'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:us-west-2:111122223333:schedule-group/default']] },
          },
        },
      },
    ]);
    const statements = statementsOfRole(s.template, roleId);
    expect(statements.flatMap(actionsOf)).toEqual(['lambda:InvokeFunction']);
    expect(resourcesOf(statements[0])).toEqual([{ 'Fn::GetAtt': [fnId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [fnId, 'Arn'] }, ':*']] }]);
  });

  test('the watch may only list Provisioned Throughputs (Resource "*", the only form AWS offers), read their tags, delete them, and read and mark run records, acknowledged precisely for cdk-nag', () => {
    const watch = s.construct.operations.provisionedThroughputWatch!;
    const roleId = (s.resources[s.ref(watch.function)].Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = statementsOfRole(s.template, roleId);
    const bedrock = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('bedrock:')));
    const provisionedModels = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:us-west-2:111122223333:provisioned-model/*']] };
    expect(bedrock).toEqual([
      { Sid: 'ListProvisionedThroughputs', Effect: 'Allow', Action: 'bedrock:ListProvisionedModelThroughputs', Resource: '*' },
      { Sid: 'ReadProvisionedThroughputTags', Effect: 'Allow', Action: 'bedrock:ListTagsForResource', Resource: provisionedModels },
      { Sid: 'DeleteProvisionedThroughputsOfEndedRuns', Effect: 'Allow', Action: 'bedrock:DeleteProvisionedModelThroughput', Resource: provisionedModels },
    ]);
    // The one change it makes is a deletion (marked in the run record); it reads run records (and may tell a missing one from a denied one), nothing else.
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'bedrock:DeleteProvisionedModelThroughput',
      'bedrock:ListProvisionedModelThroughputs',
      'bedrock:ListTagsForResource',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const artifacts = s.ref(s.construct.artifactsBucket);
    const s3Statements = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('s3:')));
    expect(s3Statements).toEqual([
      { Sid: 'ReadAndMarkRunRecords', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [artifacts, 'Arn'] }, '/runs/*/run.json']] } },
      { Sid: 'TellMissingRecordFromDenied', Effect: 'Allow', Action: 's3:ListBucket', Resource: { 'Fn::GetAtt': [artifacts, 'Arn'] } },
    ]);

    const functionRole = s.construct.node.findAll().find((c) => c.node.path.endsWith('ProvisionedThroughputWatch/Function/Role'))!;
    expect(acknowledgements(functionRole)['AwsSolutions-IAM5[Resource::*]']).toMatch(/ListProvisionedModelThroughputs/);
    expect(acknowledgements(functionRole)['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:us-west-2:111122223333:provisioned-model/*]']).toMatch(/tags/);
    const scheduleRole = s.construct.node.findAll().find((c) => c.node.path.endsWith('ProvisionedThroughputWatch/ScheduleRole'))!;
    expect(Object.keys(acknowledgements(scheduleRole))).toEqual([`AwsSolutions-IAM5[Resource::<${s.ref(watch.function)}.Arn>:*]`]);
    expect(new AwsSolutionsChecks(s.stack.node.root).validateScope(s.construct).violations.map((v) => v.ruleName)).toEqual([]);
  });

  test('the watch counts only Provisioned Throughputs of requests under this deployment\'s bucket and request prefix', () => {
    const watch = s.construct.operations.provisionedThroughputWatch!;
    const variables = s.resources[s.ref(watch.function)].Properties.Environment.Variables;
    expect(variables.RUN_REQUESTS_BUCKET).toEqual({ Ref: s.ref(s.construct.datasetBucket) });
    expect(variables.RUN_REQUESTS_PREFIX).toBe(s.construct.workflow.requestPrefix);
    // ... and finds their runs' records where the workflow keeps them.
    expect(variables.RUN_RECORDS_BUCKET).toEqual({ Ref: s.ref(s.construct.artifactsBucket) });
    expect(variables.RUNS_PREFIX).toBe(s.construct.workflow.runsPrefix);
  });

  test('check-job knows the environment, the dimension of the job duration it publishes', () => {
    const checkJob = s.resources[s.ref(s.construct.workflow.functions['check-job'])];
    expect(checkJob.Properties.Environment.Variables.ENVIRONMENT_NAME).toBe('prod');
  });
});

describe('FinetuningOperations options', () => {
  test('thresholds, periods, the age limit, the check interval and the dashboard name are configurable', () => {
    const s = synth({
      operations: {
        failedExecutionsThreshold: 3,
        lambdaErrorsThreshold: 5,
        deadLetterMessagesThreshold: 2,
        alarmPeriod: Duration.minutes(10),
        provisionedThroughputMaxAge: Duration.hours(3),
        provisionedThroughputCheckInterval: Duration.minutes(30),
        dashboardName: 'llama-prod',
      },
    });
    const alarms = s.ofType('AWS::CloudWatch::Alarm');
    expect(alarmOn(alarms, 'AWS/States', 'ExecutionsFailed').Properties).toMatchObject({ Threshold: 3, Period: 600 });
    expect(alarmOn(alarms, 'AWS/States', 'ExecutionsAborted').Properties).toMatchObject({ Threshold: 1, Period: 600 });
    for (const [, a] of alarms.filter(([, al]) => al.Properties.Namespace === 'AWS/Lambda')) expect(a.Properties.Threshold).toBe(5);
    for (const [, a] of alarms.filter(([, al]) => al.Properties.Namespace === 'AWS/SQS')) expect(a.Properties.Threshold).toBe(2);
    expect(alarmOn(alarms, 'LlamaFinetune', 'OldestRunProvisionedThroughputAge').Properties).toMatchObject({ Threshold: 3 * 3600, Period: 1800 });
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(30 minutes)' });
    const watchFn = s.resources[s.ref(s.construct.operations.provisionedThroughputWatch!.function)];
    expect(watchFn.Properties.Environment.Variables.MAX_AGE_MINUTES).toBe('180');
    // A refused deletion is told with the interval the watch really runs at.
    expect(s.resources[s.ref(s.construct.workflow._evaluation!.functions['provisioned-throughput'].function)].Properties.Environment.Variables.PROVISIONED_THROUGHPUT_WATCH_MINUTES).toBe('30');
    expect(alarmOn(alarms, 'LlamaFinetune', 'UndeletedProvisionedThroughputs').Properties).toMatchObject({ Period: 600 });
    expect(alarmOn(alarms, 'LlamaFinetune', 'UndeletedProvisionedThroughputs').Properties.AlarmDescription).toContain('within 30 minutes');
    s.template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'llama-prod' });
  });

  test('alarms notify a topic of the user\'s: the outcome topic keeps the AWS managed key and no key is created', () => {
    const stack = testStack(testApp());
    const key = new kms.Key(stack, 'OpsKey', { enableKeyRotation: true });
    const opsTopic = new sns.Topic(stack, 'OpsTopic', { masterKey: key, enforceSSL: true });
    const access = FinetuningOperations.allowCloudWatchAlarmsToPublish(opsTopic, key);
    expect(access).toEqual({ topicPolicyAdded: true, keyPolicyAdded: true });
    const construct = new LlamaFinetuning(stack, 'Finetuning', { operations: { alarmTopic: opsTopic } });
    const template = Template.fromStack(stack);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(10);
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: logicalIdOf(opsTopic) }]);
    expect(construct.operations.alarmTopic).toBe(opsTopic);
    template.resourceCountIs('AWS::KMS::Key', 1); // the user's
    const outcomeTopic = template.toJSON().Resources[logicalIdOf(construct.notificationTopic)];
    expect(JSON.stringify(outcomeTopic.Properties.KmsMasterKeyId)).toContain('alias/aws/sns');
    Annotations.fromStack(stack).hasNoInfo('*', Match.stringLikeRegexp('Alarms notify'));
  });

  test('with KMS storage, the outcome topic keeps the storage key, which CloudWatch alarms may then use; no second key', () => {
    const s = synth({ storage: { encryption: StorageEncryption.KMS } });
    const keys = s.ofType('AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    const [[keyId, key]] = keys;
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    const cw = (key.Properties.KeyPolicy.Statement as Array<Record<string, any>>).filter((st) => st.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(cw).toHaveLength(1);
    expect(cw[0].Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    // The watch's log group is encrypted like every other.
    const watchLogGroup = s.resources[s.ref(s.construct.operations.provisionedThroughputWatch!.logGroup)];
    expect(watchLogGroup.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('a user topic under alias/aws/sns gets a warning (alarms could never reach it); one under a key of the app that does not admit alarms too; an imported topic a reminder', () => {
    const stack = testStack(testApp());
    const managed = new sns.Topic(stack, 'Managed', { masterKey: kms.Alias.fromAliasName(stack, 'AwsSns', 'alias/aws/sns'), enforceSSL: true });
    new LlamaFinetuning(stack, 'A', { notificationTopic: managed });
    const own = new sns.Topic(stack, 'Own', { masterKey: new kms.Key(stack, 'OwnKey', { enableKeyRotation: true }), enforceSSL: true });
    new LlamaFinetuning(stack, 'B', { notificationTopic: own });
    new LlamaFinetuning(stack, 'C', { notificationTopic: sns.Topic.fromTopicArn(stack, 'Imported', 'arn:aws:sns:us-west-2:111122223333:ops') });
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/TestStack/A/Operations', Match.stringLikeRegexp('alias/aws/sns, which CloudWatch alarms cannot use'));
    annotations.hasWarning('/TestStack/B/Operations', Match.stringLikeRegexp('^Alarms notify TestStack/Own, whose key TestStack/OwnKey does not let CloudWatch alarms use it.*allowCloudWatchAlarmsToPublish'));
    annotations.hasNoWarning('/TestStack/C/Operations', Match.anyValue());
    annotations.hasInfo('/TestStack/C/Operations', Match.stringLikeRegexp("allowCloudWatchAlarmsToPublish.*an imported topic's owner must grant it"));
    // The user's topics are left as they are.
    expect(Object.values(Template.fromStack(stack).findResources('AWS::SNS::TopicPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement).filter((st) => st.Principal?.Service)).toEqual([]);
  });

  test('alarms off: no alarm and no topic key; the dashboard and the watch remain. Both off: only the watch, which deletes what ended runs left', () => {
    const noAlarms = synth({ operations: { alarmsEnabled: false } });
    expect(noAlarms.ofType('AWS::CloudWatch::Alarm')).toEqual([]);
    expect(noAlarms.ofType('AWS::KMS::Key')).toEqual([]);
    expect(noAlarms.construct.operations.alarmTopic).toBeUndefined();
    expect(noAlarms.ofType('AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(noAlarms.ofType('AWS::Scheduler::Schedule').filter(([id]) => id.includes('ProvisionedThroughputWatch'))).toHaveLength(1);
    const widgets = dashboardBody(noAlarms.ofType('AWS::CloudWatch::Dashboard')[0][1]).widgets;
    expect(widgets.some((w) => w.type === 'alarm')).toBe(false);

    const nothing = synth({ operations: { alarmsEnabled: false, dashboardEnabled: false } });
    for (const type of ['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Dashboard']) expect(nothing.ofType(type)).toEqual([]);
    expect(nothing.ofType('AWS::Scheduler::Schedule').filter(([id]) => id.includes('ProvisionedThroughputWatch'))).toHaveLength(1);
    expect(nothing.construct.operations.provisionedThroughputWatch).toBeDefined();
  });

  test('without evaluation there is no Provisioned Throughput to watch and no F1 to show', () => {
    const s = synth({ evaluation: { enabled: false } });
    expect(s.ofType('AWS::Scheduler::Schedule')).toEqual([]);
    // Only the notification alarm watches a custom metric then: outcomes are announced with or without evaluation.
    expect(s.ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.Namespace === 'LlamaFinetune').map(([, a]) => a.Properties.MetricName)).toEqual(['NotificationFailures']);
    const titles = dashboardBody(s.ofType('AWS::CloudWatch::Dashboard')[0][1]).widgets.map((w) => w.properties.title ?? '');
    expect(titles.some((t) => /F1|Provisioned Throughputs/.test(t))).toBe(false);
    expect(titles.some((t) => /^Runs started/.test(t))).toBe(true);
  });

  test('invalid options fail at synth time with the prop and the fix', () => {
    const attempt = (operations: LlamaFinetuningProps['operations']) => () => synth({ operations });
    expect(attempt({ alarmPeriod: Duration.seconds(90) })).toThrow(InvalidPropsError);
    expect(attempt({ alarmPeriod: Duration.seconds(90) })).toThrow(/alarmPeriod.*whole number of minutes/);
    expect(attempt({ lambdaErrorsThreshold: 0 })).toThrow(/lambdaErrorsThreshold.*not a positive number/);
    expect(attempt({ provisionedThroughputMaxAge: Duration.minutes(10) })).toThrow(/maxAge.*shorter than the check interval/);
    expect(attempt({ provisionedThroughputCheckInterval: Duration.seconds(30) })).toThrow(/interval.*whole number of minutes/);
  });
});

describe('ProvisionedThroughputWatch on its own', () => {
  test('a request prefix without its slash is normalized, so requests-old/ is not taken for requests/', () => {
    const stack = testStack(testApp());
    const bucket = new s3.Bucket(stack, 'Requests');
    const watch = new ProvisionedThroughputWatch(stack, 'Watch', { environmentName: 'dev', runRequests: { bucket, prefix: 'requests' } });
    const fn = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    const variables = fn[logicalIdOf(watch.function.node.defaultChild as IConstruct)].Properties.Environment.Variables;
    expect(variables.RUN_REQUESTS_BUCKET).toEqual({ Ref: logicalIdOf(bucket.node.defaultChild as IConstruct) });
    expect(variables.RUN_REQUESTS_PREFIX).toBe('requests/');
    expect(() => new ProvisionedThroughputWatch(stack, 'Wild', { environmentName: 'dev', runRequests: { bucket, prefix: 'req*' } })).toThrow(/runRequests.prefix.*wildcard/);
  });
});
