/**
 * Promotion, the serving swap and the custom model retention sweep, end to end: the synthesized
 * state machine and functions (with their synthesized IAM policies checked against every call)
 * against the local stand-ins. A run whose gate passes becomes the current model (SSM registry
 * entry, event, message), the serving Provisioned Throughput is pointed at it and waited on; a
 * run whose gate fails is not promoted; a rollback by the documented one command; the retention
 * schedule's function deletes the rejected model once it is old enough, and nothing current or
 * serving.
 */
import { BedrockClient, CreateModelCustomizationJobCommand, CreateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { Duration } from 'aws-cdk-lib';
import { RetentionResult } from '../../lambda/custom-model-retention';
import { PROMOTED_DETAIL_TYPE, RegistryEntry } from '../../lambda/shared/model-registry';
import { RunRecord } from '../../lambda/shared/run-record';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness } from './harness';

/** The fine-tuned model answers right when `good`, the base model never: the gate (improvement >= 50%) passes or fails with it. */
let fineTunedIsGood = true;
function respond(invocation: ConverseInvocation): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
  if (invocation.target.kind === 'provisioned-model') return fineTunedIsGood ? String(a + b) : 'No idea.';
  return a % 2 === 0 ? `The sum is ${a + b}.` : 'No idea.';
}

function testRecords(count: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      messages: [
        { role: 'user', content: [{ text: `What is ${i} plus ${i + 1}?` }] },
        { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
      ],
    }),
  ).join('\n');
}

describe('promotion, serving swap and retention (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  let servingArn = '';
  let teamModelArn = '';

  beforeAll(async () => {
    h = await startHarness(async (aws) => {
      // The team's serving Provisioned Throughput already serves an earlier custom model of the same base model.
      const bedrock = new BedrockClient({});
      aws.bedrock.setJobScenario({ checkData: false, afterPolls: 'manual' }, { jobName: 'team-earlier-model' });
      aws.s3.createBucket('team-models'); // where that earlier job wrote its output
      const { jobArn } = await bedrock.send(
        new CreateModelCustomizationJobCommand({
          jobName: 'team-earlier-model',
          customModelName: 'team-earlier-model',
          roleArn: 'arn:aws:iam::111122223333:role/team',
          baseModelIdentifier: 'meta.llama3-2-1b-instruct-v1:0:128k',
          trainingDataConfig: { s3Uri: 's3://team/train.jsonl' },
          outputDataConfig: { s3Uri: 's3://team-models/out/' },
        }),
      );
      teamModelArn = aws.bedrock.completeJob(jobArn!).outputModelArn!;
      servingArn = (await bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: 'team-serving', modelId: teamModelArn, modelUnits: 1 }))).provisionedModelArn!;
      aws.bedrock.markInService(servingArn);
      bedrock.destroy();
      return {
        ...TEST_PROPS,
        evaluation: { provisioningPollInterval: Duration.minutes(1), qualityGate: { minImprovementPercent: 50 } },
        promotion: { servingProvisionedModelArn: servingArn },
        modelRetention: { deleteRejectedAfter: Duration.days(7), keepPromotedPerName: 1 },
      };
    });
    h.aws.runtime.respond = respond;
    h.aws.bedrock.scenario.modelUpdate = { afterPolls: 2 };
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', testRecords(20));
  });
  afterAll(async () => h?.stop());

  const request = (name: string) => ({ name, model: 'llama3.2-1b', trainingData: 'data/train.jsonl', testData: 'data/test.jsonl', evaluation: { maxTokens: 16 } });
  const parameterName = () => {
    const names = h.aws.ssm.names();
    expect(names).toHaveLength(1);
    return names[0];
  };
  const entry = () => JSON.parse(h.aws.ssm.parameter(parameterName())!.value) as RegistryEntry;
  const record = (runId: string) => h.runRecord(runId) as RunRecord;

  test('gate passed: promoted, the serving Provisioned Throughput swapped and waited on, all recorded and announced; gate failed: not promoted; rollback; retention', async () => {
    // ---- a run whose gate passes ----
    const first = await (await h.upload('requests/promoted.json', request('chart-qa'))).executions[0].result;
    expect(first.status).toBe('SUCCEEDED');
    expect(first.transitions).toEqual(expect.arrayContaining(['ReleaseModel', 'PromoteModel', 'IsServingSwapInProgress', 'WaitForServingSwap', 'CheckServingSwap', 'RecordSuccess']));
    const [firstRecord] = h.runRecords();
    const firstModel = firstRecord.job!.outputModelArn!;
    expect(parameterName()).toMatch(/^\/llama-finetune\/test\/.+\/models\/chart-qa$/);
    expect(entry()).toMatchObject({ runId: firstRecord.runId, customModelArn: firstModel, qualityGate: 'PASSED', fineTunedF1: 100, serving: { provisionedModelArn: servingArn, status: 'InService', servingModelArn: firstModel } });
    expect(h.aws.bedrock.provisionedThroughputStatus(servingArn)).toMatchObject({ status: 'InService', modelArn: firstModel });
    expect(record(firstRecord.runId).promotion).toMatchObject({ promoted: true, serving: { status: 'InService' } });
    const message = h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(firstRecord.runId))!.message;
    expect(message).toContain(`Promoted: the current model of ${parameterName()}`);
    expect(message).toContain(`Serving: ${servingArn} now serves this model`);
    const promotedEvents = h.aws.events.events({ detailType: PROMOTED_DETAIL_TYPE });
    expect(promotedEvents.map((e) => e.detail.runId)).toEqual([firstRecord.runId]);
    expect(h.aws.events.events({ detailType: 'Fine-tuning Run Finished' }).find((e) => e.detail.runId === firstRecord.runId)?.detail).toMatchObject({ promotion: 'PROMOTED', servingSwap: 'InService' });

    // ---- a run whose gate fails: not promoted, the registry and the serving model unchanged ----
    fineTunedIsGood = false;
    const second = await (await h.upload('requests/rejected.json', request('chart-qa'))).executions[0].result;
    expect(second.status).toBe('SUCCEEDED');
    const secondRecord = h.runRecords().find((r) => r.runId !== firstRecord.runId)!;
    expect(secondRecord.promotion).toMatchObject({ promoted: false, reason: 'GATE_FAILED' });
    expect(entry().runId).toBe(firstRecord.runId);
    expect(h.aws.bedrock.provisionedThroughputStatus(servingArn)?.modelArn).toBe(firstModel);
    expect(h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(secondRecord.runId))!.message).toContain('Not promoted: The quality gate failed');

    // ---- rollback is one invocation of the promotion function: here to the same run, after someone moved the serving model ----
    const rollback = await h.runner.invoke('promote-model', { promoteRun: firstRecord.runId });
    expect(rollback.error).toBeUndefined();
    expect(entry()).toMatchObject({ runId: firstRecord.runId, promotedBy: 'manual' });

    // ---- retention: the rejected model goes once older than 7 days; the current (and serving) one stays ----
    const retention = async () => {
      const schedule = Object.values(h.template.findResources('AWS::Scheduler::Schedule')).find((s) => JSON.stringify(s).includes('custom-model-retention'))!;
      const out = await h.runner.invoke('custom-model-retention', JSON.parse(schedule.Properties.Target.Input));
      expect(out.error).toBeUndefined();
      return out.payload as RetentionResult;
    };
    expect((await retention()).deleted).toEqual([]);
    const rejectedModel = secondRecord.job!.outputModelArn!;
    // Eight days later (the sweep dates a rejected run by its outcome).
    h.aws.s3.putObject(h.artifacts, `runs/${secondRecord.runId}/run.json`, JSON.stringify({ ...record(secondRecord.runId), outcome: { ...record(secondRecord.runId).outcome!, finishedAt: new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString() } }));
    const swept = await retention();
    expect(swept.deleted).toEqual([{ modelArn: rejectedModel, runId: secondRecord.runId, reason: expect.stringContaining('quality gate failed') }]);
    const left = h.aws.bedrock.customModels().map((m) => m.modelArn);
    expect(left).toEqual(expect.arrayContaining([firstModel, teamModelArn]));
    expect(left).not.toContain(rejectedModel);

    // Every call each function and the state machine made is allowed by its synthesized policy.
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});
