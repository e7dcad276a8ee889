/**
 * The `llama-finetune` binary as a user runs it: the one-file bundle the package ships (made with
 * the build's own esbuild options, scripts/bundle-cli.ts, at the `bin` path of package.json, with
 * no node_modules beside it), spawned as a process, against the S3
 * stand-in with the real SDK, with the credentials of a role that has exactly what
 * `grantStartRuns` and `grantReadResults` give (LocalS3 refuses everything else with 403, as
 * the synthesized policy would). The workflow's side is played by the real read-request and
 * begin-run handlers and the shared run-record code, writing run.json as the workflow does.
 */
import { ChildProcessWithoutNullStreams, spawn } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { LlamaFinetuning } from '../../lib';
import { usage } from '../../cli/llama-finetune';
import { bundleCli } from '../../scripts/bundle-cli';
import { resetClients, s3Client } from '../../lambda/shared/aws-clients';
import { handler as beginRun } from '../../lambda/begin-run';
import { handler as readRequest } from '../../lambda/read-request';
import { RunContext } from '../../lambda/shared/run-context';
import { RunRecord, runRecordKey, updateRunRecord, withEvent } from '../../lambda/shared/run-record';
import { logicalIdOf, testStack } from '../support/cdk';
import { bucketResource, RolePolicy } from '../support/iam-policy';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { waitFor } from '../support/wait-for';
import { imageRecord, textRecords, toJsonl, writeImage } from '../validation/fixtures';

const REPOSITORY = path.resolve(__dirname, '..', '..');
const MANIFEST = JSON.parse(readFileSync(path.join(REPOSITORY, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const DATASETS = 'datasets-bucket';
const ARTIFACTS = 'artifacts-bucket';
const PLAIN_DATASETS = 'plain-datasets-bucket';
const PLAIN_ARTIFACTS = 'plain-artifacts-bucket';
/** A bucket of someone else's: no grant covers it. */
const UNGRANTED = 'ungranted-bucket';
/** The access key the CLI signs with: the principal LocalS3 checks against the grants. */
const CLI_USER = 'cli-user';
const STRANGER = 'stranger';

interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

let aws: LocalAws;
let buildDir: string;
let binary: string;
let work: string;
let deployment: Deployment;
let cliPolicy: RolePolicy;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // The CLI as the package ships it: the build's bundle step (one esbuild call, about a second;
  // tsc of the whole library took 12-15 s of CPU here), into a folder of its own laid out as
  // installed: package.json (whose version --version prints) and the bundle at the `bin` path.
  // No node_modules: the shipped CLI needs none, so neither may this one.
  buildDir = mkdtempSync(path.join(tmpdir(), 'llama-finetune-cli-build-'));
  binary = path.join(buildDir, MANIFEST.bin['llama-finetune']);
  await bundleCli(binary);
  copyFileSync(path.join(REPOSITORY, 'package.json'), path.join(buildDir, 'package.json'));
  work = mkdtempSync(path.join(tmpdir(), 'llama-finetune-cli-work-'));

  aws = await startLocalAws({ buckets: [{ name: DATASETS, versioned: true }, { name: ARTIFACTS, versioned: true }, PLAIN_DATASETS, PLAIN_ARTIFACTS, UNGRANTED] });
  resetClients();
  deployment = synthesizeDeployment();
  cliPolicy = grantedPolicy(deployment);
  aws.s3.setAuthorizer(({ principal, action, resources }) => {
    if (principal === STRANGER) return false;
    if (principal !== CLI_USER) return true; // the workflow's side of the test
    return resources.every((resource) => cliPolicy.allows(action, resource));
  });
}, 180_000);

afterAll(async () => {
  resetClients();
  await aws?.stop();
  process.env = savedEnv;
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The synthesized stack the CLI's side of the tests is checked against (synthesized once: 1-2 s each). */
interface Deployment {
  readonly stack: Stack;
  readonly template: Template;
  /** With its outputs (addOutputs), whose buckets stand for DATASETS and ARTIFACTS. */
  readonly finetuning: LlamaFinetuning;
  /** A second deployment, whose buckets stand for PLAIN_DATASETS and PLAIN_ARTIFACTS. */
  readonly plain: LlamaFinetuning;
  /** The CLI user's role: grantStartRuns and grantReadResults on both deployments. */
  readonly user: iam.Role;
}

function synthesizeDeployment(): Deployment {
  const stack: Stack = testStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
  const finetuning = new LlamaFinetuning(stack, 'Finetuning');
  finetuning.addOutputs();
  const plain = new LlamaFinetuning(stack, 'Plain');
  const user = new iam.Role(stack, 'CliUser', { assumedBy: new iam.AccountRootPrincipal() });
  for (const f of [finetuning, plain]) {
    f.grantStartRuns(user);
    f.grantReadResults(user);
  }
  return { stack, template: Template.fromStack(stack), finetuning, plain, user };
}

/**
 * The policy of a role given grantStartRuns and grantReadResults by the construct, with both
 * deployments' bucket names (each synthesized bucket resolved to a stand-in bucket).
 */
function grantedPolicy({ template, finetuning, plain, user }: Deployment): RolePolicy {
  return RolePolicy.fromTemplate(template, logicalIdOf(user), {
    [logicalIdOf(finetuning.datasetBucket)]: bucketResource(DATASETS),
    [logicalIdOf(finetuning.artifactsBucket)]: bucketResource(ARTIFACTS),
    [logicalIdOf(plain.datasetBucket)]: bucketResource(PLAIN_DATASETS),
    [logicalIdOf(plain.artifactsBucket)]: bucketResource(PLAIN_ARTIFACTS),
  });
}

/** The environment a user's shell would have: region, credentials, the deployment's buckets; no SDK switches. */
function userEnv(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_CONFIG_FILE: path.join(work, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(work, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL_S3: aws.s3.endpoint,
    AWS_REGION: 'us-west-2',
    AWS_ACCESS_KEY_ID: CLI_USER,
    AWS_SECRET_ACCESS_KEY: 'secret',
    LLAMA_FINETUNE_DATASET_BUCKET: DATASETS,
    LLAMA_FINETUNE_ARTIFACTS_BUCKET: ARTIFACTS,
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Starts the binary; `result` settles when it exits. */
function startCli(args: readonly string[], env: NodeJS.ProcessEnv = userEnv()): { child: ChildProcessWithoutNullStreams; output: () => CliResult; result: Promise<CliResult> } {
  const child = spawn(process.execPath, [binary, ...args], { cwd: work, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const output = () => ({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output, result };
}

function cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).result;
}

/** What no user should see: the SDK's Node.js banner, a stack trace. */
function expectNoNoise(result: CliResult): void {
  expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|AWS SDK for JavaScript/);
  expect(result.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

/** A request file and its data in a fresh folder, as `prepare --out` leaves them (files by name). */
function writeRequest(name: string, request: Record<string, unknown>, files: Record<string, string>): string {
  const dir = path.join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(request, null, 2));
  return file;
}

const VALID_TRAINING = toJsonl(textRecords(120));
const VALID_TEST = toJsonl(textRecords(10, 1000));

/**
 * Plays the workflow for one uploaded request, as its steps write run.json: read-request and
 * begin-run (the real handlers, so the run id is the workflow's own), then the later steps'
 * writes through the shared run-record code. With a `follower` (the stderr of a running CLI),
 * each write waits until the follower has shown the state before it, so it sees every state on
 * any machine load (a condition, not a pause).
 */
async function playWorkflow(
  buckets: { datasets: string; artifacts: string },
  requestKey: string,
  options: { outcome: 'SUCCEEDED' | 'FAILED' | 'RUNNING'; follower?: () => string },
): Promise<RunContext> {
  await waitFor(`the upload of ${requestKey}`, () => aws.s3.headObject(buckets.datasets, requestKey) !== undefined);
  const head = aws.s3.headObject(buckets.datasets, requestKey)!;
  process.env.DATASET_BUCKET = buckets.datasets;
  process.env.ARTIFACTS_BUCKET = buckets.artifacts;
  process.env.RUNS_PREFIX = 'runs/';
  const executionName = `exec-${Date.now()}`;
  const executionArn = `arn:aws:states:us-west-2:111122223333:execution:Workflow:${executionName}`;
  // The S3 event detail EventBridge passes: the ETag unquoted, the write's sequencer, the version id when versioned.
  const run = await readRequest({
    bucket: { name: buckets.datasets },
    object: { key: requestKey, etag: head.etag.replace(/"/g, ''), sequencer: head.sequencer, ...(head.versionId ? { 'version-id': head.versionId } : {}), size: head.size },
    executionArn,
  });
  await beginRun({ run, executionArn, executionName });
  const key = runRecordKey(run);
  // The follower prints one plain line per state, starting `<run id>: <latest event>`.
  let shownLast = 'run started';
  const step = async (change: (r: RunRecord) => RunRecord) => {
    const follower = options.follower;
    if (follower) {
      const line = `${run.runId}: ${shownLast}`;
      await waitFor(`the follower to show "${line}"`, () => follower().split('\n').some((l) => l.startsWith(line)));
    }
    await updateRunRecord(s3Client(), buckets.artifacts, key, executionArn, (r) => {
      const changed = change(r);
      shownLast = changed.timeline[changed.timeline.length - 1].event;
      return changed;
    });
  };
  const jobArn = `arn:aws:bedrock:us-west-2:111122223333:model-customization-job/${run.runId}`;
  await step((r) => ({ ...withEvent(r, 'dataset valid', { errors: 0, warnings: 0 }), validation: { valid: true, errorCount: 0, warningCount: 0, reportUri: `s3://${buckets.artifacts}/${run.artifacts.prefix}validation/report.json` } }));
  await step((r) => ({
    ...withEvent(r, 'job created', { jobArn }),
    job: { jobArn, jobName: run.runId, customModelName: run.runId, status: 'InProgress', outputS3Uri: `s3://${buckets.artifacts}/${run.artifacts.prefix}bedrock-output/`, hyperParameters: { epochCount: '2' } },
  }));
  if (options.outcome === 'RUNNING') return run;
  if (options.outcome === 'FAILED') {
    await step((r) => ({ ...withEvent(r, 'job Failed', { failureMessage: 'Internal error' }), job: { ...r.job!, status: 'Failed', failureMessage: 'Internal error' } }));
    await step((r) => ({
      ...withEvent(r, 'run failed', { error: 'JobFailed' }),
      status: 'FAILED',
      outcome: { status: 'FAILED', finishedAt: new Date().toISOString(), error: 'JobFailed', cause: 'The customization job failed: Internal error', summary: 'JobFailed: The customization job failed: Internal error' },
    }));
    return run;
  }
  await step((r) => ({ ...withEvent(r, 'job Completed'), job: { ...r.job!, status: 'Completed', outputModelArn: `arn:aws:bedrock:us-west-2:111122223333:custom-model/${run.runId}` } }));
  aws.s3.putObject(buckets.artifacts, `${run.artifacts.prefix}report.html`, `<html><body>report of ${run.runId}</body></html>`, { contentType: 'text/html' });
  await step((r) => ({
    ...withEvent(r, 'evaluation scored', { baseF1: 41.04, fineTunedF1: 78.46 }),
    evaluation: {
      baseF1: 41.04,
      fineTunedF1: 78.46,
      baseExactMatch: 30,
      fineTunedExactMatch: 70,
      relativeImprovementPercent: 91.2,
      records: 10,
      gate: { evaluated: false, passed: true, reasons: [] },
      reportUri: `s3://${buckets.artifacts}/${run.artifacts.prefix}report.json`,
      reportHtmlUri: `s3://${buckets.artifacts}/${run.artifacts.prefix}report.html`,
    },
  }));
  await step((r) => ({ ...withEvent(r, 'run succeeded'), status: 'SUCCEEDED', outcome: { status: 'SUCCEEDED', finishedAt: new Date().toISOString(), summary: 'The run completed.' } }));
  return run;
}

describe('the binary', () => {
  test('--version prints the package version', async () => {
    const result = await cli(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `llama-finetune ${MANIFEST.version}\n`, stderr: '' });
  });

  test('--help prints one line per command and the exit codes, and <command> --help every option of it', async () => {
    const help = await cli(['--help']);
    expect(help).toMatchObject({ code: 0, stdout: `${usage()}\n`, stderr: '' });
    expect(help.stdout).toContain('Exit codes: 0 success, 1 the data (or the run) has errors, 2 bad usage, 3 could not check');
    for (const command of ['run', 'follow', 'runs', 'report']) {
      const own = await cli([command, '--help']);
      expect(own.code).toBe(0);
      expect(own.stdout).toMatch(new RegExp(`^llama-finetune ${command} `));
      expect(own.stdout).toContain('--artifacts-bucket <name>');
    }
  });

  test('an unknown command, or none, prints a short usage line and the way to full help (exit 2), not the manual', async () => {
    for (const args of [['bogus'], []]) {
      const result = await cli(args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(/^Usage: llama-finetune <prepare\|validate\|run\|follow\|runs\|report\|score> \[options\]$/);
      expect(lines[2]).toContain("'llama-finetune --help'");
    }
    expect((await cli(['bogus'])).stderr).toMatch(/^llama-finetune: unknown command 'bogus'\./);
  });

  test.each([
    [['run'], 'llama-finetune run: Name the run request file'],
    [['report'], 'llama-finetune report: Name the run id'],
    [['follow'], 'llama-finetune follow: Name the run id'],
    [['runs', '--limit', 'lots'], 'llama-finetune runs: --limit must be a whole number'],
    [['run', 'r.json', '--frobnicate'], "llama-finetune run: Unknown option '--frobnicate'"],
    [['report', '../../etc'], 'is not a run id'],
  ])('a missing or bad argument (%j) exits 2 with the problem and the way to the command\'s help', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain(`Run 'llama-finetune ${args[0]} --help' to see every option.`);
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
  });

  test('without the deployment\'s buckets, run and runs say which option or variable to set (exit 2)', async () => {
    const noBuckets = userEnv({ LLAMA_FINETUNE_DATASET_BUCKET: undefined, LLAMA_FINETUNE_ARTIFACTS_BUCKET: undefined });
    expect((await cli(['runs'], noBuckets)).stderr).toContain('--artifacts-bucket is required (or set LLAMA_FINETUNE_ARTIFACTS_BUCKET)');
    const file = writeRequest('no-buckets', { name: 'x', model: 'llama3.2-1b', trainingData: 'd/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    const result = await cli(['run', file], noBuckets);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--dataset-bucket is required (or set LLAMA_FINETUNE_DATASET_BUCKET)');
  });

  test('the SDK banner check can fail: with the SDK\'s switch turned back off, Node < 22 shows the banner', async () => {
    const result = await cli(['runs'], userEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }));
    expect(result.code).toBe(0);
    if (Number(process.versions.node.split('.')[0]) < 22) expect(() => expectNoNoise(result)).toThrow();
    else expectNoNoise(result);
  });

  test('could not check: access denied, no region, AWS unreachable each exit 3 with one line saying what to do', async () => {
    const denied = await cli(['runs'], userEnv({ AWS_ACCESS_KEY_ID: STRANGER }));
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/^llama-finetune runs: access denied \(AccessDenied\): your role needs the grants of grantStartRuns .* and grantReadResults/);
    const noRegion = await cli(['runs'], userEnv({ AWS_REGION: undefined }));
    expect(noRegion.code).toBe(3);
    expect(noRegion.stderr).toContain('no AWS region is configured: set AWS_REGION');
    const unreachable = await cli(['report', 'some-run-0123456789ab'], userEnv({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' }));
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('AWS could not be reached (ECONNREFUSED)');
    for (const result of [denied, noRegion, unreachable]) {
      expectNoNoise(result);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('run, follow, runs and report against the stand-ins', () => {
  test('data with errors: the report is printed, nothing is uploaded, exit 1', async () => {
    const file = writeRequest('bad-data', { name: 'bad-data', model: 'llama3.2-1b', trainingData: 'datasets/bad/train.jsonl' }, { 'train.jsonl': toJsonl(textRecords(50)) });
    const result = await cli(['run', file, '--interval', '0.05']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('[record-count-too-low]');
    expect(result.stderr).toContain('the data has errors (listed above); nothing was uploaded');
    expect(aws.s3.listKeys(DATASETS, 'datasets/bad/')).toEqual([]);
    expect(aws.s3.listKeys(DATASETS, 'requests/bad-data')).toEqual([]);
    expectNoNoise(result);
  });

  test('an invalid request is refused with the workflow\'s own message (field, rule, fix), exit 1', async () => {
    const file = writeRequest('bad-request', { name: 'bad request', model: 'llama3.2-1b', trainingData: 'datasets/x/train.csv' }, {});
    const result = await cli(['run', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Run request ${file} is invalid:`);
    expect(result.stderr).toContain('[name-pattern]');
    expect(result.stderr).toContain('[data-extension]');
    expect(result.stderr).toContain('Nothing was uploaded.');
  });

  test('validate: an S3 dataset the role may not read is "could not check" (exit 3), not a data error', async () => {
    const result = await cli(['validate', `s3://${UNGRANTED}/train.jsonl`, '--model', 'llama3.2-1b']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`llama-finetune validate: cannot read s3://${UNGRANTED}/train.jsonl: access denied`);
    expectNoNoise(result);
  });

  test('image records: checked from --image-root (prepare\'s --out layout) against the deployment\'s image location and account; only the JSONL is uploaded', async () => {
    const dir = path.join(work, 'charts-11b');
    const records = Array.from({ length: 110 }, (_, i) => imageRecord(i, { uri: writeImage(dir, `s3://${DATASETS}/datasets/charts/images/${i}.png`, 'png', 64, 64), bucketOwner: '111122223333' }));
    // One image outside the deployment's data prefix: an error the workflow would find (image-location).
    records.push(imageRecord(200, { uri: writeImage(dir, `s3://${DATASETS}/elsewhere/200.png`, 'png', 64, 64), bucketOwner: '111122223333' }));
    const file = writeRequest('charts-11b', { name: 'charts-11b', model: 'llama3.2-11b', trainingData: 'datasets/charts/train.jsonl' }, { 'train.jsonl': toJsonl(records) });
    const args = ['run', file, '--image-root', dir, '--account', '111122223333', '--no-wait'];
    const refused = await cli([...args, '--data-prefix', 'datasets/']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/line 111 .*\[image-location\]/);
    expect(aws.s3.listKeys(DATASETS, 'datasets/charts/')).toEqual([]);

    writeFileSync(path.join(dir, 'train.jsonl'), toJsonl(records.slice(0, 110)));
    const accepted = await cli([...args, '--data-prefix', 'datasets/']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout.trim()).toMatch(/^charts-11b-[0-9a-f]{12}$/);
    expect(accepted.stderr).toContain('Dataset check for llama3.2-11b: VALID');
    expect(aws.s3.listKeys(DATASETS, 'datasets/charts/')).toEqual(['datasets/charts/train.jsonl']);
  });

  test('an empty data file is refused by the workflow\'s own file check (data-empty), exit 1, nothing uploaded', async () => {
    const file = writeRequest('empty-1b', { name: 'empty-1b', model: 'llama3.2-1b', trainingData: 'datasets/empty/train.jsonl' }, { 'train.jsonl': '' });
    const result = await cli(['run', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`- trainingData: s3://${DATASETS}/datasets/empty/train.jsonl is empty [data-empty]`);
    expect(aws.s3.listKeys(DATASETS, 'datasets/empty/')).toEqual([]);
  });

  test('an upload the role may not make: exit 3 naming the file and the bucket; the request is not uploaded, so no run starts', async () => {
    const file = writeRequest('denied-1b', { name: 'denied-1b', model: 'llama3.2-1b', trainingData: 'datasets/denied/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    const result = await cli(['run', file, '--dataset-bucket', UNGRANTED]);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`llama-finetune run: uploading ${path.join(work, 'denied-1b', 'train.jsonl')} to s3://${UNGRANTED}/datasets/denied/train.jsonl failed: access denied (AccessDenied)`);
    expect(result.stderr).toContain('The request was not uploaded, so no run started');
    expect(aws.s3.listKeys(UNGRANTED)).toEqual([]);
    expectNoNoise(result);
  });

  test('a data file the request names but that is not here: exit 2, naming the key and where it was looked for', async () => {
    const file = writeRequest('missing-data', { name: 'missing-data', model: 'llama3.2-1b', trainingData: 'datasets/m/train.jsonl' }, {});
    const result = await cli(['run', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('datasets/m/train.jsonl: looked for');
    expect(result.stderr).toContain('--data-dir');
  });

  test('run: validates, uploads the data then the request, follows the run on plain lines to its outcome, scores and report (exit 0)', async () => {
    const file = writeRequest(
      'chartqa-1b',
      { name: 'chartqa-1b', model: 'llama3.2-1b', trainingData: 'datasets/chartqa/train.jsonl', testData: 'datasets/chartqa/test.jsonl' },
      { 'train.jsonl': VALID_TRAINING, 'test.jsonl': VALID_TEST },
    );
    aws.s3.callLog.clear();
    const running = startCli(['run', file, '--interval', '0.05']);
    const run = await playWorkflow({ datasets: DATASETS, artifacts: ARTIFACTS }, 'requests/chartqa-1b.json', { outcome: 'SUCCEEDED', follower: () => running.output().stderr });
    const result = await running.result;
    expect(result.code).toBe(0);
    expectNoNoise(result);
    // The data went up before the request that starts the run, byte for byte.
    expect(aws.s3.getObject(DATASETS, 'datasets/chartqa/train.jsonl')!.toString()).toBe(VALID_TRAINING);
    expect(aws.s3.getObject(DATASETS, 'datasets/chartqa/test.jsonl')!.toString()).toBe(VALID_TEST);
    const puts = aws.s3.callLog.entries({ principal: CLI_USER, operation: 'PutObject' }).map((c) => c.resources[0]);
    expect(puts).toEqual([
      `arn:aws:s3:::${DATASETS}/datasets/chartqa/train.jsonl`,
      `arn:aws:s3:::${DATASETS}/datasets/chartqa/test.jsonl`,
      `arn:aws:s3:::${DATASETS}/requests/chartqa-1b.json`,
    ]);
    // Only what the two grants give (every call was also checked by the authorizer).
    expect(new Set(aws.s3.callLog.actions({ principal: CLI_USER }))).toEqual(new Set(['s3:PutObject', 's3:GetObject', 's3:ListBucket']));
    // Not a terminal: plain lines, one per change of step or job status, each naming the run the workflow derived.
    expect(result.stderr).not.toContain('\r');
    expect(result.stderr).toContain(`${run.runId}: waiting for the workflow to start the run`);
    const progress = result.stderr.split('\n').filter((l) => l.startsWith(`${run.runId}: `) && !l.includes('waiting for the workflow'));
    expect(progress.map((l) => l.replace(/ \| [^|]+$/, ''))).toEqual([
      `${run.runId}: run started`,
      `${run.runId}: dataset valid`,
      `${run.runId}: job created | job InProgress`,
      `${run.runId}: job Completed | job Completed`,
      `${run.runId}: evaluation scored | job Completed`,
    ]);
    expect(result.stdout).toContain(`Run ${run.runId} SUCCEEDED after`);
    expect(result.stdout).toContain('SQuAD F1 on 10 test records: base 41.0 -> fine-tuned 78.5 (+91.2%)');
    expect(result.stdout).toContain(`Report: s3://${ARTIFACTS}/runs/${run.runId}/report.html`);
    expect(result.stdout).toContain(`llama-finetune report ${run.runId}`);

    // runs: the table a user reads.
    const runs = await cli(['runs']);
    expect(runs.code).toBe(0);
    const row = runs.stdout.split('\n').find((l) => l.startsWith(run.runId))!;
    expect(row).toMatch(new RegExp(`^${run.runId}\\s+SUCCEEDED\\s+llama3\\.2-1b\\s+41\\.0 -> 78\\.5\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+\\d+s$`));
    expect(runs.stdout.split('\n')[0]).toMatch(/^RUN ID\s+STATUS\s+MODEL\s+F1 BASE -> TUNED\s+STARTED \(UTC\)\s+DURATION$/);
    const json = JSON.parse((await cli(['runs', '--json'])).stdout) as Array<{ runId: string; fineTunedF1: number }>;
    expect(json.find((r) => r.runId === run.runId)?.fineTunedF1).toBe(78.46);

    // report: fetched to a file whose path is printed.
    const out = path.join(work, 'reports', 'chartqa.html');
    const report = await cli(['report', run.runId, '--out', out]);
    expect(report.code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(`<html><body>report of ${run.runId}</body></html>`);
    expect(report.stdout).toContain(`Report saved to ${out}`);
    expect(report.stdout).toContain('base 41.0 -> fine-tuned 78.5');
    expect(existsSync(`${out}.partial`)).toBe(false);
    expectNoNoise(report);

    // --open hands the file to the desktop's opener (here a stand-in xdg-open on PATH that notes what it got).
    const bin = path.join(work, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    const opened = path.join(work, 'opened.txt');
    writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const openedReport = await cli(['report', run.runId, '--out', out, '--open'], userEnv({ PATH: `${bin}${path.delimiter}${process.env.PATH}` }));
    expect(openedReport.code).toBe(0);
    await waitFor('the opener', () => existsSync(opened));
    expect(readFileSync(opened, 'utf8')).toBe(out);
  }, 60_000);

  test('a run that fails ends with its reason and exit 1', async () => {
    const file = writeRequest('fails-1b', { name: 'fails-1b', model: 'llama3.2-1b', trainingData: 'datasets/fails/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    const running = startCli(['run', file, '--interval', '0.05']);
    const run = await playWorkflow({ datasets: DATASETS, artifacts: ARTIFACTS }, 'requests/fails-1b.json', { outcome: 'FAILED' });
    const result = await running.result;
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Run ${run.runId} FAILED after`);
    expect(result.stdout).toContain('JobFailed: The customization job failed: Internal error');
    const report = await cli(['report', run.runId]);
    expect(report.code).toBe(1);
    expect(report.stderr).toContain(`run ${run.runId} has no report: it ended before an evaluation`);
  }, 60_000);

  test('--no-wait prints the run id the workflow then gives the run, and follow picks it up', async () => {
    const file = writeRequest('nowait-1b', { name: 'nowait-1b', model: 'llama3.2-1b', trainingData: 'datasets/nowait/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    const result = await cli(['run', file, '--no-wait']);
    expect(result.code).toBe(0);
    const printed = result.stdout.trim();
    expect(printed).toMatch(/^nowait-1b-[0-9a-f]{12}$/);
    const run = await playWorkflow({ datasets: DATASETS, artifacts: ARTIFACTS }, 'requests/nowait-1b.json', { outcome: 'SUCCEEDED' });
    expect(run.runId).toBe(printed);
    const followed = await cli(['follow', printed, '--interval', '0.05']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain(`Run ${printed} SUCCEEDED`);
  }, 60_000);

  test('--outputs: the file `cdk deploy --outputs-file` writes, from a synthesized stack, is all run --no-wait and runs need', async () => {
    // The outputs of a stack that composes LlamaFinetuning and adds its outputs (the deployment
    // the grants come from), resolved as CloudFormation would, with the synthesized buckets
    // standing for the stand-in ones.
    const { stack, finetuning, template } = deployment;
    const physical: Record<string, string> = { [logicalIdOf(finetuning.datasetBucket)]: DATASETS, [logicalIdOf(finetuning.artifactsBucket)]: ARTIFACTS };
    const resolve = (value: unknown): string | undefined => {
      if (typeof value === 'string') return value;
      const v = value as { Ref?: string; 'Fn::Join'?: [string, unknown[]] };
      if (v.Ref) return physical[v.Ref];
      if (v['Fn::Join']) {
        const parts = v['Fn::Join'][1].map(resolve);
        return parts.every((p) => p !== undefined) ? parts.join(v['Fn::Join'][0]) : undefined;
      }
      return undefined; // ARNs and names this test has no stand-in for
    };
    const outputs = Object.fromEntries(
      Object.entries((template.toJSON().Outputs ?? {}) as Record<string, { Value: unknown }>)
        .map(([key, output]) => [key, resolve(output.Value)])
        .filter(([, value]) => value !== undefined),
    );
    expect(outputs).toMatchObject({ DatasetBucketName: DATASETS, ArtifactsBucketName: ARTIFACTS, RequestPrefix: 'requests/', RunsPrefix: 'runs/' });
    const outputsFile = path.join(work, 'cdk-outputs.json');
    writeFileSync(outputsFile, JSON.stringify({ [stack.stackName]: outputs }, null, 2));
    // No bucket options or variables: only the outputs file.
    const env = userEnv({ LLAMA_FINETUNE_DATASET_BUCKET: undefined, LLAMA_FINETUNE_ARTIFACTS_BUCKET: undefined });

    const file = writeRequest('outputs-1b', { name: 'outputs-1b', model: 'llama3.2-1b', trainingData: 'datasets/outputs/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    const started = await cli(['run', file, '--no-wait', '--outputs', outputsFile], env);
    expectNoNoise(started);
    expect({ code: started.code, stderr: started.stderr }).toMatchObject({ code: 0 });
    const run = await playWorkflow({ datasets: DATASETS, artifacts: ARTIFACTS }, 'requests/outputs-1b.json', { outcome: 'SUCCEEDED' });
    expect(started.stdout.trim()).toBe(run.runId);

    const listed = await cli(['runs', '--outputs', outputsFile], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n').some((line) => line.startsWith(run.runId))).toBe(true);
    // The same from the variable.
    const fromVariable = await cli(['runs'], { ...env, LLAMA_FINETUNE_OUTPUTS: outputsFile });
    expect(fromVariable.code).toBe(0);
    expect(fromVariable.stdout).toContain(run.runId);
    // A file of several stacks needs --stack, and says which are there.
    const twoStacks = path.join(work, 'cdk-outputs-two.json');
    writeFileSync(twoStacks, JSON.stringify({ [stack.stackName]: outputs, 'Other-Stack': outputs }));
    const ambiguous = await cli(['runs', '--outputs', twoStacks], env);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain('Other-Stack');
    expect((await cli(['runs', '--outputs', twoStacks, '--stack', 'Other-Stack'], env)).code).toBe(0);
  }, 90_000);

  test('an unversioned dataset bucket: the run is found by its request key and ETag among the new runs', async () => {
    const env = userEnv({ LLAMA_FINETUNE_DATASET_BUCKET: PLAIN_DATASETS, LLAMA_FINETUNE_ARTIFACTS_BUCKET: PLAIN_ARTIFACTS });
    const file = writeRequest('plain-1b', { name: 'plain-1b', model: 'llama3.2-1b', trainingData: 'datasets/plain/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    // An earlier run of the same request (same bytes, same ETag) must not be taken for the new one.
    const first = startCli(['run', file, '--interval', '0.05'], env);
    const earlier = await playWorkflow({ datasets: PLAIN_DATASETS, artifacts: PLAIN_ARTIFACTS }, 'requests/plain-1b.json', { outcome: 'FAILED' });
    expect((await first.result).stdout).toContain(`Run ${earlier.runId} FAILED`);
    const requestUploads = () => aws.s3.callLog.entries({ principal: CLI_USER, operation: 'PutObject', succeeded: true }).filter((c) => c.resources[0] === `arn:aws:s3:::${PLAIN_DATASETS}/requests/plain-1b.json`).length;
    const uploadsBefore = requestUploads();
    const second = startCli(['run', file, '--interval', '0.05'], env);
    await waitFor('the second upload', () => requestUploads() > uploadsBefore);
    const later = await playWorkflow({ datasets: PLAIN_DATASETS, artifacts: PLAIN_ARTIFACTS }, 'requests/plain-1b.json', { outcome: 'SUCCEEDED' });
    expect(later.runId).not.toBe(earlier.runId);
    const result = await second.result;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Run ${later.runId} SUCCEEDED`);
  }, 60_000);

  test('Ctrl-C stops following, never the run: exit 130, the record untouched, the way to follow again', async () => {
    const file = writeRequest('long-1b', { name: 'long-1b', model: 'llama3.2-1b', trainingData: 'datasets/long/train.jsonl' }, { 'train.jsonl': VALID_TRAINING });
    const running = startCli(['run', file, '--interval', '0.05']);
    const run = await playWorkflow({ datasets: DATASETS, artifacts: ARTIFACTS }, 'requests/long-1b.json', { outcome: 'RUNNING' });
    await waitFor('the job status on the progress line', () => running.output().stderr.includes('job InProgress'));
    const before = aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString();
    running.child.kill('SIGINT');
    const result = await running.result;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`Stopped following run ${run.runId}; the run goes on (stopping to follow never stops it). Follow it again with: llama-finetune follow ${run.runId}`);
    const after = JSON.parse(aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString()) as RunRecord;
    expect(aws.s3.getObject(ARTIFACTS, runRecordKey(run))!.toString()).toBe(before);
    expect(after.status).toBe('RUNNING');
    expectNoNoise(result);
  }, 60_000);
});
