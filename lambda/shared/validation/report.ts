/**
 * The validation report: what the engine returns, the Lambda writes to
 * `<artifacts prefix>validation/report.json`, and `llama-finetune validate --json` prints.
 * Its size is bounded whatever the size of the data (problem lists are capped).
 */
import { Distribution } from './histogram';
import { HyperParameterRecommendation } from './hyperparameters';
import { RuleCount, ValidationProblem } from './problems';

/** What a data file is for. Test files follow the record rules but do not count toward 100..10,000. */
export type DatasetFileRole = 'training' | 'validation' | 'test';

/** Statistics of one data file. */
export interface FileReport {
  /** As the user named it (path or s3:// URI). */
  readonly name: string;
  readonly role: DatasetFileRole;
  /** Whether the file could be opened. */
  readonly found: boolean;
  readonly bytes: number;
  readonly lines: number;
  /** Non-blank lines: each one is a record to Bedrock, valid or not. */
  readonly records: number;
  readonly blankLines: number;
  /** Records with at least one image block. */
  readonly imageRecords: number;
  /** Records (JSON objects) without any image. */
  readonly textOnlyRecords: number;
  /** Image blocks in all records. */
  readonly imageReferences: number;
  readonly errors: number;
  readonly warnings: number;
  /** Estimated input + output tokens per record (JSON objects only). */
  readonly tokensPerRecord: Distribution;
  /** Estimated tokens of all records together (one pass over the file): what cost estimates multiply. */
  readonly estimatedTokens: number;
  /** Words per assistant answer. */
  readonly answerWords: Distribution;
}

/** The whole report. */
export interface ValidationReport {
  readonly reportVersion: 1;
  readonly generatedAt: string;
  /** True when no error was found (warnings allowed). */
  readonly valid: boolean;
  readonly model: {
    readonly name: string;
    readonly baseModelIdentifier: string;
    readonly supportsImages: boolean;
    readonly maxTokensPerRecord: number;
  };
  readonly files: readonly FileReport[];
  readonly totals: {
    readonly records: number;
    /** Training + validation records: the number Bedrock's 100..10,000 limit applies to. */
    readonly trainingAndValidationRecords: number;
    readonly imageRecords: number;
    readonly textOnlyRecords: number;
    /** textOnlyRecords / (imageRecords + textOnlyRecords), 0..1. */
    readonly textOnlyShare: number;
    readonly imageReferences: number;
    /** Distinct image URIs read (0 when images were not checked). */
    readonly uniqueImagesChecked: number;
    readonly errors: number;
    readonly warnings: number;
  };
  /** Over all files. */
  readonly statistics: {
    readonly tokensPerRecord: Distribution;
    readonly answerWords: Distribution;
  };
  readonly limits: {
    readonly minRecords: number;
    readonly maxRecords: number;
    readonly maxTokensPerRecord: number;
    readonly maxImageBytes: number;
    readonly minImageSide: number;
    readonly maxImageSide: number;
  };
  readonly problems: {
    /** The first errors in file and line order, at most `maxListed`. */
    readonly errors: readonly ValidationProblem[];
    /** The first warnings, at most `maxListed`. */
    readonly warnings: readonly ValidationProblem[];
    /** Errors counted but not listed. */
    readonly omittedErrors: number;
    readonly omittedWarnings: number;
    readonly maxListed: number;
    /** Every rule broken, with how often (errors first). */
    readonly byRule: readonly RuleCount[];
  };
  readonly hyperParameters: HyperParameterRecommendation;
  /** How the checks were configured, so a reader knows what was and was not checked. */
  readonly checks: {
    /** Where image bytes were read from; absent when images were not read. */
    readonly imageSource?: string;
    readonly imageConcurrency: number;
    /** Where images may lie; absent when not checked. */
    readonly allowedImageLocations?: readonly string[];
    /** Account image buckets must belong to; absent when not checked. */
    readonly expectedAccountId?: string;
    readonly imageReads: { readonly rangeRequests: number; readonly bytesRead: number; readonly retries: number };
    /** Memory of the duplicate detector (bytes). */
    readonly duplicateDetectorBytes: number;
    readonly tokenEstimate: string;
  };
}
