/**
 * `llama-finetune validate`: checks a JSONL dataset against Bedrock's rules for Llama 3.2
 * fine-tuning before anything is uploaded or paid for. It runs the same engine as the
 * validate-dataset Lambda (lambda/shared/validation).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'fs';
import * as path from 'path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { findModel, LLAMA_MODELS, LlamaHyperParameterName, LlamaModelSpec } from '../../lambda/shared/models/llama-models';
import { safeText } from '../../lambda/shared/display-text';
import { InvalidRunRequestError, MAX_RUN_REQUEST_BYTES, parseRunRequest, requestTooLarge, RunRequest } from '../../lambda/shared/run-request';
import { headObject, parseS3Uri } from '../../lambda/shared/s3';
import {
  createS3ClientForImageReads,
  DatasetSource,
  DEFAULT_IMAGE_CONCURRENCY,
  defaultAllowedImageLocations,
  hyperParameterOverridesOf,
  RunDataSources,
  runDatasetFiles,
  DEFAULT_MAX_LISTED_PROBLEMS,
  ImageByteSource,
  localDatasetSource,
  LocalImageByteSource,
  parseAllowedImageLocation,
  renderReportText,
  S3ImageByteSource,
  s3DatasetSource,
  validateDataset,
  ValidationProgress,
} from '../../lambda/shared/validation';
import { detectForeignDataset, FOREIGN_DATASET_HEAD_BYTES } from '../prepare/input-format';
import { shellQuote } from '../prepare/shell-quote';
import { parseArgs, UsageError } from '../command-args';
import { awsAccessProblem, EXIT } from '../exit-codes';

export const VALIDATE_USAGE = `llama-finetune validate <training.jsonl | s3://bucket/key.jsonl> [--validation <file>] [--test <file>] --model <name or id> [options]
llama-finetune validate --request <run-request.json> [--bucket <dataset bucket>] [options]
  Checks a dataset against Bedrock's rules for fine-tuning Llama 3.2: the same checks, on the same
  files, that the workflow runs after upload. Training + validation records count toward the
  100..10,000 records rule; duplicates are found across all the files.
  --validation <file>       the validation file (local path or s3:// URI)
  --test <file>             the test file (local path or s3:// URI)
  --request <file>          a run request (JSON): validates the files it names, with its model and
                            hyperparameters; a key is read from beside the request when that file
                            exists there, else from s3://<--bucket>/<key>
  --bucket <name>           the dataset bucket the request's keys are in (with --request)
  --model <name|id>         ${LLAMA_MODELS.map((m) => m.name).join(', ')}, or a Bedrock model id (required
                            without --request; with it, the model when the request names none)
  --image-root <dir>        read image s3://<bucket>/<key> from <dir>/<bucket>/<key> instead of S3
  --skip-images             do not read images (their format, file size and pixel size stay unchecked)
  --allow-images <s3-uri>   a location the customization role may read images from (repeatable;
                            default: the dataset bucket when known, else unchecked)
  --account <id>            12-digit account that must own the image buckets (bucketOwner)
  --concurrency <n>         images read at once (default ${DEFAULT_IMAGE_CONCURRENCY})
  --max-problems <n>        errors and warnings listed in full (default ${DEFAULT_MAX_LISTED_PROBLEMS}); the rest are counted
  --json                    print the JSON report instead of the text report
  A LLaVA, VQAv2, ChartQA or CSV file, or a JSON array, is not checked record by record: the
  command says which \`llama-finetune prepare --format\` converts it.
  Exit codes: 0 valid (warnings allowed), 1 errors found, 2 bad usage, 3 could not check (S3 unreachable,
  access denied, no region or credentials, a file or image that could not be read).`;

/** Where the command writes, and how it reaches S3 (tests replace these). */
export interface ValidateIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (then a progress line is shown on long files). */
  readonly stderrIsTty: boolean;
  /** Creates the S3 client used for s3:// datasets and images. */
  readonly createS3Client: (concurrency: number) => S3Client;
  /** Milliseconds clock for the progress line. @default Date.now */
  readonly now?: () => number;
}

const defaultIo: ValidateIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stderrIsTty: Boolean(process.stderr.isTTY),
  createS3Client: (concurrency) => createS3ClientForImageReads(concurrency),
};

/** Parsed command line. */
interface ValidateArgs {
  /** The files named on the command line; absent with --request. */
  readonly files?: { readonly training: string; readonly validation?: string; readonly test?: string };
  /** The run request file, with --request. */
  readonly request?: string;
  readonly bucket?: string;
  /** The model: required without --request, the default model with it. */
  readonly model?: LlamaModelSpec;
  readonly imageRoot?: string;
  readonly skipImages: boolean;
  readonly allowImages: string[];
  readonly account?: string;
  readonly concurrency: number;
  readonly maxProblems: number;
  readonly json: boolean;
}

const VALIDATE_OPTIONS = {
  values: ['--model', '--image-root', '--allow-images', '--account', '--concurrency', '--max-problems', '--validation', '--test', '--request', '--bucket'],
  flags: ['--json', '--skip-images'],
};

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${text}'.`);
  return value;
}

function parseValidateArgs(args: readonly string[]): ValidateArgs {
  const parsed = parseArgs(args, VALIDATE_OPTIONS);
  const positional = parsed.positional;
  const flags = parsed.flags;
  const last = (flag: string) => parsed.value(flag);
  const given = (flag: string) => parsed.values(flag).length > 0;
  const request = last('--request');
  let files: ValidateArgs['files'];
  if (request !== undefined) {
    if (positional.length > 0) throw new UsageError(`--request names the data files; do not name files as well (got ${positional.join(', ')}).`);
    for (const flag of ['--validation', '--test']) {
      if (given(flag)) throw new UsageError(`${flag} cannot be combined with --request; the request names its ${flag.slice(2)} file.`);
    }
  } else {
    if (positional.length === 0) throw new UsageError('Name the JSONL file to validate (the training file), or a run request with --request.');
    if (positional.length > 1) {
      throw new UsageError(`Name one training file; give the others with --validation and --test (got ${positional.join(', ')}).`);
    }
    if (given('--bucket')) throw new UsageError('--bucket applies to --request; name S3 files as s3://bucket/key.');
    files = { training: positional[0], validation: last('--validation'), test: last('--test') };
    const named = [files.training, files.validation, files.test].filter((f) => f !== undefined);
    const repeated = named.find((f, i) => named.indexOf(f) !== i);
    if (repeated !== undefined) throw new UsageError(`${repeated} is named twice; training, validation and test are different files.`);
  }
  const modelName = last('--model');
  if (!modelName && request === undefined) throw new UsageError('--model is required.');
  const model = modelName ? findModel(modelName) : undefined;
  if (modelName && !model) throw new UsageError(`Unknown model '${modelName}'. Use one of: ${LLAMA_MODELS.map((m) => `${m.name} (${m.baseModelIdentifier})`).join(', ')}.`);
  const account = last('--account');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account must be a 12-digit AWS account id, got '${account}'.`);
  const imageRoot = last('--image-root');
  if (imageRoot !== undefined && flags.has('--skip-images')) throw new UsageError('Use either --image-root or --skip-images, not both.');
  if (imageRoot !== undefined && !isDirectory(imageRoot)) throw new UsageError(`--image-root '${imageRoot}' is not a directory.`);
  const allowImages = [...parsed.values('--allow-images')];
  for (const location of allowImages) {
    try {
      parseAllowedImageLocation(location);
    } catch (err) {
      throw new UsageError(`--allow-images: ${(err as Error).message}.`);
    }
  }
  const bucket = last('--bucket');
  if (bucket !== undefined && (bucket.startsWith('s3://') || bucket.includes('/'))) throw new UsageError(`--bucket takes the bucket name only, got '${bucket}'.`);
  return {
    files,
    request,
    bucket,
    model,
    imageRoot,
    skipImages: flags.has('--skip-images'),
    allowImages,
    account,
    concurrency: last('--concurrency') !== undefined ? parseInteger('--concurrency', last('--concurrency')!, 1, 1024) : DEFAULT_IMAGE_CONCURRENCY,
    maxProblems: last('--max-problems') !== undefined ? parseInteger('--max-problems', last('--max-problems')!, 0, 100_000) : DEFAULT_MAX_LISTED_PROBLEMS,
    json: flags.has('--json'),
  };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Shows "validating <file>: N lines (P%)" on a terminal, at most five times a second, after the first second. */
function progressReporter(io: ValidateIo): { onProgress?: (p: ValidationProgress) => void; done: () => void } {
  if (!io.stderrIsTty) return { done: () => undefined };
  const clock = io.now ?? Date.now;
  const started = clock();
  let lastShown = 0;
  let shown = false;
  return {
    onProgress: (p) => {
      const now = clock();
      if (now - started < 1000 || now - lastShown < 200) return;
      lastShown = now;
      shown = true;
      const percent = p.totalBytes ? ` (${Math.floor((100 * p.bytesRead) / p.totalBytes)}%)` : '';
      io.stderr(`\rvalidating ${safeText(p.file, { maxChars: 200 })}: ${p.lines.toLocaleString('en-US')} lines${percent}\x1b[K`);
    },
    done: () => {
      if (shown) io.stderr('\r\x1b[K');
    },
  };
}

/** Stops the command before validation starts, with the message and exit code. */
class Stop extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** What to validate, resolved from the command line or the run request. */
interface ValidationPlan {
  readonly model: LlamaModelSpec;
  readonly sources: RunDataSources;
  /** Every data file, with a way to read its first bytes (to tell a file prepare converts before validating). */
  readonly heads: readonly NamedHead[];
  /** Buckets the data is in: the default image locations, as in the workflow. */
  readonly dataBuckets: readonly string[];
  readonly hyperParameterOverrides?: Partial<Record<LlamaHyperParameterName, number>>;
}

/** A data file's name and a reader of its first bytes. */
interface NamedHead {
  readonly name: string;
  readonly read: (bytes: number) => Promise<string>;
}

/** A data file named by path or s3:// URI, checked to exist. */
async function namedSource(
  name: string,
  what: string,
  s3Client: () => S3Client,
  plan: { heads: NamedHead[]; dataBuckets: string[] },
  localPath = name,
): Promise<DatasetSource> {
  if (name.startsWith('s3://')) {
    let location;
    try {
      location = parseS3Uri(name);
    } catch (err) {
      throw new Stop((err as Error).message, 2);
    }
    let found;
    try {
      found = await headObject(s3Client(), location);
    } catch (err) {
      throw new Stop(`cannot read ${name}: ${awsAccessProblem(err) ?? (err as Error).message}`, EXIT.CANNOT_CHECK);
    }
    if (!found) throw new Stop(`${name} (${what}) does not exist.`, 2);
    if (!plan.dataBuckets.includes(location.bucket)) plan.dataBuckets.push(location.bucket);
    const { bucket, key } = location;
    plan.heads.push({ name, read: (bytes) => readS3Head(s3Client(), bucket, key, bytes) });
    return s3DatasetSource(s3Client(), bucket, key);
  }
  if (!isFile(localPath)) throw new Stop(`file not found: ${name} (${what})`, 2);
  plan.heads.push({ name, read: async (bytes) => readHead(localPath, bytes) });
  return localDatasetSource(localPath, name);
}

/** The files named on the command line. */
async function planFromFiles(parsed: ValidateArgs, s3Client: () => S3Client): Promise<ValidationPlan> {
  const files = parsed.files!;
  const found = { heads: [] as NamedHead[], dataBuckets: [] as string[] };
  const sources: RunDataSources = {
    training: await namedSource(files.training, 'training', s3Client, found),
    validation: files.validation !== undefined ? await namedSource(files.validation, 'validation', s3Client, found) : undefined,
    test: files.test !== undefined ? await namedSource(files.test, 'test', s3Client, found) : undefined,
  };
  return { model: parsed.model!, sources, ...found };
}

/**
 * The files a run request names, with its model and hyperparameters, read with the parser the
 * workflow's read-request step uses. A key is read from beside the request when that file
 * exists, else from the dataset bucket.
 */
async function planFromRequest(parsed: ValidateArgs, s3Client: () => S3Client): Promise<ValidationPlan> {
  const requestFile = parsed.request!;
  if (!isFile(requestFile)) throw new Stop(`run request not found: ${requestFile}`, 2);
  if (statSync(requestFile).size > MAX_RUN_REQUEST_BYTES) throw new Stop(requestTooLarge(requestFile, statSync(requestFile).size).message, 1);
  const text = readFileSync(requestFile, 'utf8');
  const datasetBucket = parsed.bucket ?? bucketNamedIn(text);
  let request: RunRequest;
  try {
    request = parseRunRequest(text, requestFile, datasetBucket ?? '', { defaultModel: parsed.model?.name });
  } catch (err) {
    if (err instanceof InvalidRunRequestError) throw new Stop(err.message, 1);
    throw err;
  }
  const found = { heads: [] as NamedHead[], dataBuckets: datasetBucket ? [datasetBucket] : [] };
  const folder = path.dirname(requestFile);
  const source = async (field: string, key: string | undefined, what: string): Promise<DatasetSource | undefined> => {
    if (key === undefined) return undefined;
    const beside = path.join(folder, key);
    if (isFile(beside)) return namedSource(beside, what, s3Client, found);
    if (!datasetBucket) {
      throw new Stop(`${requestFile} names ${field} "${key}", which is not a file beside the request (${beside}); pass --bucket <dataset bucket> to read it from S3.`, 2);
    }
    return namedSource(`s3://${datasetBucket}/${key}`, what, s3Client, found);
  };
  const sources: RunDataSources = {
    training: (await source('trainingData', request.trainingDataKey, 'training'))!,
    validation: await source('validationData', request.validationDataKey, 'validation'),
    test: await source('testData', request.testDataKey, 'test'),
  };
  return { model: request.model, sources, ...found, hyperParameterOverrides: hyperParameterOverridesOf(request) };
}

/** The bucket of the first s3:// URI among the request's data fields, when it names one. */
function bucketNamedIn(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    for (const field of ['trainingData', 'validationData', 'testData']) {
      const value = doc?.[field];
      if (typeof value === 'string' && value.trim().startsWith('s3://')) return value.trim().slice(5).split('/')[0] || undefined;
    }
  } catch {
    // parseRunRequest reports the syntax error.
  }
  return undefined;
}

/** Files that are a dataset prepare converts (or a JSON array), each with the one sentence that says what to run. */
async function foreignDatasetMessages(files: readonly NamedHead[]): Promise<string[]> {
  const messages: string[] = [];
  for (const file of files) {
    const found = detectForeignDataset(file.name, await file.read(FOREIGN_DATASET_HEAD_BYTES));
    if (!found) continue;
    const todo = found.advice
      ? `${found.advice}.`
      : `Convert it first: llama-finetune prepare ${shellQuote(file.name)} --format ${found.format} --bucket <bucket> --out <dir> --account <account id>, then validate the files it writes.`;
    messages.push(`${file.name} is ${found.what}, not Bedrock conversation JSONL (one {"schemaVersion": ..., "messages": [...]} record per line), so it was not checked record by record. ${todo}`);
  }
  return messages;
}

/** The first bytes of an S3 object: one ranged GET. */
async function readS3Head(s3: S3Client, bucket: string, key: string, bytes: number): Promise<string> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${bytes - 1}` }));
    return out.Body ? await out.Body.transformToString('utf8') : '';
  } catch (err) {
    // S3 answers 416 InvalidRange for any range of an empty object; the validator reports the empty file.
    if ((err as { name?: string }).name === 'InvalidRange' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) return '';
    throw err;
  }
}

function readHead(file: string, bytes: number): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Runs the command; returns the exit code (0 valid, 1 errors, 2 bad usage, 3 could not check). */
export async function runValidate(args: string[], io: ValidateIo = defaultIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(VALIDATE_USAGE + '\n');
    return 0;
  }
  let parsed: ValidateArgs;
  try {
    parsed = parseValidateArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The message names the problem; the full usage would bury it, so point to --help.
    io.stderr(`llama-finetune validate: ${err.message}\nRun 'llama-finetune validate --help' to see every option.\n`);
    return EXIT.USAGE;
  }

  let s3: S3Client | undefined;
  const s3Client = () => (s3 ??= io.createS3Client(parsed.concurrency));
  try {
    let plan: ValidationPlan;
    try {
      plan = parsed.request !== undefined ? await planFromRequest(parsed, s3Client) : await planFromFiles(parsed, s3Client);
    } catch (err) {
      if (!(err instanceof Stop)) throw err;
      io.stderr(`llama-finetune validate: ${safeText(err.message, { keepLineBreaks: true, maxChars: 8000 })}\n`);
      return err.code;
    }
    let foreign: string[];
    try {
      foreign = await foreignDatasetMessages(plan.heads);
    } catch (err) {
      io.stderr(`llama-finetune validate: cannot read the start of the data: ${awsAccessProblem(err) ?? safeText((err as Error).message, { maxChars: 2000 })}\n`);
      return EXIT.CANNOT_CHECK;
    }
    if (foreign.length > 0) {
      // File names come from the user: escaped like every other message that quotes input.
      for (const message of foreign) io.stderr(`llama-finetune validate: ${safeText(message, { maxChars: 2000 })}\n`);
      return 1;
    }

    let imageSource: ImageByteSource | undefined;
    if (parsed.imageRoot !== undefined) imageSource = new LocalImageByteSource(parsed.imageRoot);
    else if (!parsed.skipImages && plan.model.supportsImages) imageSource = new S3ImageByteSource(s3Client);
    const allowImages = parsed.allowImages.length > 0 ? parsed.allowImages : plan.dataBuckets.flatMap(defaultAllowedImageLocations);

    const progress = progressReporter(io);
    try {
      const report = await validateDataset({
        model: plan.model,
        files: runDatasetFiles(plan.sources),
        imageSource,
        imageConcurrency: parsed.concurrency,
        allowedImageLocations: allowImages.length > 0 ? allowImages : undefined,
        expectedAccountId: parsed.account,
        maxListedProblems: parsed.maxProblems,
        hyperParameterOverrides: plan.hyperParameterOverrides,
        onProgress: progress.onProgress,
      });
      progress.done();
      io.stdout((parsed.json ? JSON.stringify(report, null, 2) : renderReportText(report)) + '\n');
      return report.valid ? 0 : 1;
    } catch (err) {
      progress.done();
      const hint = parsed.imageRoot === undefined && !parsed.skipImages ? ' If the images are not reachable from here, use --image-root <dir> or --skip-images.' : '';
      // The error may quote the data (an image URI, a key): escape it like every problem message.
      io.stderr(`llama-finetune validate: validation could not finish: ${awsAccessProblem(err) ?? safeText((err as Error).message, { maxChars: 2000 })}.${hint}\n`);
      return EXIT.CANNOT_CHECK;
    }
  } finally {
    s3?.destroy();
  }
}
