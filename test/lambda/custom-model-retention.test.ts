/**
 * The custom model retention sweep against LocalBedrock (ListCustomModels, tags,
 * DeleteCustomModel, Provisioned Throughputs), LocalSsm (the registry) and LocalS3 (run records)
 * with the real SDK clients: it deletes exactly the models the policy names, never a current or
 * serving one, and leaves every other deployment's (and untagged) models alone.
 */
import { BedrockClient, CreateModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createRetentionHandler } from '../../lambda/custom-model-retention';
import { DEPLOYMENT_TAG_KEY, RUN_ID_TAG_KEY } from '../../lambda/shared/job-names';
import { RegistryEntry } from '../../lambda/shared/model-registry';
import { RunContext } from '../../lambda/shared/run-context';
import { RunRecord } from '../../lambda/shared/run-record';
import { CUSTOMIZATION_ROLE_ARN, DATASETS, HandlerAws, createThroughput, runContext, runningRecord, startHandlerAws, storeRecord } from './handler-fixtures';

const PREFIX = '/llama-finetune/test/deployment-a/models/';
const DAY = 24 * 3600 * 1000;

describe('custom-model-retention handler', () => {
  let aws: HandlerAws;
  let counter = 0;

  beforeAll(async () => {
    aws = await startHandlerAws({ REGISTRY_PREFIX: PREFIX, DEPLOYMENT_ID: 'deployment-a', RUN_RECORDS_BUCKET: 'handler-artifacts', DELETE_REJECTED_AFTER_DAYS: '30', KEEP_PROMOTED_PER_NAME: '2' });
    aws.bedrock.setJobScenario({ afterPolls: 'manual', checkData: false });
  });
  afterAll(async () => aws?.stop());

  /** A custom model made by a run of `name`, tagged as the launch step tags it (deployment given or none). */
  async function model(name: string, deployment: string | undefined, record: (run: RunContext) => Partial<RunRecord> | undefined): Promise<{ run: RunContext; modelArn: string }> {
    counter += 1;
    const base = runContext(name);
    const runId = `${name}-${String(counter).padStart(12, '0')}`;
    const run: RunContext = { ...base, runId, artifacts: { ...base.artifacts, prefix: `runs/${runId}/` } };
    const tags = [{ key: RUN_ID_TAG_KEY, value: runId }, ...(deployment ? [{ key: DEPLOYMENT_TAG_KEY, value: deployment }] : [])];
    const bedrock = new BedrockClient({});
    const { jobArn } = await bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName: `${runId}-job`,
        customModelName: `${runId}-model`,
        roleArn: CUSTOMIZATION_ROLE_ARN,
        baseModelIdentifier: run.model.baseModelIdentifier,
        trainingDataConfig: { s3Uri: `s3://${DATASETS}/data/train.jsonl` },
        outputDataConfig: { s3Uri: `s3://handler-artifacts/${run.artifacts.prefix}bedrock-output/` },
        jobTags: tags,
        customModelTags: tags,
      }),
    );
    bedrock.destroy();
    const modelArn = aws.bedrock.completeJob(jobArn!).outputModelArn!;
    const extra = record(run);
    if (extra) storeRecord(aws, { ...runningRecord(run), ...extra });
    return { run, modelArn };
  }

  const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
  const gate = (passed: boolean) => ({ baseF1: 40, fineTunedF1: passed ? 70 : 41, baseExactMatch: 0, fineTunedExactMatch: 0, relativeImprovementPercent: 1, records: 10, gate: { evaluated: true, passed, reasons: [] }, reportUri: 's3://x/r.json', reportHtmlUri: 's3://x/r.html' });
  const ended = (status: RunRecord['status'], days: number) => ({ status, outcome: { status: status as 'SUCCEEDED', finishedAt: ago(days), summary: '' } });
  const promoted = (days: number) => ({ promotion: { promoted: true, reason: 'PROMOTED', explanation: '', parameterName: `${PREFIX}x`, promotedAt: ago(days) } });

  test('deletes exactly what the policy names; never the current or a serving model; never another deployment\'s', async () => {
    const gateFailedOld = await model('ret-a', 'deployment-a', () => ({ ...ended('SUCCEEDED', 40), evaluation: gate(false) }));
    const gateFailedRecent = await model('ret-a', 'deployment-a', () => ({ ...ended('SUCCEEDED', 10), evaluation: gate(false) }));
    const failedBeforeEvaluation = await model('ret-a', 'deployment-a', () => ended('FAILED', 31));
    const passedNotPromoted = await model('ret-a', 'deployment-a', () => ({ ...ended('SUCCEEDED', 90), evaluation: gate(true) }));
    const stillRunning = await model('ret-a', 'deployment-a', () => ({}));
    const noRecord = await model('ret-a', 'deployment-a', () => undefined);
    // Five promoted models of ret-b: the current one is an older one (a rollback), the oldest is served.
    const promotedB: Array<{ run: RunContext; modelArn: string }> = [];
    for (const days of [50, 40, 30, 20, 10]) promotedB.push(await model('ret-b', 'deployment-a', () => ({ ...ended('SUCCEEDED', days), evaluation: gate(true), ...promoted(days) })));
    const otherDeployment = await model('ret-a', 'deployment-b', () => ({ ...ended('SUCCEEDED', 400), evaluation: gate(false) }));
    const untagged = await model('ret-a', undefined, () => ({ ...ended('FAILED', 400) }));
    // The rejected model a Provisioned Throughput serves (e.g. a team evaluating it) stays too.
    const servedRejected = await model('ret-a', 'deployment-a', () => ({ ...ended('SUCCEEDED', 60), evaluation: gate(false) }));

    const current: Partial<RegistryEntry> = { schemaVersion: 1, requestName: 'ret-b', customModelArn: promotedB[2].modelArn, runId: promotedB[2].run.runId, fineTunedF1: 70 };
    const ssm = new SSMClient({});
    await ssm.send(new PutParameterCommand({ Name: `${PREFIX}ret-b`, Value: JSON.stringify(current), Type: 'String' }));
    ssm.destroy();
    aws.bedrock.markInService(await createThroughput('serving-oldest', promotedB[0].modelArn));
    aws.bedrock.markInService(await createThroughput('team-eval', servedRejected.modelArn));

    const result = await createRetentionHandler()({ source: 'test' });

    const expectedDeleted = [gateFailedOld, failedBeforeEvaluation, promotedB[1]].map((m) => m.modelArn).sort();
    expect(result.deleted.map((d) => d.modelArn).sort()).toEqual(expectedDeleted);
    expect(result.failed).toEqual([]);
    expect(aws.bedrock.deletedCustomModels().map((m) => m.modelArn).sort()).toEqual(expectedDeleted);
    const left = aws.bedrock.customModels().map((m) => m.modelArn);
    for (const kept of [gateFailedRecent, passedNotPromoted, stillRunning, noRecord, promotedB[0], promotedB[2], promotedB[3], promotedB[4], otherDeployment, untagged, servedRejected]) {
      expect(left).toContain(kept.modelArn);
    }
    // Every deletion is logged with the run it came from and why.
    const logged = aws.logLines().filter((l) => l.message === 'deleted a custom model under the retention policy');
    expect(logged.map((l) => [l.runId, l.modelArn]).sort()).toEqual([gateFailedOld, failedBeforeEvaluation, promotedB[1]].map((m) => [m.run.runId, m.modelArn]).sort());
    expect(result.deleted.find((d) => d.modelArn === promotedB[1].modelArn)?.reason).toBe('promoted earlier than the 2 most recent models of ret-b');
    // Only this deployment's models are ever deleted (the call log has every DeleteCustomModel).
    const deleteCalls = aws.callLog.entries({ operation: 'DeleteCustomModel' }).flatMap((e) => e.resources);
    expect(deleteCalls.sort()).toEqual(expectedDeleted);

    // A second sweep finds nothing more to delete.
    const again = await createRetentionHandler()({ source: 'test' });
    expect(again.deleted).toEqual([]);
  });

  test('the registry is read to its last page: current models listed after a short first page are kept', async () => {
    // Twelve names, each current model a rejected one the policy would otherwise delete. GetParametersByPath
    // pages hold at most 10 and may be shorter (LocalSsm's first page is), in no name order.
    const currents: string[] = [];
    const ssm = new SSMClient({});
    for (let i = 0; i < 12; i++) {
      const name = `ret-page-${String(i).padStart(2, '0')}`;
      const current = await model(name, 'deployment-a', () => ({ ...ended('SUCCEEDED', 100), evaluation: gate(false) }));
      const entry: Partial<RegistryEntry> = { schemaVersion: 1, requestName: name, customModelArn: current.modelArn, runId: current.run.runId, fineTunedF1: 41 };
      await ssm.send(new PutParameterCommand({ Name: `${PREFIX}${name}`, Value: JSON.stringify(entry), Type: 'String' }));
      currents.push(current.modelArn);
    }
    ssm.destroy();
    const result = await createRetentionHandler()({ source: 'test' });
    expect(result.deleted.map((d) => d.modelArn).filter((arn) => currents.includes(arn))).toEqual([]);
    expect(aws.callLog.entries({ operation: 'GetParametersByPath' }).length).toBeGreaterThanOrEqual(2);
  });

  test('when the registry cannot be read, nothing is deleted', async () => {
    const rejected = await model('ret-c', 'deployment-a', () => ({ ...ended('SUCCEEDED', 100), evaluation: gate(false) }));
    aws.ssm.injectError(1, 'AccessDeniedException', { operation: 'GetParametersByPath' });
    await expect(createRetentionHandler()({ source: 'test' })).rejects.toThrow('AccessDeniedException');
    expect(aws.bedrock.customModels().map((m) => m.modelArn)).toContain(rejected.modelArn);
  });

  test('a deletion Bedrock refuses is reported and retried by the next sweep', async () => {
    const rejected = await model('ret-d', 'deployment-a', () => ({ ...ended('SUCCEEDED', 100), evaluation: gate(false) }));
    aws.bedrock.injectError(1, 'ConflictException', { operation: 'DeleteCustomModel' });
    const first = await createRetentionHandler()({ source: 'test' });
    expect(first.failed).toEqual([{ modelArn: rejected.modelArn, runId: rejected.run.runId, error: expect.stringContaining('ConflictException') }]);
    const second = await createRetentionHandler()({ source: 'test' });
    expect(second.deleted.map((d) => d.modelArn)).toEqual([rejected.modelArn]);
  });
});
