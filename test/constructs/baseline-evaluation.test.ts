import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { BaselineEvaluation, BaselineEvaluationProps } from '../../lib/workflow/baseline-evaluation';
import { statementsOfRole, testStack } from '../support/cdk';

/** The shared baseline piece as a state machine chains it; its functions' grants and checks. */
function synth(extra: Partial<BaselineEvaluationProps> = {}): { stack: Stack; piece: BaselineEvaluation; template: Template } {
  const stack = testStack();
  const states = new Construct(stack, 'States');
  const piece = new BaselineEvaluation(stack, 'Baseline', {
    datasetBucket: new s3.Bucket(stack, 'Dataset'),
    dataPrefix: 'teams/a/',
    artifactsBucket: new s3.Bucket(stack, 'Artifacts'),
    runsPrefix: 'runs/',
    functionDefaults: { logRetention: logs.RetentionDays.ONE_DAY, logRemovalPolicy: RemovalPolicy.DESTROY },
    statesScope: states,
    addTransientRetry: () => undefined,
    ...extra,
  });
  new sfn.StateMachine(stack, 'Machine', { definitionBody: sfn.DefinitionBody.fromChainable(piece.startState) });
  return { stack, piece, template: Template.fromStack(stack) };
}

const flat = (value: unknown) => JSON.stringify(value);

describe('BaselineEvaluation', () => {
  const { stack, piece, template } = synth();

  test('the inference function may call only the base model (no Provisioned Throughput) and write only baseline answers', () => {
    const statements = statementsOfRole(template, 'BaselineInferBaselineShardRole');
    const invoke = statements.find((s) => s.Sid === 'InvokeBaseModel')!;
    expect(invoke.Action).toBe('bedrock:InvokeModel');
    expect(flat(invoke.Resource)).toContain('inference-profile/us.meta.llama3-2-*');
    expect(flat(invoke.Resource)).not.toContain('provisioned-model');
    expect(flat(statements.find((s) => s.Sid === 'WritePredictions')!.Resource)).toContain('/runs/*/baseline/*/predictions/*');
    expect(flat(statements.find((s) => s.Sid === 'ReadShardsAndImages')!.Resource)).toContain('/teams/a/*');
  });

  test('prepare writes only the baseline shards; record writes only the manifests', () => {
    expect(flat(statementsOfRole(template, 'BaselinePrepareBaselineRole').find((s) => s.Sid === 'WriteShards')!.Resource)).toContain('/runs/*/baseline/shards/*');
    const record = statementsOfRole(template, 'BaselineRecordBaselineRole');
    expect(record.filter((s) => flat(s.Action).includes('s3:PutObject')).map((s) => flat(s.Resource))).toEqual([expect.stringContaining('/runs/*/baseline/*/manifest.json')]);
  });

  test('states: prepare, a Distributed Map of base-only shards, record; the result at $.baseline', () => {
    const definition = flat(stack.resolve((template.findResources('AWS::StepFunctions::StateMachine').Machine ?? Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]).Properties.DefinitionString));
    expect(definition).toContain('PrepareBaseline');
    expect(definition).toContain('RunBaselineInference');
    expect(definition).toContain('\\"purpose\\":\\"baseline\\"');
    expect(definition).toContain('RecordBaseline');
    expect(piece.stateMachineResources).toHaveLength(2);
  });

  test('cdk-nag finds nothing unacknowledged in the piece\'s functions', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(piece);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
  });

  test.each([
    [{ shardSize: 51 }, /shardSize.*Use 1 to 50/s],
    [{ maxConcurrency: 0 }, /maxConcurrency.*Use 1 to 40/s],
    [{ minAnsweredShare: 1.5 }, /minAnsweredShare/],
  ])('refuses %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
