/**
 * The EventBridge events AWS services send that the workflow reacts to, shaped as the
 * services send them: S3 "Object Created" and Step Functions "Execution Status Change".
 * Pure: ids and times are passed in or derived from arguments.
 */
import { randomUUID } from 'node:crypto';

/** An event on an EventBridge bus. */
export interface AwsEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: Record<string, unknown>;
}

/** Where an event comes from. */
export interface EventOrigin {
  readonly accountId: string;
  readonly region: string;
  /** Event time; default now. */
  readonly time?: Date;
  /** Event id; default a random UUID. */
  readonly id?: string;
}

/** An object as S3 describes it in the event. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** ETag without quotes. */
  readonly etag: string;
  readonly versionId?: string;
  /**
   * The write's sequencer (hex): S3 gives each write of a key its own, and repeats it in every
   * delivery of that write's event. Required, so two writes can never share one by accident.
   */
  readonly sequencer: string;
  /** API that created it; default PutObject. */
  readonly reason?: 'PutObject' | 'POST Object' | 'CopyObject' | 'CompleteMultipartUpload';
}

/** The S3 "Object Created" event EventBridge receives from a bucket with EventBridge notifications on. */
export function s3ObjectCreatedEvent(object: CreatedObject, origin: EventOrigin): AwsEvent {
  const time = origin.time ?? new Date();
  const detailObject: Record<string, unknown> = { key: object.key, size: object.size, etag: object.etag.replace(/"/g, '') };
  if (object.versionId) detailObject['version-id'] = object.versionId;
  detailObject.sequencer = object.sequencer;
  return {
    version: '0',
    id: origin.id ?? randomUUID(),
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: origin.accountId,
    time: isoSeconds(time),
    region: origin.region,
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      version: '0',
      bucket: { name: object.bucket },
      object: detailObject,
      'request-id': (origin.id ?? randomUUID()).replace(/-/g, '').slice(0, 16).toUpperCase(),
      requester: origin.accountId,
      'source-ip-address': '127.0.0.1',
      reason: object.reason ?? 'PutObject',
    },
  };
}

/** Status of an execution, as Step Functions reports it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What the status change event says about an execution. */
export interface ExecutionStatusDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * The "Step Functions Execution Status Change" event: input and output as JSON strings,
 * dates as epoch milliseconds, absent values as null.
 */
export function executionStatusChangeEvent(detail: ExecutionStatusDetail, origin: EventOrigin): AwsEvent {
  const time = origin.time ?? detail.stopDate ?? detail.startDate;
  return {
    version: '0',
    id: origin.id ?? randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: origin.accountId,
    time: isoSeconds(time),
    region: origin.region,
    resources: [detail.executionArn],
    detail: {
      executionArn: detail.executionArn,
      stateMachineArn: detail.stateMachineArn,
      name: detail.name,
      status: detail.status,
      startDate: detail.startDate.getTime(),
      stopDate: detail.stopDate ? detail.stopDate.getTime() : null,
      input: JSON.stringify(detail.input ?? null),
      output: detail.output === undefined ? null : JSON.stringify(detail.output),
      inputDetails: { included: true },
      outputDetails: detail.output === undefined ? null : { included: true },
      error: detail.error ?? null,
      cause: detail.cause ?? null,
      redriveCount: 0,
      redriveStatus: detail.status === 'RUNNING' || detail.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE',
    },
  };
}

/** EventBridge event times have whole seconds. */
function isoSeconds(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
