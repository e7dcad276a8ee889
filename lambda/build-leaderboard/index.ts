/**
 * Writes the leaderboard of an experiment (contract 4 of issue 13): reads each variant's run
 * record, ranks the variants (lambda/shared/leaderboard) and writes leaderboard.json, .md and
 * .html under the experiment's prefix. Invoked by the experiment state machine once every
 * variant has ended; running it again writes the same files from the records as they are then.
 *
 * Input: { bucket, experimentRunId, requestName, outputPrefix, variants: [{ name, runId, runRecordKey }] }.
 * Output: { leaderboardJsonKey, leaderboardMarkdownKey, leaderboardHtmlKey, best?: { name, runId, index }, summary }.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { s3Client } from '../shared/aws-clients';
import { Leaderboard, LeaderboardVariantInput, buildLeaderboard, renderLeaderboardHtml, renderLeaderboardMarkdown, renderLeaderboardSummary } from '../shared/leaderboard';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { readRunRecord } from '../shared/run-record';

export interface BuildLeaderboardEvent {
  /** The artifacts bucket. */
  readonly bucket: string;
  readonly experimentRunId: string;
  readonly requestName: string;
  /** Where the files go, e.g. `runs/<experiment run id>/` (ends with "/"). */
  readonly outputPrefix: string;
  /** The variants in request order, each with its run record's key in `bucket`. */
  readonly variants: ReadonlyArray<{ readonly name: string; readonly runId: string; readonly runRecordKey: string }>;
}

export interface BuildLeaderboardResult {
  readonly leaderboardJsonKey: string;
  readonly leaderboardMarkdownKey: string;
  readonly leaderboardHtmlKey: string;
  /** The best variant, with its position in `variants` (the state machine picks its run from it); absent when none was evaluated or none passed its quality gate. */
  readonly best?: { readonly name: string; readonly runId: string; readonly index: number };
  /** At most 1,000 characters, for the notification and the outcome event. */
  readonly summary: string;
}

const log = createLogger({ step: 'build-leaderboard' });

/** The entry point: buildLeaderboardFiles, with its errors logged with the experiment's run id. */
export const handler = logFailures(log, (e: BuildLeaderboardEvent) => ({ runId: e?.experimentRunId }), async (event: BuildLeaderboardEvent): Promise<BuildLeaderboardResult> => {
  // Only the keys, the best and the summary go back into the state machine's payload (256 KiB); the leaderboard itself is in S3.
  const { leaderboard: _written, ...result } = await buildLeaderboardFiles(s3Client(), event);
  return result;
});

/** Checks the event; throws naming the field and what it must be. */
export function checkBuildLeaderboardEvent(event: BuildLeaderboardEvent): void {
  const problem = (field: string, rule: string) => {
    throw new Error(`build-leaderboard input: ${field} ${rule}.`);
  };
  for (const field of ['bucket', 'experimentRunId', 'requestName', 'outputPrefix'] as const) {
    if (typeof event?.[field] !== 'string' || event[field] === '') problem(field, 'must be a non-empty string');
  }
  if (!event.outputPrefix.endsWith('/')) problem('outputPrefix', `must end with "/" (a folder such as "runs/${event.experimentRunId}/"), got ${JSON.stringify(event.outputPrefix)}`);
  if (!Array.isArray(event.variants) || event.variants.length === 0) problem('variants', 'must be a non-empty array of { name, runId, runRecordKey }');
  event.variants.forEach((v, i) => {
    for (const field of ['name', 'runId', 'runRecordKey'] as const) {
      if (typeof v?.[field] !== 'string' || v[field] === '') problem(`variants[${i}].${field}`, 'must be a non-empty string');
    }
  });
}

async function readVariant(s3: S3Client, bucket: string, variant: BuildLeaderboardEvent['variants'][number]): Promise<LeaderboardVariantInput> {
  const uri = `s3://${bucket}/${variant.runRecordKey}`;
  try {
    const found = await readRunRecord(s3, bucket, variant.runRecordKey);
    return found ? { name: variant.name, runId: variant.runId, record: found.record } : { name: variant.name, runId: variant.runId, missing: `no run record at ${uri}: the variant's run never began` };
  } catch (err) {
    // A record that is not JSON is shown as the variant's error; anything else (denied, throttled) fails the step for its retry.
    if (err instanceof SyntaxError) return { name: variant.name, runId: variant.runId, missing: `the run record at ${uri} is not valid JSON (${err.message})` };
    throw err;
  }
}

/** Reads the records, builds the leaderboard and writes its three files. */
export async function buildLeaderboardFiles(s3: S3Client, event: BuildLeaderboardEvent, now = new Date()): Promise<BuildLeaderboardResult & { leaderboard: Leaderboard }> {
  checkBuildLeaderboardEvent(event);
  const variants = await Promise.all(event.variants.map((v) => readVariant(s3, event.bucket, v)));
  const leaderboard = buildLeaderboard({ experimentRunId: event.experimentRunId, requestName: event.requestName, variants, generatedAt: now.toISOString() });
  const keys = {
    leaderboardJsonKey: `${event.outputPrefix}leaderboard.json`,
    leaderboardMarkdownKey: `${event.outputPrefix}leaderboard.md`,
    leaderboardHtmlKey: `${event.outputPrefix}leaderboard.html`,
  };
  const put = (Key: string, Body: string, ContentType: string) => s3.send(new PutObjectCommand({ Bucket: event.bucket, Key, Body, ContentType }));
  await Promise.all([
    put(keys.leaderboardJsonKey, JSON.stringify(leaderboard, null, 2), 'application/json'),
    put(keys.leaderboardMarkdownKey, renderLeaderboardMarkdown(leaderboard), 'text/markdown; charset=utf-8'),
    put(keys.leaderboardHtmlKey, renderLeaderboardHtml(leaderboard), 'text/html; charset=utf-8'),
  ]);
  const summary = renderLeaderboardSummary(leaderboard);
  log.info('leaderboard written', { runId: event.experimentRunId, best: leaderboard.best?.name ?? null, ranked: leaderboard.totals.ranked, failed: leaderboard.totals.failed });
  const bestIndex = leaderboard.best ? event.variants.findIndex((v) => v.runId === leaderboard.best!.runId) : -1;
  return { ...keys, ...(leaderboard.best && bestIndex >= 0 ? { best: { ...leaderboard.best, index: bestIndex } } : {}), summary, leaderboard };
}
