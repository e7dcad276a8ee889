/**
 * The provisioned-throughput handler against LocalS3 and LocalBedrock with the real SDK
 * clients: one created after the run ended is deleted at once (RunEnded); an existing one the
 * deployment names is used only when it serves the run's custom model (ProvisionedModelMismatch
 * otherwise) and never deleted; deleting one already gone is no error.
 */
import { handler, ProvisionedModel, ReleasedModel } from '../../lambda/provisioned-throughput';
import { DELETE_RETRY } from '../../lambda/shared/evaluation/provisioned-throughput-deletion';
import { provisionedModelNameFor } from '../../lambda/shared/evaluation/provisioned-names';
import { RunContext } from '../../lambda/shared/run-context';
import { RunJob } from '../../lambda/shared/run-record';
import { ARTIFACTS, HandlerAws, createJob, createThroughput, drawJitterAsZero, runContext, runningRecord, startHandlerAws, storeRecord, storedRecord } from './handler-fixtures';

describe('provisioned-throughput handler', () => {
  let aws: HandlerAws;

  beforeAll(async () => {
    aws = await startHandlerAws({ MODEL_UNITS: '1' });
    // Jobs complete only when a test says so, without the data checks (no training data is uploaded here).
    aws.bedrock.setJobScenario({ afterPolls: 'manual', checkData: false });
  });
  afterAll(async () => aws?.stop());
  afterEach(() => {
    delete process.env.EXISTING_PROVISIONED_MODEL_ARN;
  });

  /** A run whose job completed, with the custom model Bedrock made. */
  async function trainedRun(name: string): Promise<{ run: RunContext; job: RunJob }> {
    const run = runContext(name);
    const jobArn = await createJob(`${run.runId}-job`, run);
    const done = aws.bedrock.completeJob(jobArn);
    return { run, job: { jobArn, jobName: done.jobName, customModelName: done.customModelName, status: 'Completed', outputS3Uri: done.outputDataUri, outputModelArn: done.outputModelArn, hyperParameters: {} } };
  }

  async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
      await promise;
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected the step to fail');
  }

  test('a running run: the Provisioned Throughput is created for the custom model and recorded at once', async () => {
    const { run, job } = await trainedRun('pt-running');
    storeRecord(aws, runningRecord(run, { job }));
    const out = (await handler({ action: 'create', run, job })) as ProvisionedModel;
    expect(out).toMatchObject({ created: true, status: 'Creating' });
    const [pt] = aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelArn === out.provisionedModelArn);
    expect(pt).toMatchObject({ provisionedModelName: provisionedModelNameFor(run), modelArn: job.outputModelArn });
    expect(storedRecord(aws, run).provisionedThroughput).toMatchObject({ arn: out.provisionedModelArn, createdAt: out.createdAt });
  });

  test('the run ended while it was being created: it is deleted at once and the step fails with RunEnded', async () => {
    const { run, job } = await trainedRun('pt-ended');
    storeRecord(aws, { ...runningRecord(run, { job }), status: 'ABORTED' });
    const error = await rejection(handler({ action: 'create', run, job }));
    expect(error.name).toBe('RunEnded');
    const created = aws.bedrock.allProvisionedThroughputs().filter((p) => p.provisionedModelName === provisionedModelNameFor(run));
    expect(created).toHaveLength(1);
    expect(aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelName === provisionedModelNameFor(run))).toEqual([]);
    expect(error.message).toContain(`had already ended (ABORTED) when its Provisioned Throughput ${created[0].provisionedModelArn} was created; it has been deleted again`);
    const record = storedRecord(aws, run);
    expect(record.status).toBe('ABORTED');
    expect(record.provisionedThroughput).toMatchObject({ arn: created[0].provisionedModelArn, deletedAt: expect.any(String), hours: expect.any(Number) });
    expect(record.timeline.map((t) => t.event)).toEqual(['run started', 'provisioned throughput created', 'provisioned throughput deleted: the run had ended']);
  });

  test('an existing Provisioned Throughput that serves the run\'s custom model is used, and never deleted', async () => {
    const { run, job } = await trainedRun('pt-existing-match');
    storeRecord(aws, runningRecord(run, { job }));
    const arn = await createThroughput('team-shared-match', job.outputModelArn!);
    aws.bedrock.markInService(arn);
    process.env.EXISTING_PROVISIONED_MODEL_ARN = arn;
    const out = (await handler({ action: 'create', run, job })) as ProvisionedModel;
    expect(out).toEqual({ provisionedModelArn: arn, created: false, status: 'InService' });
    const released = await handler({ action: 'delete', run, provisioned: out });
    expect(released).toMatchObject({ deleted: false });
    expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(arn);
    expect(aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.resources.includes(arn))).toEqual([]);
  });

  test('an existing Provisioned Throughput that serves another model: ProvisionedModelMismatch says which and how to fix it, and it is left alone', async () => {
    const { run, job } = await trainedRun('pt-existing-mismatch');
    storeRecord(aws, runningRecord(run, { job }));
    const arn = await createThroughput('team-shared-base', run.model.baseModelIdentifier);
    aws.bedrock.markInService(arn);
    const served = aws.bedrock.provisionedThroughputs().find((p) => p.provisionedModelArn === arn)!.modelArn;
    process.env.EXISTING_PROVISIONED_MODEL_ARN = arn;
    const error = await rejection(handler({ action: 'create', run, job }));
    expect(error.name).toBe('ProvisionedModelMismatch');
    expect(error.message).toContain(`The Provisioned Throughput ${arn} that the deployment names for evaluation (evaluation.provisionedModelArn) serves ${served}, not this run's custom model ${job.outputModelArn}`);
    expect(error.message).toContain(`UpdateProvisionedModelThroughput (aws bedrock update-provisioned-model-throughput --provisioned-model-id ${arn} --desired-model-id ${job.outputModelArn})`);
    expect(error.message).toContain('or remove evaluation.provisionedModelArn so each run creates (and deletes) its own');
    expect(aws.bedrock.provisionedThroughputs().find((p) => p.provisionedModelArn === arn)?.status).toBe('InService');
    expect(aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.resources.includes(arn))).toEqual([]);
    expect(aws.bedrock.allProvisionedThroughputs().filter((p) => p.provisionedModelName === provisionedModelNameFor(run))).toEqual([]);
    expect(storedRecord(aws, run).provisionedThroughput).toBeUndefined();
  });

  test('releasing one that is already gone is no error, and the record notes the deletion with its hours', async () => {
    const { run, job } = await trainedRun('pt-gone');
    storeRecord(aws, runningRecord(run, { job }));
    const created = (await handler({ action: 'create', run, job })) as ProvisionedModel;
    const first = await handler({ action: 'delete', run, provisioned: created });
    const again = await handler({ action: 'delete', run, provisioned: created });
    expect([first, again]).toEqual([expect.objectContaining({ deleted: true, status: 'Deleted' }), expect.objectContaining({ deleted: true, status: 'Deleted' })]);
    expect(aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.resources.includes(created.provisionedModelArn)).map((e) => e.errorCode)).toEqual([undefined, 'ResourceNotFoundException']);
    expect(storedRecord(aws, run).provisionedThroughput).toMatchObject({ arn: created.provisionedModelArn, deletedAt: expect.any(String), hours: expect.any(Number) });
  });

  test('a refused release makes one call and fails the step at once, for Step Functions to retry; the next try deletes it', async () => {
    const { run, job } = await trainedRun('pt-busy');
    storeRecord(aws, runningRecord(run, { job }));
    const created = (await handler({ action: 'create', run, job })) as ProvisionedModel;
    aws.bedrock.injectError(1, 'ConflictException', { operation: 'DeleteProvisionedModelThroughput', message: 'busy' });
    await expect(handler({ action: 'delete', run, provisioned: created })).rejects.toMatchObject({ name: 'ConflictException' });
    const calls = () => aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((e) => e.resources.includes(created.provisionedModelArn)).map((e) => e.errorCode);
    expect(calls()).toEqual(['ConflictException']);
    expect(storedRecord(aws, run).provisionedThroughput?.deletedAt).toBeUndefined();

    await expect(handler({ action: 'delete', run, provisioned: created })).resolves.toMatchObject({ deleted: true, status: 'Deleted' });
    expect(calls()).toEqual(['ConflictException', undefined]);
    expect(storedRecord(aws, run).provisionedThroughput).toMatchObject({ deletedAt: expect.any(String) });
  });

  describe('record-undeleted (after the release failed past its retries)', () => {
    let noJitter: jest.SpyInstance | undefined;
    afterEach(() => {
      noJitter?.mockRestore();
      noJitter = undefined;
      aws.bedrock.clearFaults();
      delete process.env.PROVISIONED_THROUGHPUT_WATCH_MINUTES;
    });

    async function createdFor(name: string) {
      const { run, job } = await trainedRun(name);
      storeRecord(aws, runningRecord(run, { job }));
      const created = (await handler({ action: 'create', run, job })) as ProvisionedModel;
      aws.s3.putObject(ARTIFACTS, `${run.artifacts.prefix}report.md`, '# Evaluation report: x\n\n- Run: `r`\n');
      aws.s3.putObject(ARTIFACTS, `${run.artifacts.prefix}report.html`, '<body>\n<main>\n<header>\n<h1>Evaluation report: x</h1>\n</header>\n<section>scores</section>\n');
      return { run, created };
    }

    test('Bedrock still refuses: the step returns, and the record, the report, a warning and a metric line say which throughput bills and what deletes it', async () => {
      process.env.PROVISIONED_THROUGHPUT_WATCH_MINUTES = '15';
      const { run, created } = await createdFor('pt-refused');
      aws.bedrock.injectError('forever', 'ConflictException', { operation: 'DeleteProvisionedModelThroughput', message: 'busy' });
      // The last try's backoff (up to 4 s of full jitter before each retry), drawn as zero.
      noJitter = drawJitterAsZero();
      const out = (await handler({ action: 'record-undeleted', run, provisioned: created })) as ReleasedModel;
      // One try of every attempt, each refused.
      const deletions = aws.callLog.entries({ operation: 'DeleteProvisionedModelThroughput' }).filter((call) => call.resources.includes(created.provisionedModelArn));
      expect(deletions.map((call) => call.errorCode)).toEqual(Array(DELETE_RETRY.attempts).fill('ConflictException'));
      const arn = created.provisionedModelArn;
      expect(out).toMatchObject({ provisionedModelArn: arn, deleted: false, status: 'DeleteRefused' });
      expect(out.notice).toContain(`Provisioned Throughput ${arn} (${provisionedModelNameFor(run)}) could not be deleted: Bedrock still refused after every retry (ConflictException: busy). It bills per hour for its 1 model unit until it is deleted.`);
      expect(out.notice).toContain(`checks every 15 minutes`);
      expect(out.notice).toContain(`aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${arn}`);
      expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(arn);

      const record = storedRecord(aws, run);
      expect(record.provisionedThroughput).toMatchObject({ arn, deletionRefused: { error: 'ConflictException: busy', watchIntervalMinutes: 15, at: expect.any(String) } });
      expect(record.provisionedThroughput?.deletedAt).toBeUndefined();
      expect(record.timeline.map((t) => t.event)).toContain('provisioned throughput not deleted');
      const markdown = aws.s3.getObject(ARTIFACTS, `${run.artifacts.prefix}report.md`)!.toString();
      expect(markdown.startsWith('# Evaluation report: x\n\n> **Provisioned Throughput not deleted: it bills per hour.** ')).toBe(true);
      expect(markdown).toContain('- Run: `r`');
      expect(aws.s3.getObject(ARTIFACTS, `${run.artifacts.prefix}report.html`)!.toString()).toContain('</header>\n<div class="cleanup-notice" role="alert">');

      const lines = aws.logLines().filter((l) => l.runId === run.runId);
      const metrics = lines.filter((l) => l._aws !== undefined);
      expect(metrics).toEqual([expect.objectContaining({ UndeletedProvisionedThroughputs: 1, Environment: 'test' })]);
      expect(lines).toContainEqual(expect.objectContaining({ level: 'WARN', provisionedModelArn: arn, fix: `aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${arn}` }));

      // A retried step (its first try timed out after writing) adds no second notice to the report.
      await handler({ action: 'record-undeleted', run, provisioned: created });
      expect(aws.s3.getObject(ARTIFACTS, `${run.artifacts.prefix}report.md`)!.toString().match(/Provisioned Throughput not deleted/g)).toHaveLength(1);
    });

    test('without a watch deployed, the notice says nothing deletes it and gives the command', async () => {
      const { run, created } = await createdFor('pt-refused-nowatch');
      aws.bedrock.injectError('forever', 'ValidationException', { operation: 'DeleteProvisionedModelThroughput', message: 'refused' });
      const out = (await handler({ action: 'record-undeleted', run, provisioned: created })) as ReleasedModel;
      expect(out.notice).toContain('No watch of this deployment deletes it: delete it yourself: aws bedrock delete-provisioned-model-throughput');
      expect(storedRecord(aws, run).provisionedThroughput?.deletionRefused).toEqual({ at: expect.any(String), error: 'ValidationException: refused' });
    });

    test('Bedrock accepts the last try, or the throughput is already gone: an ordinary release, no notice and no metric', async () => {
      const { run, created } = await createdFor('pt-late-accept');
      const out = await handler({ action: 'record-undeleted', run, provisioned: created });
      expect(out).toMatchObject({ deleted: true, status: 'Deleted' });
      const again = await handler({ action: 'record-undeleted', run, provisioned: created });
      expect(again).toMatchObject({ deleted: true, status: 'Deleted' });
      const record = storedRecord(aws, run);
      expect(record.provisionedThroughput).toMatchObject({ deletedAt: expect.any(String), hours: expect.any(Number) });
      expect(record.provisionedThroughput?.deletionRefused).toBeUndefined();
      expect(aws.s3.getObject(ARTIFACTS, `${run.artifacts.prefix}report.md`)!.toString()).not.toContain('not deleted');
      expect(aws.logLines().filter((l) => l.runId === run.runId && l._aws !== undefined)).toEqual([]);
    });

    test('another execution\'s run (a duplicate): NotRunOwner, nothing recorded, nothing deleted', async () => {
      const { run, created } = await createdFor('pt-not-owner');
      const duplicate = { ...run, executionArn: `${run.executionArn}-duplicate` };
      const error = await rejection(handler({ action: 'record-undeleted', run: duplicate, provisioned: created }));
      expect(error.name).toBe('NotRunOwner');
      expect(aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn)).toContain(created.provisionedModelArn);
      expect(storedRecord(aws, run).provisionedThroughput?.deletionRefused).toBeUndefined();
    });
  });
});
