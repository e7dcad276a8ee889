/**
 * The options of `llama-finetune prepare`: usage text and the pure parsing and checking of
 * arguments into {@link PrepareOptions}. Every rejection names the flag and the fix.
 */
import { LLAMA_MODELS, LlamaModelSpec, findModel } from '../../lambda/shared/models/llama-models';
import { parseCommandLine } from './command-line';
import { CsvColumns, DEFAULT_CSV_COLUMNS } from './converters/csv-table';
import { DEFAULT_VQAV2_IMAGE_PATTERN, ImageNamePattern, parseImageNamePattern } from './image-name-pattern';
import { INPUT_FORMATS, InputFormat } from './input-format';
import { PrepareUsageError } from './prepare-errors';
import { PromptTemplate, PromptTemplateError, parsePromptTemplate } from './prompt-template';
import { DEFAULT_SPLIT_RATIOS, SplitRatios, parseSplitRatios } from './split-assignment';

/** What to do with an example whose image is missing or not a png/jpeg/gif/webp. */
export type MissingImagePolicy = 'skip' | 'fail';

/** Everything prepare needs to know, checked. */
export interface PrepareOptions {
  /** The dataset file (LLaVA JSON, VQAv2 questions, ChartQA JSON or CSV). */
  readonly input: string;
  /** The format; undefined means "tell from the content". */
  readonly format?: InputFormat;
  /** Image folder; undefined means the input's folder (ChartQA: its png/ sub-folder when present). */
  readonly images?: string;
  /** VQAv2 annotations file. */
  readonly annotations?: string;
  /** VQAv2 COCO split for image names. */
  readonly vqaSplit?: string;
  readonly imagePattern: ImageNamePattern;
  readonly csvColumns: CsvColumns;
  /** CSV field delimiter; undefined means "tell from the header row". */
  readonly csvDelimiter?: string;
  readonly system?: string;
  readonly promptTemplate?: PromptTemplate;
  readonly ratios: SplitRatios;
  readonly seed: string;
  readonly bucket: string;
  /** Key prefix, empty or ending in "/". */
  readonly prefix: string;
  /** The bucket owner's 12-digit account id, written as bucketOwner. */
  readonly account?: string;
  /** --no-bucket-owner: image records are written without bucketOwner, on purpose. */
  readonly withoutBucketOwner: boolean;
  /** The model the data is for (the validate command prepare prints names it). @default - the smallest model that takes the data */
  readonly model?: LlamaModelSpec;
  readonly out: string;
  readonly onMissingImage: MissingImagePolicy;
  readonly upload: boolean;
  readonly concurrency: number;
  readonly region?: string;
  /** Flags given on the command line, to reject ones that do not apply to the detected format. */
  readonly givenFlags: ReadonlySet<string>;
}

/** Flags that only make sense for one format. */
export const FORMAT_SPECIFIC_FLAGS: Readonly<Record<string, InputFormat>> = {
  '--annotations': 'vqav2',
  '--vqa-split': 'vqav2',
  '--image-pattern': 'vqav2',
  '--image-column': 'csv',
  '--question-column': 'csv',
  '--answer-column': 'csv',
  '--delimiter': 'csv',
};

export const DEFAULT_CONCURRENCY = 16;
const MAX_CONCURRENCY = 256;
export const DEFAULT_SEED = '0';

/** Usage of the prepare command, as `llama-finetune --help` and `prepare --help` print it. */
export const PREPARE_USAGE = `llama-finetune prepare <input> --bucket <name> --out <dir> [options]
  Converts a public dataset format into Bedrock conversation JSONL and splits it.
  <input>                      LLaVA-Instruct JSON/JSONL, VQAv2 questions JSON, ChartQA JSON or CSV
  --format <f>                 ${INPUT_FORMATS.join(' | ')} (default: told from the file)
  --images <dir>               image folder; image paths are relative to it
                               (default: the input's folder; ChartQA: its png/ folder when present)
  --annotations <file>         vqav2: the annotations file (required)
  --vqa-split <name>           vqav2: COCO split in image names, e.g. train2014
                               (default: data_subtype of the questions file)
  --image-pattern <p>          vqav2: image file name (default ${DEFAULT_VQAV2_IMAGE_PATTERN})
  --image-column <name>        csv: image path column, "none" for no images (default ${DEFAULT_CSV_COLUMNS.image})
  --question-column <name>     csv: question column (default ${DEFAULT_CSV_COLUMNS.question})
  --answer-column <name>       csv: answer column (default ${DEFAULT_CSV_COLUMNS.answer})
  --delimiter <c>              csv: field delimiter: , ; | or tab (default: told from the header row,
                               and reported)
  --system <text>              system prompt for every record
  --prompt-template <t>        text around each question; must contain {question},
                               e.g. "Answer briefly. {question}" ({{ and }} for literal braces)
  --split <t,v,x>              train,validation,test shares summing to 1 (default 0.8,0.1,0.1);
                               questions about one image stay in one split
  --seed <text>                split seed; same seed and data give the same split (default ${DEFAULT_SEED})
  --bucket <name>              bucket the images and files go to (required)
  --prefix <p>                 key prefix, e.g. datasets/chartqa/ (default: none)
  --account <id>               12-digit account owning the bucket, written as bucketOwner; required
                               when there are images (validate requires bucketOwner on every image:
                               without it every image record fails image-bucket-owner-missing)
  --no-bucket-owner            write image records without bucketOwner anyway (you add it later)
  --model <name|id>            the model the data is for, named in the validate command printed at
                               the end (default: llama3.2-11b with images, llama3.2-1b without)
  --out <dir>                  output folder (required); writes <out>/train.jsonl, validation.jsonl,
                               test.jsonl and the images at <out>/<bucket>/<prefix>images/, so
                               the validate command printed at the end (--image-root <out>) works;
                               vqav2 also writes <split>.references.jsonl: {"line", "id", "references"}
                               per record line, every annotator answer, for evaluation
  --on-missing-image <p>       skip | fail: what to do with an example whose image is missing or
                               unreadable (default fail)
  --upload                     upload images, then the JSONL files, to s3://<bucket>/<prefix>,
                               skipping objects already there with the same size
  --concurrency <n>            parallel uploads, 1-${MAX_CONCURRENCY} (default ${DEFAULT_CONCURRENCY})
  --region <r>                 AWS region for --upload (default: the SDK's, e.g. AWS_REGION)
  Exit codes: 0 prepared, 1 the data has errors, 2 bad usage, 3 the upload could not be made (S3 unreachable, access denied).`;

const VALUE_FLAGS = [
  '--format', '--images', '--annotations', '--vqa-split', '--image-pattern', '--image-column', '--question-column',
  '--answer-column', '--delimiter', '--model', '--system', '--prompt-template', '--split', '--seed', '--bucket', '--prefix', '--account', '--out',
  '--on-missing-image', '--concurrency', '--region',
];
const SWITCHES = ['--upload', '--no-bucket-owner', '--help'];

/**
 * Parses prepare's arguments.
 * @returns the options, or 'help' when --help was asked for.
 * @throws PrepareUsageError naming the flag and the fix.
 */
export function parsePrepareArgs(args: readonly string[]): PrepareOptions | 'help' {
  if (args.includes('-h')) return 'help';
  const line = parseCommandLine(args, { valueFlags: VALUE_FLAGS, switches: SWITCHES });
  if (line.switches.has('--help')) return 'help';
  const value = (flag: string) => line.values.get(flag);

  if (line.positionals.length === 0) throw new PrepareUsageError('the input file is missing; give it first, e.g. llama-finetune prepare data.json --bucket my-bucket --out prepared/');
  if (line.positionals.length > 1) throw new PrepareUsageError(`give one input file, got ${line.positionals.length}: ${line.positionals.join(' ')} (VQAv2 annotations go in --annotations)`);

  const format = value('--format');
  if (format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(format)) {
    throw new PrepareUsageError(`--format ${format} is not a known format; use one of ${INPUT_FORMATS.join(', ')}, or leave it out to tell the format from the file`);
  }

  return {
    input: line.positionals[0],
    format: format as InputFormat | undefined,
    images: nonEmpty(value('--images'), '--images', 'an image folder'),
    annotations: nonEmpty(value('--annotations'), '--annotations', 'the VQAv2 annotations file'),
    vqaSplit: nonEmpty(value('--vqa-split'), '--vqa-split', 'a COCO split such as train2014'),
    imagePattern: checked('--image-pattern', () => parseImageNamePattern(value('--image-pattern') ?? DEFAULT_VQAV2_IMAGE_PATTERN)),
    csvColumns: csvColumns(value),
    csvDelimiter: csvDelimiter(value('--delimiter')),
    system: nonEmpty(value('--system'), '--system', 'the system prompt text'),
    promptTemplate: promptTemplate(value('--prompt-template')),
    ratios: value('--split') === undefined ? DEFAULT_SPLIT_RATIOS : checked('--split', () => parseSplitRatios(value('--split')!)),
    seed: nonEmpty(value('--seed'), '--seed', 'any text or number, e.g. --seed 42') ?? DEFAULT_SEED,
    bucket: bucketName(value('--bucket')),
    prefix: keyPrefix(value('--prefix') ?? ''),
    account: accountId(value('--account')),
    withoutBucketOwner: withoutBucketOwner(line.switches.has('--no-bucket-owner'), value('--account')),
    model: modelOf(value('--model')),
    out: required(value('--out'), '--out', 'the output folder, e.g. --out prepared/'),
    onMissingImage: missingImagePolicy(value('--on-missing-image')),
    upload: line.switches.has('--upload'),
    concurrency: concurrency(value('--concurrency')),
    region: nonEmpty(value('--region'), '--region', 'a region such as us-west-2'),
    givenFlags: new Set([...line.values.keys(), ...line.switches]),
  };
}

function checked<T>(flag: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new PrepareUsageError(`${flag}: ${(err as Error).message}`);
  }
}

function required(v: string | undefined, flag: string, what: string): string {
  if (v === undefined) throw new PrepareUsageError(`${flag} is required: ${what}`);
  return nonEmpty(v, flag, what)!;
}

function nonEmpty(v: string | undefined, flag: string, what: string): string | undefined {
  if (v !== undefined && v.trim() === '') throw new PrepareUsageError(`${flag} is empty; give ${what} or leave the flag out`);
  return v;
}

function promptTemplate(v: string | undefined): PromptTemplate | undefined {
  if (v === undefined) return undefined;
  try {
    return parsePromptTemplate(v);
  } catch (err) {
    if (err instanceof PromptTemplateError) throw new PrepareUsageError(`--prompt-template "${v}": ${err.message}`);
    throw err;
  }
}

function csvColumns(value: (flag: string) => string | undefined): CsvColumns {
  const image = nonEmpty(value('--image-column'), '--image-column', 'a column name, or none') ?? DEFAULT_CSV_COLUMNS.image;
  return {
    image: image.toLowerCase() === 'none' ? undefined : image,
    question: nonEmpty(value('--question-column'), '--question-column', 'a column name') ?? DEFAULT_CSV_COLUMNS.question,
    answer: nonEmpty(value('--answer-column'), '--answer-column', 'a column name') ?? DEFAULT_CSV_COLUMNS.answer,
  };
}

/** S3 bucket naming rules (general purpose buckets). */
function bucketName(v: string | undefined): string {
  const name = required(v, '--bucket', 'the S3 bucket the images and files go to, e.g. --bucket my-dataset-bucket');
  if (name.startsWith('s3://') || name.includes('/')) {
    throw new PrepareUsageError(`--bucket ${name}: give only the bucket name (e.g. --bucket my-bucket) and put the folder in --prefix`);
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    throw new PrepareUsageError(`--bucket ${name} is not a valid S3 bucket name: 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit`);
  }
  return name;
}

/** Normalizes a prefix to "" or "a/b/"; rejects empty, "." and ".." segments, which S3 keys would keep literally. */
function keyPrefix(v: string): string {
  const trimmed = v.trim().replace(/^\/+/, '');
  if (trimmed === '') return '';
  const withSlash = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  const segments = withSlash.slice(0, -1).split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new PrepareUsageError(`--prefix ${v} has an empty, "." or ".." folder; write it like datasets/chartqa/`);
  }
  return withSlash;
}

function accountId(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d{12}$/.test(v.trim())) throw new PrepareUsageError(`--account ${v} must be a 12-digit AWS account id, e.g. --account 111122223333`);
  return v.trim();
}

function withoutBucketOwner(optedOut: boolean, account: string | undefined): boolean {
  if (optedOut && account !== undefined) throw new PrepareUsageError('--no-bucket-owner and --account contradict each other; give one of them');
  return optedOut;
}

function modelOf(v: string | undefined): LlamaModelSpec | undefined {
  if (v === undefined) return undefined;
  const model = findModel(v.trim());
  if (!model) throw new PrepareUsageError(`--model ${v} is not a Llama 3.2 model Bedrock fine-tunes; use one of ${LLAMA_MODELS.map((m) => m.name).join(', ')}`);
  return model;
}

/** `--delimiter`: one character, or the word tab. */
function csvDelimiter(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const delimiter = v.toLowerCase() === 'tab' || v === '\\t' ? '\t' : v;
  if (delimiter.length !== 1 || delimiter === '"' || /[\r\n]/.test(delimiter)) {
    throw new PrepareUsageError(`--delimiter ${JSON.stringify(v)} must be one character such as , ; or |, or the word tab`);
  }
  return delimiter;
}

function missingImagePolicy(v: string | undefined): MissingImagePolicy {
  if (v === undefined) return 'fail';
  if (v !== 'skip' && v !== 'fail') throw new PrepareUsageError(`--on-missing-image ${v} must be skip or fail`);
  return v;
}

function concurrency(v: string | undefined): number {
  if (v === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) {
    throw new PrepareUsageError(`--concurrency ${v} must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  return n;
}
