/**
 * Following a run from the terminal: reads its record (`<runs prefix><run id>/run.json`) until
 * the run ends, showing the current step, the job status and the elapsed time on one updating
 * line in a terminal, or a plain line per change otherwise. Reads only: stopping to follow
 * (Ctrl-C) never stops the run.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { RunRecord } from '../lambda/shared/run-record';
import { isRunOfUpload, RequestUpload } from '../lambda/shared/run-lookup';
import { listRunIds, readRun } from './deployment';
import { awsAccessProblem, EXIT } from './exit-codes';
import { formatDuration, outcomeLines, progressLine, progressState } from './run-display';

/** Where following writes, and its clock (tests and the commands pass their own). */
export interface FollowIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** An updating line on a terminal; plain lines otherwise. */
  readonly stderrIsTty: boolean;
  readonly now: () => number;
  /**
   * Calls `handler` when the user asks to stop following (Ctrl-C); returns the function that
   * removes it.
   */
  readonly onInterrupt: (handler: () => void) => () => void;
}

/** Which run to follow: by id, or the one an upload started (found as the workflow names it). */
export type FollowTarget =
  | { readonly runId: string }
  | {
      /** The run id, when the upload's version id gives it. */
      readonly runId?: string;
      readonly requestName: string;
      readonly upload: RequestUpload;
      /** Runs of that name that existed before the upload (unversioned bucket: the new run is none of these). */
      readonly runsBefore: ReadonlySet<string>;
    };

/** How following paces itself. */
export interface FollowOptions {
  readonly artifactsBucket: string;
  readonly runsPrefix: string;
  /** Between two reads of the record. */
  readonly intervalMs: number;
  /** How long to wait for the run record to appear before giving up (exit 3). */
  readonly startTimeoutMs: number;
}

/** Exit code when the user stopped following (128 + SIGINT, as shells report it). */
export const EXIT_STOPPED_FOLLOWING = 130;

/**
 * Follows the run to its end. Returns 0 when it succeeded, 1 when it failed, timed out or was
 * aborted, 3 when its record never appeared, 130 when the user stopped following.
 * AWS errors (access denied, unreachable) are thrown for the command to report.
 */
export async function followRun(s3: S3Client, target: FollowTarget, options: FollowOptions, io: FollowIo): Promise<number> {
  let interrupted = false;
  let wake: (() => void) | undefined;
  const removeHandler = io.onInterrupt(() => {
    interrupted = true;
    wake?.();
  });
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const line = new StatusLine(io);
  const started = io.now();
  let runId = target.runId;
  try {
    let record: RunRecord | undefined;
    let failures = 0;
    for (;;) {
      try {
        record = runId ? await readRun(s3, options.artifactsBucket, options.runsPrefix, runId) : await findUploadedRun(s3, target, options);
        failures = 0;
      } catch (err) {
        // A run lasts hours: a network blip (after the SDK's own retries) should not end the
        // following. Refused credentials or access end it at once, as does a long outage.
        if (!isPassing(err) || ++failures >= MAX_CONSECUTIVE_READ_FAILURES) throw err;
        line.show(`${runId ?? 'run'}: cannot read the run record (${awsAccessProblem(err) ?? (err as Error).message}); trying again`, `read failure ${failures}`);
        await pause(options.intervalMs);
        if (interrupted) break;
        continue;
      }
      if (interrupted) break;
      if (record) {
        runId = record.runId;
        if (record.status !== 'RUNNING') break;
        line.show(progressLine(record, io.now()), progressState(record));
      } else {
        const waited = io.now() - started;
        if (waited > options.startTimeoutMs) {
          line.end();
          io.stderr(
            `llama-finetune: no run record ${runId ? `for run ${runId} ` : ''}appeared in s3://${options.artifactsBucket}/${options.runsPrefix} within ${formatDuration(options.startTimeoutMs)}. ` +
              'The workflow may have refused the request before the run began (its outcome notification says why), or the request did not land under the ' +
              "deployment's request prefix (--request-prefix). Check later with: llama-finetune runs\n",
          );
          return EXIT.CANNOT_CHECK;
        }
        line.show(`${runId ?? 'run'}: waiting for the workflow to start the run | ${formatDuration(waited)}`, 'waiting for the workflow to start the run');
      }
      await pause(options.intervalMs);
      if (interrupted) break;
    }
    line.end();
    if (interrupted || !record) {
      io.stderr(
        `Stopped following${runId ? ` run ${runId}` : ''}; the run goes on (stopping to follow never stops it).` +
          (runId ? ` Follow it again with: llama-finetune follow ${runId}` : ' See it with: llama-finetune runs') +
          '\n',
      );
      return EXIT_STOPPED_FOLLOWING;
    }
    io.stdout(outcomeLines(record, `llama-finetune report ${record.runId}`).join('\n') + '\n');
    return record.status === 'SUCCEEDED' ? EXIT.OK : EXIT.DATA_ERRORS;
  } finally {
    line.end();
    removeHandler();
  }
}

/** Reads of the record that may fail in a row (each after the SDK's retries) before following gives up. */
export const MAX_CONSECUTIVE_READ_FAILURES = 5;

/** A failure that may pass: AWS unreachable or answering 5xx; not refused credentials or access. */
function isPassing(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  return ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'].includes(e?.code ?? '') || e?.name === 'TimeoutError';
}

/** The run the upload started, once its record exists. */
async function findUploadedRun(s3: S3Client, target: FollowTarget, options: FollowOptions): Promise<RunRecord | undefined> {
  if (!('upload' in target)) return undefined;
  const ids = await listRunIds(s3, options.artifactsBucket, options.runsPrefix, `${target.requestName}-`);
  for (const id of ids.filter((i) => !target.runsBefore.has(i))) {
    const record = await readRun(s3, options.artifactsBucket, options.runsPrefix, id);
    if (record && isRunOfUpload(record.run.request, target.upload)) return record;
  }
  return undefined;
}

/** One updating line on a terminal; a plain line per change of `state` otherwise. */
class StatusLine {
  private shown = false;
  private lastState?: string;
  constructor(private readonly io: FollowIo) {}

  show(text: string, state: string): void {
    if (this.io.stderrIsTty) {
      this.io.stderr(`\r${text}\x1b[K`);
      this.shown = true;
    } else if (state !== this.lastState) {
      this.io.stderr(`${text}\n`);
    }
    this.lastState = state;
  }

  end(): void {
    if (this.shown) this.io.stderr('\r\x1b[K');
    this.shown = false;
  }
}
