import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuningStack } from '../../app/llama-finetuning-stack';
import { parseEnvironmentSettings } from '../../app/environment-settings';
import { RunRecord } from '../../lambda/shared/run-record';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner } from '../support/local-workflow';
import { arithmeticRecords } from './harness';

/**
 * A new user after `cdk deploy`, with nothing but the stack's outputs (as describe-stacks shows
 * them): follows the UploadCommand output, and finds the run in the StateMachineArn, its record
 * in the ArtifactsBucketName bucket under RunsPrefix, and its outcome on the OutcomeTopicArn
 * topic. The repository's stack for a cdk.json environment, synthesized and run offline.
 */
describe('the stack outputs lead a user from upload to outcome (offline, as synthesized)', () => {
  let aws: LocalAws;
  let runner: LocalWorkflowRunner;
  let outputs: Record<string, string>;

  beforeAll(async () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    aws = await startLocalAws();
    const settings = parseEnvironmentSettings('dev', { account: aws.accountId, region: aws.region, defaultModel: 'llama3.2-1b' });
    const stack = new LlamaFinetuningStack(app, 'LlamaFinetuning-dev', { environmentName: 'dev', settings, env: { account: aws.accountId, region: aws.region } });
    runner = await LocalWorkflowRunner.create({ waitMs: 2, retryMs: 2, template: Template.fromStack(stack), aws });
    outputs = runner.stackOutputs();
  });
  afterAll(async () => {
    await runner?.stop();
    await aws?.stop();
  });

  test('the UploadCommand starts a run of StateMachineArn; its record lands in ArtifactsBucketName under RunsPrefix and its outcome on OutcomeTopicArn', async () => {
    const command = /^aws s3 cp request\.json s3:\/\/([^/]+)\/(.+)$/.exec(outputs.UploadCommand);
    expect(command).not.toBeNull();
    const [, bucket, key] = command!;
    expect(bucket).toBe(outputs.DatasetBucketName);
    expect(key.startsWith(outputs.RequestPrefix)).toBe(true);

    aws.s3.putObject(outputs.DatasetBucketName, 'data/train.jsonl', arithmeticRecords(120));
    aws.s3.putObject(bucket, key, JSON.stringify({ name: 'from-outputs', trainingData: 'data/train.jsonl' }));
    const { executions } = await runner.putS3ObjectCreated(bucket, key);
    expect(executions).toHaveLength(1);
    expect(executions[0].executionArn.startsWith(`${outputs.StateMachineArn.replace(':stateMachine:', ':execution:')}:`)).toBe(true);
    const outcome = await executions[0].result;
    await runner.idle();
    expect(outcome.status).toBe('SUCCEEDED');

    const records = aws.s3.listKeys(outputs.ArtifactsBucketName, outputs.RunsPrefix).filter((k) => k.endsWith('/run.json'));
    expect(records).toHaveLength(1);
    const record = JSON.parse(aws.s3.getObject(outputs.ArtifactsBucketName, records[0])!.toString()) as RunRecord;
    expect(records[0]).toBe(`${outputs.RunsPrefix}${record.runId}/run.json`);
    expect(record.outcome?.status).toBe('SUCCEEDED');
    const messages = aws.sns.messages(outputs.OutcomeTopicArn);
    expect(messages.map((m) => m.subject)).toEqual([`[dev] Llama fine-tuning run ${record.runId} succeeded`]);
    expect(outputs.DashboardName).toBeTruthy();
    expect(runner.checkIam().denied).toEqual([]);
  });
});
