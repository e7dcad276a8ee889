import { Annotations, Aspects, Duration, RemovalPolicy, Resource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import { InvalidPropsError } from '../core/props-validation';
import { FinetuningWorkflow } from '../workflow/finetuning-workflow';
import { alarmsMayPublishTo, isAwsManagedSnsKey } from './alarm-topic-access';
import { finetuneMetric } from './custom-metrics';
import { ENVIRONMENT_DIMENSION, FinetuneMetric, METRICS_NAMESPACE } from '../../lambda/shared/metric-names';
import { AlarmAccessResult, allowCloudWatchAlarmsToPublish } from './alarm-topic-access';
import { operationsDashboardRows } from './operations-dashboard';
import { ProvisionedThroughputWatch } from './provisioned-throughput-watch';

/** How a fine-tuning deployment is operated: alarms, their thresholds, and the dashboard. */
export interface FinetuningOperationsOptions {
  /**
   * Whether CloudWatch alarms are created (failed, timed-out and aborted runs; Lambda errors;
   * dead letters; outcomes that could not be announced; Provisioned Throughputs a run could not
   * delete or that outlive their run).
   * @default true
   */
  readonly alarmsEnabled?: boolean;
  /**
   * Topic the alarms notify. Its key must be customer managed and let CloudWatch use it
   * (`allowCloudWatchAlarmsToPublish` does that for a topic and key defined in the app).
   * @default - the run outcome topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Whether the CloudWatch dashboard is created.
   * @default true
   */
  readonly dashboardEnabled?: boolean;
  /**
   * Name of the dashboard.
   * @default - a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * Period over which the run, error and dead-letter alarms count. Whole minutes.
   * @default Duration.minutes(5)
   */
  readonly alarmPeriod?: Duration;
  /**
   * Failed runs within one alarm period that raise the alarm.
   * @default 1
   */
  readonly failedExecutionsThreshold?: number;
  /**
   * Timed-out runs within one alarm period that raise the alarm.
   * @default 1
   */
  readonly timedOutExecutionsThreshold?: number;
  /**
   * Aborted runs (StopExecution) within one alarm period that raise the alarm.
   * @default 1
   */
  readonly abortedExecutionsThreshold?: number;
  /**
   * Errors of one function within one alarm period that raise its alarm. Note that a launch
   * waiting for Bedrock's job quota, and inference meeting throttling, raise errors the
   * workflow retries; raise this if those should not notify.
   * @default 1
   */
  readonly lambdaErrorsThreshold?: number;
  /**
   * Messages visible in a dead-letter queue (the trigger's or the cleanup's) that raise its alarm.
   * @default 1
   */
  readonly deadLetterMessagesThreshold?: number;
  /**
   * How long a Provisioned Throughput created by a run may exist before the alarm is raised.
   * Evaluation creates one per run and deletes it at the end; it bills by the hour.
   * @default Duration.hours(6)
   */
  readonly provisionedThroughputMaxAge?: Duration;
  /**
   * How often the Provisioned Throughputs created by runs are checked.
   * @default Duration.minutes(15)
   */
  readonly provisionedThroughputCheckInterval?: Duration;
}

/** Props of the {@link FinetuningOperations} construct: the options and what it watches. */
export interface FinetuningOperationsProps extends FinetuningOperationsOptions {
  /** The workflow whose state machine, functions and dead-letter queue are watched. */
  readonly workflow: FinetuningWorkflow;
  /** The run outcome topic: the alarms' topic unless `alarmTopic` is given. */
  readonly notificationTopic: sns.ITopic;
  /**
   * Dead-letter queue of the upload trigger (events that could not start a run).
   * @default - not watched
   */
  readonly triggerDeadLetterQueue?: sqs.IQueue;
  /**
   * Other functions of the deployment (e.g. the custom model retention sweep), by name: each gets
   * an errors alarm and a place on the dashboard like the workflow's.
   * @default - none
   */
  readonly additionalFunctions?: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Name of the environment: the dimension of the custom metrics, and in alarm descriptions.
   * @default 'default'
   */
  readonly environmentName?: string;
  /**
   * How long the watch function's logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Key that encrypts the watch function's log group.
   * @default - CloudWatch Logs service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * What happens to the watch function's log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const CONSTRUCT = 'FinetuningOperations';

/**
 * Operations for a fine-tuning deployment: CloudWatch alarms that notify a topic (runs that
 * fail, time out or are aborted; errors of each function; events in the dead-letter queues; a
 * Provisioned Throughput that outlives its run), a scheduled watch that measures the latter,
 * and a dashboard of runs, durations, F1 and health. {@link LlamaFinetuning} creates one.
 *
 * Lambda errors get one alarm per function rather than one metric-math alarm: an alarm on a
 * math expression may read at most 10 metrics and the workflow has more functions, and an
 * alarm per function names the failing step in the notification.
 */
export class FinetuningOperations extends Construct {
  /** CloudWatch namespace of the custom metrics the handlers emit. */
  public static readonly METRICS_NAMESPACE: string = METRICS_NAMESPACE;
  /** The one dimension of every custom metric: the environment name. */
  public static readonly ENVIRONMENT_DIMENSION: string = ENVIRONMENT_DIMENSION;

  /**
   * Lets CloudWatch alarms of this account and region publish to `topic`, encrypted with
   * `topicKey` (by default the topic's own key, when it has one). Both statements are confined
   * to alarms of the stack's account and region (aws:SourceAccount and aws:SourceArn). Adds
   * nothing to resources imported into the app (they report false): their owner grants it. May
   * be called before or after the LlamaFinetuning whose alarms notify the topic is created.
   */
  public static allowCloudWatchAlarmsToPublish(topic: sns.ITopic, topicKey?: kms.IKey): AlarmAccessResult {
    return allowCloudWatchAlarmsToPublish(topic, topicKey);
  }

  /** The topic alarms notify (undefined when alarms are disabled). */
  public readonly alarmTopic?: sns.ITopic;
  /**
   * The alarms by purpose: `executions-failed`, `executions-timed-out`, `executions-aborted`,
   * `errors-<step>` per function, `trigger-dead-letters`, `cleanup-dead-letters`,
   * `notification-failures`, `undeleted-provisioned-throughputs`, `provisioned-throughput-age`.
   * Empty when alarms are disabled.
   */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The dashboard, unless disabled. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The scheduled watch of Provisioned Throughputs created by runs (when runs evaluate). */
  public readonly provisionedThroughputWatch?: ProvisionedThroughputWatch;
  /** The environment name: the dimension of the custom metrics. */
  public readonly environmentName: string;

  constructor(scope: Construct, id: string, props: FinetuningOperationsProps) {
    super(scope, id);
    this.environmentName = props.environmentName ?? 'default';
    const alarmsEnabled = props.alarmsEnabled ?? true;
    const dashboardEnabled = props.dashboardEnabled ?? true;
    const period = props.alarmPeriod ?? Duration.minutes(5);
    checkPeriod(period, this);
    const threshold = (prop: keyof FinetuningOperationsOptions, value: number | undefined) => checkThreshold(prop, value ?? 1, this);
    const workflow = props.workflow;
    const sm = workflow.stateMachine;

    // With evaluation the watch always exists: besides measuring, it deletes the Provisioned
    // Throughputs of ended runs, which bill by the hour whether or not anyone watches.
    if (workflow._evaluation) {
      this.provisionedThroughputWatch = new ProvisionedThroughputWatch(this, 'ProvisionedThroughputWatch', {
        environmentName: this.environmentName,
        runRequests: { bucket: props.workflow.datasetBucket, prefix: props.workflow.requestPrefix },
        runRecords: { bucket: props.workflow.artifactsBucket, prefix: props.workflow.runsPrefix, encryptionKey: props.workflow.bucketEncryptionKey },
        maxAge: props.provisionedThroughputMaxAge,
        interval: props.provisionedThroughputCheckInterval,
        logRetention: props.logRetention,
        logEncryptionKey: props.logEncryptionKey,
        removalPolicy: props.removalPolicy,
      });
    }
    // The release step and the cleanup tell people what deletes a throughput Bedrock refused to delete: this watch, at this interval.
    if (this.provisionedThroughputWatch) {
      const minutes = String(this.provisionedThroughputWatch.interval.toMinutes());
      for (const fn of [workflow._evaluation?.functions['provisioned-throughput']?.function, workflow.functions['cleanup-run']]) {
        if (fn instanceof lambda.Function) fn.addEnvironment('PROVISIONED_THROUGHPUT_WATCH_MINUTES', minutes);
      }
    }
    const functions: Record<string, lambda.IFunction> = { ...workflow.functions, ...props.additionalFunctions };
    if (this.provisionedThroughputWatch) functions['provisioned-throughput-watch'] = this.provisionedThroughputWatch.function;
    const deadLetterQueues: Record<string, sqs.IQueue> = {
      ...(props.triggerDeadLetterQueue ? { 'trigger (uploads that started no run)': props.triggerDeadLetterQueue } : {}),
      'cleanup (ended runs not cleaned up)': workflow.cleanupDeadLetterQueue,
    };

    const alarms: Record<string, cloudwatch.Alarm> = {};
    if (alarmsEnabled) {
      this.alarmTopic = props.alarmTopic ?? props.notificationTopic;
      checkAlarmTopic(this, this.alarmTopic);
      const env = this.environmentName;
      const count = { period, statistic: cloudwatch.Stats.SUM };
      const add = (key: string, constructId: string, alarmProps: cloudwatch.AlarmProps) => {
        const alarm = new cloudwatch.Alarm(this, constructId, alarmProps);
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic!));
        alarms[key] = alarm;
      };
      const runAlarm = (key: string, constructId: string, metric: cloudwatch.IMetric, value: number, what: string) =>
        add(key, constructId, {
          metric,
          threshold: value,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          // No runs, no data: nothing is wrong.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Llama fine-tuning (${env}): ${value} or more runs ${what} within ${period.toHumanString()}. The outcome message and the run record (runs/<run id>/run.json) say which step failed and why; the cleanup rule has stopped their jobs and deleted their Provisioned Throughputs.`,
        });
      runAlarm('executions-failed', 'ExecutionsFailedAlarm', sm.metricFailed(count), threshold('failedExecutionsThreshold', props.failedExecutionsThreshold), 'failed');
      runAlarm('executions-timed-out', 'ExecutionsTimedOutAlarm', sm.metricTimedOut(count), threshold('timedOutExecutionsThreshold', props.timedOutExecutionsThreshold), 'timed out (the executionTimeout prop)');
      runAlarm('executions-aborted', 'ExecutionsAbortedAlarm', sm.metricAborted(count), threshold('abortedExecutionsThreshold', props.abortedExecutionsThreshold), 'were aborted (StopExecution)');

      const errorsThreshold = threshold('lambdaErrorsThreshold', props.lambdaErrorsThreshold);
      for (const [step, fn] of Object.entries(functions)) {
        add(`errors-${step}`, `${pascalCase(step)}ErrorsAlarm`, {
          metric: fn.metricErrors(count),
          threshold: errorsThreshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Llama fine-tuning (${env}): the ${step} function failed ${errorsThreshold} or more times within ${period.toHumanString()}. Its log group has the error as a JSON line with the run id (message 'step failed'). Retried errors (Bedrock quota waits, throttling) count too.`,
        });
      }

      const deadLetterThreshold = threshold('deadLetterMessagesThreshold', props.deadLetterMessagesThreshold);
      const deadLetterAlarm = (key: string, constructId: string, queue: sqs.IQueue, what: string) =>
        add(key, constructId, {
          metric: queue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
          threshold: deadLetterThreshold,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          // SQS stops reporting for a queue idle for hours: keep the last state rather than call it fixed.
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
          alarmDescription: `Llama fine-tuning (${env}): ${what}. Read the messages in the queue, fix the cause, then redrive or delete them.`,
        });
      if (props.triggerDeadLetterQueue) {
        deadLetterAlarm('trigger-dead-letters', 'TriggerDeadLettersAlarm', props.triggerDeadLetterQueue, 'uploaded run requests could not start a run (their events are in the trigger\'s dead-letter queue); upload them again once fixed');
      }
      deadLetterAlarm('cleanup-dead-letters', 'CleanupDeadLettersAlarm', workflow.cleanupDeadLetterQueue, 'runs that ended abnormally could not be cleaned up: a customization job may still train or a Provisioned Throughput may still bill');

      add('notification-failures', 'NotificationFailuresAlarm', {
        metric: this.metricNotificationFailures({ period }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Llama fine-tuning (${env}): a run's outcome was recorded but SNS or EventBridge refused to announce it, so nobody was told. The run kept its result; its record (runs/<run id>/run.json) has the outcome. The record-outcome and cleanup-run logs name the run and the refusal ('run outcome not announced').`,
      });

      const watch = this.provisionedThroughputWatch;
      if (workflow._evaluation) {
        const deletedBy = watch
          ? `The Provisioned Throughput watch deletes it within ${watch.interval.toHumanString()} once Bedrock accepts (the run has ended)`
          : 'Nothing deletes it automatically';
        add('undeleted-provisioned-throughputs', 'UndeletedProvisionedThroughputsAlarm', {
          metric: this.metricUndeletedProvisionedThroughputs({ period }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Llama fine-tuning (${env}): Bedrock refused, after every retry, to delete a Provisioned Throughput a run created (named eval-<run id>); it bills per hour until deleted. The run kept its result; its record (runs/<run id>/run.json, provisionedThroughput.deletionRefused), its report and its outcome message name the throughput. ${deletedBy}; to delete it now: aws bedrock delete-provisioned-model-throughput --provisioned-model-id <arn> (the provisioned-throughput or cleanup-run log names the ARN).`,
        });
      }
      if (watch) {
        add('provisioned-throughput-age', 'ProvisionedThroughputAgeAlarm', {
          metric: watch.metricOldestAge(),
          threshold: watch.maxAge.toSeconds(),
          // Two checks, one enough: a check that runs late does not hide an old one.
          evaluationPeriods: 2,
          datapointsToAlarm: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.MISSING,
          alarmDescription: `Llama fine-tuning (${env}): a Provisioned Throughput created by a run (named eval-<run id>) has existed for more than ${watch.maxAge.toHumanString()}; it bills by the hour. The watch function's log names it. Delete it (Bedrock console > Provisioned Throughput) unless a run is still evaluating with it.`,
        });
      }
    }
    this.alarms = alarms;

    if (dashboardEnabled) {
      const outcome = workflow.functions['record-outcome'];
      this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
        dashboardName: props.dashboardName,
        defaultInterval: Duration.days(14),
        widgets: operationsDashboardRows({
          environmentName: this.environmentName,
          stateMachine: sm,
          functions,
          deadLetterQueues,
          evaluationLogGroup: workflow._evaluation?.functions['score-evaluation']?.logGroup,
          outcomeLogGroup: outcome instanceof lambda.Function ? outcome.logGroup : undefined,
          watch: this.provisionedThroughputWatch,
          alarms: Object.values(alarms),
        }),
      });
      // Tags on dashboards are new in CloudFormation's schema; tools with an older one (cfn-lint
      // 1.51) reject the template. A dashboard's tags serve nothing, so it is left untagged.
      (this.dashboard.node.defaultChild as cloudwatch.CfnDashboard).addPropertyDeletionOverride('Tags');
    }
  }

  /** SQuAD F1 (0-100) of the base model, one data point per evaluated run. */
  public metricBaseF1(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.BASE_F1, this.environmentName, { statistic: cloudwatch.Stats.AVERAGE, period: Duration.hours(1), ...options });
  }

  /** SQuAD F1 (0-100) of the fine-tuned model, one data point per evaluated run. */
  public metricFineTunedF1(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.FINE_TUNED_F1, this.environmentName, { statistic: cloudwatch.Stats.AVERAGE, period: Duration.hours(1), ...options });
  }

  /** Relative F1 improvement of the fine-tuned over the base model, in percent. */
  public metricRelativeImprovement(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.RELATIVE_IMPROVEMENT, this.environmentName, { statistic: cloudwatch.Stats.AVERAGE, period: Duration.hours(1), ...options });
  }

  /** Run outcomes recorded but not announced (SNS or EventBridge refused), one per refused channel. */
  public metricNotificationFailures(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.NOTIFICATION_FAILURES, this.environmentName, { statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5), ...options });
  }

  /** Provisioned Throughputs runs could not delete (Bedrock refused past every retry), one per refusal. */
  public metricUndeletedProvisionedThroughputs(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.UNDELETED_PROVISIONED_THROUGHPUTS, this.environmentName, { statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5), ...options });
  }

  /** Seconds each customization job took, one data point per job that ended. */
  public metricJobDuration(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return finetuneMetric(FinetuneMetric.JOB_DURATION, this.environmentName, { statistic: cloudwatch.Stats.AVERAGE, period: Duration.hours(1), ...options });
  }
}

function checkPeriod(period: Duration, scope: IConstruct): void {
  const seconds = period.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 60 || seconds % 60 !== 0) {
    throw new InvalidPropsError(CONSTRUCT, 'alarmPeriod', `${period.toHumanString()} is not a whole number of minutes`, 'CloudWatch alarms on these metrics need periods of whole minutes, e.g. Duration.minutes(5).', scope);
  }
}

function checkThreshold(prop: string, value: number, scope: IConstruct): number {
  if (!Number.isFinite(value) || value <= 0) throw new InvalidPropsError(CONSTRUCT, prop, `${value} is not a positive number`, 'Use 1 to be told of every occurrence, more to be told of bursts only.', scope);
  return value;
}

/**
 * CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key, nor to one
 * whose key policy does not admit them: say so at synth time instead of letting the alarms fail
 * silently when they fire. Checked when the app is synthesized, not now, so that
 * allowCloudWatchAlarmsToPublish may be called before or after this construct is created.
 */
function checkAlarmTopic(scope: Construct, topic: sns.ITopic): void {
  Aspects.of(scope).add({
    visit: (node) => {
      if (node === scope) reportAlarmTopicAccess(scope, topic);
    },
  });
}

function reportAlarmTopicAccess(scope: Construct, topic: sns.ITopic): void {
  if (alarmsMayPublishTo(topic)) return;
  const key = topic.masterKey;
  if (isAwsManagedSnsKey(key)) {
    Annotations.of(scope).addWarningV2(
      'llama-finetune:alarm-topic-key',
      `The alarm topic ${topic.node.path} is encrypted with the AWS managed key alias/aws/sns, which CloudWatch alarms cannot use: no alarm would reach it. Encrypt the topic with a customer managed key that lets cloudwatch.amazonaws.com use it (allowCloudWatchAlarmsToPublish), or pass operations.alarmTopic.`,
    );
  } else if (key && Resource.isOwnedResource(topic) && Resource.isOwnedResource(key)) {
    // Both defined in this app, so the fix is one call away; the key's policy admits no alarm until then.
    Annotations.of(scope).addWarningV2(
      'llama-finetune:alarm-topic-access',
      `Alarms notify ${topic.node.path}, whose key ${key.node.path} does not let CloudWatch alarms use it, so no alarm would reach the topic. Call allowCloudWatchAlarmsToPublish(topic, key) (before or after creating LlamaFinetuning), or acknowledge this warning if the key policy admits cloudwatch.amazonaws.com some other way.`,
    );
  } else {
    Annotations.of(scope).addInfo(
      `Alarms notify ${topic.node.path}. A topic defined outside LlamaFinetuning must let CloudWatch publish (its access policy and, when encrypted, its key policy): call allowCloudWatchAlarmsToPublish(topic, key) for a topic and key defined in this app; an imported topic's owner must grant it.`,
    );
  }
}

function pascalCase(kebab: string): string {
  return kebab.replace(/(^|-)([a-z0-9])/g, (_m, _dash, c: string) => c.toUpperCase());
}
