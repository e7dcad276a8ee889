/**
 * Promotion: makes a run's custom model the current model of its request name in this
 * environment (the model registry, one SSM parameter per name), announces it ("Fine-tuned Model
 * Promoted" on EventBridge) and, when the environment names a serving Provisioned Throughput,
 * points it at the new model (UpdateProvisionedModelThroughput) so the ARN applications call
 * never changes.
 *
 * Input, from the state machine:
 * - `{ action: 'promote', run }` after the evaluation: decides (model-registry.ts), writes the
 *   entry and the run record, starts the serving swap. Output: {@link PromotionResult}.
 * - `{ action: 'check-serving', run, promotion }` while the swap is Updating: records it
 *   InService, or failed (the previous model keeps serving); a failed swap never fails the run.
 * Input, invoked by hand (rollback, or a promotion a failed step missed):
 * - `{ promoteRun: '<run id>' }`: promotes that run whatever the current model scored, if its
 *   gate allows (model-registry.ts, manualPromotionRefusal), and starts the serving swap
 *   without waiting for it (the entry says Updating; `aws bedrock get-provisioned-model-throughput`
 *   shows when it is InService).
 *
 * Environment: ENVIRONMENT_NAME, REGISTRY_PREFIX, REQUIRE_QUALITY_GATE, ALLOW_WORSE_MODEL,
 * EVENT_BUS_NAME, ARTIFACTS_BUCKET and RUNS_PREFIX (for promoteRun), and optionally
 * SERVING_PROVISIONED_MODEL_ARN and SERVING_SWAP_TIMEOUT_MINUTES.
 */
import { GetProvisionedModelThroughputCommand, GetProvisionedModelThroughputCommandOutput, UpdateProvisionedModelThroughputCommand } from '@aws-sdk/client-bedrock';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand } from '@aws-sdk/client-ssm';
import { FinetuneMetric } from '../shared/metric-names';
import { bedrockClient, eventBridgeClient, s3Client, ssmClient } from '../shared/aws-clients';
import { safeText } from '../shared/display-text';
import { intEnv, requireEnv } from '../shared/env';
import { createLogger, Logger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { emitMetrics } from '../shared/metrics-emf';
import {
  PROMOTED_DETAIL_TYPE,
  PromotionPolicy,
  RegistryEntry,
  ServingState,
  decidePromotion,
  manualPromotionRefusal,
  parseRegistryEntry,
  registryEntryFor,
  registryParameterName,
  swapProgress,
} from '../shared/model-registry';
import { EVENT_SOURCE } from '../shared/outcome-message';
import { RunContext } from '../shared/run-context';
import { RunPromotion, readOwnRunRecord, readRunRecord, updateOwnRunRecord, updateRunRecord, withEvent } from '../shared/run-record';

/** What the state machine carries on (small: no entry, just what the next step needs). */
export interface PromotionResult {
  readonly promoted: boolean;
  readonly reason: string;
  readonly parameterName: string;
  /** `UPDATING` keeps the state machine waiting; the others end the step. */
  readonly swap: 'NONE' | 'UPDATING' | 'DONE' | 'FAILED';
  readonly serving?: ServingState;
}

export type PromoteModelEvent =
  | { readonly action: 'promote'; readonly run: RunContext }
  | { readonly action: 'check-serving'; readonly run: RunContext; readonly promotion: PromotionResult }
  | { readonly promoteRun: string };

const log = createLogger({ step: 'promote-model' });

/** The entry point, with errors logged with the run id. */
export const handler = logFailures(log, contextOf, promoteModel);

function contextOf(event: PromoteModelEvent): Record<string, unknown> {
  if ('promoteRun' in event) return { runId: event.promoteRun };
  return { runId: event.run?.runId };
}

async function promoteModel(event: PromoteModelEvent): Promise<PromotionResult | { promoted: true; parameterName: string; entry: RegistryEntry }> {
  if ('promoteRun' in event) return promoteByHand(event.promoteRun);
  if (event.action === 'promote') return promoteAfterEvaluation(event.run);
  if (event.action === 'check-serving') return checkServing(event.run, event.promotion);
  throw new Error(`Unknown promote-model event: ${JSON.stringify(event).slice(0, 200)}`);
}

function policy(): PromotionPolicy {
  return { requireQualityGate: process.env.REQUIRE_QUALITY_GATE !== 'false', allowWorseModel: process.env.ALLOW_WORSE_MODEL === 'true' };
}

async function promoteAfterEvaluation(run: RunContext): Promise<PromotionResult> {
  const runLog = log.child({ runId: run.runId });
  const parameterName = registryParameterName(requireEnv('REGISTRY_PREFIX'), run.requestName);
  const record = await readOwnRunRecord(s3Client(), run);
  if (!record) throw new Error(`No run record for run ${run.runId}; the run was not begun by this workflow`);
  const current = await readEntry(parameterName);
  const decision = decidePromotion(record, current, policy());
  if (!decision.promote) {
    const promotion: RunPromotion = { promoted: false, reason: decision.reason, explanation: decision.explanation, parameterName };
    await updateOwnRunRecord(s3Client(), run, (r) => ({ ...withEvent(r, 'not promoted', { reason: decision.reason }), promotion }));
    runLog.info('run not promoted', { reason: decision.reason, explanation: decision.explanation, parameterName, currentRunId: current?.runId });
    return { promoted: false, reason: decision.reason, parameterName, swap: 'NONE' };
  }
  const now = new Date();
  // A retried step finds itself current already: the entry (and its swap) stand.
  const serving = decision.reason === 'ALREADY_CURRENT' ? current?.serving : await startServingSwap(runLog, record.job!.outputModelArn!, now);
  const entry = decision.reason === 'ALREADY_CURRENT' ? current! : registryEntryFor(record, requireEnv('ENVIRONMENT_NAME'), now, 'workflow', current, serving);
  if (decision.reason !== 'ALREADY_CURRENT') await writeEntry(parameterName, entry);
  const promotion: RunPromotion = { promoted: true, reason: decision.reason, explanation: decision.explanation, parameterName, promotedAt: entry.promotedAt, ...(serving ? { serving } : {}) };
  await updateOwnRunRecord(s3Client(), run, (r) => ({ ...withEvent(r, 'promoted', { parameterName, previousRunId: entry.previous?.runId, serving: serving?.status }), promotion }));
  runLog.info('run promoted: its custom model is the current model of its name', { parameterName, customModelArn: entry.customModelArn, previousRunId: entry.previous?.runId, serving });
  if (decision.reason !== 'ALREADY_CURRENT') await announcePromotion(runLog, parameterName, entry);
  return { promoted: true, reason: decision.reason, parameterName, swap: swapStateOf(serving), ...(serving ? { serving } : {}) };
}

async function checkServing(run: RunContext, promotion: PromotionResult): Promise<PromotionResult> {
  const runLog = log.child({ runId: run.runId });
  const serving = promotion.serving;
  if (!serving || promotion.swap !== 'UPDATING') return promotion;
  const record = await readOwnRunRecord(s3Client(), run);
  const modelArn = record?.job?.outputModelArn;
  if (!record || !modelArn) throw new Error(`Run ${run.runId} has no record or custom model to check the serving swap of`);
  const pt = await bedrockClient().send(new GetProvisionedModelThroughputCommand({ provisionedModelId: serving.provisionedModelArn }));
  const progress = swapProgress(pt, modelArn);
  const timeoutMinutes = intEnv('SERVING_SWAP_TIMEOUT_MINUTES', 120);
  const timedOut = progress === 'updating' && Date.now() - Date.parse(serving.requestedAt) > timeoutMinutes * 60_000;
  if (progress === 'updating' && !timedOut) return promotion;
  const now = new Date().toISOString();
  const next: ServingState =
    progress === 'done'
      ? { ...serving, status: 'InService', servingModelArn: modelArn, completedAt: now }
      : {
          ...serving,
          status: 'SwapFailed',
          servingModelArn: pt.modelArn,
          completedAt: now,
          error: boundedError(timedOut
            ? `The Provisioned Throughput was still Updating after ${timeoutMinutes} minutes; Bedrock serves the previous model until an update completes.`
            : `Bedrock ${pt.status === 'Failed' ? `failed the update${pt.failureMessage ? `: ${pt.failureMessage}` : ''}` : `ended the update serving ${pt.modelArn}`}; the previous model keeps serving.`),
        };
  await updateOwnRunRecord(s3Client(), run, (r) => ({ ...withEvent(r, next.status === 'InService' ? 'serving swap done' : 'serving swap failed', { provisionedModelArn: serving.provisionedModelArn, error: next.error }), promotion: { ...r.promotion!, serving: next } }));
  // The entry changes only if it still names this run (a later promotion may have replaced it).
  const current = await readEntry(promotion.parameterName);
  if (current?.runId === run.runId) await writeEntry(promotion.parameterName, { ...current, serving: next });
  if (next.status === 'InService') runLog.info('the serving Provisioned Throughput serves the promoted model', { provisionedModelArn: serving.provisionedModelArn, modelArn });
  else runLog.warn('serving swap failed; the previous model keeps serving', { provisionedModelArn: serving.provisionedModelArn, servingModelArn: pt.modelArn, error: next.error });
  return { ...promotion, swap: next.status === 'InService' ? 'DONE' : 'FAILED', serving: next };
}

/** A promotion by run id: a rollback to an earlier run, or a promotion a failed step missed. */
async function promoteByHand(runId: string): Promise<{ promoted: true; parameterName: string; entry: RegistryEntry }> {
  if (typeof runId !== 'string' || !/^[a-zA-Z0-9-]{1,80}$/.test(runId)) throw new Error(`promoteRun must be a run id (letters, digits, hyphens), got ${JSON.stringify(runId)}`);
  const runLog = log.child({ runId });
  const bucket = requireEnv('ARTIFACTS_BUCKET');
  const key = `${requireEnv('RUNS_PREFIX')}${runId}/run.json`;
  const found = await readRunRecord(s3Client(), bucket, key);
  if (!found) throw new Error(`No run record at s3://${bucket}/${key}: check the run id (the folder name under the runs prefix)`);
  const record = found.record;
  const refusal = record.status === 'SUCCEEDED' ? manualPromotionRefusal(record, policy()) : `The run ended ${record.status}.`;
  if (refusal) throw new Error(`Run ${runId} cannot be promoted: ${refusal}`);
  const parameterName = registryParameterName(requireEnv('REGISTRY_PREFIX'), record.run.requestName);
  const current = await readEntry(parameterName);
  const now = new Date();
  const serving = await startServingSwap(runLog, record.job!.outputModelArn!, now);
  const entry = registryEntryFor(record, requireEnv('ENVIRONMENT_NAME'), now, 'manual', current, serving);
  await writeEntry(parameterName, entry);
  const promotion: RunPromotion = { ...(record.promotion ?? {}), promoted: true, reason: 'PROMOTED', explanation: `Promoted by hand, replacing run ${current?.runId ?? 'none'}.`, parameterName, promotedAt: entry.promotedAt, ...(serving ? { serving } : {}) };
  // The record's owner is its execution; a manual promotion writes on its behalf, with the same optimistic concurrency.
  await updateRunRecord(s3Client(), bucket, key, record.executionArn, (r) => ({ ...withEvent(r, 'promoted by hand', { parameterName, previousRunId: current?.runId }), promotion }));
  runLog.info('run promoted by hand', { parameterName, customModelArn: entry.customModelArn, previousRunId: current?.runId, serving });
  await announcePromotion(runLog, parameterName, entry);
  return { promoted: true, parameterName, entry };
}

function swapStateOf(serving: ServingState | undefined): PromotionResult['swap'] {
  if (!serving) return 'NONE';
  return serving.status === 'Updating' ? 'UPDATING' : serving.status === 'InService' ? 'DONE' : 'FAILED';
}

/**
 * Points the serving Provisioned Throughput at `modelArn`, unless there is none configured.
 * Never throws for Bedrock's refusal: a failed swap leaves the previous model serving and is
 * recorded. Only a no-commitment Provisioned Throughput is touched.
 */
/**
 * Bedrock's failure messages are not length-bounded by the API; the registry entry that carries
 * this text is a Standard SSM parameter of at most 4,096 characters.
 */
function boundedError(text: string): string {
  return safeText(text, { maxChars: MAX_SERVING_ERROR_CHARS });
}

/** Room for Bedrock's message, while the whole registry entry stays far under 4,096 characters. */
const MAX_SERVING_ERROR_CHARS = 600;

async function startServingSwap(runLog: Logger, modelArn: string, now: Date): Promise<ServingState | undefined> {
  const provisionedModelArn = process.env.SERVING_PROVISIONED_MODEL_ARN;
  if (!provisionedModelArn) return undefined;
  const requestedAt = now.toISOString();
  const failed = (reason: string, servingModelArn?: string, status: ServingState['status'] = 'SwapFailed'): ServingState => {
    const error = boundedError(reason);
    runLog.warn('serving swap not done; the previous model keeps serving', { provisionedModelArn, error });
    return { provisionedModelArn, status, servingModelArn, requestedAt, completedAt: requestedAt, error };
  };
  let pt: GetProvisionedModelThroughputCommandOutput;
  try {
    pt = await bedrockClient().send(new GetProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
  } catch (err) {
    return failed(`${(err as Error).name}: ${(err as Error).message}`);
  }
  if (pt.commitmentDuration) {
    return failed(`It has a ${pt.commitmentDuration} commitment term; the library swaps only no-commitment Provisioned Throughputs.`, pt.modelArn, 'SwapRefused');
  }
  const progress = swapProgress(pt, modelArn);
  // Already moving to (or serving) this model: a retried step.
  if (progress === 'done') return { provisionedModelArn, status: 'InService', servingModelArn: modelArn, requestedAt, completedAt: requestedAt };
  if (progress === 'updating') return { provisionedModelArn, status: 'Updating', servingModelArn: pt.modelArn, requestedAt };
  if (pt.status !== 'InService') return failed(`It is ${pt.status}; only an InService Provisioned Throughput can be updated.`, pt.modelArn);
  try {
    await bedrockClient().send(new UpdateProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn, desiredModelId: modelArn }));
  } catch (err) {
    return failed(`Bedrock refused the update (${(err as Error).name}: ${(err as Error).message})`, pt.modelArn);
  }
  runLog.info('serving swap started', { provisionedModelArn, from: pt.modelArn, to: modelArn });
  return { provisionedModelArn, status: 'Updating', servingModelArn: pt.modelArn, requestedAt };
}

async function readEntry(parameterName: string): Promise<RegistryEntry | undefined> {
  try {
    const out = await ssmClient().send(new GetParameterCommand({ Name: parameterName }));
    return parseRegistryEntry(out.Parameter?.Value);
  } catch (err) {
    if (err instanceof ParameterNotFound || (err as Error).name === 'ParameterNotFound') return undefined;
    throw err;
  }
}

async function writeEntry(parameterName: string, entry: RegistryEntry): Promise<void> {
  await ssmClient().send(
    new PutParameterCommand({
      Name: parameterName,
      Value: JSON.stringify(entry),
      Type: 'String',
      Overwrite: true,
      Description: `Current fine-tuned model of ${entry.requestName} (${entry.environment}); written by llama-finetune`,
    }),
  );
}

/** The promotion event; a refusal is logged and counted, never fatal (the registry is the truth). */
async function announcePromotion(runLog: Logger, parameterName: string, entry: RegistryEntry): Promise<void> {
  const detail = { ...entry, parameterName };
  try {
    const out = await eventBridgeClient().send(new PutEventsCommand({ Entries: [{ Source: EVENT_SOURCE, DetailType: PROMOTED_DETAIL_TYPE, Detail: JSON.stringify(detail), EventBusName: requireEnv('EVENT_BUS_NAME') }] }));
    if (!out.FailedEntryCount) return;
    runLog.error('promotion not announced; the registry entry stands', { channel: 'eventbridge', error: out.Entries?.find((e) => e.ErrorCode)?.ErrorCode });
  } catch (err) {
    runLog.error('promotion not announced; the registry entry stands', { channel: 'eventbridge', error: (err as Error).name, errorMessage: (err as Error).message });
  }
  emitMetrics(runLog, [{ name: FinetuneMetric.NOTIFICATION_FAILURES, value: 1, unit: 'Count' }], requireEnv('ENVIRONMENT_NAME'));
}

