/**
 * Which Provisioned Throughputs created by runs still exist, and how old they are. A run deletes
 * its own on every path; one that lives on (a failed deletion, a crashed cleanup) bills by the
 * hour until someone deletes it, so the watch reports the age of the oldest. Pure.
 */
import { isRunProvisionedModelName } from './provisioned-names';

/** The fields of a ListProvisionedModelThroughputs summary this module reads. */
export interface ProvisionedThroughputSummary {
  readonly provisionedModelName?: string;
  readonly provisionedModelArn?: string;
  readonly status?: string;
  readonly creationTime?: Date;
}

/** One Provisioned Throughput created by a run. */
export interface RunThroughputAge {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  /** Seconds since creation (0 when Bedrock gave no creation time). */
  readonly ageSeconds: number;
}

/** What the watch publishes and reports. */
export interface RunThroughputAges {
  /** Provisioned Throughputs named by runs, oldest first. */
  readonly throughputs: readonly RunThroughputAge[];
  /** Age in seconds of the oldest one; 0 when none exists, so the metric always has a value. */
  readonly oldestAgeSeconds: number;
  /** Those older than the limit: the ones to delete. */
  readonly overAge: readonly RunThroughputAge[];
}

/**
 * Keeps the summaries whose names runs give (`eval-...`), computes their ages at `nowMs`, and
 * picks those older than `maxAgeSeconds`. Others (a team's own Provisioned Throughputs) are
 * never counted: nobody expects those to go away.
 */
export function runThroughputAges(summaries: readonly ProvisionedThroughputSummary[], nowMs: number, maxAgeSeconds: number): RunThroughputAges {
  const throughputs = summaries
    .filter((s) => s.provisionedModelName !== undefined && isRunProvisionedModelName(s.provisionedModelName))
    .map((s) => ({
      name: s.provisionedModelName!,
      arn: s.provisionedModelArn ?? '',
      status: s.status ?? 'unknown',
      ageSeconds: s.creationTime ? Math.max(0, (nowMs - s.creationTime.getTime()) / 1000) : 0,
    }))
    .sort((a, b) => b.ageSeconds - a.ageSeconds || a.name.localeCompare(b.name));
  return {
    throughputs,
    oldestAgeSeconds: throughputs[0]?.ageSeconds ?? 0,
    overAge: throughputs.filter((t) => t.ageSeconds > maxAgeSeconds),
  };
}
