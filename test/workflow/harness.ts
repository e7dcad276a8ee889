/**
 * Shared setup of the end-to-end workflow tests: a stack with LlamaFinetuning (as a user would
 * write it), the local AWS stand-ins, and the offline runner executing the synthesized state
 * machine. Runs start by upload, exactly as in production.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning, LlamaFinetuningProps } from '../../lib';
import { RunRecord } from '../../lambda/shared/run-record';
import { testStack } from '../support/cdk';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { LocalWorkflowRunner, LocalWorkflowRunnerOptions } from '../support/local-workflow';

export interface WorkflowHarness {
  readonly aws: LocalAws;
  readonly runner: LocalWorkflowRunner;
  readonly template: Template;
  readonly datasets: string;
  readonly artifacts: string;
  readonly topicArn: string;
  /** Uploads a run request and delivers its S3 event; returns the executions it started. */
  upload(key: string, request: unknown): Promise<Awaited<ReturnType<LocalWorkflowRunner['putS3ObjectCreated']>>>;
  /** The run record of a run id, as stored. */
  runRecord(runId: string): RunRecord | undefined;
  /** Every run record stored. */
  runRecords(): RunRecord[];
  stop(): Promise<void>;
}

/** Test-sized timing: the definition keeps these, the runner shortens the waits. */
export const TEST_PROPS: LlamaFinetuningProps = {
  environmentName: 'test',
  // The safety poll of the job (the runner times the token wait out after waitMs, so runs that
  // send no event move on as a poll would).
  pollInterval: Duration.hours(1),
  quotaRetryInterval: Duration.minutes(10),
  quotaWaitTimeout: Duration.minutes(40),
};

/**
 * Runner options of the files whose runs retry refusals past their budget (a deletion Bedrock
 * keeps refusing, a storm of failed checks): the functions' full-jitter backoffs draw their
 * shortest wait, so those runs make the same calls without seconds of real sleeping.
 */
export const ZERO_JITTER = { backoffJitter: 'zero' } as const;

/**
 * Starts the stand-ins, synthesizes the stack and starts the runner. `props` may be a function
 * of the running stand-ins, for props that name resources created there first. `runnerOptions`
 * adjust the runner (e.g. `executionTimeoutMs`) over the test defaults.
 */
export async function startHarness(
  props: LlamaFinetuningProps | ((aws: LocalAws, stack: Stack) => Promise<LlamaFinetuningProps>) = TEST_PROPS,
  runnerOptions: Partial<Omit<LocalWorkflowRunnerOptions, 'template' | 'aws'>> = {},
): Promise<WorkflowHarness> {
  const aws = await startLocalAws();
  const stack = testStack();
  const finetuning = new LlamaFinetuning(stack, 'Finetuning', typeof props === 'function' ? await props(aws, stack) : props);
  const template = Template.fromStack(stack);
  const runner = await LocalWorkflowRunner.create({ waitMs: 2, retryMs: 2, ...runnerOptions, template, aws });
  // An imported dataset bucket (created by the test in LocalS3) is named by the construct itself.
  const importedDatasets = stack.resolve(finetuning.datasetBucket.bucketName);
  const datasets = typeof importedDatasets === 'string' ? importedDatasets : runner.bucketName('FinetuningStorageDataset');
  const artifacts = runner.bucketName('FinetuningStorageArtifacts');
  const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0];
  const topicArn = runner.physicalResource(topicId).ref;
  const records = () =>
    aws.s3
      .listKeys(artifacts, 'runs/')
      .filter((k) => k.endsWith('/run.json'))
      .map((k) => JSON.parse(aws.s3.getObject(artifacts, k)!.toString()) as RunRecord);
  return {
    aws,
    runner,
    template,
    datasets,
    artifacts,
    topicArn,
    async upload(key, request) {
      aws.s3.putObject(datasets, key, JSON.stringify(request));
      return runner.putS3ObjectCreated(datasets, key);
    },
    runRecord: (runId) => records().find((r) => r.runId === runId),
    runRecords: records,
    async stop() {
      await runner.stop();
      await aws.stop();
    },
  };
}

/** Text-only training records Bedrock accepts for any Llama 3.2 model. */
export function arithmeticRecords(count: number, offset = 0): string {
  return Array.from({ length: count }, (_, n) => {
    const i = n + offset;
    return JSON.stringify({
      schemaVersion: 'bedrock-conversation-2024',
      system: [{ text: 'Answer with a number only.' }],
      messages: [
        { role: 'user', content: [{ text: `What is ${i} plus ${i + 1}?` }] },
        { role: 'assistant', content: [{ text: String(2 * i + 1) }] },
      ],
    });
  }).join('\n');
}

export { waitFor } from '../support/wait-for';

/**
 * The evaluation's shard function, by the start of its logical id: an experiment's shared
 * baseline runs the same handler (infer-shard) as a function of its own.
 */
export const EVALUATION_INFER_SHARD = 'FinetuningWorkflowEvaluationInferShard';
