/**
 * The run record: `runs/<run id>/run.json` in the artifacts bucket, the one place that says
 * what a run was asked to do, what it did and how it ended. Created once (a conditional write,
 * so a duplicated trigger can never overwrite another run's record) and then updated with
 * optimistic concurrency (If-Match on the ETag), only by the execution that created it (its
 * `executionArn`): a duplicate execution of the same request version can never change it.
 *
 * S3 may answer a conditional write with 409 ConditionalRequestConflict while a conflicting
 * write to the same key is in progress, and documents that the request may be retried: both
 * writes here retry it with bounded, jittered exponential backoff.
 */
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { CostEstimate } from './cost-estimate';
import type { ExperimentCostEstimate } from './experiment-plan';
import type { ServingState } from './model-registry';
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
  /** What the run was estimated to use (and cost, where prices are set) before its job was created. */
  readonly costEstimate?: CostEstimate;
  readonly job?: RunJob;
  readonly metrics?: TrainingMetricsSummary;
  readonly outcome?: RunOutcome;
  /** The Provisioned Throughput this run created to evaluate the model (deleted when evaluation ends). */
  readonly provisionedThroughput?: { readonly arn: string; readonly name: string; readonly modelUnits: number; readonly createdAt: string; readonly deletedAt?: string; readonly hours?: number };
  /** Scores and report of the evaluation. */
  readonly evaluation?: RunEvaluation;
  /** Whether the run became the current model of its name (model registry), and the serving swap. */
  readonly promotion?: RunPromotion;
  /** The experiment, in the record of an experiment (not of its variants, whose run context names their experiment). */
  readonly experiment?: ExperimentRecord;
  readonly timeline: readonly TimelineEntry[];
}

/** What an experiment's record keeps besides a run's: its estimate, its variants, the leaderboard. */
export interface ExperimentRecord {
  /** The whole experiment's estimate: every variant, plus one baseline per base model. */
  readonly costEstimate?: ExperimentCostEstimate;
  /** The variants' runs, in request order (the order they start in). */
  readonly variants?: readonly ExperimentVariantRun[];
  /** How many variants train at once; the rest wait in request order. */
  readonly maxConcurrentJobs?: number;
  /** The shared baseline's manifests (s3://), one per base model. */
  readonly baselineUris?: readonly string[];
  readonly leaderboard?: { readonly jsonUri: string; readonly markdownUri: string; readonly htmlUri: string };
  /** The best variant by the leaderboard's rule; the one that may be promoted. */
  readonly best?: { readonly name: string; readonly runId: string };
  /** The leaderboard's summary (at most 1,000 characters), as the notification and the event carry it. */
  readonly summary?: string;
  /** How the promotion of the best variant ended (its own execution's status; the variant's record has the decision). */
  readonly bestPromotion?: { readonly status?: string; readonly error?: string };
}

/** One variant's run as the experiment's record lists it. */
export interface ExperimentVariantRun {
  readonly name: string;
  readonly index: number;
  readonly runId: string;
  /** The child execution that runs it. */
  readonly executionArn: string;
  /** s3:// URI of the variant's own run record. */
  readonly recordUri: string;
  /** How the variant's execution ended, once it has (SUCCEEDED, FAILED, TIMED_OUT, ABORTED). */
  readonly status?: string;
  readonly error?: string;
}

/** What the promotion step decided and did. */
export interface RunPromotion {
  readonly promoted: boolean;
  /** PROMOTED, ALREADY_CURRENT, GATE_FAILED, GATE_NOT_SET, NOT_EVALUATED, WORSE_THAN_CURRENT, NO_CUSTOM_MODEL. */
  readonly reason: string;
  readonly explanation: string;
  /** The registry parameter of the run's request name. */
  readonly parameterName: string;
  /** When it (last) became the current model. */
  readonly promotedAt?: string;
  /** The serving Provisioned Throughput swap, when the environment names one. */
  readonly serving?: ServingState;
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
  /** The shared baseline's manifest (s3://) whose base answers were scored, when the run reused one (an experiment's variant). */
  readonly baselineUri?: string;
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

/**
 * Thrown when an execution tries to change a run record another execution owns: a duplicate
 * delivery of the same request version, which must leave the genuine run alone.
 */
export class NotRunOwnerError extends Error {
  constructor(readonly recordUri: string, readonly executionArn: string, readonly ownerExecutionArn: string) {
    super(
      `Execution ${executionArn} may not change the run record ${recordUri}: the run belongs to execution ${ownerExecutionArn} ` +
        '(this one is a duplicate delivery of the same request). Nothing of that run was changed, stopped or deleted.',
    );
    this.name = 'NotRunOwner';
  }
}

/** S3's 412 to a conditional write whose condition (If-Match / If-None-Match) does not hold. */
export function isPreconditionFailed(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'PreconditionFailed' || err.$metadata?.httpStatusCode === 412);
}

/** S3's 409 to a conditional write while a conflicting write to the key is in progress. */
export function isConditionalRequestConflict(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.name === 'ConditionalRequestConflict' || e?.Code === 'ConditionalRequestConflict' || e?.$metadata?.httpStatusCode === 409;
}

/** How conditional writes retry S3's 409: attempts in all, and the backoff before each retry. */
export const CONFLICT_RETRY = { attempts: 6, baseDelayMs: 100, maxDelayMs: 2_000 } as const;

/**
 * Runs `write` (a conditional PutObject), retrying S3's 409 ConditionalRequestConflict up to
 * {@link CONFLICT_RETRY}.attempts in all, after full-jitter exponential backoff (at most about
 * 3 s of waiting in all). Any other error, and the last 409, are thrown.
 */
export async function retryingConflicts<T>(write: () => Promise<T>, sleep: (ms: number) => Promise<void> = defaultSleep): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isConditionalRequestConflict(err) || attempt >= CONFLICT_RETRY.attempts) throw err;
      const ceiling = Math.min(CONFLICT_RETRY.maxDelayMs, CONFLICT_RETRY.baseDelayMs * 2 ** (attempt - 1));
      await sleep(Math.random() * ceiling);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates the record; throws RunRecordExistsError when one exists (never overwrites). */
export async function createRunRecord(s3: S3Client, bucket: string, record: RunRecord): Promise<void> {
  const key = runRecordKey(record.run);
  try {
    await retryingConflicts(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(record, null, 2), ContentType: 'application/json', IfNoneMatch: '*' })));
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
 * (If-Match); on a conflict it reads again and re-applies, up to `attempts` times. Only the
 * execution that owns the record (`owner`, its executionArn) may change it: anyone else gets
 * NotRunOwnerError before `change` runs.
 */
export async function updateRunRecord(
  s3: S3Client,
  bucket: string,
  key: string,
  owner: string,
  change: (record: RunRecord) => RunRecord,
  attempts = 5,
): Promise<RunRecord> {
  for (let attempt = 1; ; attempt++) {
    const current = await readRunRecord(s3, bucket, key);
    if (!current) throw new Error(`No run record at s3://${bucket}/${key}; the run was not begun by this workflow`);
    if (current.record.executionArn !== owner) throw new NotRunOwnerError(`s3://${bucket}/${key}`, owner, current.record.executionArn);
    const next = change(current.record);
    try {
      await retryingConflicts(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(next, null, 2), ContentType: 'application/json', IfMatch: current.etag })));
      return next;
    } catch (err) {
      if (!isPreconditionFailed(err) || attempt >= attempts) throw err;
    }
  }
}

/**
 * Whether the execution that read `run` owns `record`. A context without executionArn was read
 * by an execution started before contexts carried it (one in flight across an upgrade): it is
 * taken as the owner, as before, so an upgrade never fails the runs in flight.
 */
export function isRunOwner(record: RunRecord, run: Pick<RunContext, 'executionArn'>): boolean {
  return run.executionArn === undefined || record.executionArn === run.executionArn;
}

/** {@link updateRunRecord} of the run's own record, as the execution that read `run`. */
export async function updateOwnRunRecord(s3: S3Client, run: RunContext, change: (record: RunRecord) => RunRecord): Promise<RunRecord> {
  const key = runRecordKey(run);
  const owner = run.executionArn ?? (await readRunRecord(s3, run.artifacts.bucket, key))?.record.executionArn ?? '';
  return updateRunRecord(s3, run.artifacts.bucket, key, owner, change);
}

/**
 * Reads the run's record and throws NotRunOwnerError unless the execution that read `run`
 * owns it; for steps that act on what the run created (delete its Provisioned Throughput)
 * before they write the record. Undefined when the run has no record yet.
 */
export async function readOwnRunRecord(s3: S3Client, run: RunContext): Promise<RunRecord | undefined> {
  const key = runRecordKey(run);
  const current = await readRunRecord(s3, run.artifacts.bucket, key);
  if (current && !isRunOwner(current.record, run)) throw new NotRunOwnerError(`s3://${run.artifacts.bucket}/${key}`, run.executionArn, current.record.executionArn);
  return current?.record;
}

/** The record with one more timeline entry (and optionally other changes). */
export function withEvent(record: RunRecord, event: string, detail?: Record<string, unknown>, now = new Date()): RunRecord {
  return { ...record, timeline: [...record.timeline, { at: now.toISOString(), event, ...(detail ? { detail } : {}) }] };
}
