/**
 * Shared setup of the handler-level tests: the local stand-ins with the two buckets, the
 * handlers' environment, quiet logs, and run contexts and records shaped as the workflow makes
 * them.
 */
import { BedrockClient, CreateModelCustomizationJobCommand, CreateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { resetClients } from '../../lambda/shared/aws-clients';
import { RunContext, buildRunContext, deriveRunId } from '../../lambda/shared/run-context';
import { RunRecord, runRecordKey } from '../../lambda/shared/run-record';
import { parseRunRequest } from '../../lambda/shared/run-request';
import { LocalAws, startLocalAws } from '../support/local-aws';

export const DATASETS = 'handler-datasets';
export const ARTIFACTS = 'handler-artifacts';
export const RUNS_PREFIX = 'runs/';

/** The stand-ins plus what the handlers need; `stop()` puts the process back as it was. */
export interface HandlerAws extends LocalAws {
  /** Log lines the handlers wrote (parsed JSON). */
  readonly logLines: () => Array<Record<string, unknown>>;
}

/**
 * Starts the stand-ins with the dataset and artifacts buckets, sets `env` (plus the runs prefix
 * and environment name every handler reads), forgets cached SDK clients, and keeps the
 * handlers' log lines instead of printing them.
 */
export async function startHandlerAws(env: Record<string, string> = {}): Promise<HandlerAws> {
  const savedEnv = { ...process.env };
  const aws = await startLocalAws({ buckets: [{ name: DATASETS, versioned: true }, { name: ARTIFACTS, versioned: true }], topics: ['outcomes'] });
  Object.assign(process.env, { RUNS_PREFIX, ENVIRONMENT_NAME: 'test', ARTIFACTS_BUCKET: ARTIFACTS, ...env });
  resetClients();
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stdout.write);
  return {
    ...aws,
    logLines: () =>
      lines
        .join('')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop() {
      spy.mockRestore();
      resetClients();
      await aws.stop();
      process.env = savedEnv;
    },
  };
}

/** A run context for a request named `name`, as read-request builds it. */
export function runContext(name: string, model = 'llama3.2-1b'): RunContext {
  const request = parseRunRequest(JSON.stringify({ name, model, trainingData: 'data/train.jsonl', testData: 'data/test.jsonl' }), `s3://${DATASETS}/requests/${name}.json`, DATASETS);
  const source = { bucket: DATASETS, key: `requests/${name}.json`, versionId: `v-${name}` };
  const executionArn = `arn:aws:states:us-west-2:111122223333:execution:Workflow:${deriveRunId(name, source)}`;
  return buildRunContext(request, source, DATASETS, ARTIFACTS, RUNS_PREFIX, executionArn);
}

/** A RUNNING record of `run`, as begin-run writes it, with optional parts of later steps. */
export function runningRecord(run: RunContext, extra: Partial<RunRecord> = {}): RunRecord {
  const now = new Date().toISOString();
  return {
    schemaVersion: 1,
    runId: run.runId,
    executionArn: run.executionArn,
    createdAt: now,
    status: 'RUNNING',
    run,
    timeline: [{ at: now, event: 'run started' }],
    ...extra,
  };
}

/** Stores a record in LocalS3 where the handlers look for it. */
export function storeRecord(aws: LocalAws, record: RunRecord): void {
  aws.s3.putObject(ARTIFACTS, runRecordKey(record.run), JSON.stringify(record, null, 2));
}

/** The record as stored. */
export function storedRecord(aws: LocalAws, run: RunContext): RunRecord {
  const body = aws.s3.getObject(ARTIFACTS, runRecordKey(run));
  if (!body) throw new Error(`no run record for ${run.runId}`);
  return JSON.parse(body.toString()) as RunRecord;
}

/** The customization role the test jobs name (LocalBedrock only checks its form). */
export const CUSTOMIZATION_ROLE_ARN = 'arn:aws:iam::111122223333:role/customization';

/** Creates a customization job named `jobName` through the SDK, as Bedrock would hold it; returns its ARN. */
export async function createJob(jobName: string, run: RunContext): Promise<string> {
  const bedrock = new BedrockClient({});
  try {
    const out = await bedrock.send(
      new CreateModelCustomizationJobCommand({
        jobName,
        customModelName: `${jobName}-model`,
        roleArn: CUSTOMIZATION_ROLE_ARN,
        baseModelIdentifier: run.model.baseModelIdentifier,
        trainingDataConfig: { s3Uri: `s3://${DATASETS}/data/train.jsonl` },
        outputDataConfig: { s3Uri: `s3://${ARTIFACTS}/${run.artifacts.prefix}bedrock-output/` },
      }),
    );
    return out.jobArn!;
  } finally {
    bedrock.destroy();
  }
}

/** Creates a Provisioned Throughput named `name` for `modelId` through the SDK; returns its ARN. */
export async function createThroughput(name: string, modelId: string): Promise<string> {
  const bedrock = new BedrockClient({});
  try {
    return (await bedrock.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: name, modelId, modelUnits: 1 }))).provisionedModelArn!;
  } finally {
    bedrock.destroy();
  }
}

/**
 * Draws every full-jitter backoff as zero in the handlers called in this test process (theirs
 * and the SDK's, which both take Math.random()): the same attempts, without seconds of real
 * sleeping. A value full jitter can draw; the workflow runner's counterpart is its
 * `backoffJitter: 'zero'` option. Restore the returned spy when done.
 */
export function drawJitterAsZero(): jest.SpyInstance<number, []> {
  return jest.spyOn(Math, 'random').mockReturnValue(0);
}
