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
 */
import * as fs from 'fs';
import * as path from 'path';
import { BedrockClient, CreateModelCustomizationJobCommand, CreateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../lib';
import { RunRecord } from '../lambda/shared/run-record';
import { testStack } from '../test/support/cdk';
import { startLocalAws } from '../test/support/local-aws';
import { LocalWorkflowRunner } from '../test/support/local-workflow';
import { demoAnswer, sampleDataset } from './sample-dataset';

/** Where the report files are copied; DEMO_OUTPUT_DIR overrides it (the demo's test writes to a temporary folder). */
const OUTPUT_DIR = process.env.DEMO_OUTPUT_DIR || path.join(__dirname, '..', 'demo-output');

/**
 * Set on the demo's functions only: the report marks every figure the stand-ins produced, so a
 * demo report is never mistaken for a real evaluation (a deployed stack never sets it).
 */
const DEMO_FUNCTION_ENVIRONMENT = { REPORT_MADE_WITH_STAND_INS: 'true' } as const;

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
  console.log('Synthesizing the LlamaFinetuning stack and starting local AWS stand-ins...');
  const aws = await startLocalAws();
  const stack = testStack(undefined, 'DemoStack');
  const servingArn = await teamServingThroughput(aws);
  const finetuning = new LlamaFinetuning(stack, 'Finetuning', {
    environmentName: 'demo',
    pollInterval: Duration.hours(1), // the safety poll; the job's end event moves the run on
    evaluation: { shardSize: 5, maxConcurrency: 4, qualityGate: { minImprovementPercent: 20 } },
    promotion: { servingProvisionedModelArn: servingArn },
  });
  aws.bedrock.scenario.modelUpdate = { afterPolls: 1 };
  const runner = await LocalWorkflowRunner.create({ template: Template.fromStack(stack), aws, waitMs: 20, retryMs: 20, functionEnvironment: DEMO_FUNCTION_ENVIRONMENT });
  try {
    const datasets = runner.bucketName('FinetuningStorageDataset');
    const artifacts = runner.bucketName('FinetuningStorageArtifacts');
    aws.runtime.respond = (invocation) => demoAnswer(invocation.lastUserText, invocation.target.kind === 'provisioned-model');

    const sample = sampleDataset(datasets, aws.accountId);
    for (const [key, body] of Object.entries(sample.files)) aws.s3.putObject(datasets, key, body);
    console.log(`${elapsed()}  uploaded ${Object.keys(sample.files).length} files to s3://${datasets}/demo/`);
    aws.s3.putObject(datasets, 'requests/demo-charts-11b.json', JSON.stringify(sample.request, null, 2));
    console.log(`${elapsed()}  uploaded the run request s3://${datasets}/requests/demo-charts-11b.json`);

    const { executions } = await runner.putS3ObjectCreated(datasets, 'requests/demo-charts-11b.json');
    if (executions.length !== 1) throw new Error(`expected the upload to start one execution, it started ${executions.length}`);
    const execution = executions[0];
    console.log(`${elapsed()}  EventBridge started execution ${execution.name}\n`);

    // Print transitions as they happen (Map iterations are shown once per shard).
    let printed = 0;
    const printNew = () => {
      for (; printed < execution.events.length; printed++) {
        const e = execution.events[printed];
        if (e.type === 'StateEntered') console.log(`${elapsed()}  -> ${e.state}`);
        else if (e.type === 'StateRetried') console.log(`${elapsed()}     retrying ${e.state}`);
        else if (e.type === 'StateFailed' && e.error === 'States.Timeout') console.log(`${elapsed()}     ${e.state}: no event within the safety-poll interval; checking the job again`);
        else if (e.type === 'StateCaught' && execution.events[printed - 1]?.error === 'States.Timeout') continue;
        else if (e.type === 'StateCaught' || e.type === 'StateFailed') console.log(`${elapsed()}     ${e.type === 'StateCaught' ? 'caught' : 'failed'} in ${e.state}`);
      }
    };
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
    console.log(`Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    if (outcome.status !== 'SUCCEEDED') process.exitCode = 1;
  } finally {
    await runner.stop();
    await aws.stop();
  }
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
