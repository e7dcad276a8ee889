import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { grantS3KeyUse } from '../core/kms-grants';
import { acknowledgeWildcardResource } from '../core/nag';
import { InvalidPropsError, normalizePrefix } from '../core/props-validation';
import { WorkflowFunction } from '../workflow/workflow-function';
import { finetuneMetric } from './custom-metrics';
import { FinetuneMetric } from '../../lambda/shared/metric-names';

/** Props of {@link ProvisionedThroughputWatch}. */
export interface ProvisionedThroughputWatchProps {
  /** Name of the environment: the dimension of the metrics the watch publishes. */
  readonly environmentName: string;
  /**
   * Where this deployment's run requests are uploaded. When given, only Provisioned
   * Throughputs whose `llama-finetune:request` tag lies under this bucket and prefix count, so
   * deployments that share an account and region each watch their own.
   * @default - every Provisioned Throughput named `eval-...` in the account and region counts
   */
  readonly runRequests?: RunRequestsLocation;
  /**
   * Where the runs keep their records (`<prefix><run id>/run.json`). With `runRequests`, the
   * watch deletes the Provisioned Throughputs of this deployment whose run has ended (a deletion
   * Bedrock kept refusing, a cleanup that gave up), so none bills on without a person acting,
   * and marks them deleted in the run record.
   * @default - the watch only measures and reports; it deletes nothing
   */
  readonly runRecords?: RunRecordsLocation;
  /**
   * Age past which a Provisioned Throughput created by a run is reported in the function's log.
   * @default Duration.hours(6)
   */
  readonly maxAge?: Duration;
  /**
   * How often the watch runs.
   * @default Duration.minutes(15)
   */
  readonly interval?: Duration;
  /**
   * How long the function's logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Key that encrypts the function's log group.
   * @default - CloudWatch Logs service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** A bucket and key prefix under which run requests are uploaded. */
export interface RunRequestsLocation {
  /** The bucket. */
  readonly bucket: s3.IBucket;
  /** The key prefix (e.g. `requests/`). */
  readonly prefix: string;
}

/** The bucket and key prefix of the run records, and the bucket's key if it uses SSE-KMS. */
export interface RunRecordsLocation {
  /** The artifacts bucket. */
  readonly bucket: s3.IBucket;
  /** The runs prefix (e.g. `runs/`). */
  readonly prefix: string;
  /**
   * The bucket's customer managed key.
   * @default - the bucket uses SSE-S3
   */
  readonly encryptionKey?: kms.IKey;
}

const CONSTRUCT = 'ProvisionedThroughputWatch';

/**
 * A scheduled function (EventBridge Scheduler, every 15 minutes by default) that lists the
 * Provisioned Throughputs runs created (`eval-<run id>`) and publishes the age of the oldest
 * one, so an alarm can say when one outlived its run and keeps billing. With `runRequests` and
 * `runRecords` it also deletes those of this deployment whose run has ended (the run record
 * says so); one whose run is still running is never touched, since a long evaluation may still
 * be using it.
 */
export class ProvisionedThroughputWatch extends Construct {
  /** The function. */
  public readonly function: lambda.IFunction;
  /** The function's log group. */
  public readonly logGroup: logs.ILogGroup;
  /** The schedule that runs it. */
  public readonly schedule: scheduler.Schedule;
  /** How often it runs. */
  public readonly interval: Duration;
  /** Age past which a Provisioned Throughput is reported. */
  public readonly maxAge: Duration;

  private readonly environmentName: string;

  constructor(scope: Construct, id: string, props: ProvisionedThroughputWatchProps) {
    super(scope, id);
    this.environmentName = props.environmentName;
    this.interval = props.interval ?? Duration.minutes(15);
    this.maxAge = props.maxAge ?? Duration.hours(6);
    const intervalMinutes = this.interval.toMinutes({ integral: false });
    if (!Number.isInteger(intervalMinutes) || intervalMinutes < 1 || intervalMinutes > 24 * 60) {
      throw new InvalidPropsError(CONSTRUCT, 'interval', `${this.interval.toHumanString()} is not a whole number of minutes from 1 to 1440`, 'Use e.g. Duration.minutes(15).', this);
    }
    if (this.maxAge.toSeconds() < this.interval.toSeconds()) {
      throw new InvalidPropsError(CONSTRUCT, 'maxAge', `${this.maxAge.toHumanString()} is shorter than the check interval (${this.interval.toHumanString()})`, 'Allow at least one interval; evaluations take hours, so hours suit.', this);
    }

    const stack = Stack.of(this);
    const watch = new WorkflowFunction(this, 'Function', {
      handler: 'provisioned-throughput-watch',
      description: 'Publishes the age of the oldest Provisioned Throughput created by a fine-tuning run (they bill by the hour)',
      environment: {
        ENVIRONMENT_NAME: props.environmentName,
        MAX_AGE_MINUTES: String(Math.ceil(this.maxAge.toMinutes({ integral: false }))),
        ...(props.runRequests && {
          RUN_REQUESTS_BUCKET: props.runRequests.bucket.bucketName,
          RUN_REQUESTS_PREFIX: normalizePrefix(CONSTRUCT, 'runRequests.prefix', props.runRequests.prefix, this),
        }),
      },
      memorySize: 256,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      logEncryptionKey: props.logEncryptionKey,
      logRemovalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // bedrock:ListProvisionedModelThroughputs supports no resource-level permissions: the IAM
    // reference lists no resource type for it, so Resource "*" is the only form that works.
    watch.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListProvisionedThroughputs', actions: ['bedrock:ListProvisionedModelThroughputs'], resources: ['*'] }));
    Validations.of(watch.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and bedrock:ListProvisionedModelThroughputs support no resource-level permissions; AWS offers no narrower form than Resource: *.',
    });
    if (props.runRequests) {
      const provisionedModels = stack.formatArn({ service: 'bedrock', resource: 'provisioned-model', resourceName: '*' });
      watch.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadProvisionedThroughputTags', actions: ['bedrock:ListTagsForResource'], resources: [provisionedModels] }));
      acknowledgeWildcardResource(
        watch.role,
        provisionedModels,
        'Reads the tags of (and, with run records, deletes) Provisioned Throughputs in this account and region only; their ids are random and assigned at creation, so no narrower ARN can name them in advance. The function deletes only eval-<run id> ones tagged with this deployment\'s requests whose run record has ended.',
      );
      if (props.runRecords) {
        const runsPrefix = normalizePrefix(CONSTRUCT, 'runRecords.prefix', props.runRecords.prefix, this);
        watch.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DeleteProvisionedThroughputsOfEndedRuns', actions: ['bedrock:DeleteProvisionedModelThroughput'], resources: [provisionedModels] }));
        const runRecords = props.runRecords.bucket.arnForObjects(`${runsPrefix}*/run.json`);
        // Read to see whether the run ended; written to mark what the watch deleted.
        watch.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadAndMarkRunRecords', actions: ['s3:GetObject', 's3:PutObject'], resources: [runRecords] }));
        // Without ListBucket, S3 answers 403 instead of 404 for a run without a record.
        watch.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'TellMissingRecordFromDenied', actions: ['s3:ListBucket'], resources: [props.runRecords.bucket.bucketArn] }));
        acknowledgeWildcardResource(watch.role, runRecords, 'Reads and updates only run records (<runs prefix><run id>/run.json); run ids are made per request.');
        grantS3KeyUse(props.runRecords.encryptionKey, watch.role, 'read-write');
        watch.function.addEnvironment('RUN_RECORDS_BUCKET', props.runRecords.bucket.bucketName);
        watch.function.addEnvironment('RUNS_PREFIX', runsPrefix);
      }
    }
    this.function = watch.function;
    this.logGroup = watch.logGroup;

    // Scheduler assumes this role only for schedules of this account's default group.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'Lets EventBridge Scheduler invoke the Provisioned Throughput watch of the Llama fine-tuning workflow',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Runs the Provisioned Throughput watch of the Llama fine-tuning workflow (${props.environmentName})`,
      schedule: scheduler.ScheduleExpression.rate(this.interval),
      target: new schedulerTargets.LambdaInvoke(watch.function, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'llama-finetune.provisioned-throughput-watch' }),
        // A missed check is made up by the next one; retrying longer than an interval adds nothing.
        retryAttempts: 2,
        maxEventAge: this.interval,
      }),
    });
    acknowledgeWildcardResource(
      scheduleRole,
      `${watch.function.functionArn}:*`,
      'EventBridge Scheduler invokes this one function; the :* suffix only covers its versions and aliases, as the LambdaInvoke target grants.',
    );
  }

  /** Age in seconds of the oldest Provisioned Throughput created by a run (0 when none exists). */
  public metricOldestAge(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.OLDEST_RUN_PROVISIONED_THROUGHPUT_AGE, this.environmentName, { statistic: cloudwatch.Stats.MAXIMUM, period: this.interval, ...options });
  }

  /** Number of Provisioned Throughputs created by runs that exist. */
  public metricCount(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.RUN_PROVISIONED_THROUGHPUTS, this.environmentName, { statistic: cloudwatch.Stats.MAXIMUM, period: this.interval, ...options });
  }
}
