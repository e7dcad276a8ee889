/**
 * The promote-model handler against LocalS3, LocalBedrock, LocalBedrockRuntime, LocalSsm and
 * LocalEventBridge with the real SDK clients: promotion on a passing gate and none on a failing
 * one, the better-model rule, the serving swap that succeeds and the ones that fail (the previous
 * model keeps serving, and the run says so), and the rollback by run id.
 */
import { BedrockClient, CreateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { handler, PromotionResult } from '../../lambda/promote-model';
import { PROMOTED_DETAIL_TYPE, RegistryEntry } from '../../lambda/shared/model-registry';
import { RunContext } from '../../lambda/shared/run-context';
import { RunEvaluation, RunRecord } from '../../lambda/shared/run-record';
import { HandlerAws, createJob, createThroughput, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

const PREFIX = '/llama-finetune/test/deployment-a/models/';

describe('promote-model handler', () => {
  let aws: HandlerAws;
  let runCounter = 0;

  beforeAll(async () => {
    aws = await startHandlerAws({ REGISTRY_PREFIX: PREFIX, EVENT_BUS_NAME: 'default', REQUIRE_QUALITY_GATE: 'true', ALLOW_WORSE_MODEL: 'false' });
    aws.bedrock.setJobScenario({ afterPolls: 'manual', checkData: false });
    // Answers name the custom model that served them, so a test can tell which model serves.
    aws.runtime.respond = (invocation) => (invocation.target.kind === 'provisioned-model' ? `served by ${invocation.target.customModelArn}` : 'base');
  });
  afterAll(async () => aws?.stop());
  afterEach(() => {
    process.env.REQUIRE_QUALITY_GATE = 'true';
    process.env.ALLOW_WORSE_MODEL = 'false';
    delete process.env.SERVING_PROVISIONED_MODEL_ARN;
    aws.bedrock.scenario.modelUpdate = {};
  });

  function evaluation(fineTunedF1: number, gate: RunEvaluation['gate'] = { evaluated: true, passed: true, reasons: [] }): RunEvaluation {
    return { baseF1: 40, fineTunedF1, baseExactMatch: 10, fineTunedExactMatch: 30, relativeImprovementPercent: ((fineTunedF1 - 40) / 40) * 100, records: 50, gate, reportUri: 's3://x/report.json', reportHtmlUri: 's3://x/report.html' };
  }

  /** A run of request `name` whose job completed and was evaluated, with its record stored. */
  async function evaluatedRun(name: string, fineTunedF1: number, gate?: RunEvaluation['gate'], model = 'llama3.2-1b'): Promise<{ run: RunContext; modelArn: string }> {
    const base = runContext(name, model);
    // Each upload of the same name is a new run (its own id).
    runCounter += 1;
    const runId = `${base.runId.slice(0, -4)}${String(runCounter).padStart(4, '0')}`;
    const run: RunContext = { ...base, runId, artifacts: { ...base.artifacts, prefix: `runs/${runId}/` } };
    const jobArn = await createJob(`${name}-${runCounter}-job`, run);
    const done = aws.bedrock.completeJob(jobArn);
    const record: RunRecord = {
      ...runningRecord(run, {
        job: { jobArn, jobName: done.jobName, customModelName: done.customModelName, status: 'Completed', outputS3Uri: done.outputDataUri, outputModelArn: done.outputModelArn, hyperParameters: {} },
        evaluation: evaluation(fineTunedF1, gate),
      }),
      // The promotion step runs just before the success is recorded; a manual promotion needs it recorded.
      status: 'SUCCEEDED',
    };
    storeRecord(aws, record);
    return { run, modelArn: done.outputModelArn! };
  }

  function entry(name: string): RegistryEntry | undefined {
    const p = aws.ssm.parameter(`${PREFIX}${name}`);
    return p && (JSON.parse(p.value) as RegistryEntry);
  }

  async function promote(run: RunContext): Promise<PromotionResult> {
    return (await handler({ action: 'promote', run })) as PromotionResult;
  }

  async function servedBy(provisionedModelArn: string): Promise<string> {
    const client = new BedrockRuntimeClient({});
    try {
      const out = await client.send(new ConverseCommand({ modelId: provisionedModelArn, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
      return out.output!.message!.content![0].text!;
    } finally {
      client.destroy();
    }
  }

  test('a run whose gate passed becomes the current model of its name: registry entry, run record, event', async () => {
    const { run, modelArn } = await evaluatedRun('promo-pass', 70);
    const out = await promote(run);
    expect(out).toEqual({ promoted: true, reason: 'PROMOTED', parameterName: `${PREFIX}promo-pass`, swap: 'NONE' });
    expect(entry('promo-pass')).toMatchObject({
      requestName: 'promo-pass',
      environment: 'test',
      customModelArn: modelArn,
      runId: run.runId,
      baseF1: 40,
      fineTunedF1: 70,
      qualityGate: 'PASSED',
      promotedBy: 'workflow',
      reportUri: 's3://x/report.html',
      runRecordUri: `s3://handler-artifacts/${run.artifacts.prefix}run.json`,
      promotedAt: expect.any(String),
    });
    expect(storedRecord(aws, run).promotion).toMatchObject({ promoted: true, reason: 'PROMOTED', parameterName: `${PREFIX}promo-pass` });
    const [event] = aws.events.events({ detailType: PROMOTED_DETAIL_TYPE }).filter((e) => e.detail.runId === run.runId);
    expect(event).toMatchObject({ source: 'llama-finetune', detail: { customModelArn: modelArn, parameterName: `${PREFIX}promo-pass`, fineTunedF1: 70 } });
    // A retried step changes nothing: one write, one event.
    expect(await promote(run)).toMatchObject({ promoted: true, reason: 'ALREADY_CURRENT' });
    expect(aws.ssm.history(`${PREFIX}promo-pass`)).toHaveLength(1);
    expect(aws.events.events({ detailType: PROMOTED_DETAIL_TYPE }).filter((e) => e.detail.runId === run.runId)).toHaveLength(1);
  });

  test('a run whose gate failed is not promoted, and the record says why', async () => {
    const { run } = await evaluatedRun('promo-fail', 30, { evaluated: true, passed: false, reasons: ['F1 30.0 < 50'] });
    expect(await promote(run)).toMatchObject({ promoted: false, reason: 'GATE_FAILED' });
    expect(entry('promo-fail')).toBeUndefined();
    expect(storedRecord(aws, run).promotion).toMatchObject({ promoted: false, reason: 'GATE_FAILED', explanation: expect.stringContaining('F1 30.0 < 50') });
    expect(aws.events.events({ detailType: PROMOTED_DETAIL_TYPE }).filter((e) => e.detail.runId === run.runId)).toEqual([]);
  });

  test('no gate set: promoted only when the environment allows it (requireQualityGate false)', async () => {
    const noGate = { evaluated: false, passed: true, reasons: [] };
    const first = await evaluatedRun('promo-nogate', 60, noGate);
    expect(await promote(first.run)).toMatchObject({ promoted: false, reason: 'GATE_NOT_SET' });
    process.env.REQUIRE_QUALITY_GATE = 'false';
    const second = await evaluatedRun('promo-nogate', 60, noGate);
    expect(await promote(second.run)).toMatchObject({ promoted: true });
    expect(entry('promo-nogate')).toMatchObject({ runId: second.run.runId, qualityGate: 'NOT_SET' });
  });

  test('the better-model rule: a worse run never replaces the current one unless the environment allows it; an equal one does', async () => {
    const best = await evaluatedRun('promo-better', 80);
    await promote(best.run);
    const worse = await evaluatedRun('promo-better', 75);
    expect(await promote(worse.run)).toMatchObject({ promoted: false, reason: 'WORSE_THAN_CURRENT' });
    expect(entry('promo-better')?.runId).toBe(best.run.runId);
    expect(storedRecord(aws, worse.run).promotion?.explanation).toContain('80.0 > 75.0');
    const equal = await evaluatedRun('promo-better', 80);
    expect(await promote(equal.run)).toMatchObject({ promoted: true });
    expect(entry('promo-better')).toMatchObject({ runId: equal.run.runId, previous: { runId: best.run.runId, fineTunedF1: 80 } });
    process.env.ALLOW_WORSE_MODEL = 'true';
    const allowed = await evaluatedRun('promo-better', 60);
    expect(await promote(allowed.run)).toMatchObject({ promoted: true });
    expect(entry('promo-better')?.runId).toBe(allowed.run.runId);
  });

  test('serving swap: the serving Provisioned Throughput is pointed at the new model, waited on until InService, and recorded', async () => {
    const first = await evaluatedRun('promo-swap', 60);
    const serving = await createThroughput('team-serving-ok', first.modelArn);
    aws.bedrock.markInService(serving);
    process.env.SERVING_PROVISIONED_MODEL_ARN = serving;
    aws.bedrock.scenario.modelUpdate = { afterPolls: 1 };
    const second = await evaluatedRun('promo-swap', 70);
    const started = await promote(second.run);
    expect(started).toMatchObject({ promoted: true, swap: 'UPDATING', serving: { provisionedModelArn: serving, status: 'Updating', servingModelArn: first.modelArn } });
    expect(entry('promo-swap')?.serving?.status).toBe('Updating');
    // While it updates, the previous model keeps answering.
    expect(await servedBy(serving)).toBe(`served by ${first.modelArn}`);
    const stillUpdating = (await handler({ action: 'check-serving', run: second.run, promotion: started })) as PromotionResult;
    expect(stillUpdating.swap).toBe('UPDATING');
    const done = (await handler({ action: 'check-serving', run: second.run, promotion: stillUpdating })) as PromotionResult;
    expect(done).toMatchObject({ swap: 'DONE', serving: { status: 'InService', servingModelArn: second.modelArn, completedAt: expect.any(String) } });
    expect(await servedBy(serving)).toBe(`served by ${second.modelArn}`);
    expect(entry('promo-swap')?.serving).toMatchObject({ status: 'InService', servingModelArn: second.modelArn });
    expect(storedRecord(aws, second.run).promotion?.serving).toMatchObject({ status: 'InService' });
    expect(storedRecord(aws, second.run).timeline.map((t) => t.event)).toContain('serving swap done');
  });

  test('serving swap refused by Bedrock (another base model): the run is still promoted, the previous model keeps serving, and the run says so', async () => {
    const other = await evaluatedRun('promo-swap-other-base', 60, undefined, 'llama3.2-3b');
    const serving = await createThroughput('team-serving-3b', other.modelArn);
    aws.bedrock.markInService(serving);
    process.env.SERVING_PROVISIONED_MODEL_ARN = serving;
    const { run, modelArn } = await evaluatedRun('promo-swap-refused', 70);
    const out = await promote(run);
    expect(out).toMatchObject({ promoted: true, swap: 'FAILED', serving: { status: 'SwapFailed', servingModelArn: other.modelArn, error: expect.stringContaining('ValidationException') } });
    expect(entry('promo-swap-refused')).toMatchObject({ customModelArn: modelArn, serving: { status: 'SwapFailed' } });
    expect(storedRecord(aws, run).promotion?.serving?.status).toBe('SwapFailed');
    expect(aws.bedrock.provisionedThroughputStatus(serving)).toMatchObject({ status: 'InService', modelArn: other.modelArn });
    expect(await servedBy(serving)).toBe(`served by ${other.modelArn}`);
  });

  test('serving swap that Bedrock fails while updating: recorded as failed with the previous model still the one it serves', async () => {
    const first = await evaluatedRun('promo-swap-fails', 60);
    const serving = await createThroughput('team-serving-fails', first.modelArn);
    aws.bedrock.markInService(serving);
    process.env.SERVING_PROVISIONED_MODEL_ARN = serving;
    aws.bedrock.scenario.modelUpdate = { afterPolls: 0, outcome: 'Failed', failureMessage: 'Insufficient capacity to update.' };
    const second = await evaluatedRun('promo-swap-fails', 70);
    const started = await promote(second.run);
    expect(started.swap).toBe('UPDATING');
    const out = (await handler({ action: 'check-serving', run: second.run, promotion: started })) as PromotionResult;
    expect(out).toMatchObject({ promoted: true, swap: 'FAILED', serving: { status: 'SwapFailed', servingModelArn: first.modelArn, error: expect.stringContaining('Insufficient capacity to update.') } });
    expect(entry('promo-swap-fails')).toMatchObject({ runId: second.run.runId, serving: { status: 'SwapFailed', servingModelArn: first.modelArn } });
    expect(storedRecord(aws, second.run).timeline.map((t) => t.event)).toContain('serving swap failed');
  });

  // SSM's Standard limit is 4 KB; the stand-in counts UTF-8 bytes, so 3-byte characters are the harder case.
  test.each([
    ['ASCII', 'x', 'ascii'],
    ['3-byte', '界', 'cjk'],
  ])("a very long failure message from Bedrock (%s characters) is cut, so the registry entry stays within SSM's 4 KB Standard parameter", async (_kind, char, suffix) => {
    const name = `promo-long-error-${suffix}`;
    const first = await evaluatedRun(name, 60);
    const serving = await createThroughput(`team-serving-long-${suffix}`, first.modelArn);
    aws.bedrock.markInService(serving);
    process.env.SERVING_PROVISIONED_MODEL_ARN = serving;
    aws.bedrock.scenario.modelUpdate = { afterPolls: 0, outcome: 'Failed', failureMessage: `Capacity: ${char.repeat(10_000)}` };
    const second = await evaluatedRun(name, 70);
    const started = await promote(second.run);
    const out = (await handler({ action: 'check-serving', run: second.run, promotion: started })) as PromotionResult;
    expect(out.swap).toBe('FAILED');
    // The stand-in refuses values over 4,096 bytes as SSM does; the entry was written.
    expect(entry(name)).toMatchObject({ runId: second.run.runId, serving: { status: 'SwapFailed', error: expect.stringContaining(`Capacity: ${char.repeat(3)}`) } });
    // 600 characters of the message, and the note of how much was cut.
    expect(out.serving!.error!.length).toBeLessThan(700);
  });

  test('a Provisioned Throughput with a commitment term is never touched', async () => {
    const first = await evaluatedRun('promo-commit', 60);
    const bedrock = new BedrockClient({});
    const serving = (await bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: 'team-committed', modelId: first.modelArn, modelUnits: 1, commitmentDuration: 'OneMonth' }))).provisionedModelArn!;
    bedrock.destroy();
    aws.bedrock.markInService(serving);
    process.env.SERVING_PROVISIONED_MODEL_ARN = serving;
    const second = await evaluatedRun('promo-commit', 70);
    expect(await promote(second.run)).toMatchObject({ promoted: true, swap: 'FAILED', serving: { status: 'SwapRefused', error: expect.stringContaining('OneMonth commitment term') } });
    expect(aws.callLog.entries({ operation: 'UpdateProvisionedModelThroughput' }).filter((e) => e.resources.includes(serving))).toEqual([]);
  });

  test('rollback: promoting an earlier run by id makes it current again (and swaps the serving model back), whatever it scored', async () => {
    const older = await evaluatedRun('promo-rollback', 60);
    await promote(older.run);
    const serving = await createThroughput('team-serving-rollback', older.modelArn);
    aws.bedrock.markInService(serving);
    const newer = await evaluatedRun('promo-rollback', 90);
    process.env.SERVING_PROVISIONED_MODEL_ARN = serving;
    aws.bedrock.scenario.modelUpdate = { afterPolls: 0 };
    const swapped = await promote(newer.run);
    await handler({ action: 'check-serving', run: newer.run, promotion: swapped });
    expect(aws.bedrock.provisionedThroughputStatus(serving)?.modelArn).toBe(newer.modelArn);

    const out = (await handler({ promoteRun: older.run.runId })) as { entry: RegistryEntry; parameterName: string };
    expect(out.parameterName).toBe(`${PREFIX}promo-rollback`);
    expect(entry('promo-rollback')).toMatchObject({ runId: older.run.runId, customModelArn: older.modelArn, promotedBy: 'manual', previous: { runId: newer.run.runId }, serving: { status: 'Updating' } });
    expect(aws.ssm.history(`${PREFIX}promo-rollback`).map((v) => (JSON.parse(v.value) as RegistryEntry).runId)).toEqual([older.run.runId, newer.run.runId, newer.run.runId, older.run.runId]);
    expect(aws.bedrock.provisionedThroughputStatus(serving)).toMatchObject({ status: 'Updating' });
    expect(storedRecord(aws, older.run).timeline.map((t) => t.event)).toContain('promoted by hand');

    // A run that failed its gate cannot be rolled back to, and the message says why.
    const failed = await evaluatedRun('promo-rollback', 95, { evaluated: true, passed: false, reasons: ['improvement too small'] });
    await expect(handler({ promoteRun: failed.run.runId })).rejects.toThrow(`Run ${failed.run.runId} cannot be promoted: The quality gate failed (improvement too small).`);
    await expect(handler({ promoteRun: 'no-such-run-0000' })).rejects.toThrow('No run record at s3://handler-artifacts/runs/no-such-run-0000/run.json');
  });
});
