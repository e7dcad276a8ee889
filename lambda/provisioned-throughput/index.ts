/**
 * Serves the fine-tuned model for evaluation: creates a no-commitment Provisioned Throughput
 * (or uses an existing one the deployment names), reports its status, and deletes the one the
 * run created. The ARN is written to the run record as soon as it exists, and the name is
 * derived from the run id, so cleanup can always find it: it bills by the hour.
 *
 * Input: { action: 'create' | 'describe' | 'delete', run, job?, provisioned? }.
 */
import { CreateProvisionedModelThroughputCommand, DeleteProvisionedModelThroughputCommand, GetProvisionedModelThroughputCommand, ResourceNotFoundException } from '@aws-sdk/client-bedrock';
import { createHash } from 'crypto';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { intEnv, requireEnv } from '../shared/env';
import { provisionedModelNameFor } from '../shared/evaluation/provisioned-names';
import { jobTagsFor } from '../shared/job-names';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { RunContext } from '../shared/run-context';
import { RunJob, runRecordKey, updateRunRecord, withEvent } from '../shared/run-record';

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
  if (existing) return { provisionedModelArn: existing, created: false, status: 'InService' };
  if (!job?.outputModelArn) throw new Error('The job produced no custom model ARN to serve');
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
  await updateRunRecord(s3Client(), run.artifacts.bucket, runRecordKey(run), (r) =>
    withEvent({ ...r, provisionedThroughput: { arn: provisioned.provisionedModelArn, name, modelUnits: intEnv('MODEL_UNITS', 1), createdAt } }, 'provisioned throughput created', {
      arn: provisioned.provisionedModelArn,
    }),
  );
  log.info('provisioned throughput created', { runId: run.runId, arn: provisioned.provisionedModelArn, name });
  return provisioned;
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
  try {
    await bedrockClient().send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: provisioned.provisionedModelArn }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  const deletedAt = new Date();
  const hours = provisioned.createdAt ? (deletedAt.getTime() - Date.parse(provisioned.createdAt)) / 3_600_000 : undefined;
  await updateRunRecord(s3Client(), run.artifacts.bucket, runRecordKey(run), (r) =>
    withEvent(
      { ...r, provisionedThroughput: r.provisionedThroughput ? { ...r.provisionedThroughput, deletedAt: deletedAt.toISOString(), hours } : r.provisionedThroughput },
      'provisioned throughput deleted',
      { arn: provisioned.provisionedModelArn },
    ),
  );
  log.info('provisioned throughput deleted', { runId: run.runId, arn: provisioned.provisionedModelArn, hours });
  return { ...provisioned, status: 'Deleted', deleted: true, hours };
}

function need(provisioned: ProvisionedModel | undefined): ProvisionedModel {
  if (!provisioned?.provisionedModelArn) throw new Error('No provisioned model in the input');
  return provisioned;
}
