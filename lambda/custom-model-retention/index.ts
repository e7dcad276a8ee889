/**
 * The custom model retention sweep. Every custom model bills monthly storage for as long as it
 * exists, and every run leaves one. Run by a schedule (daily by default), this lists the custom
 * models of the account, keeps only those tagged with this deployment's id
 * (`llama-finetune:deployment`, set by the launch step), reads each one's run record (the
 * `llama-finetune:run-id` tag names the run), and deletes what the retention policy names
 * (lambda/shared/model-retention.ts). The current model of every name (the model registry) and
 * every model a Provisioned Throughput serves or is being moved to are never deleted; if either
 * cannot be read, nothing is deleted. Every deletion is logged with its run id and reason.
 *
 * Environment: ENVIRONMENT_NAME, DEPLOYMENT_ID, REGISTRY_PREFIX, RUN_RECORDS_BUCKET, RUNS_PREFIX,
 * DELETE_REJECTED_AFTER_DAYS, KEEP_PROMOTED_PER_NAME.
 * Output: { considered, deleted: [{ modelArn, runId, reason }], failed: [{ modelArn, runId, error }] }.
 */
import { BedrockClient, DeleteCustomModelCommand, ListCustomModelsCommand, ListProvisionedModelThroughputsCommand, ListTagsForResourceCommand, CustomModelSummary } from '@aws-sdk/client-bedrock';
import { S3Client } from '@aws-sdk/client-s3';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { bedrockClient, s3Client, ssmClient } from '../shared/aws-clients';
import { requireEnv } from '../shared/env';
import { DEPLOYMENT_TAG_KEY, RUN_ID_TAG_KEY, tagValue } from '../shared/job-names';
import { createLogger, Logger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { parseRegistryEntry } from '../shared/model-registry';
import { RetainedModel, RetentionPolicy, planRetention } from '../shared/model-retention';
import { RunRecord, readRunRecord } from '../shared/run-record';

export interface RetentionResult {
  readonly considered: number;
  readonly deleted: ReadonlyArray<{ readonly modelArn: string; readonly runId?: string; readonly reason: string }>;
  readonly failed: ReadonlyArray<{ readonly modelArn: string; readonly runId?: string; readonly error: string }>;
}

export interface RetentionDependencies {
  readonly bedrock: () => BedrockClient;
  readonly s3: () => S3Client;
  readonly ssm: () => SSMClient;
  readonly log: Logger;
  readonly now: () => Date;
}

/** Builds the handler around its dependencies (tests pass their own clock). */
export function createRetentionHandler(deps: Partial<RetentionDependencies> = {}): (event?: unknown) => Promise<RetentionResult> {
  const log = deps.log ?? createLogger({ step: 'custom-model-retention' });
  const sweep = async (): Promise<RetentionResult> => {
    const bedrock = (deps.bedrock ?? bedrockClient)();
    const policy: RetentionPolicy = { deleteRejectedAfterDays: numberEnv('DELETE_REJECTED_AFTER_DAYS'), keepPromotedPerName: numberEnv('KEEP_PROMOTED_PER_NAME') };
    const deploymentId = requireEnv('DEPLOYMENT_ID');
    // What must stay is read first: if it cannot be read, the sweep fails before deleting anything.
    const protectedArns = new Set([...(await currentModels((deps.ssm ?? ssmClient)(), requireEnv('REGISTRY_PREFIX'))), ...(await servedModels(bedrock))]);
    const ours = await modelsOfDeployment(bedrock, deploymentId);
    const bucket = requireEnv('RUN_RECORDS_BUCKET');
    const runsPrefix = requireEnv('RUNS_PREFIX');
    const s3 = (deps.s3 ?? s3Client)();
    const models: RetainedModel[] = [];
    for (const { summary, runId } of ours) {
      let record: RunRecord | undefined;
      if (runId) {
        try {
          record = (await readRunRecord(s3, bucket, `${runsPrefix}${runId}/run.json`))?.record;
        } catch (error) {
          log.warn('could not read the run record of a custom model; it is kept', { runId, modelArn: summary.modelArn, error });
        }
      }
      models.push({ modelArn: summary.modelArn!, modelName: summary.modelName ?? '', runId, creationTime: summary.creationTime ?? new Date(), record });
    }
    const verdicts = planRetention(models, protectedArns, policy, (deps.now ?? (() => new Date()))());
    const deleted: Array<{ modelArn: string; runId?: string; reason: string }> = [];
    const failed: Array<{ modelArn: string; runId?: string; error: string }> = [];
    for (const verdict of verdicts.filter((v) => v.delete)) {
      try {
        await bedrock.send(new DeleteCustomModelCommand({ modelIdentifier: verdict.modelArn }));
      } catch (error) {
        if ((error as Error).name !== 'ResourceNotFoundException') {
          log.warn('Bedrock refused to delete a custom model; the next sweep tries again', { runId: verdict.runId, modelArn: verdict.modelArn, reason: verdict.reason, error });
          failed.push({ modelArn: verdict.modelArn, runId: verdict.runId, error: `${(error as Error).name}: ${(error as Error).message}` });
          continue;
        }
      }
      deleted.push({ modelArn: verdict.modelArn, runId: verdict.runId, reason: verdict.reason });
      log.warn('deleted a custom model under the retention policy', { runId: verdict.runId, requestName: verdict.requestName, modelArn: verdict.modelArn, modelName: verdict.modelName, reason: verdict.reason });
    }
    log.info('custom model retention sweep done', { considered: models.length, deleted: deleted.length, failed: failed.length, kept: verdicts.filter((v) => !v.delete).map((v) => ({ runId: v.runId, reason: v.reason })) });
    return { considered: models.length, deleted, failed };
  };
  return logFailures(log, () => ({}), sweep);
}

function numberEnv(name: string): number {
  const value = Number(requireEnv(name));
  if (!Number.isInteger(value) || value < 0) throw new Error(`Environment variable ${name} must be a whole number of at least 0, got '${process.env[name]}'`);
  return value;
}

/** The custom model ARN of every registry entry under `prefix`. */
async function currentModels(ssm: SSMClient, prefix: string): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({ Path: prefix, Recursive: false, MaxResults: 10, NextToken: nextToken }));
    for (const parameter of page.Parameters ?? []) {
      const entry = parseRegistryEntry(parameter.Value);
      if (entry) arns.push(entry.customModelArn);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return arns;
}

/** Every model a Provisioned Throughput in the account serves or is being moved to (any deployment's). */
async function servedModels(bedrock: BedrockClient): Promise<string[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await bedrock.send(new ListProvisionedModelThroughputsCommand({ maxResults: 100, nextToken }));
    for (const pt of page.provisionedModelSummaries ?? []) arns.push(...[pt.modelArn, pt.desiredModelArn].filter((a): a is string => !!a));
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

/** The custom models tagged with this deployment's id, with the run id their tag names. */
async function modelsOfDeployment(bedrock: BedrockClient, deploymentId: string): Promise<Array<{ summary: CustomModelSummary; runId?: string }>> {
  const all: CustomModelSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await bedrock.send(new ListCustomModelsCommand({ maxResults: 100, nextToken }));
    all.push(...(page.modelSummaries ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const ours: Array<{ summary: CustomModelSummary; runId?: string }> = [];
  // Sequential: ListTagsForResource has a low request rate, and a daily sweep has time.
  for (const summary of all) {
    if (!summary.modelArn) continue;
    try {
      const { tags = [] } = await bedrock.send(new ListTagsForResourceCommand({ resourceARN: summary.modelArn }));
      if (tagValue(tags, DEPLOYMENT_TAG_KEY) === deploymentId) ours.push({ summary, runId: tagValue(tags, RUN_ID_TAG_KEY) });
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
    }
  }
  return ours;
}

/** The Lambda entry point. */
export const handler = createRetentionHandler();
