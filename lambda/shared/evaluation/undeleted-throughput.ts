/**
 * A Provisioned Throughput the run could not delete (Bedrock still refused after every retry):
 * how the run record notes it, and the one text the record, the report, the notification and the
 * logs tell people. Pure (no SDK), so the outcome message can use it.
 */
import { ProvisionedThroughputDeletionRefusal, RunProvisionedThroughput, RunRecord } from '../run-record';

/**
 * The record with Bedrock's refusal to delete its Provisioned Throughput `arn` noted, when the
 * record names `arn` and has not marked it deleted; otherwise unchanged. Pure.
 */
export function withProvisionedThroughputDeletionRefused(record: RunRecord, arn: string, refusal: ProvisionedThroughputDeletionRefusal): RunRecord {
  const pt = record.provisionedThroughput;
  if (!pt || pt.arn !== arn || pt.deletedAt) return record;
  return { ...record, provisionedThroughput: { ...pt, deletionRefused: refusal } };
}

/** The AWS CLI command that deletes one Provisioned Throughput. */
export function deleteProvisionedThroughputCommand(arn: string): string {
  return `aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${arn}`;
}

/**
 * What a person must be told about a Provisioned Throughput the run could not delete: which,
 * why, that it bills by the hour, and what deletes it (the watch, within its interval, once
 * Bedrock accepts; or the CLI command). Undefined when there is nothing to tell (deleted, or
 * never refused). Pure; the run record, the report and the notification all say this.
 */
export function undeletedProvisionedThroughputNotice(pt: RunProvisionedThroughput | undefined): string | undefined {
  const refusal = pt?.deletionRefused;
  if (!pt || !refusal || pt.deletedAt) return undefined;
  const units = `${pt.modelUnits} model unit${pt.modelUnits === 1 ? '' : 's'}`;
  const watch =
    refusal.watchIntervalMinutes !== undefined
      ? `The Provisioned Throughput watch deletes it: it checks every ${refusal.watchIntervalMinutes} minute${refusal.watchIntervalMinutes === 1 ? '' : 's'} and deletes the Provisioned Throughputs of ended runs as soon as Bedrock accepts. To delete it now: `
      : 'No watch of this deployment deletes it: delete it yourself: ';
  return (
    `Provisioned Throughput ${pt.arn} (${pt.name}) could not be deleted: Bedrock still refused after every retry (${refusal.error}). ` +
    `It bills per hour for its ${units} until it is deleted. ${watch}${deleteProvisionedThroughputCommand(pt.arn)}`
  );
}
