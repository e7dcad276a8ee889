/**
 * Deleting the Provisioned Throughput a run created, in one place for every function that does
 * it (the workflow's release step, the provisioning step when the run has already ended, and the
 * cleanup after a failed, timed-out or aborted execution): the call that tolerates one already
 * gone, the search by the run's derived name, and how the run record notes the deletion and the
 * hours it billed (a refusal that left one billing: undeleted-throughput.ts).
 */
import { BedrockClient, DeleteProvisionedModelThroughputCommand, ListProvisionedModelThroughputsCommand, ResourceNotFoundException } from '@aws-sdk/client-bedrock';
import { RunRecord } from '../run-record';
import { provisionedModelNameFor } from './provisioned-names';

/** What a deletion found: `deleted`, or `absent` when Bedrock no longer had it. */
export type ProvisionedThroughputDeletion = 'deleted' | 'absent';

/**
 * How deletions retry a refusal: Bedrock answers ConflictException while the Provisioned
 * Throughput is busy (e.g. still being created or updated). Attempts in all, and the full-jitter
 * exponential backoff before each retry (at most about 7.5 s of waiting in all, well inside a
 * function's minute). What is still refused after that is left to the scheduled watch, which
 * deletes the Provisioned Throughputs of ended runs.
 */
export const DELETE_RETRY = { attempts: 5, baseDelayMs: 500, maxDelayMs: 4_000 } as const;

/** How one call of {@link deleteProvisionedThroughput} retries a refusal. */
export interface DeleteRetryOptions {
  /**
   * Attempts in all. 1 where Step Functions retries the step itself: its Retry waits without a
   * function running, so the function need not sleep between attempts.
   * @default DELETE_RETRY.attempts
   */
  readonly attempts?: number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Deletes one Provisioned Throughput; one that no longer exists counts as done. A
 * ConflictException is retried ({@link DELETE_RETRY}); the SDK retries throttling and 5xx itself.
 */
export async function deleteProvisionedThroughput(bedrock: BedrockClient, arn: string, options: DeleteRetryOptions = {}): Promise<ProvisionedThroughputDeletion> {
  const { attempts = DELETE_RETRY.attempts, sleep = defaultSleep } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      await bedrock.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: arn }));
      return 'deleted';
    } catch (err) {
      // Already deleted (a retried step, or the cleanup got there first): nothing bills.
      if (err instanceof ResourceNotFoundException || (err as Error).name === 'ResourceNotFoundException') return 'absent';
      if ((err as Error).name !== 'ConflictException' || attempt >= attempts) throw err;
      await sleep(Math.random() * Math.min(DELETE_RETRY.maxDelayMs, DELETE_RETRY.baseDelayMs * 2 ** (attempt - 1)));
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * ARNs of the Provisioned Throughputs that carry the run's derived name, found even when the
 * function that created one stopped before writing the record. Those the deployment names (not
 * created by runs) are never listed, since their names differ.
 */
export async function runProvisionedThroughputArns(bedrock: BedrockClient, runId: string): Promise<string[]> {
  const name = provisionedModelNameFor({ runId });
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await bedrock.send(new ListProvisionedModelThroughputsCommand({ nameContains: name, nextToken }));
    for (const pt of page.provisionedModelSummaries ?? []) {
      if (pt.provisionedModelName === name && pt.provisionedModelArn) arns.push(pt.provisionedModelArn);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return arns;
}

/** Hours between creation and deletion (what a no-commitment Provisioned Throughput bills); undefined without a creation time. */
export function provisionedThroughputHours(createdAt: string | undefined, deletedAt: Date): number | undefined {
  if (!createdAt) return undefined;
  const created = Date.parse(createdAt);
  return Number.isNaN(created) ? undefined : Math.max(0, (deletedAt.getTime() - created) / 3_600_000);
}

/**
 * The record with its Provisioned Throughput marked deleted at `deletedAt` (with the hours it
 * billed), when the record names `arn` and has not marked it yet; otherwise unchanged. Pure.
 */
export function withProvisionedThroughputDeleted(record: RunRecord, arn: string, deletedAt: Date): RunRecord {
  const pt = record.provisionedThroughput;
  if (!pt || pt.arn !== arn || pt.deletedAt) return record;
  return { ...record, provisionedThroughput: { ...pt, deletedAt: deletedAt.toISOString(), hours: provisionedThroughputHours(pt.createdAt, deletedAt) } };
}

