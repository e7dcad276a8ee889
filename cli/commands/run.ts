/**
 * `llama-finetune run <request.json>`: validates the request and the local data files it names
 * exactly as the workflow will (the same parsing, lambda/shared/run-request.ts, and the same
 * validation engine and settings as the validate-dataset step), uploads the data files and
 * then the request (which starts the run), and follows the run to its end.
 *
 * Needs only the grants `grantStartRuns` (uploads) and `grantReadResults` (reading the run).
 */
import { createReadStream, readFileSync, statSync } from 'fs';
import * as path from 'path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LlamaHyperParameterName } from '../../lambda/shared/models/llama-models';
import { dataPrefixProblems } from '../../lambda/shared/data-prefix';
import { safeText } from '../../lambda/shared/display-text';
import { referencesSidecarKey } from '../../lambda/shared/evaluation/test-records';
import { dataFileProblems, sourceDataKeys } from '../../lambda/shared/pinned-data';
import { RequestUpload, runIdOfUpload } from '../../lambda/shared/run-lookup';
import { InvalidRunRequestError, MAX_RUN_REQUEST_BYTES, parseRunRequest, requestTooLarge, RunRequest } from '../../lambda/shared/run-request';
import {
  DatasetFileInput,
  DEFAULT_IMAGE_CONCURRENCY,
  LocalImageByteSource,
  localDatasetSource,
  parseAllowedImageLocation,
  renderReportText,
  renderSummary,
  validateDataset,
} from '../../lambda/shared/validation';
import { parseArgs, secondsOption, UsageError } from '../command-args';
import { DEPLOYMENT_OPTION_NAMES, DEPLOYMENT_USAGE, deploymentSettings, listRunIds, required } from '../deployment';
import { awsAccessProblem, EXIT, EXIT_CODES_LINE, ExplainedError } from '../exit-codes';
import { followRun } from '../run-follow';
import { CommandIo, defaultCommandIo, reportAwsProblem } from '../command-io';

export const RUN_USAGE = `llama-finetune run <request.json> [options]
  Validates the request and the data files it names (local copies, found under --data-dir) as
  the workflow will, uploads the data files and then the request (which starts the run), and
  follows the run: step, job status and elapsed time, then the outcome, scores and report.
  Ctrl-C stops following, never the run (llama-finetune follow <run id> picks it up again).
  --data-dir <dir>          where the files the request names are: <dir>/<key>, else <dir>/<file name>
                            (default: the request file's folder; prepare's --out folder works)
  --image-root <dir>        check images from <dir>/<bucket>/<key> (prepare's --out); without it,
                            images are not read here (the workflow still checks them)
  --allow-images <s3-uri>   where images may be (default, as deployed: s3://<dataset bucket>/<data prefix>)
  --account <id>            the deployment's 12-digit account, which must own the image buckets
                            (bucketOwner; the workflow always checks it)
  --request-key <key>       where the request is uploaded (default <request prefix><file name>)
  --no-wait                 return after the upload, printing the run id
  --interval <seconds>      between two reads of the run record (default 15)
  --start-timeout <seconds> how long to wait for the run to begin (default 600)
${DEPLOYMENT_USAGE}
  ${EXIT_CODES_LINE} 1 also means the run did not succeed; 130: stopped following.`;

const SPEC = {
  values: ['--data-dir', '--image-root', '--allow-images', '--account', '--request-key', '--interval', '--start-timeout', ...DEPLOYMENT_OPTION_NAMES],
  flags: ['--no-wait'],
};

/** One data file to validate and upload. */
interface DataFile {
  readonly role: 'training' | 'validation' | 'test' | 'testReferences';
  readonly key: string;
  readonly localPath: string;
}

/** Runs the command; returns the exit code. */
export async function runRun(args: string[], io: CommandIo = defaultCommandIo()): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(RUN_USAGE + '\n');
    return EXIT.OK;
  }
  let s3: S3Client | undefined;
  try {
    const parsed = parseArgs(args, SPEC);
    if (parsed.positional.length !== 1) throw new UsageError(parsed.positional.length === 0 ? 'Name the run request file (request.json).' : `Give one request file; got ${parsed.positional.join(', ')}.`);
    const requestFile = parsed.positional[0];
    const settings = deploymentSettings(parsed, io.env);
    const datasetBucket = required(settings, 'datasetBucket');
    const wait = !parsed.flags.has('--no-wait');
    const artifactsBucket = wait ? required(settings, 'artifactsBucket') : settings.artifactsBucket;
    const account = parsed.value('--account');
    if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account must be a 12-digit AWS account id, got '${account.slice(0, 40)}'.`);
    const allowImages = parsed.values('--allow-images');
    for (const location of allowImages) {
      try {
        parseAllowedImageLocation(location);
      } catch (err) {
        throw new UsageError(`--allow-images: ${(err as Error).message}.`);
      }
    }
    const imageRoot = parsed.value('--image-root');
    if (imageRoot !== undefined && !isDirectory(imageRoot)) throw new UsageError(`--image-root '${imageRoot}' is not a directory.`);
    const intervalMs = secondsOption('--interval', parsed.value('--interval'), 15, 0.05, 3600) * 1000;
    const startTimeoutMs = secondsOption('--start-timeout', parsed.value('--start-timeout'), 600, 0.1, 86_400) * 1000;
    const requestKey = parsed.value('--request-key') ?? `${settings.requestPrefix}${path.basename(requestFile)}`;
    if (!requestKey.startsWith(settings.requestPrefix)) throw new UsageError(`--request-key '${requestKey}' is outside the request prefix '${settings.requestPrefix}': the upload would start no run.`);
    const dataDir = parsed.value('--data-dir') ?? path.dirname(requestFile);
    if (!isDirectory(dataDir)) throw new UsageError(`--data-dir '${dataDir}' is not a directory.`);

    // Exactly the workflow's read-request checks: the size, the request itself, then the data prefix.
    let text: string;
    let request: RunRequest;
    try {
      text = readRequestFile(requestFile);
      request = parseRunRequest(text, requestFile, datasetBucket);
      const outside = dataPrefixProblems(settings.dataPrefix, datasetBucket, [
        ['trainingData', request.trainingDataKey],
        ['validationData', request.validationDataKey],
        ['testData', request.testDataKey],
      ]);
      if (outside.length > 0) throw new InvalidRunRequestError(requestFile, outside);
    } catch (err) {
      if (!(err instanceof InvalidRunRequestError)) throw err;
      io.stderr(`${err.message}\nNothing was uploaded.\n`);
      return EXIT.DATA_ERRORS;
    }
    const files = localDataFiles(request, dataDir);
    // The workflow's checks of the files as found (empty, too large to pin), on the local copies.
    const sizes = Object.fromEntries(files.map((f) => [f.role, { key: f.key, etag: '', size: statSync(f.localPath).size }]));
    const fileProblems = dataFileProblems(datasetBucket, sourceDataKeys({ trainingKey: request.trainingDataKey, validationKey: request.validationDataKey, testKey: request.testDataKey }), sizes);
    if (fileProblems.length > 0) {
      io.stderr(`${new InvalidRunRequestError(requestFile, fileProblems).message}\n(checked on the local copies in ${dataDir}) Nothing was uploaded.\n`);
      return EXIT.DATA_ERRORS;
    }

    // The workflow's validate-dataset step, with the same options (see lambda/validate-dataset).
    const overrides = Object.fromEntries(
      request.hyperParametersOverridden.filter((name) => request.hyperParameters[name as LlamaHyperParameterName] !== undefined).map((name) => [name, request.hyperParameters[name as LlamaHyperParameterName]]),
    ) as Partial<Record<LlamaHyperParameterName, number>>;
    const inputs: DatasetFileInput[] = files.filter((f) => f.role !== 'testReferences').map((f) => ({ role: f.role as DatasetFileInput['role'], source: localDatasetSource(f.localPath) }));
    const report = await validateDataset({
      model: request.model,
      files: inputs,
      imageSource: imageRoot !== undefined ? new LocalImageByteSource(imageRoot) : undefined,
      imageConcurrency: DEFAULT_IMAGE_CONCURRENCY,
      // The deployed workflow's ALLOWED_IMAGE_LOCATIONS: the dataset bucket, under the data prefix when there is one.
      allowedImageLocations: allowImages.length > 0 ? allowImages : [`s3://${datasetBucket}/${settings.dataPrefix ?? ''}`],
      expectedAccountId: account,
      hyperParameterOverrides: overrides,
    });
    if (!report.valid) {
      io.stdout(renderReportText(report) + '\n');
      io.stderr('llama-finetune run: the data has errors (listed above); nothing was uploaded. Fix them and run again.\n');
      return EXIT.DATA_ERRORS;
    }
    io.stderr(renderSummary(report) + '\n');
    if (request.model.supportsImages && report.totals.imageReferences > 0) {
      if (imageRoot === undefined) io.stderr('Images were not read here (no --image-root); the workflow checks them after upload.\n');
      // The workflow always checks bucketOwner against the deployment's account (EXPECTED_ACCOUNT_ID).
      if (account === undefined) io.stderr("Image bucket owners were not checked here (no --account); the workflow checks them against the deployment's account.\n");
    }

    s3 = io.createS3Client(settings);
    // Runs of this name that exist already: in an unversioned bucket the new run is none of them.
    const runsBefore = wait ? new Set(await listRunIds(s3, artifactsBucket!, settings.runsPrefix, `${request.name}-`)) : new Set<string>();
    // Data first: the request starts the run, which pins the data versions it finds.
    for (const f of files) {
      await uploadFile(s3, datasetBucket, f.key, f.localPath, 'application/jsonl');
      io.stderr(`uploaded ${f.localPath} -> s3://${datasetBucket}/${f.key}\n`);
    }
    const put = await s3.send(new PutObjectCommand({ Bucket: datasetBucket, Key: requestKey, Body: text, ContentType: 'application/json' }));
    const upload: RequestUpload = { bucket: datasetBucket, key: requestKey, versionId: put.VersionId, etag: put.ETag };
    const runId = runIdOfUpload(request.name, upload);
    io.stderr(`uploaded ${requestFile} -> s3://${datasetBucket}/${requestKey}: the run starts\n`);

    if (!wait) {
      io.stdout(
        runId
          ? `${runId}\n`
          : `The run id is not known yet: the dataset bucket is not versioned, so it comes from the S3 event. Find the run with: llama-finetune runs\n`,
      );
      return EXIT.OK;
    }
    return await followRun(s3, { runId, requestName: request.name, upload, runsBefore }, { artifactsBucket: artifactsBucket!, runsPrefix: settings.runsPrefix, intervalMs, startTimeoutMs }, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`llama-finetune run: ${err.message}\nRun 'llama-finetune run --help' to see every option.\n`);
      return EXIT.USAGE;
    }
    return reportAwsProblem('run', err, io);
  } finally {
    s3?.destroy();
  }
}

function readRequestFile(file: string): string {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch {
    throw new UsageError(`request file not found: ${file}`);
  }
  // Refused by its size before it is read, as the workflow does.
  if (size > MAX_RUN_REQUEST_BYTES) throw requestTooLarge(file, size);
  return readFileSync(file, 'utf8');
}

/** The local copy of each file the request names: <dir>/<key>, else <dir>/<file name>. */
function localDataFiles(request: RunRequest, dataDir: string): DataFile[] {
  const files: DataFile[] = [];
  const missing: string[] = [];
  const add = (role: DataFile['role'], key: string | undefined, optional = false) => {
    if (!key) return;
    const candidates = [...new Set([path.join(dataDir, ...key.split('/')), path.join(dataDir, path.posix.basename(key))])];
    const found = candidates.find(isFile);
    if (found) files.push({ role, key, localPath: found });
    else if (!optional) missing.push(`${key}: looked for ${candidates.join(' and ')}`);
  };
  add('training', request.trainingDataKey);
  add('validation', request.validationDataKey);
  add('test', request.testDataKey);
  // The test file's reference answers travel with it when they exist (prepare writes them for VQAv2).
  if (request.testDataKey) add('testReferences', referencesSidecarKey(request.testDataKey), true);
  if (missing.length > 0) {
    throw new UsageError(`the request names data files that are not in ${dataDir}:\n  ${missing.map((m) => safeText(m, { maxChars: 600 })).join('\n  ')}\nPass --data-dir <folder with the files> (for prepared data: prepare's --out folder).`);
  }
  return files;
}

async function uploadFile(s3: S3Client, bucket: string, key: string, file: string, contentType: string): Promise<void> {
  const size = statSync(file).size;
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size, ContentType: contentType }));
  } catch (err) {
    throw new UploadFailedError(file, `s3://${bucket}/${key}`, err);
  }
}

/** An upload that failed, naming the file and where it was going; the run was not started (the request goes last). */
class UploadFailedError extends ExplainedError {
  constructor(file: string, uri: string, readonly cause: unknown) {
    super(`uploading ${file} to ${uri} failed: ${awsAccessProblem(cause) ?? (cause as Error)?.message}. The request was not uploaded, so no run started; run again once this is fixed`);
    this.name = 'UploadFailed';
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
