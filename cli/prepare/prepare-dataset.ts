/**
 * The prepare pipeline: read and convert the input, check every image, split, build the Bedrock
 * records, write them (with the images staged beside them) and optionally upload everything.
 * Nothing is written unless the whole input converts; data problems surface as one
 * {@link PrepareDataError} listing the first few, each with its file and line or index.
 */
import { mkdir, rm } from 'fs/promises';
import * as path from 'path';
import { S3Client } from '@aws-sdk/client-s3';
import { ConversationRecord, ImageFormat } from '../../lambda/shared/bedrock-record';
import { isEmptyAnswer } from '../../lambda/shared/validation/empty-answer';
import { LLAMA_MODELS, LlamaModelSpec, findModel } from '../../lambda/shared/models/llama-models';
import { mapWithConcurrency } from './bounded-concurrency';
import { ImageInspection, inspectImageFile } from './image-inspector';
import { imageObjectName, resolveImagePath } from './image-naming';
import { stageImageFile } from './image-staging';
import { writeJsonLines } from './jsonl-writer';
import { LoadedExamples, loadExamples } from './load-examples';
import {
  OutputLayout, dataFileKey, imageKey, imageUri, localImagePath, referencesFilePath, splitFilePath,
} from './output-layout';
import { PrepareOptions } from './prepare-options';
import { PrepareDataError, PrepareUsageError } from './prepare-errors';
import { preparedDatasetWarnings } from './prepare-warnings';
import { ProgressStream, createProgressLine } from './progress-line';
import { buildConversationRecord } from './record-builder';
import { UploadFile, UploadReport, uploadFiles } from './s3-uploader';
import { SPLIT_NAMES, SplitName, assignSplits } from './split-assignment';
import { SourceExample, describeLocation, describeProblem } from './source-example';

/** How many problems a message lists before saying "and N more". */
export const PROBLEMS_LISTED = 10;
/** Files inspected or staged at once; local disk work, so a fixed modest number. */
const LOCAL_FILE_CONCURRENCY = 32;

/** What prepare read, wrote and uploaded. */
export interface PrepareReport {
  readonly format: LoadedExamples['format'];
  readonly csvDelimiter?: LoadedExamples['csvDelimiter'];
  /** The model the data is for: --model, else the smallest model that takes it. */
  readonly model: LlamaModelSpec;
  /** The bucket owner written into image records (--account). */
  readonly account?: string;
  readonly input: string;
  readonly imageRoot: string;
  readonly layout: OutputLayout;
  readonly examplesRead: number;
  readonly splits: Readonly<Record<SplitName, SplitOutput>>;
  readonly records: number;
  readonly textOnlyRecords: number;
  readonly images: {
    readonly distinct: number;
    readonly byFormat: Readonly<Partial<Record<ImageFormat, number>>>;
    readonly staged: { readonly linked: number; readonly copied: number; readonly unchanged: number };
  };
  /** Examples dropped under --on-missing-image skip. */
  readonly skipped: { readonly records: number; readonly images: number; readonly first: readonly string[] };
  /** Things worth knowing that did not stop the run. */
  readonly warnings: readonly string[];
  readonly upload?: UploadReport;
}

/** One split's output. */
export interface SplitOutput {
  readonly records: number;
  /** The JSONL file, absent when the split is empty. */
  readonly file?: string;
  /** The reference-answers sidecar, when the input had extra references. */
  readonly referencesFile?: string;
}

/** The outside world prepare talks to; tests replace parts of it. */
export interface PrepareIo {
  /** Where progress goes (a line rewritten in place when it is a terminal). */
  readonly progress: ProgressStream;
  /** Makes the S3 client for --upload. */
  readonly createS3Client?: (region: string | undefined) => S3Client;
}

/** An example whose image has been checked, with the image's name under images/. */
interface CheckedExample {
  readonly example: SourceExample;
  readonly image?: {
    readonly name: string;
    readonly sourcePath: string;
    readonly format: ImageFormat;
    readonly size: number;
    readonly width: number;
    readonly height: number;
  };
}

/**
 * Runs prepare.
 * @throws PrepareUsageError for bad options found while reading; PrepareDataError for data problems;
 *   UploadError when --upload fails.
 */
export async function prepareDataset(options: PrepareOptions, io: PrepareIo): Promise<PrepareReport> {
  const loaded = await loadExamples(options);
  if (loaded.problems.length > 0) {
    throw new PrepareDataError(
      `${loaded.problems.length} example(s) in ${options.input} cannot be converted as ${loaded.format}; fix them and run again (nothing was written)`,
      listFirst(loaded.problems.map(describeProblem)),
    );
  }
  if (loaded.examples.length === 0) throw new PrepareDataError(`${options.input} holds no examples; nothing to prepare`);
  const model = modelFor(loaded, options);

  const layout: OutputLayout = { outDir: path.resolve(options.out), bucket: options.bucket, prefix: options.prefix };
  const { kept, skipped } = await checkImages(loaded, options);
  const splitOf = assignSplits(kept.map(groupKey), options.ratios, options.seed);

  const bySplit = new Map<SplitName, CheckedExample[]>(SPLIT_NAMES.map((s) => [s, []]));
  kept.forEach((checked, i) => bySplit.get(splitOf[i])!.push(checked));

  await mkdir(layout.outDir, { recursive: true });
  const images = distinctImages(kept);
  const staged = await stageImages(images, layout);

  const splits = {} as Record<SplitName, SplitOutput>;
  const dataFiles: UploadFile[] = [];
  for (const split of SPLIT_NAMES) {
    const members = bySplit.get(split)!;
    splits[split] = await writeSplit(split, members, layout, options, dataFiles);
  }

  const warnings = preparedDatasetWarnings({
    trainingAndValidationRecords: splits.train.records + splits.validation.records,
    images,
    hasBucketOwner: options.account !== undefined,
    emptyAnswers: kept.flatMap(({ example }) => (example.turns.some((t) => isEmptyAnswer(t.answer)) ? [describeLocation(example.location)] : [])),
  });
  const upload = options.upload ? await uploadPrepared(images, dataFiles, layout, options, io) : undefined;

  const byFormat: Partial<Record<ImageFormat, number>> = {};
  for (const img of images) byFormat[img.format] = (byFormat[img.format] ?? 0) + 1;
  return {
    format: loaded.format,
    csvDelimiter: loaded.csvDelimiter,
    model,
    account: options.account,
    input: options.input,
    imageRoot: loaded.imageRoot,
    layout,
    examplesRead: loaded.examples.length,
    splits,
    records: kept.length,
    textOnlyRecords: kept.filter((c) => !c.image).length,
    images: { distinct: images.length, byFormat, staged },
    skipped,
    warnings,
    upload,
  };
}

/** The model a text-only dataset defaults to (the smallest) and the one an image dataset does (the smallest that reads images). */
export const DEFAULT_TEXT_MODEL = 'llama3.2-1b';
export const DEFAULT_IMAGE_MODEL = 'llama3.2-11b';

/**
 * Checks what image examples need before anything is written: a bucketOwner (--account, or
 * --no-bucket-owner on purpose) and a model that reads images. Returns the model the data is for.
 */
function modelFor(loaded: LoadedExamples, options: PrepareOptions): LlamaModelSpec {
  const withImage = loaded.examples.filter((e) => e.image !== undefined).length;
  if (withImage > 0 && options.account === undefined && !options.withoutBucketOwner) {
    throw new PrepareUsageError(
      `${withImage} example(s) have an image, and the records need the account that owns the bucket ${options.bucket} (s3Location.bucketOwner): ` +
        'without it `llama-finetune validate` (and the workflow) would fail every image record with image-bucket-owner-missing. ' +
        'Pass --account <12-digit id of the account that owns the bucket>, or --no-bucket-owner to write them without it and add it later',
    );
  }
  const model = options.model ?? findModel(withImage > 0 ? DEFAULT_IMAGE_MODEL : DEFAULT_TEXT_MODEL)!;
  if (withImage > 0 && !model.supportsImages) {
    throw new PrepareUsageError(
      `--model ${model.name} reads text only, but ${withImage} example(s) have an image; use ${LLAMA_MODELS.filter((m) => m.supportsImages).map((m) => m.name).join(' or ')}, or leave the images out (csv: --image-column none)`,
    );
  }
  return model;
}

function defaultS3Client(region: string | undefined): S3Client {
  return new S3Client(region ? { region } : {});
}

/** Uploads the images, then the data files (so no record points at an image not yet there). */
async function uploadPrepared(
  images: readonly NonNullable<CheckedExample['image']>[],
  dataFiles: readonly UploadFile[],
  layout: OutputLayout,
  options: PrepareOptions,
  io: PrepareIo,
): Promise<UploadReport> {
  const s3 = (io.createS3Client ?? defaultS3Client)(options.region);
  const imageFiles: UploadFile[] = images.map((img) => ({
    localPath: localImagePath(layout, img.name),
    key: imageKey(layout, img.name),
    size: img.size,
    contentType: `image/${img.format}`,
  }));
  try {
    return await uploadFiles(s3, layout.bucket, [imageFiles, dataFiles], {
      concurrency: options.concurrency,
      progress: createProgressLine(io.progress),
    });
  } finally {
    // Close the client's sockets so the process can exit as soon as the command is done.
    s3.destroy();
  }
}

function listFirst(lines: readonly string[]): string[] {
  const shown = lines.slice(0, PROBLEMS_LISTED);
  if (lines.length > shown.length) shown.push(`... and ${lines.length - shown.length} more`);
  return shown;
}

/** Inspects every distinct image once, then keeps, skips or fails the examples per --on-missing-image. */
async function checkImages(loaded: LoadedExamples, options: PrepareOptions): Promise<{ kept: CheckedExample[]; skipped: PrepareReport['skipped'] }> {
  const paths = [...new Set(loaded.examples.flatMap((e) => (e.image ? [resolveImagePath(loaded.imageRoot, e.image)] : [])))];
  const inspections = new Map<string, ImageInspection>();
  await mapWithConcurrency(paths, LOCAL_FILE_CONCURRENCY, async (p) => inspections.set(p, await inspectImageFile(p)));

  const kept: CheckedExample[] = [];
  const failed: string[] = [];
  const failedImages = new Set<string>();
  for (const example of loaded.examples) {
    if (!example.image) {
      kept.push({ example });
      continue;
    }
    const sourcePath = resolveImagePath(loaded.imageRoot, example.image);
    const inspection = inspections.get(sourcePath)!;
    if (!inspection.ok) {
      failed.push(`${describeLocation(example.location)}: ${inspection.message}`);
      failedImages.add(sourcePath);
      continue;
    }
    kept.push({
      example,
      image: {
        name: imageObjectName(loaded.imageRoot, sourcePath),
        sourcePath,
        format: inspection.format,
        size: inspection.size,
        width: inspection.width,
        height: inspection.height,
      },
    });
  }
  if (failed.length > 0 && options.onMissingImage === 'fail') {
    throw new PrepareDataError(
      `${failed.length} example(s) refer to ${failedImages.size} missing or unreadable image(s) (image folder ${loaded.imageRoot}); ` +
        'fix the paths or the folder (--images), or pass --on-missing-image skip to leave those examples out (nothing was written)',
      listFirst(failed),
    );
  }
  if (kept.length === 0) {
    throw new PrepareDataError(`every example of ${options.input} was skipped for a missing or unreadable image; check --images (image folder ${loaded.imageRoot})`, listFirst(failed));
  }
  return { kept, skipped: { records: failed.length, images: failedImages.size, first: failed.slice(0, PROBLEMS_LISTED) } };
}

/** Examples about the same image share a split; text-only examples are keyed by their content, so duplicates share one too. */
function groupKey(checked: CheckedExample): string {
  return checked.image ? `image:${checked.image.name}` : `text:${JSON.stringify(checked.example.turns)}`;
}

function distinctImages(kept: readonly CheckedExample[]): NonNullable<CheckedExample['image']>[] {
  const byName = new Map<string, NonNullable<CheckedExample['image']>>();
  for (const c of kept) if (c.image && !byName.has(c.image.name)) byName.set(c.image.name, c.image);
  return [...byName.values()];
}

async function stageImages(images: readonly NonNullable<CheckedExample['image']>[], layout: OutputLayout): Promise<PrepareReport['images']['staged']> {
  const counts = { linked: 0, copied: 0, unchanged: 0 };
  await mapWithConcurrency(images, LOCAL_FILE_CONCURRENCY, async (img) => {
    counts[await stageImageFile(img.sourcePath, localImagePath(layout, img.name))]++;
  });
  return counts;
}

/** Writes one split's records and reference sidecar; removes stale files of an earlier run when the split is empty. */
async function writeSplit(split: SplitName, members: readonly CheckedExample[], layout: OutputLayout, options: PrepareOptions, dataFiles: UploadFile[]): Promise<SplitOutput> {
  const file = splitFilePath(layout, split);
  const referencesFile = referencesFilePath(layout, split);
  if (members.length === 0) {
    await Promise.all([rm(file, { force: true }), rm(referencesFile, { force: true })]);
    return { records: 0 };
  }
  const records: ConversationRecord[] = members.map(({ example, image }) =>
    buildConversationRecord(
      example,
      image ? { uri: imageUri(layout, image.name), format: image.format, bucketOwner: options.account } : undefined,
      { system: options.system, promptTemplate: options.promptTemplate },
    ),
  );
  const size = await writeJsonLines(file, records);
  dataFiles.push({ localPath: file, key: dataFileKey(layout, path.basename(file)), size, contentType: 'application/jsonl' });

  // Extra reference answers (VQAv2) live beside the split, one line per record with the record's line number.
  const references = members.flatMap(({ example }, i) =>
    example.references ? [{ line: i + 1, ...(example.id !== undefined ? { id: example.id } : {}), references: example.references }] : [],
  );
  if (references.length === 0) {
    await rm(referencesFile, { force: true });
    return { records: records.length, file };
  }
  const referencesSize = await writeJsonLines(referencesFile, references);
  dataFiles.push({ localPath: referencesFile, key: dataFileKey(layout, path.basename(referencesFile)), size: referencesSize, contentType: 'application/jsonl' });
  return { records: records.length, file, referencesFile };
}

