/**
 * Watches the Provisioned Throughputs that evaluation runs create (named `eval-<run id>`). Each
 * bills by the hour while it exists, and a run deletes its own on every path; one that outlives
 * its run (a deletion Bedrock kept refusing, a cleanup that never ran) costs money until someone
 * deletes it. Run by a schedule (every 15 minutes), this first deletes those whose run has ended
 * (its run record says so, and is marked deleted there), then publishes the age of the oldest one left as a custom metric (0
 * when none exists), which an alarm compares with the allowed age, and logs each one past that
 * age with what to do.
 *
 * Environment: ENVIRONMENT_NAME (metric dimension), MAX_AGE_MINUTES (age past which a
 * Provisioned Throughput is reported; the alarm has the same threshold), RUN_REQUESTS_BUCKET and
 * RUN_REQUESTS_PREFIX (optional: only Provisioned Throughputs whose request tag lies under that
 * bucket and prefix count, so two deployments in one account each watch their own),
 * RUN_RECORDS_BUCKET and RUNS_PREFIX (optional, and used only with the request location: where
 * the run records are, to delete the Provisioned Throughputs of ended runs).
 * Output: { count, oldestAgeSeconds, overAge: [names], deleted: [names] }.
 */
import { BedrockClient, ListProvisionedModelThroughputsCommand, ListTagsForResourceCommand, ProvisionedModelSummary, ResourceNotFoundException } from '@aws-sdk/client-bedrock';
import { FinetuneMetric } from '../shared/metric-names';
import { S3Client } from '@aws-sdk/client-s3';
import { bedrockClient, s3Client } from '../shared/aws-clients';
import { intEnv } from '../shared/env';
import { requestLocation, taggedFromRequestsUnder } from '../shared/job-names';
import { RUN_PROVISIONED_MODEL_NAME_PREFIX, isRunProvisionedModelName, runIdOfProvisionedModelName } from '../shared/evaluation/provisioned-names';
import { deleteProvisionedThroughput, withProvisionedThroughputDeleted } from '../shared/evaluation/provisioned-throughput-deletion';
import { RunRecord, readRunRecord, updateRunRecord, withEvent } from '../shared/run-record';
import { runThroughputAges } from '../shared/evaluation/run-throughput-ages';
import { logFailures } from '../shared/log-failures';
import { createLogger, Logger } from '../shared/logger';
import { emitMetrics } from '../shared/metrics-emf';

/** What one check found. */
export interface WatchResult {
  /** Provisioned Throughputs created by runs that exist now. */
  readonly count: number;
  readonly oldestAgeSeconds: number;
  /** Names of those older than MAX_AGE_MINUTES. */
  readonly overAge: readonly string[];
  /** Names of those this check deleted because their run had ended. */
  readonly deleted: readonly string[];
}

/** What the handler needs from outside; tests pass their own clock. */
export interface WatchDependencies {
  readonly bedrock: () => BedrockClient;
  readonly s3: () => S3Client;
  readonly log: Logger;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** Default age limit, as the construct's default (6 hours). */
const DEFAULT_MAX_AGE_MINUTES = 360;

/** Builds the handler around its dependencies. */
export function createProvisionedThroughputWatchHandler(deps: Partial<WatchDependencies> = {}): (event?: unknown) => Promise<WatchResult> {
  const log = deps.log ?? createLogger({ step: 'provisioned-throughput-watch' });
  const watch = async (): Promise<WatchResult> => {
    const maxAgeMinutes = intEnv('MAX_AGE_MINUTES', DEFAULT_MAX_AGE_MINUTES);
    const bedrock = (deps.bedrock ?? bedrockClient)();
    const requestsBucket = process.env.RUN_REQUESTS_BUCKET;
    const requestsLocation = requestsBucket ? requestLocation(requestsBucket, process.env.RUN_REQUESTS_PREFIX ?? '') : undefined;
    // Names first (a team's own `team-eval-x` is no run's), then tags: one call per survivor.
    const listed = (await listRunThroughputs(bedrock)).filter((summary) => summary.provisionedModelName !== undefined && isRunProvisionedModelName(summary.provisionedModelName));
    const ours = requestsLocation ? await ofThisDeployment(bedrock, listed, requestsLocation) : listed;
    // Only this deployment's (the request tag says so) are ever deleted, and only once their run ended.
    const recordsBucket = process.env.RUN_RECORDS_BUCKET;
    const deleted =
      requestsLocation && recordsBucket ? await deleteThoseOfEndedRuns(bedrock, (deps.s3 ?? s3Client)(), ours, recordsBucket, process.env.RUNS_PREFIX ?? 'runs/', log) : [];
    const summaries = ours.filter((summary) => !deleted.includes(summary.provisionedModelName!));
    const ages = runThroughputAges(summaries, (deps.now ?? Date.now)(), maxAgeMinutes * 60);
    for (const pt of ages.overAge) {
      log.warn('a Provisioned Throughput created by a run outlived it and bills by the hour; delete it unless a run is still evaluating with it', {
        provisionedModelName: pt.name,
        provisionedModelArn: pt.arn,
        status: pt.status,
        ageHours: Math.round((pt.ageSeconds / 3600) * 100) / 100,
        maxAgeMinutes,
        fix: `aws bedrock delete-provisioned-model-throughput --provisioned-model-id ${pt.arn}`,
      });
    }
    emitMetrics(
      log,
      [
        { name: FinetuneMetric.OLDEST_RUN_PROVISIONED_THROUGHPUT_AGE, value: ages.oldestAgeSeconds, unit: 'Seconds' },
        { name: FinetuneMetric.RUN_PROVISIONED_THROUGHPUTS, value: ages.throughputs.length, unit: 'Count' },
      ],
      process.env.ENVIRONMENT_NAME,
    );
    return { count: ages.throughputs.length, oldestAgeSeconds: ages.oldestAgeSeconds, overAge: ages.overAge.map((pt) => pt.name), deleted };
  };
  // A scheduled check belongs to no run: its error line names the step only.
  return logFailures(log, () => ({}), watch);
}

/** Every Provisioned Throughput whose name contains the run prefix (the filter is narrowed later). */
async function listRunThroughputs(bedrock: BedrockClient): Promise<ProvisionedModelSummary[]> {
  const out: ProvisionedModelSummary[] = [];
  let nextToken: string | undefined;
  do {
    const page = await bedrock.send(new ListProvisionedModelThroughputsCommand({ nameContains: RUN_PROVISIONED_MODEL_NAME_PREFIX, maxResults: 100, nextToken }));
    out.push(...(page.provisionedModelSummaries ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

/**
 * Keeps the Provisioned Throughputs tagged with a request under `requestsLocation`: runs of
 * another deployment in the same account (another environment, another bucket) also name
 * theirs `eval-...`, and their own watch reports them. One that was deleted since it was
 * listed is left out. Any other error (throttling past the SDK's retries, access denied) fails
 * the check: no metric is published for it, so the age alarm sees missing data, and the
 * function's error alarm reports it.
 */
async function ofThisDeployment(bedrock: BedrockClient, summaries: readonly ProvisionedModelSummary[], requestsLocation: string): Promise<ProvisionedModelSummary[]> {
  const kept: ProvisionedModelSummary[] = [];
  // Sequential: a handful exist at a time, and ListTagsForResource has a low request rate.
  for (const summary of summaries) {
    if (!summary.provisionedModelArn) continue;
    try {
      const { tags } = await bedrock.send(new ListTagsForResourceCommand({ resourceARN: summary.provisionedModelArn }));
      if (taggedFromRequestsUnder(tags ?? [], requestsLocation)) kept.push(summary);
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
  return kept;
}

/**
 * Deletes the Provisioned Throughputs whose run has ended: the run's record (found from the
 * name, `eval-<run id>`) has a final status, so no step of it will use the throughput again and
 * its own deletion did not happen (Bedrock refused it past the retries, or the cleanup gave up).
 * A run still RUNNING, a record that cannot be found or read, and a deletion Bedrock still
 * refuses leave the throughput for the next check (the age alarm covers what stays). Returns
 * the names deleted (or found already gone).
 */
async function deleteThoseOfEndedRuns(bedrock: BedrockClient, s3: S3Client, summaries: readonly ProvisionedModelSummary[], bucket: string, runsPrefix: string, log: Logger): Promise<string[]> {
  const deleted: string[] = [];
  for (const summary of summaries) {
    const name = summary.provisionedModelName!;
    const runId = runIdOfProvisionedModelName(name);
    if (!runId || !summary.provisionedModelArn) continue;
    const recordKey = `${runsPrefix}${runId}/run.json`;
    let record: RunRecord | undefined;
    try {
      record = (await readRunRecord(s3, bucket, recordKey))?.record;
    } catch (error) {
      log.warn('could not read the run record of a Provisioned Throughput; left for the next check', { runId, provisionedModelName: name, recordUri: `s3://${bucket}/${recordKey}`, error });
      continue;
    }
    if (!record) {
      log.info('no run record for this Provisioned Throughput; left alone', { runId, provisionedModelName: name, recordUri: `s3://${bucket}/${recordKey}` });
      continue;
    }
    if (record.status === 'RUNNING') continue;
    try {
      await deleteProvisionedThroughput(bedrock, summary.provisionedModelArn);
    } catch (error) {
      log.warn('Bedrock refused to delete the Provisioned Throughput of an ended run; the next check tries again', { runId, provisionedModelName: name, provisionedModelArn: summary.provisionedModelArn, runStatus: record.status, error });
      continue;
    }
    deleted.push(name);
    log.warn('deleted the Provisioned Throughput of a run that had ended', { runId, provisionedModelName: name, provisionedModelArn: summary.provisionedModelArn, runStatus: record.status });
    await noteDeletion(s3, bucket, recordKey, record, summary.provisionedModelArn, log);
  }
  return deleted;
}

/**
 * Marks the Provisioned Throughput deleted in the run record that names it (one whose deletion
 * Bedrock refused says so until then, and the outcome message told people to act). The
 * deletion is done whatever happens here: a write that fails is logged, not thrown.
 */
async function noteDeletion(s3: S3Client, bucket: string, recordKey: string, record: RunRecord, arn: string, log: Logger): Promise<void> {
  if (record.provisionedThroughput?.arn !== arn || record.provisionedThroughput.deletedAt) return;
  try {
    await updateRunRecord(s3, bucket, recordKey, record.executionArn, (r) =>
      withEvent(withProvisionedThroughputDeleted(r, arn, new Date()), 'provisioned throughput deleted by the watch', { arn }),
    );
  } catch (error) {
    log.warn('deleted the Provisioned Throughput but could not mark it deleted in the run record', { runId: record.runId, provisionedModelArn: arn, recordUri: `s3://${bucket}/${recordKey}`, error });
  }
}

/** The Lambda entry point. */
export const handler = createProvisionedThroughputWatchHandler();
