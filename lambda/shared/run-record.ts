/**
 * The run record: `runs/<run id>/run.json` in the artifacts bucket, the one place that says
 * what a run was asked to do, what it did and how it ended. Created once (a conditional write,
 * so a duplicated trigger can never overwrite another run's record) and then updated with
 * optimistic concurrency (If-Match on the ETag).
 */
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { PinnedDataFile } from './pinned-data';
import { DataFileRole, RunContext } from './run-context';
import { isNotFound } from './s3';
import { TrainingMetricsSummary } from './training-metrics';

/** Final states of a run. */
export type RunOutcomeStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One entry of the timeline. */
export interface TimelineEntry {
  readonly at: string;
  readonly event: string;
  readonly detail?: Record<string, unknown>;
}

/** The Bedrock job of a run. */
export interface RunJob {
  readonly jobArn: string;
  readonly jobName: string;
  readonly customModelName: string;
  readonly status: string;
  readonly outputS3Uri: string;
  readonly outputModelArn?: string;
  readonly failureMessage?: string;
  readonly hyperParameters: Record<string, string>;
}

/** How a run ended. */
export interface RunOutcome {
  readonly status: RunOutcomeStatus;
  readonly finishedAt: string;
  readonly error?: string;
  readonly cause?: string;
  /** One paragraph a person can read. */
  readonly summary: string;
}

/** The record kept at `runs/<run id>/run.json`. */
export interface RunRecord {
  readonly schemaVersion: 1;
  readonly runId: string;
  readonly executionArn: string;
  readonly createdAt: string;
  readonly status: 'RUNNING' | RunOutcomeStatus;
  readonly run: RunContext;
  readonly validation?: { readonly valid: boolean; readonly errorCount: number; readonly warningCount: number; readonly reportUri: string };
  /** The validated dataset files, by role: source URI, version id / ETag, and the run's copy that training and evaluation read. */
  readonly data?: Readonly<Partial<Record<DataFileRole, PinnedDataFile>>>;
  readonly job?: RunJob;
  readonly metrics?: TrainingMetricsSummary;
  readonly outcome?: RunOutcome;
  /** The Provisioned Throughput this run created to evaluate the model (deleted when evaluation ends). */
  readonly provisionedThroughput?: { readonly arn: string; readonly name: string; readonly modelUnits: number; readonly createdAt: string; readonly deletedAt?: string; readonly hours?: number };
  /** Scores and report of the evaluation. */
  readonly evaluation?: RunEvaluation;
  readonly timeline: readonly TimelineEntry[];
}

/** What the evaluation found. */
export interface RunEvaluation {
  readonly baseF1: number;
  readonly fineTunedF1: number;
  readonly baseExactMatch: number;
  readonly fineTunedExactMatch: number;
  readonly relativeImprovementPercent: number | null;
  readonly records: number;
  readonly gate: { readonly evaluated: boolean; readonly passed: boolean; readonly reasons: readonly string[] };
  readonly reportUri: string;
  readonly reportHtmlUri: string;
}

/** Key of a run's record. */
export function runRecordKey(run: Pick<RunContext, 'artifacts'>): string {
  return `${run.artifacts.prefix}run.json`;
}

/**
 * Key of the pointer from an execution to its run, so that the cleanup function (which only
 * knows the execution) finds the run. Lives beside the runs: `<runs prefix>executions/<name>.json`.
 */
export function executionPointerKey(runsPrefix: string, executionName: string): string {
  return `${runsPrefix}executions/${executionName}.json`;
}

/** Thrown when the run already has a record (a duplicate delivery of the same request version). */
export class RunRecordExistsError extends Error {
  constructor(readonly key: string) {
    super(`A run record already exists at ${key}`);
    this.name = 'RunRecordExists';
  }
}

function isPreconditionFailed(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'PreconditionFailed' || err.$metadata?.httpStatusCode === 412);
}

/** Creates the record; throws RunRecordExistsError when one exists (never overwrites). */
export async function createRunRecord(s3: S3Client, bucket: string, record: RunRecord): Promise<void> {
  const key = runRecordKey(record.run);
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(record, null, 2), ContentType: 'application/json', IfNoneMatch: '*' }));
  } catch (err) {
    if (isPreconditionFailed(err)) throw new RunRecordExistsError(`s3://${bucket}/${key}`);
    throw err;
  }
}

/** Reads a record with its ETag; undefined when there is none. */
export async function readRunRecord(s3: S3Client, bucket: string, key: string): Promise<{ record: RunRecord; etag: string } | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { record: JSON.parse(await out.Body!.transformToString('utf-8')) as RunRecord, etag: out.ETag! };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Applies `change` to the record and writes it back only if nobody wrote in between
 * (If-Match); on a conflict it reads again and re-applies, up to `attempts` times.
 */
export async function updateRunRecord(
  s3: S3Client,
  bucket: string,
  key: string,
  change: (record: RunRecord) => RunRecord,
  attempts = 5,
): Promise<RunRecord> {
  for (let attempt = 1; ; attempt++) {
    const current = await readRunRecord(s3, bucket, key);
    if (!current) throw new Error(`No run record at s3://${bucket}/${key}; the run was not begun by this workflow`);
    const next = change(current.record);
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(next, null, 2), ContentType: 'application/json', IfMatch: current.etag }));
      return next;
    } catch (err) {
      if (!isPreconditionFailed(err) || attempt >= attempts) throw err;
    }
  }
}

/** The record with one more timeline entry (and optionally other changes). */
export function withEvent(record: RunRecord, event: string, detail?: Record<string, unknown>, now = new Date()): RunRecord {
  return { ...record, timeline: [...record.timeline, { at: now.toISOString(), event, ...(detail ? { detail } : {}) }] };
}
