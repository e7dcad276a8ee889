/**
 * Things about a prepared dataset worth telling the user that do not stop prepare: too few or
 * too many records for Bedrock, extensions that lie about the image format, a missing
 * bucketOwner, images outside Bedrock's size limits. Pure.
 */
import * as path from 'path';
import { ImageFormat } from '../../lambda/shared/bedrock-record';
import { EMPTY_ANSWER_ADVICE, EMPTY_ANSWER_RULE } from '../../lambda/shared/validation/empty-answer';
import { DATASET_LIMITS } from '../../lambda/shared/models/llama-models';

/** What the warnings look at for each distinct image. */
export interface PreparedImageFacts {
  readonly name: string;
  readonly format: ImageFormat;
  readonly size: number;
  readonly width: number;
  readonly height: number;
}

/** The facts the warnings are drawn from. */
export interface PreparedDatasetFacts {
  /** Training plus validation records (what Bedrock's 100..10,000 limit counts). */
  readonly trainingAndValidationRecords: number;
  readonly images: readonly PreparedImageFacts[];
  /** Whether records carry a bucketOwner. */
  readonly hasBucketOwner: boolean;
  /** Where the examples with an empty answer came from (e.g. `data.csv line 4`). @default none */
  readonly emptyAnswers?: readonly string[];
}

const EXAMPLES_NAMED = 3;

const EXTENSIONS: Record<ImageFormat, readonly string[]> = {
  png: ['.png'],
  jpeg: ['.jpg', '.jpeg', '.jpe', '.jfif'],
  gif: ['.gif'],
  webp: ['.webp'],
};

/** One sentence per thing worth knowing. */
export function preparedDatasetWarnings(facts: PreparedDatasetFacts): string[] {
  const warnings: string[] = [];
  const records = facts.trainingAndValidationRecords;
  if (records < DATASET_LIMITS.minRecords) {
    warnings.push(`train + validation hold ${records} records; Bedrock needs at least ${DATASET_LIMITS.minRecords}, so add examples or give train and validation a larger share with --split`);
  }
  if (records > DATASET_LIMITS.maxRecords) {
    warnings.push(`train + validation hold ${records} records; Bedrock accepts at most ${DATASET_LIMITS.maxRecords} by default (an adjustable quota), so sample the input or raise the quota`);
  }
  const mislabeled = facts.images.filter((img) => !EXTENSIONS[img.format].includes(path.extname(img.name).toLowerCase()));
  if (mislabeled.length > 0) {
    warnings.push(
      `${mislabeled.length} image(s) have a file extension that does not match their content; the records carry the real format ` +
        `(e.g. ${mislabeled.slice(0, EXAMPLES_NAMED).map((img) => `${img.name} is ${img.format}`).join(', ')})`,
    );
  }
  if (facts.images.length > 0 && !facts.hasBucketOwner) {
    warnings.push('the image references have no bucketOwner, which `llama-finetune validate` reports as image-bucket-owner-missing; pass --account <12-digit id of the account that owns the bucket>');
  }
  const empty = facts.emptyAnswers ?? [];
  if (empty.length > 0) {
    // The policy validate applies too (lambda/shared/validation/empty-answer.ts): kept, with a warning.
    warnings.push(
      `${empty.length} example(s) have an empty answer, kept as validate keeps them (a warning, ${EMPTY_ANSWER_RULE}): ${EMPTY_ANSWER_ADVICE} ` +
        `(${empty.slice(0, EXAMPLES_NAMED).join('; ')}${empty.length > EXAMPLES_NAMED ? `; and ${empty.length - EXAMPLES_NAMED} more` : ''})`,
    );
  }
  const outOfLimits = facts.images.filter((img) => !withinBedrockImageLimits(img));
  if (outOfLimits.length > 0) {
    warnings.push(
      `${outOfLimits.length} image(s) are outside Bedrock's limits (${DATASET_LIMITS.minImageSide}-${DATASET_LIMITS.maxImageSide} px a side, ` +
        `at most ${DATASET_LIMITS.maxImageBytes / 1024 / 1024} MB), so validate and Bedrock will reject their records; resize them ` +
        `(e.g. ${outOfLimits.slice(0, EXAMPLES_NAMED).map((img) => `${img.name} ${img.width}x${img.height}, ${img.size} bytes`).join('; ')})`,
    );
  }
  return warnings;
}

function withinBedrockImageLimits(img: PreparedImageFacts): boolean {
  const side = (n: number) => n >= DATASET_LIMITS.minImageSide && n <= DATASET_LIMITS.maxImageSide;
  return side(img.width) && side(img.height) && img.size <= DATASET_LIMITS.maxImageBytes;
}
