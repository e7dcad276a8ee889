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
 * Input: { action: 'create' | 'describe' | 'delete', run, job?, provisioned? }.
 */
import { CreateProvisionedModelThroughputCommand, GetProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { createHash } from 'crypto';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { intEnv, requireEnv } from '../shared/env';
import { provisionedModelNameFor } from '../shared/evaluation/provisioned-names';
import { deleteProvisionedThroughput, provisionedThroughputHours, withProvisionedThroughputDeleted } from '../shared/evaluation/provisioned-throughput-deletion';
import { jobTagsFor } from '../shared/job-names';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { RunContext } from '../shared/run-context';
import { RunEndedError } from '../shared/run-ended-error';
import { RunJob, readOwnRunRecord, updateOwnRunRecord, withEvent } from '../shared/run-record';

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
  readonly action: 'create' | 'describe' | 'delete';
  readonly run: RunContext;
  readonly job?: RunJob;
  readonly provisioned?: ProvisionedModel;
}

const log = createLogger({ step: 'provisioned-throughput' });

/** The entry point: serveModel, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, serveModel);

async function serveModel(event: ProvisionedThroughputEvent): Promise<ProvisionedModel & { deleted?: boolean; hours?: number }> {
  switch (event.action) {
    case 'create':
      return create(event.run, event.job);
    case 'describe':
      return describe(need(event.provisioned));
    case 'delete':
      return remove(event.run, event.provisioned);
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

async function remove(run: RunContext, provisioned: ProvisionedModel | undefined): Promise<ProvisionedModel & { deleted: boolean; hours?: number }> {
  if (!provisioned?.created) {
    // Never delete a Provisioned Throughput the run did not create.
    return { provisionedModelArn: provisioned?.provisionedModelArn ?? '', created: false, status: provisioned?.status ?? 'none', deleted: false };
  }
  const arn = provisioned.provisionedModelArn;
  // Only the execution that owns the run deletes what it created (a duplicate never does).
  await readOwnRunRecord(s3Client(), run);
  await deleteProvisionedThroughput(bedrockClient(), arn);
  const deletedAt = new Date();
  const hours = provisionedThroughputHours(provisioned.createdAt, deletedAt);
  await updateOwnRunRecord(s3Client(), run, (r) => withEvent(withProvisionedThroughputDeleted(r, arn, deletedAt), 'provisioned throughput deleted', { arn }));
  log.info('provisioned throughput deleted', { runId: run.runId, arn, hours });
  return { ...provisioned, status: 'Deleted', deleted: true, hours };
}

function need(provisioned: ProvisionedModel | undefined): ProvisionedModel {
  if (!provisioned?.provisionedModelArn) throw new Error('No provisioned model in the input');
  return provisioned;
}
