/**
 * The dataset validation engine: streams each JSONL file line by line, applies every rule of
 * rules.ts, reads image headers concurrently, and returns a bounded report. Used unchanged by
 * the validate-dataset Lambda (data in S3) and `llama-finetune validate` (local or S3 data).
 *
 * Memory does not grow with the file: per file it keeps counters and fixed-size histograms;
 * across files a 64-bit digest per distinct record (duplicate detection, 32-64 bytes each,
 * see digest-set.ts), one small entry per distinct image URI (image-check.ts), at most
 * `maxListedProblems` problems per severity, and up to a few hundred records waiting for
 * their image checks (reading pauses when that many are in flight).
 *
 * The engine never writes anywhere: it only reads the data and the image headers.
 */
import { DATASET_LIMITS, LlamaHyperParameterName, LlamaModelSpec } from '../models/llama-models';
import { safeText } from '../display-text';
import { readJsonlLineBatches, JsonlFileFacts, JsonlLine } from '../jsonl';
import { AnswerStyleTracker } from './answer-style';
import { DatasetFileNotFoundError, DatasetSource } from './dataset-source';
import { RecordDigestSet, digestBytes } from './digest-set';
import { StreamingHistogram } from './histogram';
import { recommendHyperParameters } from './hyperparameters';
import { DEFAULT_IMAGE_CONCURRENCY, ImageChecker, ImageCheckOutcome, ImageCheckerOptions } from './image-check';
import { AllowedImageLocation, parseAllowedImageLocation } from './image-location';
import { ImageByteSource } from './image-source';
import { DEFAULT_MAX_LISTED_PROBLEMS, ProblemCollector } from './problems';
import { ImageReference, inspectRecord, RecordCheckContext, RecordInspection } from './record-checks';
import { DatasetFileRole, FileReport, ValidationReport } from './report';
import { RuleId, severityOf } from './rules';
import { BYTES_PER_TOKEN, estimateImageTokens, estimateRecordTextTokens, MAX_IMAGE_TOKENS } from './token-estimate';

/** One data file to validate. */
export interface DatasetFileInput {
  readonly role: DatasetFileRole;
  readonly source: DatasetSource;
}

/** Progress of the file being read, reported after every chunk. */
export interface ValidationProgress {
  readonly file: string;
  readonly role: DatasetFileRole;
  readonly lines: number;
  readonly bytesRead: number;
  /** Size of the file when known. */
  readonly totalBytes?: number;
}

/** Options of {@link validateDataset}. */
export interface ValidateDatasetOptions {
  readonly model: LlamaModelSpec;
  /** Files in report order; training and validation count toward Bedrock's 100..10,000 records. */
  readonly files: readonly DatasetFileInput[];
  /** Where image bytes come from; without one, images are not read (a warning says so). */
  readonly imageSource?: ImageByteSource;
  /** Images read at once. @default 32 */
  readonly imageConcurrency?: number;
  /** Fine-tuning of image reads (retry policy, header read sizes). */
  readonly imageReads?: Omit<ImageCheckerOptions, 'concurrency'>;
  /** `s3://bucket[/prefix]` locations images must lie in; unchecked when undefined. */
  readonly allowedImageLocations?: readonly string[];
  /** 12-digit account every image's bucketOwner must name; unchecked when undefined. */
  readonly expectedAccountId?: string;
  /** Problems of each severity listed with messages. @default 200 */
  readonly maxListedProblems?: number;
  /** Hyperparameters the run request set (they override the recommendation). */
  readonly hyperParameterOverrides?: Partial<Record<LlamaHyperParameterName, number>>;
  /** Longest line read, in bytes. @default 8 MiB */
  readonly maxLineBytes?: number;
  readonly onProgress?: (progress: ValidationProgress) => void;
  /** Clock for `generatedAt`. */
  readonly now?: () => Date;
}

/** Warn when training + validation hold fewer records than this (100 is the hard minimum). */
export const FEW_RECORDS_WARNING_BELOW = 500;
/** Warn when more than this share of an image model's records have no image. */
export const TEXT_ONLY_SHARE_WARNING_ABOVE = 0.5;

/** Per-file counters while reading. */
interface FileState {
  readonly index: number;
  readonly name: string;
  readonly role: DatasetFileRole;
  found: boolean;
  bytes: number;
  lines: number;
  records: number;
  blankLines: number;
  imageRecords: number;
  textOnlyRecords: number;
  imageReferences: number;
  errors: number;
  warnings: number;
  readonly tokens: StreamingHistogram;
  readonly answerWords: StreamingHistogram;
}

/** Validates the files and returns the report. Throws only when reading fails (infrastructure), never for bad data. */
export async function validateDataset(options: ValidateDatasetOptions): Promise<ValidationReport> {
  return new DatasetValidation(options).run();
}

class DatasetValidation {
  private readonly model: LlamaModelSpec;
  private readonly names: string[];
  private readonly problems: ProblemCollector;
  private readonly checker?: ImageChecker;
  private readonly digests = new RecordDigestSet();
  private readonly style = new AnswerStyleTracker();
  private readonly context: RecordCheckContext;
  private readonly allowedLocations?: AllowedImageLocation[];
  private readonly states: FileState[] = [];
  private readonly concurrency: number;

  constructor(private readonly options: ValidateDatasetOptions) {
    this.model = options.model;
    this.names = options.files.map((f) => f.source.name);
    this.problems = new ProblemCollector(options.maxListedProblems ?? DEFAULT_MAX_LISTED_PROBLEMS, (file) => this.names.indexOf(file));
    this.concurrency = options.imageConcurrency ?? DEFAULT_IMAGE_CONCURRENCY;
    if (options.imageSource) this.checker = new ImageChecker(options.imageSource, { ...options.imageReads, concurrency: this.concurrency });
    this.allowedLocations = options.allowedImageLocations?.map(parseAllowedImageLocation);
    this.context = { model: this.model, expectedAccountId: options.expectedAccountId, allowedImageLocations: this.allowedLocations };
  }

  async run(): Promise<ValidationReport> {
    for (const [index, file] of this.options.files.entries()) {
      const state: FileState = {
        index, name: file.source.name, role: file.role, found: true, bytes: 0, lines: 0, records: 0, blankLines: 0,
        imageRecords: 0, textOnlyRecords: 0, imageReferences: 0, errors: 0, warnings: 0,
        tokens: new StreamingHistogram(), answerWords: new StreamingHistogram(),
      };
      this.states.push(state);
      await this.validateFile(file, state);
    }
    this.checkDataset();
    return this.buildReport();
  }

  /** Records a problem and counts it for its file. */
  private report(rule: RuleId, message: string, state?: FileState, line?: number): void {
    this.problems.add(rule, message, state?.name, line);
    if (state && severityOf(rule) === 'error') state.errors++;
    else if (state) state.warnings++;
  }

  private async validateFile(file: DatasetFileInput, state: FileState): Promise<void> {
    let opened;
    try {
      opened = await file.source.open();
    } catch (err) {
      if (!(err instanceof DatasetFileNotFoundError)) throw err;
      state.found = false;
      this.report('file-not-found', `${state.name} does not exist; upload the ${state.role} file or fix its name in the run request.`, state);
      return;
    }
    const facts: JsonlFileFacts = { hadByteOrderMark: false, bytesRead: 0 };
    const inflight = new Set<Promise<void>>();
    const maxInflight = Math.max(64, this.concurrency * 4);
    let failure: { error: unknown } | undefined;

    for await (const batch of readJsonlLineBatches(opened.stream, { maxLineBytes: this.options.maxLineBytes }, facts)) {
      for (const line of batch) {
        state.lines++;
        if (line.tooLong) {
          state.records++;
          this.report('line-too-long', `The line has ${line.byteLength.toLocaleString('en-US')} bytes, far more than any record Bedrock accepts; it was not read. Check that records are separated by line breaks.`, state, line.lineNumber);
          continue;
        }
        if (isBlank(line.text)) {
          state.blankLines++;
          this.report('blank-line', 'The line is empty; Bedrock reads every line as a record. Delete empty lines.', state, line.lineNumber);
          continue;
        }
        state.records++;
        if (line.invalidUtf8) {
          const { lineByte, fileByte } = line.invalidUtf8;
          const value = line.source[line.start + lineByte].toString(16).padStart(2, '0');
          this.report(
            'invalid-utf8',
            `Byte ${(lineByte + 1).toLocaleString('en-US')} of the line (file offset ${fileByte.toLocaleString('en-US')}) is 0x${value}, which is not valid UTF-8; Bedrock reads the data as UTF-8 and would see a different text. ` +
              'Save the file as UTF-8 (e.g. `iconv -f WINDOWS-1252 -t UTF-8`, with the encoding it was written in), or fix the damaged bytes.',
            state,
            line.lineNumber,
          );
        }
        const inspection = inspectRecord(line.text, this.context);
        for (const p of inspection.problems) this.report(p.rule, p.message, state, line.lineNumber);
        if (!inspection.isObject) continue;
        this.countRecord(state, line, inspection);

        const toRead = this.checker ? inspection.images.filter((ref) => ref.readable) : [];
        if (toRead.length === 0) {
          this.finishRecord(state, line.lineNumber, inspection, []);
          continue;
        }
        const checker = this.checker!;
        const lineNumber = line.lineNumber; // not `line`: it would keep its 64 KiB chunk alive while waiting
        const task: Promise<void> = Promise.all(toRead.map(async (ref) => ({ ref, outcome: await checker.check(ref.uri) })))
          .then((results) => this.finishRecord(state, lineNumber, inspection, results))
          .catch((error) => {
            failure ??= { error };
          })
          .finally(() => inflight.delete(task));
        inflight.add(task);
        if (inflight.size >= maxInflight) await Promise.race(inflight);
      }
      this.options.onProgress?.({ file: state.name, role: state.role, lines: state.lines, bytesRead: facts.bytesRead, totalBytes: opened.size });
      if (failure) break;
    }
    await Promise.all(inflight);
    if (failure) throw failure.error;

    state.bytes = facts.bytesRead;
    if (facts.hadByteOrderMark) {
      this.report('byte-order-mark', `${state.name} starts with a UTF-8 byte order mark; save it as UTF-8 without BOM so the first record parses everywhere.`, state);
    }
    if (state.records === 0) {
      this.report('file-empty', `${state.name} holds no records; each line must be one JSON record.`, state);
    }
  }

  /** Counts a parsed record: duplicates, answers, images. */
  private countRecord(state: FileState, line: JsonlLine, inspection: RecordInspection): void {
    const lineNumber = line.lineNumber;
    const [high, low] = digestBytes(line.source, line.start, line.start + line.byteLength);
    const first = this.digests.addOrFind(high, low, state.index, lineNumber);
    if (first && first.fileIndex === state.index) {
      this.report('duplicate-record', `This record repeats line ${first.line} exactly; a duplicate gives one example double weight. Remove one of them.`, state, lineNumber);
    } else if (first) {
      const other = this.states[first.fileIndex];
      const why =
        state.role === 'test' || other.role === 'test'
          ? 'a test record that is also trained on makes the evaluation score look better than it is'
          : 'a record in both training and validation makes the validation loss look better than it is';
      this.report('duplicate-across-files', `This record also appears in ${other.name} line ${first.line}; ${why}. Keep it in one file only.`, state, lineNumber);
    }
    for (const answer of inspection.answers) state.answerWords.add(this.style.observe(answer, state.name, lineNumber));
    if (inspection.imageBlockCount > 0) state.imageRecords++;
    else state.textOnlyRecords++;
    state.imageReferences += inspection.imageBlockCount;
  }

  /** Applies the image rules and the token limit once the record's images are known. */
  private finishRecord(state: FileState, line: number, inspection: RecordInspection, results: { ref: ImageReference; outcome: ImageCheckOutcome }[]): void {
    let imageTokens = 0;
    let unknownImages = 0;
    if (this.model.supportsImages) {
      for (const ref of inspection.images) {
        const result = results.find((r) => r.ref === ref);
        if (!result) {
          unknownImages++;
          continue;
        }
        const known = this.checkImage(state, line, ref, result.outcome);
        if (known) imageTokens += estimateImageTokens(known.height, known.width);
        else unknownImages++;
      }
      unknownImages += inspection.imageBlockCount - inspection.images.length; // malformed references
      imageTokens += unknownImages * MAX_IMAGE_TOKENS;
    }
    const textTokens = estimateRecordTextTokens(inspection.textBytes, inspection.framedMessages);
    const total = textTokens + imageTokens;
    state.tokens.add(total);
    const limit = this.model.maxTokensPerRecord;
    if (total > limit) {
      const assumption = unknownImages > 0 ? `, counting ${unknownImages} image(s) of unknown size at the maximum ${MAX_IMAGE_TOKENS.toLocaleString('en-US')}` : '';
      const imageHint = imageTokens > 0 ? ' or use fewer or smaller images (an image up to 1119 px per side costs 1,601 to 3,202 tokens)' : '';
      this.report(
        'record-too-many-tokens',
        `The record is estimated at ${total.toLocaleString('en-US')} tokens (text ${textTokens.toLocaleString('en-US')}, images ${imageTokens.toLocaleString('en-US')}${assumption}); ` +
          `${this.model.name} accepts at most ${limit.toLocaleString('en-US')} input + output tokens per record. Shorten the text${imageHint}, or split the conversation into several records.`,
        state,
        line,
      );
    }
  }

  /** Reports an image's problems; returns its size when its header could be read. */
  private checkImage(state: FileState, line: number, ref: ImageReference, outcome: ImageCheckOutcome): { width: number; height: number } | undefined {
    const where = `${ref.position}: ${safeText(ref.uri, { maxChars: 200 })}`;
    const tooLarge = (size: number) => {
      if (size > DATASET_LIMITS.maxImageBytes) {
        this.report(
          'image-too-large',
          `${where} is ${(size / (1024 * 1024)).toFixed(1)} MB; images may be at most ${DATASET_LIMITS.maxImageBytes / (1024 * 1024)} MB. Scale it down or re-encode it (e.g. as JPEG).`,
          state,
          line,
        );
      }
    };
    if (!outcome.ok) {
      const fix =
        outcome.rule === 'image-not-found'
          ? 'Upload the image or fix the URI.'
          : outcome.rule === 'image-access-denied'
            ? 'Let the customization role read it (s3:GetObject), or copy it into the dataset bucket.'
            : outcome.rule === 'image-truncated'
              ? 'Upload the complete file again (an upload or copy was interrupted), or re-export the image.'
              : 'Re-export it as PNG, JPEG, GIF or WebP.';
      this.report(outcome.rule, `${where}: ${outcome.detail}. ${fix}`, state, line);
      if (outcome.size !== undefined) tooLarge(outcome.size);
      return undefined;
    }
    if (outcome.format !== ref.declaredFormat) {
      this.report(
        'image-format-mismatch',
        `${where} is declared as "${ref.declaredFormat}" but its bytes are a ${outcome.format.toUpperCase()} image; set "format": "${outcome.format}" or convert the file.`,
        state,
        line,
      );
    }
    tooLarge(outcome.size);
    const { minImageSide: min, maxImageSide: max } = DATASET_LIMITS;
    if (outcome.width < min || outcome.height < min || outcome.width > max || outcome.height > max) {
      this.report(
        'image-dimensions',
        `${where} is ${outcome.width}x${outcome.height} px; width and height must each be ${min}..${max} px. ${outcome.width > max || outcome.height > max ? 'Scale it down' : 'Scale it up or pad it'}.`,
        state,
        line,
      );
    }
    return outcome;
  }

  private checkDataset(): void {
    const counted = this.states.filter((s) => s.role !== 'test');
    const records = sum(counted.map((s) => s.records));
    const { minRecords, maxRecords } = DATASET_LIMITS;
    const fmt = (n: number) => n.toLocaleString('en-US');
    if (records < minRecords) {
      this.report(
        'record-count-too-low',
        `Training + validation data hold ${fmt(records)} record${records === 1 ? '' : 's'}; Bedrock needs at least ${fmt(minRecords)}. Add at least ${fmt(minRecords - records)} more (the published experiments used 100 to 10,000).`,
      );
    } else if (records > maxRecords) {
      this.report(
        'record-count-too-high',
        `Training + validation data hold ${fmt(records)} records; Bedrock accepts at most ${fmt(maxRecords)} (an adjustable service quota). Remove ${fmt(records - maxRecords)} records or request a quota increase.`,
      );
    } else if (records < FEW_RECORDS_WARNING_BELOW) {
      this.report(
        'few-records',
        `Training + validation data hold ${fmt(records)} records. About 100 good examples already help, and results kept improving up to 10,000 in the published experiments; add more if you can, or choose the 90B model, which did better with little data.`,
      );
    }

    const imageRecords = sum(counted.map((s) => s.imageRecords));
    const textOnly = sum(counted.map((s) => s.textOnlyRecords));
    if (this.model.supportsImages && imageRecords + textOnly > 0 && textOnly / (imageRecords + textOnly) > TEXT_ONLY_SHARE_WARNING_ABOVE) {
      this.report(
        'text-only-share',
        imageRecords === 0
          ? `No record has an image. For text-only data, llama3.2-1b or llama3.2-3b train and run at lower cost than ${this.model.name}.`
          : `${Math.round((100 * textOnly) / (imageRecords + textOnly))}% of the records have no image. Mixing text-only and image records is fine, but if the task is about images, most examples should show one.`,
      );
    }
    const references = sum(this.states.map((s) => s.imageReferences));
    if (this.model.supportsImages && !this.checker && references > 0) {
      this.report(
        'images-not-checked',
        `The ${fmt(references)} image reference(s) were not read, so the real format, file size and pixel size of the images are unchecked, and each image counted as ${fmt(MAX_IMAGE_TOKENS)} tokens. Validate with access to the images (S3, or --image-root).`,
      );
    }
    for (const finding of this.style.findings()) this.report(finding.rule, finding.message);
  }

  private buildReport(): ValidationReport {
    const files: FileReport[] = this.states.map((s) => ({
      name: safeText(s.name),
      role: s.role,
      found: s.found,
      bytes: s.bytes,
      lines: s.lines,
      records: s.records,
      blankLines: s.blankLines,
      imageRecords: s.imageRecords,
      textOnlyRecords: s.textOnlyRecords,
      imageReferences: s.imageReferences,
      errors: s.errors,
      warnings: s.warnings,
      tokensPerRecord: s.tokens.summary(),
      estimatedTokens: s.tokens.valueSum,
      answerWords: s.answerWords.summary(),
    }));
    const tokens = new StreamingHistogram();
    const answerWords = new StreamingHistogram();
    for (const s of this.states) {
      tokens.merge(s.tokens);
      answerWords.merge(s.answerWords);
    }
    const imageRecords = sum(files.map((f) => f.imageRecords));
    const textOnlyRecords = sum(files.map((f) => f.textOnlyRecords));
    const trainingRecords = sum(files.filter((f) => f.role === 'training').map((f) => f.records));
    const model = this.model;
    return {
      reportVersion: 1,
      generatedAt: (this.options.now ?? (() => new Date()))().toISOString(),
      valid: this.problems.errorCount === 0,
      model: { name: model.name, baseModelIdentifier: model.baseModelIdentifier, supportsImages: model.supportsImages, maxTokensPerRecord: model.maxTokensPerRecord },
      files,
      totals: {
        records: sum(files.map((f) => f.records)),
        trainingAndValidationRecords: sum(files.filter((f) => f.role !== 'test').map((f) => f.records)),
        imageRecords,
        textOnlyRecords,
        textOnlyShare: imageRecords + textOnlyRecords === 0 ? 0 : Math.round((textOnlyRecords / (imageRecords + textOnlyRecords)) * 1000) / 1000,
        imageReferences: sum(files.map((f) => f.imageReferences)),
        uniqueImagesChecked: this.checker?.stats.uniqueImages ?? 0,
        errors: this.problems.errorCount,
        warnings: this.problems.warningCount,
      },
      statistics: { tokensPerRecord: tokens.summary(), answerWords: answerWords.summary() },
      limits: {
        minRecords: DATASET_LIMITS.minRecords,
        maxRecords: DATASET_LIMITS.maxRecords,
        maxTokensPerRecord: model.maxTokensPerRecord,
        maxImageBytes: DATASET_LIMITS.maxImageBytes,
        minImageSide: DATASET_LIMITS.minImageSide,
        maxImageSide: DATASET_LIMITS.maxImageSide,
      },
      problems: {
        errors: this.problems.listed('error'),
        warnings: this.problems.listed('warning'),
        omittedErrors: this.problems.omitted('error'),
        omittedWarnings: this.problems.omitted('warning'),
        maxListed: this.problems.maxListed,
        byRule: this.problems.countsByRule(),
      },
      hyperParameters: recommendHyperParameters(model, trainingRecords, this.options.hyperParameterOverrides),
      checks: {
        ...(this.checker ? { imageSource: this.checker.source.description } : {}),
        imageConcurrency: this.concurrency,
        ...(this.allowedLocations ? { allowedImageLocations: this.allowedLocations.map((l) => `s3://${l.bucket}/${l.prefix}`) } : {}),
        ...(this.options.expectedAccountId ? { expectedAccountId: this.options.expectedAccountId } : {}),
        imageReads: {
          rangeRequests: this.checker?.stats.rangeRequests ?? 0,
          bytesRead: this.checker?.stats.bytesRead ?? 0,
          retries: this.checker?.stats.retries ?? 0,
        },
        duplicateDetectorBytes: this.digests.byteSize,
        tokenEstimate: `text: ceil(UTF-8 bytes / ${BYTES_PER_TOKEN}) + chat framing per message; images: min(2, max(H // 560, 1)) * min(2, max(W // 560, 1)) * 1601`,
      },
    };
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 0xa0 && c !== 0xfeff) return false;
  }
  return true;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
