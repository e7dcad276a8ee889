/**
 * `llama-finetune validate`: checks a JSONL dataset against Bedrock's rules for Llama 3.2
 * fine-tuning before anything is uploaded or paid for. It runs the same engine as the
 * validate-dataset Lambda (lambda/shared/validation).
 */
import { statSync } from 'fs';
import { S3Client } from '@aws-sdk/client-s3';
import { findModel, LLAMA_MODELS, LlamaModel } from '../../lib/models/llama-models';
import { safeText } from '../../lambda/shared/display-text';
import { headObject, parseS3Uri } from '../../lambda/shared/s3';
import {
  createS3ClientForImageReads,
  DatasetSource,
  DEFAULT_IMAGE_CONCURRENCY,
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
import { awsAccessProblem, EXIT } from '../exit-codes';

export const VALIDATE_USAGE = `llama-finetune validate <file.jsonl | s3://bucket/key.jsonl> --model <name or id> [options]
  Checks a dataset against Bedrock's rules for fine-tuning Llama 3.2 (the same checks the
  workflow runs after upload). The file counts as training data for the 100..10,000 records rule.
  --model <name|id>         ${LLAMA_MODELS.map((m) => m.name).join(', ')}, or a Bedrock model id (required)
  --image-root <dir>        read image s3://<bucket>/<key> from <dir>/<bucket>/<key> instead of S3
  --skip-images             do not read images (their format, file size and pixel size stay unchecked)
  --allow-images <s3-uri>   a location the customization role may read images from (repeatable;
                            default: the dataset's bucket when the dataset is in S3, else unchecked)
  --account <id>            12-digit account that must own the image buckets (bucketOwner)
  --concurrency <n>         images read at once (default ${DEFAULT_IMAGE_CONCURRENCY})
  --max-problems <n>        errors and warnings listed in full (default ${DEFAULT_MAX_LISTED_PROBLEMS}); the rest are counted
  --json                    print the JSON report instead of the text report
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
  readonly file: string;
  readonly model: LlamaModel;
  readonly imageRoot?: string;
  readonly skipImages: boolean;
  readonly allowImages: string[];
  readonly account?: string;
  readonly concurrency: number;
  readonly maxProblems: number;
  readonly json: boolean;
}

class UsageError extends Error {}

const VALUE_FLAGS = new Set(['--model', '--image-root', '--allow-images', '--account', '--concurrency', '--max-problems']);
const BOOLEAN_FLAGS = new Set(['--json', '--skip-images']);

function parseInteger(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${text}'.`);
  return value;
}

function parseArgs(args: readonly string[]): ValidateArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (VALUE_FLAGS.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value.`);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else if (BOOLEAN_FLAGS.has(name) && eq < 0) {
      flags.add(name);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`Unknown option '${arg}'.`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    throw new UsageError(positional.length === 0 ? 'Name the JSONL file to validate.' : `Validate one file at a time; got ${positional.join(', ')}.`);
  }
  const last = (flag: string) => values.get(flag)?.[values.get(flag)!.length - 1];
  const modelName = last('--model');
  if (!modelName) throw new UsageError('--model is required.');
  const model = findModel(modelName);
  if (!model) throw new UsageError(`Unknown model '${modelName}'. Use one of: ${LLAMA_MODELS.map((m) => `${m.name} (${m.baseModelIdentifier})`).join(', ')}.`);
  const account = last('--account');
  if (account !== undefined && !/^\d{12}$/.test(account)) throw new UsageError(`--account must be a 12-digit AWS account id, got '${account}'.`);
  const imageRoot = last('--image-root');
  if (imageRoot !== undefined && flags.has('--skip-images')) throw new UsageError('Use either --image-root or --skip-images, not both.');
  if (imageRoot !== undefined && !isDirectory(imageRoot)) throw new UsageError(`--image-root '${imageRoot}' is not a directory.`);
  const allowImages = values.get('--allow-images') ?? [];
  for (const location of allowImages) {
    try {
      parseAllowedImageLocation(location);
    } catch (err) {
      throw new UsageError(`--allow-images: ${(err as Error).message}.`);
    }
  }
  return {
    file: positional[0],
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

/** Runs the command; returns the exit code (0 valid, 1 errors, 2 bad usage, 3 could not check). */
export async function runValidate(args: string[], io: ValidateIo = defaultIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(VALIDATE_USAGE + '\n');
    return 0;
  }
  let parsed: ValidateArgs;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // The message names the problem; the full usage would bury it, so point to --help.
    io.stderr(`llama-finetune validate: ${err.message}\nRun 'llama-finetune validate --help' to see every option.\n`);
    return EXIT.USAGE;
  }

  let s3: S3Client | undefined;
  const s3Client = () => (s3 ??= io.createS3Client(parsed.concurrency));
  let source: DatasetSource;
  let allowImages = parsed.allowImages;
  if (parsed.file.startsWith('s3://')) {
    let location;
    try {
      location = parseS3Uri(parsed.file);
    } catch (err) {
      io.stderr(`llama-finetune validate: ${(err as Error).message}\n`);
      return 2;
    }
    try {
      if (!(await headObject(s3Client(), location))) {
        io.stderr(`llama-finetune validate: ${parsed.file} does not exist.\n`);
        return 2;
      }
    } catch (err) {
      io.stderr(`llama-finetune validate: cannot read ${parsed.file}: ${awsAccessProblem(err) ?? safeText((err as Error).message, { maxChars: 2000 })}\n`);
      return EXIT.CANNOT_CHECK;
    }
    source = s3DatasetSource(s3Client(), location.bucket, location.key);
    if (allowImages.length === 0) allowImages = [`s3://${location.bucket}/`];
  } else {
    let isFile = false;
    try {
      isFile = statSync(parsed.file).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) {
      io.stderr(`llama-finetune validate: file not found: ${parsed.file}\n`);
      return 2;
    }
    source = localDatasetSource(parsed.file);
  }

  let imageSource: ImageByteSource | undefined;
  if (parsed.imageRoot !== undefined) imageSource = new LocalImageByteSource(parsed.imageRoot);
  else if (!parsed.skipImages && parsed.model.supportsImages) imageSource = new S3ImageByteSource(s3Client);

  const progress = progressReporter(io);
  try {
    const report = await validateDataset({
      model: parsed.model,
      files: [{ role: 'training', source }],
      imageSource,
      imageConcurrency: parsed.concurrency,
      allowedImageLocations: allowImages.length > 0 ? allowImages : undefined,
      expectedAccountId: parsed.account,
      maxListedProblems: parsed.maxProblems,
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
  } finally {
    s3?.destroy();
  }
}
