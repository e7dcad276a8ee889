import { BedrockClient, CreateProvisionedModelThroughputCommand, DeleteProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { WatchResult } from '../../lambda/provisioned-throughput-watch';
import { emfDocuments, metricValues } from '../support/emf';
import { TEST_PROPS, WorkflowHarness, ZERO_JITTER, arithmeticRecords, startHarness, waitFor } from '../workflow/harness';

/**
 * The operations side of a deployment, offline and as synthesized: the Provisioned Throughput
 * watch run as its function against LocalBedrock, and the custom metrics the workflow's
 * functions write to their logs during a run.
 */
describe('operations (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  let bedrock: BedrockClient;
  const HOUR = 3_600_000;
  const MAX_AGE_SECONDS = 6 * 3600; // the construct's default

  beforeAll(async () => {
    h = await startHarness(TEST_PROPS, ZERO_JITTER);
    bedrock = new BedrockClient({});
  });
  afterAll(async () => {
    bedrock?.destroy();
    await h?.stop();
  });

  /**
   * Creates a Provisioned Throughput and moves its creation `ageMs` into the past. Tagged, as
   * runs tag theirs, with the request it came from: by default one of this deployment.
   */
  async function provisioned(name: string, ageMs: number, request: string | null = `s3://${h.datasets}/requests/run.json`): Promise<string> {
    const tags = request === null ? undefined : [{ key: 'llama-finetune:request', value: request }];
    const out = await bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: name, modelId: 'meta.llama3-2-1b-instruct-v1:0:128k', modelUnits: 1, tags }));
    h.aws.bedrock.backdateProvisionedThroughput(out.provisionedModelArn!, ageMs);
    return out.provisionedModelArn!;
  }

  /** Invokes the watch with the input its schedule sends, and returns its result and its EMF lines. */
  async function runWatch() {
    const schedule = Object.values(h.template.findResources('AWS::Scheduler::Schedule'))[0];
    const before = h.runner.functionLogs('provisioned-throughput-watch').length;
    const invocation = await h.runner.invoke('provisioned-throughput-watch', JSON.parse(schedule.Properties.Target.Input));
    expect(invocation.error).toBeUndefined();
    // A worker's stdout reaches the runner after its result: wait for the metrics line.
    // (stdout only: stderr has Node's own warnings, such as the SDK's about this Node version)
    const since = () => h.runner.functionLogs('provisioned-throughput-watch').slice(before).filter((l) => l.stream === 'stdout').map((l) => l.line);
    await waitFor('the watch\'s metrics line', () => since().some((l) => l.includes('"_aws"')));
    const lines = since();
    return { result: invocation.payload as WatchResult, lines, emf: emfDocuments(lines) };
  }

  test('an old Provisioned Throughput of a run yields its age as the metric and a warning naming it; others are ignored', async () => {
    const oldArn = await provisioned('eval-forgotten-0123456789ab', 7 * HOUR);
    await provisioned('eval-current-0123456789ab', HOUR / 2);
    await provisioned('team-shared', 400 * HOUR); // the team's own: never a run's
    // Runs of other deployments in the same account (another bucket; another request prefix), and an untagged one: their own watch's business.
    await provisioned('eval-other-bucket-0123456789ab', 9 * HOUR, 's3://another-deployment-datasets/requests/run.json');
    await provisioned('eval-other-prefix-0123456789ab', 9 * HOUR, `s3://${h.datasets}/other-requests/run.json`);
    await provisioned('eval-untagged-0123456789ab', 9 * HOUR, null);
    const deletedArn = await provisioned('eval-deleted-0123456789ab', 30 * HOUR);
    await bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: deletedArn }));
    const expectedAge = (Date.now() - h.aws.bedrock.provisionedThroughputs().find((p) => p.provisionedModelArn === oldArn)!.creationTime.getTime()) / 1000;

    const { result, lines, emf } = await runWatch();
    expect(result.count).toBe(2);
    expect(result.overAge).toEqual(['eval-forgotten-0123456789ab']);
    // The age is measured when the function runs, a moment after `expectedAge` was.
    expect(result.oldestAgeSeconds).toBeGreaterThanOrEqual(expectedAge);
    expect(result.oldestAgeSeconds).toBeLessThan(expectedAge + 60);
    expect(result.oldestAgeSeconds).toBeGreaterThan(MAX_AGE_SECONDS);

    // One EMF line: the age the alarm watches, and how many exist, under the environment.
    expect(emf).toHaveLength(1);
    expect(metricValues(emf, 'LlamaFinetune', 'OldestRunProvisionedThroughputAge')).toEqual([result.oldestAgeSeconds]);
    expect(metricValues(emf, 'LlamaFinetune', 'RunProvisionedThroughputs')).toEqual([2]);
    expect(emf[0].metrics.map((m) => [m.unit, m.dimensionSets])).toEqual([
      ['Seconds', [{ Environment: 'test' }]],
      ['Count', [{ Environment: 'test' }]],
    ]);
    // The operator is told which one, and how to delete it.
    const warnings = lines.map((l) => JSON.parse(l)).filter((l) => l.level === 'WARN');
    expect(warnings).toEqual([expect.objectContaining({ step: 'provisioned-throughput-watch', provisionedModelName: 'eval-forgotten-0123456789ab', provisionedModelArn: oldArn, fix: expect.stringContaining(oldArn) })]);
    // Every line is structured JSON.
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();

    // Deleted: the metric falls below the limit, and nothing is reported.
    await bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: oldArn }));
    const after = await runWatch();
    expect(after.result.overAge).toEqual([]);
    expect(after.result.count).toBe(1);
    expect(metricValues(after.emf, 'LlamaFinetune', 'OldestRunProvisionedThroughputAge')[0]).toBeLessThan(MAX_AGE_SECONDS);
    // It only listed and read tags: nothing was created or deleted by the watch.
    expect(h.aws.callLog.count({ principal: h.runner.functionLogicalId('provisioned-throughput-watch'), operation: 'DeleteProvisionedModelThroughput' })).toBe(0);
    expect(h.aws.callLog.count({ principal: h.runner.functionLogicalId('provisioned-throughput-watch'), operation: 'ListTagsForResource' })).toBeGreaterThan(0);
  });

  test('no run\'s Provisioned Throughput left: age 0, so the alarm has data and stays OK', async () => {
    for (const pt of h.aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelName.startsWith('eval-'))) {
      await bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: pt.provisionedModelArn }));
    }
    const { result, emf } = await runWatch();
    expect(result).toEqual({ count: 0, oldestAgeSeconds: 0, overAge: [], deleted: [] });
    expect(metricValues(emf, 'LlamaFinetune', 'OldestRunProvisionedThroughputAge')).toEqual([0]);
  });

  test('the watch deletes the Provisioned Throughputs of this deployment\'s ended runs, even after Bedrock refused deletions; a running run\'s is kept', async () => {
    const record = (runId: string, status: string) => JSON.stringify({ schemaVersion: 1, runId, executionArn: `arn:aws:states:us-west-2:111122223333:execution:x:${runId}`, status, timeline: [] });
    const ended = 'ended-run-0123456789ab';
    const running = 'running-run-0123456789ab';
    const refused = 'refused-run-0123456789ab';
    h.aws.s3.putObject(h.artifacts, `runs/${ended}/run.json`, record(ended, 'FAILED'));
    h.aws.s3.putObject(h.artifacts, `runs/${running}/run.json`, record(running, 'RUNNING'));
    h.aws.s3.putObject(h.artifacts, `runs/${refused}/run.json`, record(refused, 'TIMED_OUT'));
    const endedArn = await provisioned(`eval-${ended}`, 2 * HOUR);
    const runningArn = await provisioned(`eval-${running}`, 2 * HOUR);
    const refusedArn = await provisioned(`eval-${refused}`, 2 * HOUR);
    // Another deployment's, whose run record happens to sit here too: never ours to delete.
    h.aws.s3.putObject(h.artifacts, 'runs/foreign-run-0123456789ab/run.json', record('foreign-run-0123456789ab', 'FAILED'));
    const foreignArn = await provisioned('eval-foreign-run-0123456789ab', 2 * HOUR, 's3://another-deployment-datasets/requests/run.json');

    const remaining = () => h.aws.bedrock.provisionedThroughputs().map((p) => p.provisionedModelArn);

    // Bedrock refuses every deletion (as while a throughput is busy): the check still measures, and says so.
    h.aws.bedrock.injectError('forever', 'ConflictException', { operation: 'DeleteProvisionedModelThroughput' });
    const refusedCheck = await runWatch();
    h.aws.bedrock.clearFaults();
    expect(refusedCheck.result.deleted).toEqual([]);
    expect(remaining()).toEqual(expect.arrayContaining([endedArn, refusedArn, runningArn, foreignArn]));
    const refusals = refusedCheck.lines.map((l) => JSON.parse(l)).filter((l) => l.message === 'Bedrock refused to delete the Provisioned Throughput of an ended run; the next check tries again');
    expect(refusals.map((l) => l.runId).sort()).toEqual([ended, refused]);
    expect(metricValues(refusedCheck.emf, 'LlamaFinetune', 'RunProvisionedThroughputs')).toEqual([refusedCheck.result.count]);

    // The next check meets two more refusals, which its retries absorb, and deletes both; the running run's and the other deployment's stay.
    h.aws.bedrock.injectError(2, 'ConflictException', { operation: 'DeleteProvisionedModelThroughput' });
    const next = await runWatch();
    expect([...next.result.deleted].sort()).toEqual([`eval-${ended}`, `eval-${refused}`]);
    expect(remaining()).not.toContain(endedArn);
    expect(remaining()).not.toContain(refusedArn);
    expect(remaining()).toEqual(expect.arrayContaining([runningArn, foreignArn]));
    // What was deleted no longer counts.
    expect(next.result.count).toBe(refusedCheck.result.count - 2);
    for (const arn of [runningArn, foreignArn]) await bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }));
  });

  test('a training run publishes its job\'s duration once, from check-job, with the run id', async () => {
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    const { executions } = await h.upload('requests/timed.json', { name: 'timed', model: 'llama3.2-1b', trainingData: 'data/train.jsonl' });
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    const job = h.aws.bedrock.jobs().find((j) => j.jobName.startsWith('timed-'))!;
    const record = h.runRecord(job.jobName)!;

    const emfOfRun = () => emfDocuments(h.runner.functionLogs('check-job').map((l) => l.line)).filter((d) => d.fields.runId === record.runId);
    await waitFor('check-job\'s metrics line', () => emfOfRun().length > 0);
    await h.runner.idle();
    const emf = emfOfRun();
    expect(emf).toHaveLength(1);
    expect(emf[0].fields.step).toBe('check-job');
    expect(metricValues(emf, 'LlamaFinetune', 'JobDuration')).toEqual([(job.endTime!.getTime() - job.creationTime.getTime()) / 1000]);
    expect(emf[0].metrics[0]).toMatchObject({ unit: 'Seconds', dimensionSets: [{ Environment: 'test' }] });
  });

  test('every line every function wrote is JSON, and every line of a run\'s step carries its run id', () => {
    const runSteps = new Set(['begin-run', 'validate-dataset', 'launch-job', 'check-job', 'prepare-evaluation', 'provisioned-throughput', 'infer-shard', 'score-evaluation']);
    const lines = h.runner.functionLogs().filter((l) => l.stream === 'stdout' && l.line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const { line } of lines) {
      const parsed = JSON.parse(line) as { step?: string; runId?: string };
      expect(typeof parsed.step).toBe('string');
      if (runSteps.has(parsed.step!)) expect(parsed.runId).toEqual(expect.any(String));
    }
  });

  test('every call was allowed by the synthesized roles', () => {
    expect(h.runner.checkIam().denied).toEqual([]);
  });
});
