/**
 * Serves the fine-tuned model for evaluation: creates a no-commitment Provisioned Throughput
 * (or uses an existing one the deployment names), reports its status, and deletes the one the
 * run created. The ARN is written to the run record as soon as it exists, and the name is
 * derived from the run id, so cleanup can always find it: it bills by the hour. If the run has
 * already ended when the Provisioned Throughput is recorded (the cleanup of a timed-out or
 * aborted execution ran meanwhile), it is deleted at once and the step fails with RunEnded.
 * An existing one the deployment names must serve the run's custom model
 * (ProvisionedModelMismatch otherwise); it is never deleted.
 *
 * `record-undeleted` runs when `delete` failed past the workflow's retries: it tries once more,
 * and when Bedrock still refuses, the run goes on (its scores are good) but nothing is silent:
 * an UndeletedProvisionedThroughputs metric line, a warning with the CLI command, the refusal in
 * the run record (which the notification and the watch read) and a notice in the report.
 *
 * Input: { action: 'create' | 'describe' | 'delete' | 'record-undeleted', run, job?, provisioned? }.
 */
import { CreateProvisionedModelThroughputCommand, GetProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'crypto';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { intEnv, requireEnv } from '../shared/env';
import { provisionedModelNameFor } from '../shared/evaluation/provisioned-names';
import { deleteProvisionedThroughput, provisionedThroughputHours, withProvisionedThroughputDeleted } from '../shared/evaluation/provisioned-throughput-deletion';
import { deleteProvisionedThroughputCommand, undeletedProvisionedThroughputNotice, withProvisionedThroughputDeletionRefused } from '../shared/evaluation/undeleted-throughput';
import { jobTagsFor } from '../shared/job-names';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { FinetuneMetric } from '../shared/metric-names';
import { emitMetrics } from '../shared/metrics-emf';
import { withHtmlNotice, withMarkdownNotice } from '../shared/report/cleanup-notice';
import { RunContext } from '../shared/run-context';
import { RunEndedError } from '../shared/run-ended-error';
import { RunJob, readOwnRunRecord, updateOwnRunRecord, withEvent } from '../shared/run-record';
import { getText, isNotFound } from '../shared/s3';

/** The model serving the evaluation. */
export interface ProvisionedModel {
  readonly provisionedModelArn: string;
  /** Whether this run created it (and so must delete it). */
  readonly created: boolean;
  readonly status: string;
  readonly createdAt?: string;
  readonly failureMessage?: string;
}

export interface ProvisionedThroughputEvent {
  readonly action: 'create' | 'describe' | 'delete' | 'record-undeleted';
  readonly run: RunContext;
  readonly job?: RunJob;
  readonly provisioned?: ProvisionedModel;
}

const log = createLogger({ step: 'provisioned-throughput' });

/** The entry point: serveModel, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, serveModel);

/** What `delete` and `record-undeleted` return. */
export interface ReleasedModel extends ProvisionedModel {
  readonly deleted: boolean;
  readonly hours?: number;
  /** What people are told when Bedrock refused the deletion (record-undeleted only). */
  readonly notice?: string;
}

async function serveModel(event: ProvisionedThroughputEvent): Promise<ProvisionedModel | ReleasedModel> {
  switch (event.action) {
    case 'create':
      return create(event.run, event.job);
    case 'describe':
      return describe(need(event.provisioned));
    case 'delete':
      return remove(event.run, event.provisioned);
    case 'record-undeleted':
      return recordUndeleted(event.run, event.provisioned);
    default:
      throw new Error(`Unknown action '${(event as { action: string }).action}'`);
  }
}

async function create(run: RunContext, job: RunJob | undefined): Promise<ProvisionedModel> {
  const existing = process.env.EXISTING_PROVISIONED_MODEL_ARN;
  if (!job?.outputModelArn) throw new Error('The job produced no custom model ARN to serve');
  if (existing) return useExisting(existing, job.outputModelArn);
  const name = provisionedModelNameFor(run);
  const out = await bedrockClient().send(
    new CreateProvisionedModelThroughputCommand({
      provisionedModelName: name,
      modelId: job.outputModelArn,
      modelUnits: intEnv('MODEL_UNITS', 1),
      // No commitmentDuration: no-commitment (hourly) Provisioned Throughput, deletable at any time.
      clientRequestToken: createHash('sha256').update(`pt/${run.runId}`).digest('hex').slice(0, 64),
      tags: jobTagsFor(run, requireEnv('ENVIRONMENT_NAME')),
    }),
  );
  const createdAt = new Date().toISOString();
  const provisioned: ProvisionedModel = { provisionedModelArn: out.provisionedModelArn!, created: true, status: 'Creating', createdAt };
  const recorded = await updateOwnRunRecord(s3Client(), run, (r) =>
    withEvent({ ...r, provisionedThroughput: { arn: provisioned.provisionedModelArn, name, modelUnits: intEnv('MODEL_UNITS', 1), createdAt } }, 'provisioned throughput created', {
      arn: provisioned.provisionedModelArn,
    }),
  );
  log.info('provisioned throughput created', { runId: run.runId, arn: provisioned.provisionedModelArn, name });
  if (recorded.status !== 'RUNNING') {
    // The cleanup of this execution already ran (timeout, abort) and may have looked before this
    // existed: nobody else will delete it, so it goes now.
    await deleteAfterRunEnded(run, provisioned.provisionedModelArn);
    throw new RunEndedError(run.runId, recorded.status, `its Provisioned Throughput ${provisioned.provisionedModelArn} was created; it has been deleted again`);
  }
  return provisioned;
}

async function deleteAfterRunEnded(run: RunContext, arn: string): Promise<void> {
  await deleteProvisionedThroughput(bedrockClient(), arn);
  const deletedAt = new Date();
  await updateOwnRunRecord(s3Client(), run, (r) =>
    withEvent(withProvisionedThroughputDeleted(r, arn, deletedAt), 'provisioned throughput deleted: the run had ended', { arn, runStatus: r.status }),
  );
  log.warn('deleted the provisioned throughput of a run that had already ended', { runId: run.runId, arn });
}

/**
 * The Provisioned Throughput the deployment names: used as it is, and only when it serves (or
 * is being switched to) this run's custom model; evaluating another model would score the
 * wrong thing.
 */
async function useExisting(arn: string, customModelArn: string): Promise<ProvisionedModel> {
  const out = await bedrockClient().send(new GetProvisionedModelThroughputCommand({ provisionedModelId: arn }));
  // desiredModelArn is where an update is taking it; while it differs from modelArn the status is Updating and the workflow waits.
  const target = out.desiredModelArn ?? out.modelArn;
  if (target !== customModelArn) throw new ProvisionedModelMismatchError(arn, out.modelArn, out.desiredModelArn, customModelArn);
  return { provisionedModelArn: arn, created: false, status: out.status ?? 'Creating' };
}

/** The existing Provisioned Throughput the deployment names serves a different model than the run's. */
export class ProvisionedModelMismatchError extends Error {
  constructor(arn: string, modelArn: string | undefined, desiredModelArn: string | undefined, customModelArn: string) {
    const serves = modelArn ?? 'no model Bedrock reported';
    const moving = desiredModelArn && desiredModelArn !== modelArn ? ` (being switched to ${desiredModelArn})` : '';
    super(
      `The Provisioned Throughput ${arn} that the deployment names for evaluation (evaluation.provisionedModelArn) serves ${serves}${moving}, not this run's custom model ${customModelArn}, so the evaluation would score the wrong model. ` +
        'It was left untouched, and the custom model is kept. Either point the Provisioned Throughput at the custom model with UpdateProvisionedModelThroughput ' +
        `(aws bedrock update-provisioned-model-throughput --provisioned-model-id ${arn} --desired-model-id ${customModelArn}) before evaluating on it, ` +
        'or remove evaluation.provisionedModelArn so each run creates (and deletes) its own.',
    );
    this.name = 'ProvisionedModelMismatch';
  }
}

async function describe(provisioned: ProvisionedModel): Promise<ProvisionedModel> {
  const out = await bedrockClient().send(new GetProvisionedModelThroughputCommand({ provisionedModelId: provisioned.provisionedModelArn }));
  const status = out.status ?? 'Creating';
  const limitMinutes = intEnv('PROVISIONING_TIMEOUT_MINUTES', 120);
  if (status !== 'InService' && status !== 'Failed' && provisioned.createdAt && Date.now() - Date.parse(provisioned.createdAt) > limitMinutes * 60_000) {
    throw new ProvisioningTimedOutError(provisioned.provisionedModelArn, limitMinutes, status);
  }
  return { ...provisioned, status, failureMessage: out.failureMessage ?? (status === 'Failed' ? 'Bedrock gave no failure message' : undefined) };
}

/** The Provisioned Throughput did not come into service in time. */
export class ProvisioningTimedOutError extends Error {
  constructor(arn: string, minutes: number, status: string) {
    super(`The Provisioned Throughput ${arn} was still ${status} after ${minutes} minutes; it is being deleted. Try again later or raise evaluation.provisioningTimeout.`);
    this.name = 'ProvisioningTimedOut';
  }
}

async function remove(run: RunContext, provisioned: ProvisionedModel | undefined): Promise<ReleasedModel> {
  if (!provisioned?.created) return notCreated(provisioned);
  // Only the execution that owns the run deletes what it created (a duplicate never does).
  await readOwnRunRecord(s3Client(), run);
  // One attempt: the release steps' Retry (10 s, doubling, 5 times) spaces the next ones without
  // a function sleeping in between.
  await deleteProvisionedThroughput(bedrockClient(), provisioned.provisionedModelArn, { attempts: 1 });
  return recordDeleted(run, provisioned);
}

/** Never delete a Provisioned Throughput the run did not create. */
function notCreated(provisioned: ProvisionedModel | undefined): ReleasedModel {
  return { provisionedModelArn: provisioned?.provisionedModelArn ?? '', created: false, status: provisioned?.status ?? 'none', deleted: false };
}

async function recordDeleted(run: RunContext, provisioned: ProvisionedModel): Promise<ReleasedModel> {
  const arn = provisioned.provisionedModelArn;
  const deletedAt = new Date();
  const hours = provisionedThroughputHours(provisioned.createdAt, deletedAt);
  await updateOwnRunRecord(s3Client(), run, (r) => withEvent(withProvisionedThroughputDeleted(r, arn, deletedAt), 'provisioned throughput deleted', { arn }));
  log.info('provisioned throughput deleted', { runId: run.runId, arn, hours });
  return { ...provisioned, status: 'Deleted', deleted: true, hours };
}

/**
 * After `delete` failed past the workflow's retries: one more attempt (a deletion that went
 * through, or a throughput already gone, is the ordinary success), then, when Bedrock still
 * refuses, the refusal is made loud (metric, warning, run record, report) and the step returns,
 * so the run keeps its results. The watch deletes the throughput once the run has ended.
 */
async function recordUndeleted(run: RunContext, provisioned: ProvisionedModel | undefined): Promise<ReleasedModel> {
  if (!provisioned?.created) return notCreated(provisioned);
  const s3 = s3Client();
  await readOwnRunRecord(s3, run);
  const arn = provisioned.provisionedModelArn;
  // Only the deletion's failure is a refusal; a failure to record a deletion fails the step.
  const refusal = await deleteProvisionedThroughput(bedrockClient(), arn).then(
    () => undefined,
    (err: Error) => err,
  );
  if (!refusal) return recordDeleted(run, provisioned);
  const runLog = log.child({ runId: run.runId });
  // The metric first: whatever fails after it, the alarm still fires.
  emitMetrics(runLog, [{ name: FinetuneMetric.UNDELETED_PROVISIONED_THROUGHPUTS, value: 1, unit: 'Count' }], requireEnv('ENVIRONMENT_NAME'));
  const watchMinutes = process.env.PROVISIONED_THROUGHPUT_WATCH_MINUTES ? intEnv('PROVISIONED_THROUGHPUT_WATCH_MINUTES', 15) : undefined;
  // Bedrock's message, bounded: it goes into the record, the report and the notification.
  const error = `${refusal.name}: ${refusal.message}`.slice(0, 1000);
  const record = await updateOwnRunRecord(s3, run, (r) =>
    withEvent(withProvisionedThroughputDeletionRefused(r, arn, { at: new Date().toISOString(), error, ...(watchMinutes ? { watchIntervalMinutes: watchMinutes } : {}) }), 'provisioned throughput not deleted', { arn, error }),
  );
  const notice = undeletedProvisionedThroughputNotice(record.provisionedThroughput) ?? `Provisioned Throughput ${arn} could not be deleted (${error}); it bills per hour. Delete it: ${deleteProvisionedThroughputCommand(arn)}`;
  runLog.warn('Bedrock refused to delete the Provisioned Throughput after every retry; the run goes on, and it bills per hour until deleted', {
    provisionedModelArn: arn,
    error,
    watchIntervalMinutes: watchMinutes,
    fix: deleteProvisionedThroughputCommand(arn),
  });
  await addReportNotice(run, notice);
  return { ...provisioned, status: 'DeleteRefused', deleted: false, notice };
}

/** Puts `notice` at the top of report.md and report.html, when the run wrote them. */
async function addReportNotice(run: RunContext, notice: string): Promise<void> {
  const s3 = s3Client();
  const bucket = run.artifacts.bucket;
  const edits: Array<[string, string, (text: string, notice: string) => string]> = [
    ['md', 'text/markdown; charset=utf-8', withMarkdownNotice],
    ['html', 'text/html; charset=utf-8', withHtmlNotice],
  ];
  for (const [ext, contentType, edit] of edits) {
    const key = `${run.artifacts.prefix}report.${ext}`;
    let text: string;
    try {
      text = await getText(s3, { bucket, key });
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: edit(text, notice), ContentType: contentType }));
  }
}

function need(provisioned: ProvisionedModel | undefined): ProvisionedModel {
  if (!provisioned?.provisionedModelArn) throw new Error('No provisioned model in the input');
  return provisioned;
}
