/**
 * The custom model retention policy, pure: given this deployment's custom models, what their
 * runs' records say, and the models that must stay (the current model of each name, any model
 * a Provisioned Throughput serves), which models to delete and why.
 *
 * - A *rejected* model (its run's quality gate FAILED, or its run ended failed, timed out or
 *   aborted after training, so the evaluation never finished) is deleted once its run ended
 *   more than `deleteRejectedAfterDays` days ago.
 * - Of the models of a request name that were ever promoted, the `keepPromotedPerName` most
 *   recently promoted are kept; older promoted ones are deleted.
 * - Everything else is kept: the current and serving models always; models whose run is still
 *   running, has no readable record, passed without being promoted, or was never evaluated.
 */
import { RunRecord } from './run-record';

export interface RetentionPolicy {
  readonly deleteRejectedAfterDays: number;
  readonly keepPromotedPerName: number;
}

/** One custom model of this deployment and what is known of its run. */
export interface RetainedModel {
  readonly modelArn: string;
  readonly modelName: string;
  readonly runId?: string;
  readonly creationTime: Date;
  /** The run's record; undefined when it could not be found or read. */
  readonly record?: RunRecord;
}

export interface RetentionVerdict {
  readonly modelArn: string;
  readonly modelName: string;
  readonly runId?: string;
  readonly requestName?: string;
  readonly delete: boolean;
  readonly reason: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** Whether the record says the run's model was rejected: gate failed, or the run failed after training. */
export function isRejected(record: RunRecord): boolean {
  if (record.evaluation) return record.evaluation.gate.evaluated && !record.evaluation.gate.passed;
  return record.status === 'FAILED' || record.status === 'TIMED_OUT' || record.status === 'ABORTED';
}

/** The verdict on every model; `protectedArns` are never deleted. */
export function planRetention(models: readonly RetainedModel[], protectedArns: ReadonlySet<string>, policy: RetentionPolicy, now: Date): RetentionVerdict[] {
  const verdicts = new Map<string, RetentionVerdict>();
  const promotedByName = new Map<string, Array<{ model: RetainedModel; promotedAt: string }>>();
  for (const model of models) {
    const base = { modelArn: model.modelArn, modelName: model.modelName, runId: model.runId, requestName: model.record?.run.requestName };
    const keep = (reason: string) => verdicts.set(model.modelArn, { ...base, delete: false, reason });
    if (protectedArns.has(model.modelArn)) {
      keep('current or serving model');
      continue;
    }
    const record = model.record;
    if (!record) {
      keep('no readable run record');
      continue;
    }
    if (record.status === 'RUNNING') {
      keep('its run is still running');
      continue;
    }
    const promotedAt = record.promotion?.promotedAt;
    if (promotedAt) {
      const list = promotedByName.get(record.run.requestName) ?? [];
      list.push({ model, promotedAt });
      promotedByName.set(record.run.requestName, list);
      continue;
    }
    if (isRejected(record)) {
      const endedAt = Date.parse(record.outcome?.finishedAt ?? '') || model.creationTime.getTime();
      const ageDays = (now.getTime() - endedAt) / DAY_MS;
      const why = record.evaluation ? 'quality gate failed' : `run ${record.status.toLowerCase()} before its evaluation finished`;
      if (ageDays > policy.deleteRejectedAfterDays) verdicts.set(model.modelArn, { ...base, delete: true, reason: `${why}, ${Math.floor(ageDays)} days ago (kept ${policy.deleteRejectedAfterDays})` });
      else keep(`${why}; within the ${policy.deleteRejectedAfterDays} days kept`);
      continue;
    }
    keep('not rejected and never promoted');
  }
  for (const [name, list] of promotedByName) {
    list.sort((a, b) => b.promotedAt.localeCompare(a.promotedAt));
    list.forEach(({ model }, index) => {
      const base = { modelArn: model.modelArn, modelName: model.modelName, runId: model.runId, requestName: name };
      verdicts.set(
        model.modelArn,
        index < policy.keepPromotedPerName
          ? { ...base, delete: false, reason: `one of the ${policy.keepPromotedPerName} most recently promoted models of ${name}` }
          : { ...base, delete: true, reason: `promoted earlier than the ${policy.keepPromotedPerName} most recent models of ${name}` },
      );
    });
  }
  return models.map((m) => verdicts.get(m.modelArn)!);
}
