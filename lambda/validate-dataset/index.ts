/**
 * Validation step of a run: checks the training, validation and test files against Bedrock's
 * rules with the shared validation engine, writes the report next to the run's artifacts,
 * and tells the state machine whether to go on.
 *
 * Input: { run: RunContext }. Output: {@link ValidateDatasetResult}.
 * Invalid data is a normal outcome (`valid: false`, the state machine branches on it); the
 * function throws only when it cannot do its work (S3 unreachable, throttled beyond retries,
 * misconfiguration, or DataChanged: a file is no longer the version the run accepted). It
 * reads exactly the versions pinned in the run context, and when they are valid copies them
 * to `<run.artifacts.prefix>data/` (see pinned-data.ts), which training and evaluation read;
 * it writes only there and under `<run.artifacts.prefix>validation/` in the artifacts bucket.
 *
 * Environment:
 * - EXPECTED_ACCOUNT_ID (optional): account that must own image buckets (bucketOwner).
 * - IMAGE_CONCURRENCY (default 32): images read at once.
 * - MAX_LISTED_PROBLEMS (default 200): errors and warnings listed with messages.
 * - ALLOWED_IMAGE_LOCATIONS (optional): comma-separated s3://bucket[/prefix] locations the
 *   customization role may read images from; default: the whole dataset bucket.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { findModel, LlamaHyperParameterName } from '../../lib/models/llama-models';
import { intEnv } from '../shared/env';
import { createLogger, Logger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { copyPinnedDataFiles, currentDataFileVersions, sourceDataKeys } from '../shared/pinned-data';
import { RunContext } from '../shared/run-context';
import { readRunRecord, runRecordKey, updateOwnRunRecord, withEvent } from '../shared/run-record';
import { putJson } from '../shared/s3';
import {
  createS3ClientForImageReads,
  DEFAULT_IMAGE_CONCURRENCY,
  defaultAllowedImageLocations,
  hyperParameterOverridesOf,
  DEFAULT_MAX_LISTED_PROBLEMS,
  renderSummary,
  runDatasetFiles,
  S3ImageByteSource,
  s3DatasetSource,
  validateDataset,
} from '../shared/validation';

/** The step's input. */
export interface ValidateDatasetEvent {
  readonly run: RunContext;
}

/** The step's output. */
export interface ValidateDatasetResult {
  /** False when the data has errors: the run stops before any training is paid for. */
  readonly valid: boolean;
  readonly errorCount: number;
  readonly warningCount: number;
  /** s3:// URI of the full JSON report. */
  readonly reportUri: string;
  /** s3:// URI of the text summary. */
  readonly summaryUri: string;
  /** A short text (under 2,000 characters) fit for a notification. */
  readonly summary: string;
  /** Hyperparameters for the job: the recommendation from the data, with the run request's own values kept. */
  readonly recommendedHyperParameters: Record<LlamaHyperParameterName, number>;
}

/** Longest summary returned (SNS and Step Functions output stay small). */
export const MAX_SUMMARY_CHARS = 1900;

/** What the handler needs from outside; tests pass their own. */
export interface ValidateDatasetDependencies {
  /** The S3 client for data, images and the report, given the image concurrency. */
  readonly s3: (imageConcurrency: number) => S3Client;
  readonly log: Logger;
}

let cachedClient: { client: S3Client; concurrency: number } | undefined;

/** An S3 client sized for the concurrency, reused across warm invocations. */
function defaultS3(concurrency: number): S3Client {
  if (!cachedClient || cachedClient.concurrency !== concurrency) {
    cachedClient?.client.destroy();
    cachedClient = { client: createS3ClientForImageReads(concurrency), concurrency };
  }
  return cachedClient.client;
}

/** Builds the handler around its dependencies. */
export function createValidateDatasetHandler(deps: Partial<ValidateDatasetDependencies> = {}): (event: ValidateDatasetEvent) => Promise<ValidateDatasetResult> {
  const log = deps.log ?? createLogger({ step: 'validate-dataset' });
  return logFailures(log, runIdOf, async (event: ValidateDatasetEvent) => {
    const env = process.env;
    const run = event?.run;
    if (!run?.data?.bucket || !run.data.trainingKey || !run.artifacts?.bucket) {
      throw new Error('The execution input has no run context ($.run with data.bucket, data.trainingKey and artifacts); the state machine must pass the read-request output');
    }
    const model = findModel(run.model?.name ?? '') ?? findModel(run.model?.baseModelIdentifier ?? '');
    if (!model) throw new Error(`The run names model '${run.model?.name}', which the model catalogue does not know`);

    const concurrency = intEnv('IMAGE_CONCURRENCY', DEFAULT_IMAGE_CONCURRENCY);
    const maxListed = intEnv('MAX_LISTED_PROBLEMS', DEFAULT_MAX_LISTED_PROBLEMS);
    const expectedAccountId = env.EXPECTED_ACCOUNT_ID || undefined;
    const allowed = (env.ALLOWED_IMAGE_LOCATIONS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const s3 = (deps.s3 ?? defaultS3)(concurrency);

    const { bucket } = run.data;
    // The versions the request was accepted with; a context without them pins what is there now.
    const versions = run.data.versions ?? (await currentDataFileVersions(s3, bucket, sourceDataKeys(run.data)));
    const files = runDatasetFiles({
      training: s3DatasetSource(s3, bucket, run.data.trainingKey, versions.training),
      validation: run.data.validationKey ? s3DatasetSource(s3, bucket, run.data.validationKey, versions.validation) : undefined,
      test: run.data.testKey ? s3DatasetSource(s3, bucket, run.data.testKey, versions.test) : undefined,
    });

    const runLog = log.child({ runId: run.runId });
    runLog.info('validating dataset', { files: files.map((f) => f.source.name), model: model.name, imageConcurrency: concurrency });
    const report = await validateDataset({
      model,
      files,
      imageSource: new S3ImageByteSource(s3),
      imageConcurrency: concurrency,
      allowedImageLocations: allowed.length > 0 ? allowed : defaultAllowedImageLocations(bucket),
      expectedAccountId,
      maxListedProblems: maxListed,
      hyperParameterOverrides: hyperParameterOverridesOf(run),
    });

    const prefix = `${run.artifacts.prefix}validation/`;
    const reportKey = `${prefix}report.json`;
    const summaryKey = `${prefix}summary.txt`;
    const reportUri = `s3://${run.artifacts.bucket}/${reportKey}`;
    const summaryUri = `s3://${run.artifacts.bucket}/${summaryKey}`;
    const summary = renderSummary(report, { reportUri, maxChars: MAX_SUMMARY_CHARS });
    await putJson(s3, { bucket: run.artifacts.bucket, key: reportKey }, report);
    await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: summaryKey, Body: summary, ContentType: 'text/plain; charset=utf-8' }));
    // Valid data is copied under the run before anything is paid for: Bedrock and the
    // evaluation read these copies, so a file replaced later changes nothing.
    const pinned = report.valid ? await copyPinnedDataFiles(s3, run, versions) : undefined;
    // The run record (when the workflow began one) keeps the verdict next to everything else.
    const recordKey = runRecordKey(run);
    if (await readRunRecord(s3, run.artifacts.bucket, recordKey)) {
      await updateOwnRunRecord(s3, run, (r) => ({
        ...withEvent(r, report.valid ? 'dataset valid' : 'dataset invalid', { errors: report.totals.errors, warnings: report.totals.warnings }),
        validation: { valid: report.valid, errorCount: report.totals.errors, warningCount: report.totals.warnings, reportUri },
        ...(pinned ? { data: pinned } : {}),
      }));
    }

    runLog.info('dataset validated', {
      valid: report.valid,
      errors: report.totals.errors,
      warnings: report.totals.warnings,
      records: report.totals.records,
      uniqueImages: report.totals.uniqueImagesChecked,
      reportUri,
      pinned: pinned && Object.values(pinned).map((f) => f!.copyUri),
    });
    return {
      valid: report.valid,
      errorCount: report.totals.errors,
      warningCount: report.totals.warnings,
      reportUri,
      summaryUri,
      summary,
      recommendedHyperParameters: { ...report.hyperParameters.values },
    };
  });
}

/** The Lambda entry point. */
export const handler = createValidateDatasetHandler();
