/**
 * Waiting for a customization job to end on a Step Functions task token. The workflow's
 * WaitForJobEnd step stores the token under a key derived from the job's ARN (which Bedrock
 * assigned to the job this deployment launched), and the job-event function finds it there
 * from the ARN in Bedrock's "Model Customization Job State Change" event: never from anything a
 * user controls. The token wakes the run; what the job's outcome is, the CheckJob step that
 * follows reads from Bedrock itself, so a duplicate, late or out-of-order event cannot change
 * a run's course. Pure.
 */
import { JOB_STATE_CHANGE_DETAIL_TYPE, JOB_STATE_CHANGE_SOURCE, JOB_WAITS_PREFIX } from './job-wait-location';
import { jobIdOf } from './job-names';
import { JobWatchErrors } from './job-watch';

export { JOB_WAITS_PREFIX };



/** Statuses in which a customization job has ended. */
export const ENDED_JOB_STATUSES: readonly string[] = ['Completed', 'Failed', 'Stopped'];

/** Bedrock's event source and detail-type of job state changes. */
export const JOB_STATE_CHANGE = { source: JOB_STATE_CHANGE_SOURCE, detailType: JOB_STATE_CHANGE_DETAIL_TYPE } as const;

/** A customization job ARN: arn:<partition>:bedrock:<region>:<account>:model-customization-job/<...>/<job id>. */
const JOB_ARN = /^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:model-customization-job\/(?:[A-Za-z0-9][A-Za-z0-9.:_-]*\/)*[a-z0-9]{1,63}$/;

/** Whether `value` is a customization job ARN. */
export function isJobArn(value: unknown): value is string {
  return typeof value === 'string' && JOB_ARN.test(value);
}

/** Where the token of the run waiting for `jobArn` is kept. */
export function jobWaitKey(jobArn: string): string {
  if (!isJobArn(jobArn)) throw new Error(`'${jobArn}' is not a Bedrock model customization job ARN`);
  return `${JOB_WAITS_PREFIX}${jobIdOf(jobArn)}.json`;
}

/** What is stored for a waiting run. */
export interface JobWaitRecord {
  readonly jobArn: string;
  readonly taskToken: string;
  readonly executionArn: string;
  readonly runId: string;
  /** When the wait was registered (ISO 8601). */
  readonly registeredAt: string;
  /** The current streak of safety polls Bedrock answered with throttling or a server error. */
  readonly watchErrors?: JobWatchErrors;
}

/** Reads a stored record; undefined when it is not one (never trusted further than its fields' shapes). */
export function parseJobWaitRecord(text: string): JobWaitRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as Partial<JobWaitRecord> | null;
  if (!r || typeof r !== 'object' || !isJobArn(r.jobArn) || typeof r.taskToken !== 'string' || r.taskToken === '') return undefined;
  const w = r.watchErrors;
  const watchErrors = w && typeof w.since === 'string' && typeof w.count === 'number' ? { since: w.since, count: w.count, lastError: String(w.lastError ?? '') } : undefined;
  return { jobArn: r.jobArn, taskToken: r.taskToken, executionArn: String(r.executionArn ?? ''), runId: String(r.runId ?? ''), registeredAt: String(r.registeredAt ?? ''), ...(watchErrors ? { watchErrors } : {}) };
}

/** What resumes a waiting run (the output of SendTaskSuccess; the state machine discards it, the history keeps it). */
export interface JobWaitWakeUp {
  readonly wokenBy: 'event' | 'registration';
  readonly jobArn: string;
  readonly jobStatus: string;
  /** The event's time, or when the registration found the job ended. */
  readonly at: string;
}

/** The ended job an EventBridge event announces, or why the event is not one. */
export type JobEnd = { readonly jobArn: string; readonly jobStatus: string; readonly time: string } | { readonly ignored: string };

/** Reads Bedrock's job state change event; anything else, or a job that has not ended, is ignored with the reason. */
export function jobEndOf(event: unknown): JobEnd {
  const e = event as { source?: unknown; 'detail-type'?: unknown; time?: unknown; detail?: { jobArn?: unknown; jobStatus?: unknown } } | null;
  if (!e || typeof e !== 'object') return { ignored: 'not an event object' };
  if (e.source !== JOB_STATE_CHANGE.source || e['detail-type'] !== JOB_STATE_CHANGE.detailType) return { ignored: `not a ${JOB_STATE_CHANGE.detailType} event (source ${String(e.source)}, detail-type ${String(e['detail-type'])})` };
  const jobArn = e.detail?.jobArn;
  if (!isJobArn(jobArn)) return { ignored: `detail.jobArn ${JSON.stringify(jobArn)} is not a customization job ARN` };
  const jobStatus = String(e.detail?.jobStatus ?? '');
  if (!ENDED_JOB_STATUSES.includes(jobStatus)) return { ignored: `job ${jobArn} is ${jobStatus || 'of no status'}, not ended` };
  return { jobArn, jobStatus, time: typeof e.time === 'string' ? e.time : new Date().toISOString() };
}

/**
 * Step Functions' answers to SendTaskSuccess for a token whose task is over (it timed out, was
 * resumed already, or its execution ended) or that it does not know: expected for duplicate and
 * late events, and harmless.
 */
const STALE_TOKEN_ERRORS = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);

/** Whether SendTaskSuccess failed only because the wait is already over. */
export function isStaleTokenError(err: unknown): boolean {
  const name = (err as { name?: string } | null)?.name;
  return typeof name === 'string' && STALE_TOKEN_ERRORS.has(name);
}
