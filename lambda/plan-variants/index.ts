/**
 * Plans an experiment's variants once its data is validated (and its shared baseline computed):
 * each variant's run context and child-execution input, in request order, and the experiment's
 * record lists them (run ids, executions, record locations) before the first one starts, so a
 * reader (or the cleanup of an aborted experiment) finds every variant from the record.
 *
 * Input: { run: the experiment's context, validation: the experiment's ValidateDataset result,
 * baseline: { baselines } (empty without evaluation), stateMachineArn: $$.StateMachine.Id }.
 * Output: { variants: VariantStart[], leaderboardVariants, promotionExecutionName }.
 */
import { s3Client } from '../shared/aws-clients';
import type { BaselineReference } from '../shared/evaluation/baseline';
import { VariantStart, experimentVariantRuns, planVariantStarts, promotionExecutionName } from '../shared/experiment-runs';
import { intEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { RunContext } from '../shared/run-context';
import { readRunRecord, runRecordKey, updateOwnRunRecord, withEvent } from '../shared/run-record';

export interface PlanVariantsEvent {
  readonly run: RunContext;
  readonly validation: { readonly variantHyperParameters?: ReadonlyArray<{ readonly name: string; readonly values: Record<string, number> }> };
  readonly baseline?: { readonly baselines?: readonly BaselineReference[] };
  readonly stateMachineArn: string;
}

export interface PlanVariantsResult {
  readonly variants: VariantStart[];
  /** What the leaderboard reads: each variant's record. */
  readonly leaderboardVariants: ReadonlyArray<{ readonly name: string; readonly runId: string; readonly runRecordKey: string }>;
  readonly promotionExecutionName: string;
}

const log = createLogger({ step: 'plan-variants' });

/** The entry point: planVariants, with its errors logged with the experiment's run id. */
export const handler = logFailures(log, runIdOf, planVariants);

async function planVariants(event: PlanVariantsEvent): Promise<PlanVariantsResult> {
  const { run } = event;
  if (run?.experiment?.kind !== 'experiment') throw new Error('plan-variants: the run context is not an experiment\'s; chain it after ValidateDataset of an experiment');
  if (!event.validation?.variantHyperParameters) throw new Error('plan-variants: the validation result has no variantHyperParameters; pass the experiment\'s ValidateDataset result');
  const s3 = s3Client();
  const existing = await readRunRecord(s3, run.artifacts.bucket, runRecordKey(run));
  const variants = planVariantStarts(run, event.validation.variantHyperParameters, event.stateMachineArn, existing?.record, event.baseline?.baselines ?? []);
  const maxConcurrentJobs = intEnv('MAX_CONCURRENT_JOBS', 1);
  if (existing) {
    await updateOwnRunRecord(s3, run, (r) => ({
      ...withEvent(r, 'variants planned', { variants: variants.length, maxConcurrentJobs }),
      experiment: {
        ...r.experiment,
        variants: experimentVariantRuns(variants, event.stateMachineArn, run.artifacts.bucket),
        maxConcurrentJobs,
        ...(event.baseline?.baselines?.length ? { baselineUris: event.baseline.baselines.map((b) => `s3://${b.bucket}/${b.key}`) } : {}),
      },
    }));
  }
  log.info('variants planned', { runId: run.runId, variants: variants.map((v) => v.runId), maxConcurrentJobs });
  return {
    variants,
    leaderboardVariants: variants.map((v) => ({ name: v.name, runId: v.runId, runRecordKey: v.runRecordKey })),
    promotionExecutionName: promotionExecutionName(run.runId),
  };
}
