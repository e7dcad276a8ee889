import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { grantS3KeyUse } from '../core/kms-grants';
import { acknowledgeWildcardResource } from '../core/nag';
import { InvalidPropsError, normalizePrefix } from '../core/props-validation';
import { WorkflowFunction } from '../workflow/workflow-function';
import { RunRecordsLocation } from './provisioned-throughput-watch';

/** The retention policy of the custom models runs create (each bills monthly storage). */
export interface CustomModelRetentionPolicy {
  /**
   * Whether the scheduled sweep exists.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * How long the custom model of a rejected run (quality gate failed, or the run failed, timed
   * out or was aborted after training, so its evaluation never finished) is kept after the run
   * ended, so someone can still look at it.
   * @default Duration.days(30)
   */
  readonly deleteRejectedAfter?: Duration;
  /**
   * How many of the most recently promoted models of each request name are kept (the current
   * one among them), so a rollback has somewhere to go. Older promoted models are deleted.
   * @default 3
   */
  readonly keepPromotedPerName?: number;
  /**
   * How often the sweep runs.
   * @default Duration.days(1)
   */
  readonly interval?: Duration;
}

/** Props of {@link CustomModelRetention}. */
export interface CustomModelRetentionProps extends CustomModelRetentionPolicy {
  readonly environmentName: string;
  /** The deployment whose models (tag `llama-finetune:deployment`) the sweep may delete; no other model is touched. */
  readonly deploymentId: string;
  /** The registry path (SSM) whose entries name the current models, which are never deleted. */
  readonly registryPrefix: string;
  /** Where the run records are. */
  readonly runRecords: RunRecordsLocation;
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

const CONSTRUCT = 'CustomModelRetention';

/**
 * A scheduled function (EventBridge Scheduler, daily by default) that deletes the custom models
 * of this deployment that the retention policy names (lambda/shared/model-retention.ts): those of
 * rejected runs after `deleteRejectedAfter`, and promoted ones beyond the `keepPromotedPerName`
 * most recent per name. Never the current model of a name, nor a model any Provisioned
 * Throughput serves; never a model without this deployment's tag. Each deletion is logged with
 * the run it came from.
 */
export class CustomModelRetention extends Construct {
  public readonly function: lambda.IFunction;
  public readonly logGroup: logs.ILogGroup;
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: CustomModelRetentionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const days = (props.deleteRejectedAfter ?? Duration.days(30)).toDays({ integral: false });
    if (!Number.isInteger(days) || days < 1) {
      throw new InvalidPropsError(CONSTRUCT, 'modelRetention.deleteRejectedAfter', `${props.deleteRejectedAfter?.toHumanString()} is not a whole number of days (at least 1)`, 'Use e.g. Duration.days(30).', this);
    }
    const keep = props.keepPromotedPerName ?? 3;
    if (!Number.isInteger(keep) || keep < 1 || keep > 100) {
      throw new InvalidPropsError(CONSTRUCT, 'modelRetention.keepPromotedPerName', `${keep} is out of range`, 'Keep 1 to 100 promoted models per name (the current one counts).', this);
    }
    const interval = props.interval ?? Duration.days(1);
    const intervalMinutes = interval.toMinutes({ integral: false });
    if (!Number.isInteger(intervalMinutes) || intervalMinutes < 60) {
      throw new InvalidPropsError(CONSTRUCT, 'modelRetention.interval', `${interval.toHumanString()} is not a whole number of minutes of at least an hour`, 'Use e.g. Duration.days(1).', this);
    }
    const runsPrefix = normalizePrefix(CONSTRUCT, 'runRecords.prefix', props.runRecords.prefix, this);
    const registryPath = props.registryPrefix.replace(/\/$/, '');

    const fn = new WorkflowFunction(this, 'Function', {
      handler: 'custom-model-retention',
      description: 'Deletes the custom models of this fine-tuning deployment that its retention policy names (never a current or serving one)',
      environment: {
        ENVIRONMENT_NAME: props.environmentName,
        DEPLOYMENT_ID: props.deploymentId,
        REGISTRY_PREFIX: props.registryPrefix,
        RUN_RECORDS_BUCKET: props.runRecords.bucket.bucketName,
        RUNS_PREFIX: runsPrefix,
        DELETE_REJECTED_AFTER_DAYS: String(days),
        KEEP_PROMOTED_PER_NAME: String(keep),
      },
      timeout: Duration.minutes(5),
      memorySize: 256,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      logEncryptionKey: props.logEncryptionKey,
      logRemovalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // ListCustomModels and ListProvisionedModelThroughputs support no resource-level permissions.
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ListModelsAndThroughputs', actions: ['bedrock:ListCustomModels', 'bedrock:ListProvisionedModelThroughputs'], resources: ['*'] }));
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing, bedrock:ListCustomModels and bedrock:ListProvisionedModelThroughputs support no resource-level permissions; AWS offers no narrower form than Resource: *.',
    });
    const customModels = stack.formatArn({ service: 'bedrock', resource: 'custom-model', resourceName: '*' });
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'DeleteOwnCustomModels', actions: ['bedrock:ListTagsForResource', 'bedrock:DeleteCustomModel'], resources: [customModels] }));
    acknowledgeWildcardResource(fn.role, customModels, 'Custom model ids are assigned by Bedrock when a job ends; the function deletes only models tagged with this deployment\'s id, after reading their tags.');
    const registry = [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: registryPath.slice(1) }), stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${registryPath.slice(1)}/*` })];
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadModelRegistry', actions: ['ssm:GetParametersByPath'], resources: registry }));
    acknowledgeWildcardResource(fn.role, registry[1], 'Reads this deployment\'s registry path only; one parameter per request name.');
    const runRecords = props.runRecords.bucket.arnForObjects(`${runsPrefix}*/run.json`);
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadRunRecords', actions: ['s3:GetObject'], resources: [runRecords] }));
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'TellMissingRecordFromDenied', actions: ['s3:ListBucket'], resources: [props.runRecords.bucket.bucketArn] }));
    acknowledgeWildcardResource(fn.role, runRecords, 'Reads only run records (<runs prefix><run id>/run.json); run ids are made per request.');
    grantS3KeyUse(props.runRecords.encryptionKey, fn.role, 'read');
    this.function = fn.function;
    this.logGroup = fn.logGroup;

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      description: 'Lets EventBridge Scheduler invoke the custom model retention sweep of the Llama fine-tuning workflow',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': stack.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }) } },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Runs the custom model retention sweep of the Llama fine-tuning workflow (${props.environmentName})`,
      schedule: scheduler.ScheduleExpression.rate(interval),
      target: new schedulerTargets.LambdaInvoke(fn.function, {
        role: scheduleRole,
        input: scheduler.ScheduleTargetInput.fromObject({ source: 'llama-finetune.custom-model-retention' }),
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
      }),
    });
    acknowledgeWildcardResource(scheduleRole, `${fn.function.functionArn}:*`, 'EventBridge Scheduler invokes this one function; the :* suffix only covers its versions and aliases, as the LambdaInvoke target grants.');
  }
}
