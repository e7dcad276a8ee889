/**
 * `npm run demo`: one complete fine-tuning run, offline, in well under a minute.
 *
 * It synthesizes the LlamaFinetuning stack, starts local stand-ins of S3, Bedrock, Bedrock
 * Runtime, SNS and EventBridge on 127.0.0.1, uploads a generated sample dataset and a run
 * request, and lets the synthesized state machine run with the real handler code: validate,
 * train (the Bedrock stand-in plays the job), evaluate base vs fine-tuned with SQuAD F1 on a
 * Provisioned Throughput it creates and deletes, and report; then promote the model (the SSM
 * registry) and point the team's serving Provisioned Throughput at it. It prints every state
 * transition, the final run record, where the HTML report was written, and ends with the
 * promoted model's registry entry and the calls an application makes to use it.
 *
 * `npm run demo -- --experiment`: the same request as a 3-variant experiment (learning rate and
 * epochs, at most 2 jobs at once): the data is validated once, the base model answers the test
 * records once (the shared baseline), each variant trains and is evaluated as its own run, and
 * the experiment writes its leaderboard; it prints the jobs as they start and end (the third
 * waits for a free slot), the ranking, and where the leaderboard files are. It opens nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { BedrockClient, CreateModelCustomizationJobCommand, CreateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning, LlamaFinetuningProps } from '../lib';
import type { Leaderboard } from '../lambda/shared/leaderboard';
import { RunRecord } from '../lambda/shared/run-record';
import { testStack } from '../test/support/cdk';
import { mostJobsAtOnce } from '../test/support/job-overlap';
import { LocalAws, startLocalAws } from '../test/support/local-aws';
import { LocalWorkflowRunner, WorkflowExecution } from '../test/support/local-workflow';
import { demoAnswer, demoMissEvery, sampleDataset, sampleExperimentRequest } from './sample-dataset';

/** Where the report files are copied; DEMO_OUTPUT_DIR overrides it (the demo's test writes to a temporary folder). */
const OUTPUT_DIR = process.env.DEMO_OUTPUT_DIR || path.join(__dirname, '..', 'demo-output');

/**
 * Set on the demo's functions only: the report marks every figure the stand-ins produced, so a
 * demo report is never mistaken for a real evaluation (a deployed stack never sets it).
 */
const DEMO_FUNCTION_ENVIRONMENT = { REPORT_MADE_WITH_STAND_INS: 'true' } as const;

/** `npm run demo -- --experiment` */
const EXPERIMENT = process.argv.slice(2).includes('--experiment');
/** How many of the experiment's variants train at once (the rest wait in request order). */
const EXPERIMENT_MAX_CONCURRENT_JOBS = 2;

/** What both modes share: the stand-ins, the synthesized stack's runner and its buckets. */
interface DemoSetup {
  readonly aws: LocalAws;
  readonly runner: LocalWorkflowRunner;
  readonly finetuning: LlamaFinetuning;
  readonly servingArn: string;
  readonly datasets: string;
  readonly artifacts: string;
  readonly sample: ReturnType<typeof sampleDataset>;
  /** Seconds since the demo started, padded for the timeline. */
  readonly elapsed: () => string;
  readonly started: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  console.log('Synthesizing the LlamaFinetuning stack and starting local AWS stand-ins...');
  const aws = await startLocalAws();
  const stack = testStack(undefined, 'DemoStack');
  const servingArn = await teamServingThroughput(aws);
  const props: LlamaFinetuningProps = {
    environmentName: 'demo',
    pollInterval: Duration.hours(1), // the safety poll; the job's end event moves the run on
    evaluation: { shardSize: 5, maxConcurrency: 4, qualityGate: { minImprovementPercent: 20 } },
    promotion: { servingProvisionedModelArn: servingArn },
  };
  const finetuning = new LlamaFinetuning(stack, 'Finetuning', EXPERIMENT ? { ...props, maxConcurrentJobs: EXPERIMENT_MAX_CONCURRENT_JOBS } : props);
  aws.bedrock.scenario.modelUpdate = { afterPolls: 1 };
  const runner = await LocalWorkflowRunner.create({ template: Template.fromStack(stack), aws, waitMs: 20, retryMs: 20, functionEnvironment: DEMO_FUNCTION_ENVIRONMENT });
  try {
    const datasets = runner.bucketName('FinetuningStorageDataset');
    const artifacts = runner.bucketName('FinetuningStorageArtifacts');
    const sample = sampleDataset(datasets, aws.accountId);
    for (const [key, body] of Object.entries(sample.files)) aws.s3.putObject(datasets, key, body);
    console.log(`${elapsed()}  uploaded ${Object.keys(sample.files).length} files to s3://${datasets}/demo/`);
    const setup: DemoSetup = { aws, runner, finetuning, servingArn, datasets, artifacts, sample, elapsed, started };
    const succeeded = EXPERIMENT ? await experimentDemo(setup) : await singleRunDemo(setup);
    console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (!succeeded) process.exitCode = 1;
  } finally {
    await runner.stop();
    await aws.stop();
  }
}

/** Uploads `request` under requests/ and returns the one execution its S3 event started. */
async function uploadRequest(setup: DemoSetup, key: string, request: unknown): Promise<WorkflowExecution> {
  const { aws, runner, datasets, elapsed } = setup;
  aws.s3.putObject(datasets, key, JSON.stringify(request, null, 2));
  console.log(`${elapsed()}  uploaded the run request s3://${datasets}/${key}`);
  const { executions } = await runner.putS3ObjectCreated(datasets, key);
  if (executions.length !== 1) throw new Error(`expected the upload to start one execution, it started ${executions.length}`);
  console.log(`${elapsed()}  EventBridge started execution ${executions[0].name}\n`);
  return executions[0];
}

/** Prints the execution's state transitions as they happen (Map iterations once per item); call the returned function once more at the end. */
function followTransitions(execution: WorkflowExecution, elapsed: () => string, indent = ''): () => void {
  let printed = 0;
  return () => {
    for (; printed < execution.events.length; printed++) {
      const e = execution.events[printed];
      if (e.type === 'StateEntered') console.log(`${elapsed()}  ${indent}-> ${e.state}${e.index !== undefined && EXPERIMENT ? ` [${e.index}]` : ''}`);
      else if (e.type === 'StateRetried') console.log(`${elapsed()}  ${indent}   retrying ${e.state}`);
      else if (e.type === 'StateFailed' && e.error === 'States.Timeout') console.log(`${elapsed()}  ${indent}   ${e.state}: no event within the safety-poll interval; checking the job again`);
      else if (e.type === 'StateCaught' && execution.events[printed - 1]?.error === 'States.Timeout') continue;
      else if (e.type === 'StateCaught' || e.type === 'StateFailed') console.log(`${elapsed()}  ${indent}   ${e.type === 'StateCaught' ? 'caught' : 'failed'} in ${e.state}`);
    }
  };
}

/** `npm run demo`: one run, its record, notification, report and promoted model. */
async function singleRunDemo(setup: DemoSetup): Promise<boolean> {
  const { aws, runner, finetuning, servingArn, artifacts, sample, elapsed } = setup;
  aws.runtime.respond = (invocation) => demoAnswer(invocation.lastUserText, invocation.target.kind === 'provisioned-model');
  const execution = await uploadRequest(setup, 'requests/demo-charts-11b.json', sample.request);

  const printNew = followTransitions(execution, elapsed);
  const ticker = setInterval(printNew, 25);
  const outcome = await execution.result;
  clearInterval(ticker);
  printNew();
  await runner.idle();

  console.log(`\n${elapsed()}  execution ${outcome.status}${outcome.error ? ` (${outcome.error}: ${outcome.cause})` : ''}`);
  const recordKey = aws.s3.listKeys(artifacts, 'runs/').find((k) => k.endsWith('/run.json'));
  if (!recordKey) throw new Error('no run record was written');
  const record = JSON.parse(aws.s3.getObject(artifacts, recordKey)!.toString()) as RunRecord;
  console.log(`\nRun record s3://${artifacts}/${recordKey}:`);
  console.log(
    JSON.stringify(
      {
        runId: record.runId,
        status: record.status,
        job: record.job && { jobName: record.job.jobName, status: record.job.status, hyperParameters: record.job.hyperParameters, customModel: record.job.outputModelArn },
        training: record.metrics?.training && { steps: record.metrics.training.steps, finalLoss: record.metrics.training.finalLoss, lossPerEpoch: record.metrics.training.lossPerEpoch },
        evaluation: record.evaluation,
        provisionedThroughput: record.provisionedThroughput,
        timeline: record.timeline.map((t) => `${t.at}  ${t.event}`),
      },
      null,
      2,
    ),
  );
  console.log(`\nProvisioned Throughputs the run created still existing: ${aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelArn !== servingArn).length} (the team's serving one stays)`);
  const message = aws.sns.messages()[0];
  if (message) console.log(`\nNotification "${message.subject}":\n${message.message}`);

  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  for (const ext of ['html', 'md', 'json']) {
    const body = aws.s3.getObject(artifacts, `runs/${record.runId}/report.${ext}`);
    if (body) fs.writeFileSync(path.join(OUTPUT_DIR, `report.${ext}`), body);
  }
  console.log(`\nReport written to ${path.join(OUTPUT_DIR, 'report.html')} (open it in a browser)`);
  await showPromotedModel(finetuning.modelRegistryParameterName(String(sample.request.name)), servingArn);
  return outcome.status === 'SUCCEEDED';
}

/**
 * The experiment's section of its run record, as far as the demo reads it (the experiment
 * execution writes it; see lambda/shared/run-record.ts).
 */
interface ExperimentRecordView {
  readonly variants?: ReadonlyArray<{ readonly name: string; readonly runId: string; readonly status?: string; readonly error?: string }>;
  readonly leaderboard?: { readonly jsonUri: string; readonly markdownUri: string; readonly htmlUri: string };
  readonly best?: { readonly name: string; readonly runId: string };
}

/** `npm run demo -- --experiment`: 3 variants, 2 jobs at once, one shared baseline, the leaderboard. */
async function experimentDemo(setup: DemoSetup): Promise<boolean> {
  const { aws, runner, finetuning, servingArn, artifacts, sample, elapsed } = setup;
  // The fine-tuned stand-in's answers depend on the hyperparameters its job trained with, so the variants rank apart.
  const jobOfModel = (modelArn: string) => aws.bedrock.jobs().find((j) => j.outputModelArn === modelArn);
  aws.runtime.respond = (invocation) => {
    if (invocation.target.kind !== 'provisioned-model') return demoAnswer(invocation.lastUserText, false);
    return demoAnswer(invocation.lastUserText, true, demoMissEvery(jobOfModel(invocation.target.customModelArn)?.hyperParameters ?? {}));
  };
  const request = sampleExperimentRequest(sample);
  const variantNames = (request.experiment as { variants: Array<{ name: string }> }).variants.map((v) => v.name);
  console.log(`${elapsed()}  experiment "${String(request.name)}": ${variantNames.map((name, i) => `[${i}] ${name}`).join(', ')}; at most ${EXPERIMENT_MAX_CONCURRENT_JOBS} training jobs at once`);
  // The demo's Bedrock ends the first job only once the queue has been full (or nothing is left
  // to queue), so the queueing shows however fast each variant reaches its job on this machine.
  aws.bedrock.setJobScenario({ afterPolls: 'manual' });
  const execution = await uploadRequest(setup, 'requests/demo-charts-sweep.json', request);

  // The experiment's own states, and the variants' Bedrock jobs as they start and end (the queueing).
  const printNew = followTransitions(execution, elapsed);
  const seen = new Map<string, string>();
  const variantJobs = () => aws.bedrock.jobs().filter((j) => j.jobName !== 'team-earlier-model');
  const printJobs = () => {
    const jobs = variantJobs();
    const training = jobs.filter((j) => j.status === 'InProgress').length;
    for (const job of jobs) {
      if (seen.get(job.jobArn) === job.status) continue;
      const verb = job.status === 'InProgress' ? 'started' : job.status.toLowerCase();
      console.log(`${elapsed()}     job ${job.jobName} ${verb} (${training} training now)`);
      seen.set(job.jobArn, job.status);
    }
  };
  let queueWasFull = false;
  const finishTrainingOnceQueueFull = () => {
    const jobs = variantJobs();
    const training = jobs.filter((j) => j.status === 'InProgress');
    if (training.length === 0) return;
    const sinceNewestMs = Date.now() - Math.max(...jobs.map((j) => j.creationTime.getTime()));
    // Full, or every variant has its job, or no job came for 15 s (a variant that ended before
    // training; long enough that a loaded machine's slow variant still overlaps).
    queueWasFull ||= training.length >= EXPERIMENT_MAX_CONCURRENT_JOBS || jobs.length === variantNames.length || sinceNewestMs > 15_000;
    // A moment after the newest start, so the overlap is plain in the jobs' times too.
    if (queueWasFull && sinceNewestMs >= 50) aws.bedrock.completeJob(training[0].jobArn);
  };
  let tickError: unknown;
  const ticker = setInterval(() => {
    try {
      printNew();
      printJobs();
      finishTrainingOnceQueueFull();
    } catch (err) {
      // Thrown in a timer it would crash the process; the demo fails with it once the run ends.
      tickError ??= err;
    }
  }, 25);
  const outcome = await execution.result;
  clearInterval(ticker);
  if (tickError) throw tickError;
  printNew();
  printJobs();
  await runner.idle();
  console.log(`\n${elapsed()}  experiment execution ${outcome.status}${outcome.error ? ` (${outcome.error}: ${outcome.cause})` : ''}`);

  const records = aws.s3
    .listKeys(artifacts, 'runs/')
    .filter((k) => /^runs\/[^/]+\/run\.json$/.test(k))
    .map((key) => ({ key, record: JSON.parse(aws.s3.getObject(artifacts, key)!.toString()) as RunRecord & { experiment?: ExperimentRecordView } }));
  const experiment = records.find((r) => r.record.experiment !== undefined);
  if (!experiment) throw new Error(`no experiment record was written (run records: ${records.map((r) => r.key).join(', ') || 'none'})`);
  const runId = experiment.record.runId;
  console.log(`\nExperiment record s3://${artifacts}/${experiment.key}: ${experiment.record.status}`);
  for (const variant of experiment.record.experiment?.variants ?? []) {
    console.log(`  ${variant.name.padEnd(18)} run ${variant.runId}: ${variant.status ?? 'not ended'}${variant.error ? ` (${variant.error})` : ''}`);
  }
  const calls = aws.runtime.invocations();
  const baseCalls = calls.filter((c) => c.targetKind === 'inference-profile').length;
  const fineTunedCalls = calls.filter((c) => c.targetKind === 'provisioned-model').length;
  console.log(`\nModel calls: ${baseCalls} to the base model (the shared baseline, once for all ${variantNames.length} variants), ${fineTunedCalls} to the fine-tuned models`);
  console.log(`Training jobs at once: at most ${mostJobsAtOnce(variantJobs())} (maxConcurrentJobs ${EXPERIMENT_MAX_CONCURRENT_JOBS})`);
  console.log(`Provisioned Throughputs the experiment created still existing: ${aws.bedrock.provisionedThroughputs().filter((p) => p.provisionedModelArn !== servingArn).length} (the team's serving one stays)`);

  const boardBody = aws.s3.getObject(artifacts, `runs/${runId}/leaderboard.json`);
  if (!boardBody) throw new Error(`the experiment wrote no leaderboard (s3://${artifacts}/runs/${runId}/leaderboard.json is missing)`);
  const board = JSON.parse(boardBody.toString()) as Leaderboard;
  console.log(`\nLeaderboard (${board.baseline ? `base model F1 ${board.baseline.f1.toFixed(2)}${board.baseline.shared ? ', one shared baseline' : ''}` : 'no baseline'}):`);
  for (const entry of board.entries) {
    const place = entry.rank === null ? entry.standing.toLowerCase().replace('_', ' ') : `#${entry.rank}`;
    const settings = Object.entries(entry.hyperParameters).map(([k, v]) => `${k} ${v}`).join(', ');
    const scores = entry.scores
      ? `F1 ${entry.scores.fineTunedF1.toFixed(2)}, exact match ${entry.scores.fineTunedExactMatch.toFixed(2)}, ${entry.scores.relativeImprovementPercent === null ? 'n/a' : `${entry.scores.relativeImprovementPercent >= 0 ? '+' : ''}${entry.scores.relativeImprovementPercent.toFixed(1)}%`} vs base`
      : (entry.error ?? 'not evaluated');
    console.log(`  ${place.padEnd(4)} ${entry.name.padEnd(18)} ${scores}; gate ${entry.gate ? (entry.gate.passed ? 'passed' : 'failed') : '-'}; ${settings}`);
  }
  console.log(`Best variant: ${board.best ? `${board.best.name} (run ${board.best.runId})` : 'none'}. ${board.bestReason}`);
  const message = aws.sns.messages().at(-1);
  if (message) console.log(`\nNotification "${message.subject}":\n${message.message}`);

  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  const written: string[] = [];
  for (const ext of ['html', 'md', 'json']) {
    const body = aws.s3.getObject(artifacts, `runs/${runId}/leaderboard.${ext}`);
    if (!body) continue;
    fs.writeFileSync(path.join(OUTPUT_DIR, `leaderboard.${ext}`), body);
    written.push(`  s3://${artifacts}/runs/${runId}/leaderboard.${ext} -> ${path.join(OUTPUT_DIR, `leaderboard.${ext}`)}`);
  }
  console.log(`\nLeaderboard files (open the .html in a browser):\n${written.join('\n')}`);
  await showPromotedModel(finetuning.modelRegistryParameterName(String(request.name)), servingArn);
  return outcome.status === 'SUCCEEDED';
}

/**
 * The team's serving Provisioned Throughput (no commitment), already serving an earlier custom
 * model of the same base model, as it would exist before the deployment names it.
 */
async function teamServingThroughput(aws: Awaited<ReturnType<typeof startLocalAws>>): Promise<string> {
  const bedrock = new BedrockClient({});
  try {
    aws.bedrock.setJobScenario({ checkData: false, afterPolls: 'manual' }, { jobName: 'team-earlier-model' });
    aws.s3.createBucket('team-models'); // where that earlier job wrote its output
    const { jobArn } = await bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName: 'team-earlier-model',
        customModelName: 'team-earlier-model',
        roleArn: `arn:aws:iam::${aws.accountId}:role/team`,
        baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0:128k',
        trainingDataConfig: { s3Uri: 's3://team/train.jsonl' },
        outputDataConfig: { s3Uri: 's3://team-models/out/' },
      }),
    );
    const modelArn = aws.bedrock.completeJob(jobArn!).outputModelArn!;
    const { provisionedModelArn } = await bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: 'charts-serving', modelId: modelArn, modelUnits: 1 }));
    aws.bedrock.markInService(provisionedModelArn!);
    return provisionedModelArn!;
  } finally {
    bedrock.destroy();
  }
}

/** Prints the registry entry of the promoted model and what an application calls to use it (and calls it). */
async function showPromotedModel(parameterName: string, servingArn: string): Promise<void> {
  const ssm = new SSMClient({});
  const runtime = new BedrockRuntimeClient({});
  try {
    const value = (await ssm.send(new GetParameterCommand({ Name: parameterName }))).Parameter?.Value;
    if (!value) {
      console.log(`\nNo model was promoted (no entry at ${parameterName}).`);
      return;
    }
    console.log(`\nPromoted model (SSM parameter ${parameterName}):\n${JSON.stringify(JSON.parse(value), null, 2)}`);
    console.log('\nWhat an application calls:');
    console.log(`  aws ssm get-parameter --name ${parameterName} --query Parameter.Value --output text`);
    console.log(`  aws bedrock-runtime converse --model-id ${servingArn} --messages '[{"role":"user","content":[{"text":"..."}]}]'`);
    const question = 'The chart shows bars of 2 and 3. What is their total?';
    const answer = await runtime.send(new ConverseCommand({ modelId: servingArn, messages: [{ role: 'user', content: [{ text: question }] }], inferenceConfig: { temperature: 0 } }));
    console.log(`  -> (offline) "${question}" answered by the promoted model: ${JSON.stringify(answer.output?.message?.content?.[0]?.text)}`);
  } finally {
    ssm.destroy();
    runtime.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
