import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { normalizePrefix } from '../core/props-validation';

/** Props of {@link RunRequestTrigger}. */
export interface RunRequestTriggerProps {
  /** The bucket users upload run requests to. It must send events to EventBridge. */
  readonly bucket: s3.IBucket;
  /** The state machine that one run request starts. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Key prefix of run requests; only `<prefix>*.json` uploads start a run.
   * @default 'requests/'
   */
  readonly requestPrefix?: string;
  /**
   * How often EventBridge retries starting an execution before the event goes to the
   * dead-letter queue.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How long EventBridge keeps retrying an event.
   * @default Duration.hours(24)
   */
  readonly maxEventAge?: Duration;
  /**
   * Dead-letter queue for events that could not start an execution.
   * @default - an SSE-SQS encrypted, SSL-only queue that keeps messages 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;
}

/**
 * Starts one execution of the workflow for every run request uploaded to the bucket:
 * an EventBridge rule on S3 "Object Created" events under the request prefix. The execution
 * input is the event's `detail` (bucket, object key, version id, ETag). Events that cannot
 * start an execution are retried, then kept in a dead-letter queue.
 */
export class RunRequestTrigger extends Construct {
  /** The EventBridge rule. */
  public readonly rule: events.Rule;
  /** Where events that could not start an execution are kept. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The normalized request prefix, ending in '/'. */
  public readonly requestPrefix: string;

  constructor(scope: Construct, id: string, props: RunRequestTriggerProps) {
    super(scope, id);
    this.requestPrefix = normalizePrefix('RunRequestTrigger', 'requestPrefix', props.requestPrefix ?? 'requests/', this);

    if (props.deadLetterQueue) {
      this.deadLetterQueue = props.deadLetterQueue;
    } else {
      const dlq = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(dlq).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the run-request rule; a dead-letter queue of a dead-letter queue adds nothing.',
      });
      this.deadLetterQueue = dlq;
    }

    this.rule = new events.Rule(this, 'Rule', {
      description: `Starts a fine-tuning run when a request is uploaded under ${this.requestPrefix}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.bucket.bucketName] },
          object: { key: events.Match.wildcard(`${this.requestPrefix}*.json`) },
        },
      },
    });
    this.rule.addTarget(
      new targets.SfnStateMachine(props.stateMachine, {
        input: events.RuleTargetInput.fromEventPath('$.detail'),
        retryAttempts: props.retryAttempts ?? 8,
        maxEventAge: props.maxEventAge ?? Duration.hours(24),
        deadLetterQueue: this.deadLetterQueue,
      }),
    );
  }
}
