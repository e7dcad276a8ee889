/**
 * What the run commands (`run`, `follow`, `runs`, `report`) need to know of a deployment, and
 * their reads of its artifacts bucket. Everything here stays within the permissions
 * `grantStartRuns` (PutObject to the dataset bucket) and `grantReadResults` (GetObject and
 * ListBucket under the runs prefix of the artifacts bucket) give: no HeadObject or GetObject
 * on the dataset bucket, no Step Functions call.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { RunRecord, readRunRecord, runRecordKey } from '../lambda/shared/run-record';
import { ParsedArgs, UsageError } from './command-args';
import { readOutputsFile } from './deployment-outputs';

/** Where a deployment keeps requests, data and runs. */
export interface DeploymentSettings {
  readonly datasetBucket?: string;
  readonly artifactsBucket?: string;
  /** Where run requests are uploaded (the trigger's prefix). */
  readonly requestPrefix: string;
  /** Where runs write in the artifacts bucket. */
  readonly runsPrefix: string;
  /** The deployment's `dataPrefix`, when it has one. */
  readonly dataPrefix?: string;
  readonly region?: string;
}

/** The options every run command takes, with the environment variable each falls back to. */
export const DEPLOYMENT_OPTIONS = {
  '--dataset-bucket': 'LLAMA_FINETUNE_DATASET_BUCKET',
  '--artifacts-bucket': 'LLAMA_FINETUNE_ARTIFACTS_BUCKET',
  '--request-prefix': 'LLAMA_FINETUNE_REQUEST_PREFIX',
  '--runs-prefix': 'LLAMA_FINETUNE_RUNS_PREFIX',
  '--data-prefix': 'LLAMA_FINETUNE_DATA_PREFIX',
  '--region': 'AWS_REGION',
  '--outputs': 'LLAMA_FINETUNE_OUTPUTS',
  '--stack': 'LLAMA_FINETUNE_STACK',
  '--key-prefix': 'LLAMA_FINETUNE_KEY_PREFIX',
} as const;

/** The names of those options, for each command's option spec. */
export const DEPLOYMENT_OPTION_NAMES = Object.keys(DEPLOYMENT_OPTIONS) as ReadonlyArray<keyof typeof DEPLOYMENT_OPTIONS>;

/** Usage lines of those options. */
export const DEPLOYMENT_USAGE = `  --dataset-bucket <name>   the deployment's dataset bucket (or LLAMA_FINETUNE_DATASET_BUCKET)
  --artifacts-bucket <name> the deployment's artifacts bucket (or LLAMA_FINETUNE_ARTIFACTS_BUCKET)
  --request-prefix <p>      where requests start runs (or LLAMA_FINETUNE_REQUEST_PREFIX; default requests/)
  --runs-prefix <p>         where runs write (or LLAMA_FINETUNE_RUNS_PREFIX; default runs/)
  --data-prefix <p>         the deployment's dataPrefix, if any (or LLAMA_FINETUNE_DATA_PREFIX)
  --region <region>         AWS region (default: AWS_REGION or your profile's)
  --outputs <file>          the file of 'cdk deploy --outputs-file <file>' (or LLAMA_FINETUNE_OUTPUTS):
                            buckets and prefixes from the stack's outputs; the options above override it
  --stack <name>            the stack to read when the outputs file holds several (or LLAMA_FINETUNE_STACK)
  --key-prefix <p>          the keyPrefix given to addOutputs, if any (or LLAMA_FINETUNE_KEY_PREFIX)`;

/** Reads the settings from the options, then the environment, then the outputs file (`--outputs`). */
export function deploymentSettings(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): DeploymentSettings {
  const get = (option: keyof typeof DEPLOYMENT_OPTIONS) => args.value(option) ?? (env[DEPLOYMENT_OPTIONS[option]] || undefined);
  const explicit = {
    datasetBucket: get('--dataset-bucket'),
    artifactsBucket: get('--artifacts-bucket'),
    requestPrefix: get('--request-prefix'),
    runsPrefix: get('--runs-prefix'),
    dataPrefix: get('--data-prefix'),
  };
  const outputsFile = get('--outputs');
  if (outputsFile === undefined && (get('--stack') !== undefined || get('--key-prefix') !== undefined)) {
    throw new UsageError('--stack and --key-prefix pick outputs from an outputs file: give it with --outputs <file> (or LLAMA_FINETUNE_OUTPUTS).');
  }
  const given = new Set((Object.keys(explicit) as Array<keyof typeof explicit>).filter((key) => explicit[key] !== undefined));
  const fromFile = outputsFile === undefined ? {} : readOutputsFile(outputsFile, { stack: get('--stack'), keyPrefix: get('--key-prefix'), given });
  const pick = (key: keyof typeof explicit) => explicit[key] ?? fromFile[key];
  const dataPrefix = pick('dataPrefix');
  return {
    datasetBucket: pick('datasetBucket'),
    artifactsBucket: pick('artifactsBucket'),
    requestPrefix: prefixOption('--request-prefix', pick('requestPrefix') ?? 'requests/'),
    runsPrefix: prefixOption('--runs-prefix', pick('runsPrefix') ?? 'runs/'),
    dataPrefix: dataPrefix === undefined ? undefined : prefixOption('--data-prefix', dataPrefix),
    region: args.value('--region'),
  };
}

/** The bucket a command cannot do without, or a usage error that says how to give it. */
export function required(settings: DeploymentSettings, which: 'datasetBucket' | 'artifactsBucket'): string {
  const value = settings[which];
  if (value) return value;
  const option = which === 'datasetBucket' ? '--dataset-bucket' : '--artifacts-bucket';
  throw new UsageError(`${option} is required (or set ${DEPLOYMENT_OPTIONS[option]}): the ${which === 'datasetBucket' ? 'dataset' : 'artifacts'} bucket of your deployment (or read it from the stack's outputs with --outputs <file of cdk deploy --outputs-file>).`);
}

function prefixOption(option: string, value: string): string {
  if (value.startsWith('/') || value.includes('*')) throw new UsageError(`${option} must be a key prefix such as 'runs/', got '${value.slice(0, 60)}'.`);
  return value.endsWith('/') ? value : `${value}/`;
}

/** Run ids are `<name>-<12 hex>`: letters, digits and hyphens (and nothing that could leave the runs prefix). */
export function checkRunId(runId: string | undefined): string {
  if (!runId) throw new UsageError('Name the run id (see llama-finetune runs).');
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,80})$/.test(runId)) throw new UsageError(`'${runId.slice(0, 60)}' is not a run id: run ids are letters, digits and hyphens, such as chartqa-11b-0123456789ab (see llama-finetune runs).`);
  return runId;
}

/** A client for the deployment's buckets. */
export function createS3Client(settings: DeploymentSettings): S3Client {
  return new S3Client(settings.region ? { region: settings.region } : {});
}

/** The record of a run, undefined while it does not exist. */
export async function readRun(s3: S3Client, bucket: string, runsPrefix: string, runId: string): Promise<RunRecord | undefined> {
  const key = runRecordKey({ artifacts: { bucket, prefix: `${runsPrefix}${runId}/` } });
  return (await readRunRecord(s3, bucket, key))?.record;
}

/**
 * The ids of the runs under the runs prefix (those starting with `namePrefix` when given), one
 * ListObjectsV2 page of folders at a time. `executions/` (the execution pointers) is not a run.
 */
export async function listRunIds(s3: S3Client, bucket: string, runsPrefix: string, namePrefix = ''): Promise<string[]> {
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${runsPrefix}${namePrefix}`, Delimiter: '/', ContinuationToken: token }));
    for (const p of page.CommonPrefixes ?? []) {
      const id = p.Prefix!.slice(runsPrefix.length).replace(/\/$/, '');
      if (id !== 'executions' && id !== '') ids.push(id);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return ids;
}

/** Runs `work` over `items`, at most `limit` at once, keeping the order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
