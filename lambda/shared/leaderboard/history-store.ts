/**
 * Keeps the history of a request name in S3 (layout in run-history.ts): when a run ends, its
 * entry is written, then the name's leaderboard across the last N runs is rebuilt.
 *
 * Two runs of one name may end at once. Neither loses its entry: entries are one object per
 * run. The leaderboard files are rebuilt with optimistic concurrency: the ETag of
 * leaderboard.json is read BEFORE the entries are listed, and leaderboard.json is written only
 * if it is still that version (If-Match; If-None-Match when there is none yet). A writer that
 * loses (412) reads again and rebuilds, so the last writer to succeed has listed after every
 * earlier success, and therefore after every entry written before it: no ended run is missing
 * from the final leaderboard. S3's 409 ConditionalRequestConflict is retried as for run records.
 * leaderboard.md and .html are written just before the json, so a writer whose json loses
 * rewrites them too.
 *
 * Reads are bounded: one ListObjectsV2 page of at most N keys (the newest starts) and N small
 * GETs, however many runs the name has had.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FinetuneMetric, REQUEST_NAME_DIMENSION } from '../metric-names';
import { Logger } from '../logger';
import { emitMetrics } from '../metrics-emf';
import { isNotFound } from '../s3';
import { RunRecord, isPreconditionFailed, retryingConflicts } from '../run-record';
import {
  RunHistory,
  RunHistoryEntry,
  buildRunHistory,
  checkRunHistoryLength,
  renderRunHistoryHtml,
  renderRunHistoryMarkdown,
  runHistoryEntriesPrefix,
  runHistoryEntryKey,
  runHistoryEntryOf,
  runHistoryFileKeys,
  runsPrefixOf,
} from './run-history';

/**
 * How often the leaderboard is rebuilt when another run's write got in first (412): each round
 * at least one writer succeeds, so this covers the 8 variants of an experiment ending at once
 * with room to spare; rounds are spaced by full-jitter backoff (at most ~2 s) to thin the crowd.
 */
export const RUN_HISTORY_WRITE_ATTEMPTS = 10;

/** Where and how much history to keep. */
export interface RunHistoryOptions {
  /** The environment's name, shown in the leaderboard. */
  readonly environment: string;
  /** N: how many of the name's latest runs the leaderboard shows. */
  readonly limit: number;
  readonly now?: Date;
  /** Waits between rebuilds after a 412 (tests pass a quicker one). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What {@link recordRunHistory} wrote. */
export interface RunHistoryWritten {
  readonly entryKey: string;
  readonly files: { readonly json: string; readonly markdown: string; readonly html: string };
  readonly history: RunHistory;
  /** Times the leaderboard was built; more than 1 when another run's write got in first. */
  readonly attempts: number;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readEntry(s3: S3Client, bucket: string, key: string): Promise<RunHistoryEntry | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await out.Body!.transformToString('utf-8')) as RunHistoryEntry;
  } catch (err) {
    // Listed but gone (deleted by a lifecycle rule meanwhile), or not JSON: the history shows the other runs.
    if (isNotFound(err) || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

async function currentEtag(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Writes the run's history entry and rebuilds its name's leaderboard (see the module comment). */
export async function recordRunHistory(s3: S3Client, record: RunRecord, options: RunHistoryOptions): Promise<RunHistoryWritten> {
  const limit = checkRunHistoryLength(options.limit, 'The run history length');
  const bucket = record.run.artifacts.bucket;
  const runsPrefix = runsPrefixOf(record.run);
  const entry = runHistoryEntryOf(record, options.now);
  const entryKey = runHistoryEntryKey(runsPrefix, entry);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: entryKey, Body: JSON.stringify(entry, null, 2), ContentType: 'application/json' }));

  const files = runHistoryFileKeys(runsPrefix, entry.requestName);
  for (let attempt = 1; ; attempt++) {
    const etag = await currentEtag(s3, bucket, files.json);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: runHistoryEntriesPrefix(runsPrefix, entry.requestName), MaxKeys: limit }));
    const keys = (listed.Contents ?? []).map((c) => c.Key!).filter((k) => k.endsWith('.json'));
    const entries = (await Promise.all(keys.map((k) => readEntry(s3, bucket, k)))).filter((e): e is RunHistoryEntry => e !== undefined);
    const history = buildRunHistory({ requestName: entry.requestName, environment: options.environment, generatedAt: (options.now ?? new Date()).toISOString(), limit, entries: [...entries, entry] });
    const put = (Key: string, Body: string, ContentType: string, condition: { IfMatch?: string; IfNoneMatch?: string } = {}) =>
      retryingConflicts(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body, ContentType, ...condition })));
    await put(files.markdown, renderRunHistoryMarkdown(history), 'text/markdown; charset=utf-8');
    await put(files.html, renderRunHistoryHtml(history), 'text/html; charset=utf-8');
    try {
      await put(files.json, JSON.stringify(history, null, 2), 'application/json', etag ? { IfMatch: etag } : { IfNoneMatch: '*' });
      return { entryKey, files, history, attempts: attempt };
    } catch (err) {
      if (!isPreconditionFailed(err) || attempt >= RUN_HISTORY_WRITE_ATTEMPTS) throw err;
    }
    await (options.sleep ?? defaultSleep)(Math.random() * Math.min(2_000, 100 * 2 ** (attempt - 1)));
  }
}

/**
 * What record-outcome does for the history when a run ends: publishes the run's fine-tuned F1
 * by request name (EMF, for the dashboard), when the run was scored, and keeps the name's
 * history. Neither may change how the run ended: a failure is logged ('run history not
 * updated', with the error) and the run's outcome stands; the next run of the name rebuilds
 * the leaderboard from every entry.
 */
export async function keepRunHistory(s3: S3Client, log: Logger, record: RunRecord, options: RunHistoryOptions): Promise<RunHistoryWritten | undefined> {
  if (record.evaluation) {
    emitMetrics(log, [{ name: FinetuneMetric.FINE_TUNED_F1, value: record.evaluation.fineTunedF1, unit: 'None' }], options.environment, (options.now ?? new Date()).getTime(), {
      [REQUEST_NAME_DIMENSION]: record.run.requestName,
    });
  }
  try {
    const written = await recordRunHistory(s3, record, options);
    log.info('run history updated', { leaderboard: written.files.html, runs: written.history.runs.length, attempts: written.attempts });
    return written;
  } catch (err) {
    log.warn('run history not updated', { error: err });
    return undefined;
  }
}
