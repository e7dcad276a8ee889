import { CfnResolutionError, CfnResolver } from '../support/local-workflow/cfn-resolver';
import { CfnTemplateJson } from '../support/local-workflow/cfn-template';
import { LambdaTaskFailure, sandboxTimeout } from '../support/local-workflow/lambda-errors';
import { localBucketName, physicalResourcesOf } from '../support/local-workflow/physical-resources';
import { StatesDefinition, resolveDefinition, taskIntegrationOf, walkStates } from '../support/local-workflow/state-machine-definition';
import { unsupportedTaskStates } from '../support/local-workflow/task-integrations';
import { startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner } from '../support/local-workflow';

const scope = { accountId: '111122223333', region: 'us-west-2', partition: 'aws' };
const template: CfnTemplateJson = {
  Parameters: { BootstrapVersion: { Type: 'String', Default: '/cdk-bootstrap/hnb659fds/version' } },
  Resources: {
    DataBucket1A2B3C4D: { Type: 'AWS::S3::Bucket', Properties: { VersioningConfiguration: { Status: 'Enabled' } } },
    NamedBucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'my-literal-bucket' } },
    ReaderFunctionAB12CD34: { Type: 'AWS::Lambda::Function', Properties: {} },
    ReaderRole99887766: { Type: 'AWS::IAM::Role', Properties: {} },
    OutcomesTopicF00D: { Type: 'AWS::SNS::Topic', Properties: {} },
    MachineBEEF: { Type: 'AWS::StepFunctions::StateMachine', Properties: {} },
  },
};
const physical = physicalResourcesOf(template, scope);
const resolver = new CfnResolver(template, physical, scope);

describe('resolving the template to the stand-ins', () => {
  test('buckets get deterministic lowercase names (or their literal name); other resources ARNs named by logical id', () => {
    expect(physical.DataBucket1A2B3C4D).toMatchObject({ ref: 'databucket1a2b3c4d', arn: 'arn:aws:s3:::databucket1a2b3c4d' });
    expect(physical.NamedBucket.ref).toBe('my-literal-bucket');
    expect(physical.ReaderFunctionAB12CD34).toMatchObject({ ref: 'ReaderFunctionAB12CD34', arn: 'arn:aws:lambda:us-west-2:111122223333:function:ReaderFunctionAB12CD34' });
    expect(physical.ReaderRole99887766.arn).toBe('arn:aws:iam::111122223333:role/ReaderRole99887766');
    expect(physical.OutcomesTopicF00D).toMatchObject({ ref: 'arn:aws:sns:us-west-2:111122223333:OutcomesTopicF00D', attributes: { TopicName: 'OutcomesTopicF00D' } });
    expect(physical.MachineBEEF).toMatchObject({ ref: 'arn:aws:states:us-west-2:111122223333:stateMachine:MachineBEEF', attributes: { Name: 'MachineBEEF' } });
  });

  test('a logical id too long for a bucket name is shortened, keeping its hash', () => {
    const name = localBucketName(`Very${'Long'.repeat(20)}BucketABCD1234`);
    expect(name).toHaveLength(63);
    expect(name.endsWith('abcd1234')).toBe(true);
    expect(name).toMatch(/^[a-z0-9-]+$/);
  });

  test('intrinsic functions resolve as CloudFormation would', () => {
    const resolve = (value: unknown) => resolver.resolve(value, 'Test');
    expect(resolve({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'DataBucket1A2B3C4D' }, '/*']] })).toBe('arn:aws:s3:::databucket1a2b3c4d/*');
    expect(resolve({ 'Fn::GetAtt': ['ReaderRole99887766', 'Arn'] })).toBe('arn:aws:iam::111122223333:role/ReaderRole99887766');
    expect(resolve({ 'Fn::GetAtt': 'OutcomesTopicF00D.TopicName' })).toBe('OutcomesTopicF00D');
    expect(resolve({ 'Fn::Sub': ['${ReaderFunctionAB12CD34}-${AWS::Region}-${X}-${ReaderRole99887766.Arn}-${!Literal}', { X: { Ref: 'NamedBucket' } }] })).toBe(
      'ReaderFunctionAB12CD34-us-west-2-my-literal-bucket-arn:aws:iam::111122223333:role/ReaderRole99887766-${Literal}',
    );
    expect(resolve({ 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('b');
    expect(resolve({ A: 'kept', B: { Ref: 'AWS::NoValue' } })).toEqual({ A: 'kept' });
    expect(resolve({ Ref: 'BootstrapVersion' })).toBe('/cdk-bootstrap/hnb659fds/version');
  });

  test('an unsupported function or unknown resource is an error naming where it is', () => {
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'Shared' }, 'Fn.Properties.Environment.Variables.X')).toThrow(CfnResolutionError);
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'Shared' }, 'Fn.Properties.Environment.Variables.X')).toThrow(/Fn\.Properties\.Environment\.Variables\.X uses Fn::ImportValue/);
    expect(() => resolver.resolve({ Ref: 'Nope' }, 'Somewhere')).toThrow(/Somewhere refers to 'Nope'/);
  });

  test('definition tokens are resolved inside their JSON strings, substitutions too', () => {
    const definition = resolveDefinition(
      'MachineBEEF',
      {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: { 'Fn::Join': ['', ['{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"', { 'Fn::GetAtt': ['ReaderFunctionAB12CD34', 'Arn'] }, '","Comment":"${note}","End":true}}}']] },
          DefinitionSubstitutions: { note: 'say "hi"' },
        },
      },
      resolver,
    );
    expect(definition.States.T).toEqual({ Type: 'Task', Resource: physical.ReaderFunctionAB12CD34.arn, Comment: 'say "hi"', End: true });
  });
});

describe('finding the Task states of a definition', () => {
  const definition: StatesDefinition = {
    StartAt: 'Fan',
    States: {
      Fan: {
        Type: 'Parallel',
        Next: 'Each',
        Branches: [{ StartAt: 'Invoke', States: { Invoke: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'arn:aws:lambda:us-west-2:1:function:F:live', 'Payload.$': '$' }, End: true } } }],
      },
      Each: {
        Type: 'Map',
        Next: 'Train',
        ItemProcessor: { StartAt: 'Direct', States: { Direct: { Type: 'Task', Resource: 'arn:aws:lambda:us-west-2:1:function:G', End: true } } },
      },
      Train: { Type: 'Task', Resource: 'arn:aws:states:::bedrock:createModelCustomizationJob.sync', End: true },
    },
  };

  test('states inside Parallel branches and Map processors are found with their enclosing states', () => {
    expect(walkStates(definition).map((s) => [s.name, s.enclosing])).toEqual([
      ['Fan', []],
      ['Invoke', ['Fan']],
      ['Each', []],
      ['Direct', ['Each']],
      ['Train', []],
    ]);
  });

  test('each Task is classified by its Resource; integrations without a local handler are listed', () => {
    const byName = Object.fromEntries(walkStates(definition).map((s) => [s.name, s.state]));
    expect(taskIntegrationOf(byName.Invoke)).toEqual({ kind: 'lambda', functionName: 'arn:aws:lambda:us-west-2:1:function:F:live', payloadResponseOnly: false });
    expect(taskIntegrationOf(byName.Direct)).toEqual({ kind: 'lambda', functionName: 'arn:aws:lambda:us-west-2:1:function:G', payloadResponseOnly: true });
    expect(unsupportedTaskStates(walkStates(definition))).toEqual([{ state: 'Train', resource: 'arn:aws:states:::bedrock:createModelCustomizationJob.sync' }]);
  });

  test('the runner refuses a state machine with a Task it cannot run, naming the state', async () => {
    const aws = await startLocalAws();
    try {
      const withUnsupported: CfnTemplateJson = {
        Resources: { Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { DefinitionString: JSON.stringify({ StartAt: 'Train', States: { Train: definition.States.Train } }) } } },
      };
      await expect(LocalWorkflowRunner.create({ template: withUnsupported, aws })).rejects.toThrow(/Task state 'Train' \(Resource arn:aws:states:::bedrock:createModelCustomizationJob\.sync\).*task-integrations\.ts/);
    } finally {
      await aws.stop();
    }
  });
});

describe('Lambda errors as Step Functions sees them', () => {
  test('a function error becomes Error = errorType and Cause = the runtime report as JSON', () => {
    const failure = new LambdaTaskFailure({ errorType: 'InvalidRunRequest', errorMessage: 'bad', trace: ['InvalidRunRequest: bad', '    at x'] });
    expect(failure.name).toBe('InvalidRunRequest');
    expect(JSON.parse(failure.message)).toEqual({ errorMessage: 'bad', errorType: 'InvalidRunRequest', trace: ['InvalidRunRequest: bad', '    at x'] });
    expect((failure as Error & { cause?: unknown }).cause).toBeUndefined();
  });

  test('a timeout is reported as Sandbox.Timedout with the configured time', () => {
    expect(sandboxTimeout('req-1', 60_000)).toEqual({ errorType: 'Sandbox.Timedout', errorMessage: 'RequestId: req-1 Error: Task timed out after 60.00 seconds' });
  });
});
