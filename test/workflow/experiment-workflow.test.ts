/**
 * Experiments end to end through the synthesized state machine, run offline against the
 * stand-ins: one upload with `experiment` validates once, computes the base model's answers
 * once, runs each variant as its own run (a child execution of the same state machine) at most
 * maxConcurrentJobs at a time, ranks them on a leaderboard and promotes only the best. Jobs are
 * held ("manual") so the test decides when each ends, and the queueing shows in the order the
 * jobs are created.
 */
import { Duration } from 'aws-cdk-lib';
import { Leaderboard } from '../../lambda/shared/leaderboard';
import { ExperimentRecord, RunRecord } from '../../lambda/shared/run-record';
import { ConverseInvocation } from '../support/local-bedrock-runtime';
import { TEST_PROPS, WorkflowHarness, arithmeticRecords, startHarness, waitFor } from './harness';

const TEST_RECORDS = 12;

/**
 * Answers known by construction, by the variant whose custom model answers (its name ends the
 * model's name): d is always right, c unless the first number is a multiple of 4, a on even
 * numbers; the base model on multiples of 3. Base F1 4/12, a 6/12, c 9/12, d 12/12.
 */
function respond(invocation: ConverseInvocation): string {
  const [a, b] = (/What is (\d+) plus (\d+)/.exec(invocation.lastUserText) ?? []).slice(1).map(Number);
  const right = String(a + b);
  if (invocation.target.kind !== 'provisioned-model') return a % 3 === 0 ? right : 'no idea';
  const variant = /-([a-z])$/.exec(invocation.target.customModelName ?? '')?.[1];
  if (variant === 'd') return right;
  if (variant === 'c') return a % 4 !== 0 ? right : 'no idea';
  return a % 2 === 0 ? right : 'no idea';
}

describe('experiments (offline, as synthesized)', () => {
  let h: WorkflowHarness;
  const request = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    model: 'llama3.2-11b',
    trainingData: 'data/train.jsonl',
    testData: 'data/test.jsonl',
    evaluation: { maxTokens: 16 },
    experiment: {
      variants: [
        { name: 'a', hyperParameters: { learningRate: 0.0001 } },
        { name: 'b', hyperParameters: { learningRate: 0.00005 } },
        { name: 'c', hyperParameters: { epochCount: 2 } },
        { name: 'd', hyperParameters: { epochCount: 3 } },
      ],
    },
    ...extra,
  });
  const experimentRecord = (name: string) => h.runRecords().find((r) => r.run.requestName === name && r.run.experiment?.kind === 'experiment');
  const variantRecords = (experimentRunId: string) =>
    h
      .runRecords()
      .filter((r) => r.run.experiment?.kind === 'variant' && r.run.experiment.experimentRunId === experimentRunId)
      .sort((x, y) => (x.run.experiment as { variantIndex: number }).variantIndex - (y.run.experiment as { variantIndex: number }).variantIndex);
  const jobsOf = (experimentRunId: string) => h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith(`${experimentRunId}-`));

  beforeAll(async () => {
    h = await startHarness({
      ...TEST_PROPS,
      maxConcurrentJobs: 2,
      evaluation: { shardSize: 5, maxConcurrency: 2, provisioningPollInterval: Duration.minutes(1), qualityGate: { minImprovementPercent: 10 } },
    }, {
      // Held jobs end by their event; a safety poll every few milliseconds would spin through the history.
      tokenWaitOverrides: { WaitForJobEnd: 120_000 },
    });
    h.aws.runtime.respond = respond;
    h.aws.s3.putObject(h.datasets, 'data/train.jsonl', arithmeticRecords(120));
    h.aws.s3.putObject(h.datasets, 'data/test.jsonl', arithmeticRecords(TEST_RECORDS));
  });
  afterAll(async () => h?.stop());
  afterEach(() => {
    h.aws.bedrock.scenario.job = {};
    h.aws.bedrock.scenario.provisionedThroughput = {};
  });

  test('4 variants, 2 at a time: validated once, baseline once, a failed variant fails alone, ranked, only the best promoted', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const callsBefore = h.aws.runtime.invocations().length;
    const { executions } = await h.upload('requests/sweep.json', request('sweep'));
    expect(executions).toHaveLength(1);

    // Two variants train; the other two wait for them (request order).
    let ended: unknown;
    void executions[0].result.then((o) => (ended = o));
    await waitFor('the first two variants\' jobs', () => {
      if (ended) throw new Error(`the experiment ended early: ${JSON.stringify(h.runRecords().map((r) => [r.runId, r.status, r.outcome, r.experiment?.variants]))}`);
      return h.aws.bedrock.jobs().length >= 2;
    });
    const experiment = experimentRecord('sweep')!;
    const id = experiment.runId;
    await waitFor('both running variants waiting for their jobs', () => h.aws.stepFunctions.waitingTasks().filter((t) => t.stateName === 'WaitForJobEnd').length === 2);
    expect(jobsOf(id).map((j) => j.jobName)).toEqual([`${id}-a`, `${id}-b`]);
    expect(h.runner.executionNamed(`${id}-c`)).toBeUndefined();

    // a completes, b fails: c and d start as the slots free up.
    h.aws.bedrock.completeJob(`${id}-a`);
    await waitFor('a third job', () => jobsOf(id).length === 3);
    expect(jobsOf(id).map((j) => j.jobName)).toEqual([`${id}-a`, `${id}-b`, `${id}-c`]);
    h.aws.bedrock.failJob(`${id}-b`, 'The training data has a problem Bedrock found.');
    await waitFor('the fourth job', () => jobsOf(id).length === 4);
    h.aws.bedrock.completeJob(`${id}-c`);
    h.aws.bedrock.completeJob(`${id}-d`);

    const outcome = await executions[0].result;
    expect(outcome.status).toBe('SUCCEEDED');
    expect(outcome.transitions).toEqual(expect.arrayContaining(['ShouldShareBaseline', 'PrepareBaseline', 'RecordBaseline', 'PlanVariants', 'RunVariants', 'RunVariant', 'BuildLeaderboard', 'PromoteBestVariant', 'RecordExperimentOutcome', 'ExperimentSucceeded']));
    expect(outcome.transitions).not.toContain('LaunchJob');

    // Validated once (the experiment's ValidateDataset), never by a variant.
    expect(h.runner.invocations('validate-dataset').filter((i) => (i.event as { run: { runId: string } }).run.runId.startsWith(id))).toHaveLength(1);

    // The base model answered each test record once (the shared baseline); each trained variant's model answered each once.
    const calls = h.aws.runtime.invocations().slice(callsBefore);
    expect(calls.filter((c) => c.targetKind === 'inference-profile')).toHaveLength(TEST_RECORDS);
    expect(calls.filter((c) => c.targetKind === 'provisioned-model')).toHaveLength(3 * TEST_RECORDS);
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);

    // Each variant is a run of its own: record, job, scores on the same baseline.
    const variants = variantRecords(id);
    expect(variants.map((v) => [v.runId, v.status])).toEqual([
      [`${id}-a`, 'SUCCEEDED'],
      [`${id}-b`, 'FAILED'],
      [`${id}-c`, 'SUCCEEDED'],
      [`${id}-d`, 'SUCCEEDED'],
    ]);
    const byName = Object.fromEntries(variants.map((v) => [v.run.experiment!.kind === 'variant' ? v.run.experiment!.variantName : '', v])) as Record<string, RunRecord>;
    expect(byName.a.job!.hyperParameters.learningRate).toBe('0.0001');
    expect(byName.d.job!.hyperParameters.epochCount).toBe('3');
    expect(byName.b.outcome!.cause).toContain('The training data has a problem Bedrock found.');
    for (const v of [byName.a, byName.c, byName.d]) {
      expect(v.evaluation!.baseF1).toBeCloseTo((4 / 12) * 100, 6);
      expect(v.evaluation!.baselineUri).toBe(experimentRecord('sweep')!.experiment!.baselineUris![0]);
      expect(v.validation!.valid).toBe(true);
      expect(v.costEstimate?.totalTokens).toBeGreaterThan(0);
    }
    expect([byName.a, byName.c, byName.d].map((v) => v.evaluation!.fineTunedF1)).toEqual([50, 75, 100]);

    // The leaderboard ranks by fine-tuned F1; the failed variant comes last; the best is named and alone promoted.
    const record = experimentRecord('sweep')!;
    const section = record.experiment as ExperimentRecord;
    expect(record.status).toBe('SUCCEEDED');
    expect(section.variants!.map((v) => [v.name, v.status])).toEqual([['a', 'SUCCEEDED'], ['b', 'FAILED'], ['c', 'SUCCEEDED'], ['d', 'SUCCEEDED']]);
    expect(section.best).toEqual({ name: 'd', runId: `${id}-d` });
    const board = JSON.parse(h.aws.s3.getObject(h.artifacts, `runs/${id}/leaderboard.json`)!.toString()) as Leaderboard;
    // The ranking follows the variants' own scores (read back from their records), failed last.
    const scoreOf = (name: string) => byName[name].evaluation!.fineTunedF1;
    expect(board.entries.map((e) => [e.name, e.rank, e.standing])).toEqual([['d', 1, 'RANKED'], ['c', 2, 'RANKED'], ['a', 3, 'RANKED'], ['b', null, 'FAILED']]);
    expect(['d', 'c', 'a'].map(scoreOf)).toEqual([...['d', 'c', 'a'].map(scoreOf)].sort((x, y) => y - x));
    expect(board.baseline).toMatchObject({ shared: true });
    expect(board.baseline!.f1).toBeCloseTo((4 / 12) * 100, 6);
    expect(board.best).toEqual({ name: 'd', runId: `${id}-d` });
    expect(h.aws.s3.getObject(h.artifacts, `runs/${id}/leaderboard.html`)!.toString()).toContain('<svg');
    expect(byName.d.promotion).toMatchObject({ promoted: true });
    expect(byName.a.promotion).toBeUndefined();
    expect(byName.c.promotion).toBeUndefined();
    expect(section.bestPromotion).toEqual({ status: 'SUCCEEDED' });

    // One message and one event summarize the experiment.
    const message = h.aws.sns.messages(h.topicArn).find((m) => m.message.includes(`experiment ${id}`))!;
    expect(message.message).toContain('Experiment: 4 variants, 3 succeeded, 1 did not');
    expect(message.message).toContain(`Best variant: d (run ${id}-d)`);
    expect(message.message).toContain(`Leaderboard: s3://${h.artifacts}/runs/${id}/leaderboard.html`);
    const event = h.aws.events.events({ source: 'llama-finetune', detailType: 'Fine-tuning Run Finished' }).find((e) => (e.detail as { runId: string }).runId === id)!;
    expect(event.detail).toMatchObject({ outcome: 'SUCCEEDED', experiment: { variants: 4, succeeded: 3, bestVariant: 'd', bestRunId: `${id}-d` } });

    // Every call the functions and the state machine made was allowed by the synthesized IAM.
    await h.runner.idle();
    expect(h.runner.checkIam().denied).toEqual([]);
  });

  test('aborting the experiment stops every variant: 0 jobs training, 0 Provisioned Throughputs left, the queued variant never starts', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    h.aws.bedrock.setProvisionedThroughputScenario({ afterPolls: 'manual' });
    const { executions } = await h.upload('requests/abort.json', request('abort', { experiment: { grid: { learningRate: [0.0001, 0.00005, 0.00002] } } }));
    await waitFor('two variants training', () => h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith('abort-')).length === 2);
    const id = experimentRecord('abort')!.runId;
    const [first, second] = jobsOf(id);
    // The first variant trains to the end and is being evaluated on its own Provisioned Throughput; the second still trains.
    h.aws.bedrock.completeJob(first.jobName);
    await waitFor('the first variant\'s Provisioned Throughput', () => h.aws.bedrock.provisionedThroughputs().some((p) => p.provisionedModelName.includes(first.jobName)));

    executions[0].abort();
    expect((await executions[0].result).status).toBe('ABORTED');
    await waitFor('every variant execution ended', () => variantRecords(id).length === 2 && variantRecords(id).every((r) => r.status !== 'RUNNING'));
    await h.runner.idle();

    expect(h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith(id) && j.status === 'InProgress')).toEqual([]);
    expect(h.aws.bedrock.jobs().find((j) => j.jobArn === second.jobArn)!.status).toMatch(/^Stopp(ing|ed)$/);
    expect(h.aws.bedrock.provisionedThroughputs()).toEqual([]);
    expect(experimentRecord('abort')!.status).toBe('ABORTED');
    expect(variantRecords(id).map((r) => r.status)).toEqual(['ABORTED', 'ABORTED']);
    // The third variant was queued: no execution, no job, no record.
    expect(jobsOf(id)).toHaveLength(2);
    expect(h.runner.executionNamed(`${id}-lr2e-5`)).toBeUndefined();
    // The experiment's cleanup stopped the variants' executions (through Step Functions' API), and each variant's own cleanup its job and throughput.
    const stops = h.aws.callLog.entries().filter((c) => c.action === 'states:StopExecution');
    expect(stops.map((c) => c.resources[0]).sort()).toEqual(variantRecords(id).map((r) => r.run.executionArn).sort());
    expect(h.runner.checkIam().denied).toEqual([]);
  });

  test('an experiment over its budget is refused before any job, naming each variant\'s estimate and the total', async () => {
    const jobsBefore = h.aws.bedrock.jobs().length;
    const { executions } = await h.upload('requests/costly.json', request('costly', { budget: { maxTokens: 1000 } }));
    const outcome = await executions[0].result;
    expect(outcome.status).toBe('FAILED');
    expect(outcome.error).toBe('OverBudget');
    expect(outcome.transitions).not.toContain('RunVariants');
    expect(h.aws.bedrock.jobs()).toHaveLength(jobsBefore);
    const record = experimentRecord('costly')!;
    expect(record.outcome!.cause).toMatch(/The experiment of 4 variants is estimated at: variant a \(llama3\.2-11b\): [\d,]+ tokens; .*variant d .*baseline of llama3\.2-11b, computed once for a, b, c, d: 12 test records.*total: [\d,]+ tokens\. That is over the budget of 1,000 tokens set by the run request/);
    expect(record.experiment?.costEstimate?.variants.map((v) => v.name)).toEqual(['a', 'b', 'c', 'd']);
  });

  test('the largest experiment (8 variants, a 40-character name) stays within Step Functions\' payload and history limits, as the runner enforces them', async () => {
    h.aws.bedrock.setJobScenario({ afterPolls: 'manual' });
    const name = 'x'.repeat(32) + '-largest';
    const grid = { learningRate: [0.0001, 0.00005, 0.00002, 0.00001], epochCount: [2, 3] };
    const { executions } = await h.upload('requests/largest.json', request(name, { experiment: { grid } }));
    let ended = false;
    void executions[0].result.then(() => (ended = true));
    // Jobs end as soon as they exist; at most two at once.
    let mostAtOnce = 0;
    await waitFor('the experiment to end', () => {
      // Variant run ids keep the start of the experiment's (cut to 53 characters with a digest).
      const training = h.aws.bedrock.jobs().filter((j) => j.jobName.startsWith('x'.repeat(32)) && j.status === 'InProgress');
      mostAtOnce = Math.max(mostAtOnce, training.length);
      for (const job of training) h.aws.bedrock.completeJob(job.jobArn);
      return ended;
    }, 240_000);
    const outcome = await executions[0].result;
    if (outcome.status !== 'SUCCEEDED') throw new Error(`the experiment ended ${outcome.status}: ${h.runRecords().filter((r) => r.run.requestName === name).map((r) => `${r.runId} ${r.status} ${r.outcome?.cause ?? ''}`.slice(0, 400)).join('\n')}`);
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    const id = experimentRecord(name)!.runId;
    expect(id.length).toBe(53);
    expect(variantRecords(id).map((r) => r.status)).toEqual(Array(8).fill('SUCCEEDED'));
    // The runner fails an execution whose state input, output or task result passes 256 KiB, or whose history passes 25,000 events.
    expect(outcome.historyEventCount).toBeLessThan(25_000);
    const largest = Math.max(...outcome.events.flatMap((e) => [e.input, e.output].map((v) => Buffer.byteLength(JSON.stringify(v ?? null)))));
    expect(largest).toBeLessThan(256 * 1024);
    const childHistories = await Promise.all(variantRecords(id).map(async (r) => (await h.runner.executionNamed(r.runId)!.result).historyEventCount));
    process.stdout.write(`largest experiment: ${outcome.historyEventCount} history events in the experiment's execution, at most ${Math.max(...childHistories)} in a variant's; largest state input or output ${largest} bytes (limits 25,000 and 262,144)\n`);
  }, 300_000);
});
