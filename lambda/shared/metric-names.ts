/**
 * Names of the custom CloudWatch metrics the handlers emit and the operations construct
 * alarms on and graphs. Pure (no CDK import), so the Lambda bundles can import it too: the
 * name a handler writes and the name an alarm watches come from one place.
 */

/** Namespace of every custom metric. */
export const METRICS_NAMESPACE = 'LlamaFinetune';

/** The one dimension of every custom metric: the environment name (dev, prod, ...). */
export const ENVIRONMENT_DIMENSION = 'Environment';

/**
 * A second dimension of FineTunedF1 only: the run's request name (record-outcome emits
 * FineTunedF1 with Environment and RequestName when a scored run ends), so the dashboard can
 * graph each name's score over time with a SEARCH expression. Each name is a separate custom
 * metric (see the README's "Operations" on what that costs).
 */
export const REQUEST_NAME_DIMENSION = 'RequestName';

/** The custom metrics. */
export const FinetuneMetric = {
  /** SQuAD F1 (0-100) of the base model on a run's test set (score-evaluation). */
  BASE_F1: 'BaseF1',
  /** SQuAD F1 (0-100) of the fine-tuned model on a run's test set (score-evaluation). */
  FINE_TUNED_F1: 'FineTunedF1',
  /** Relative F1 improvement of the fine-tuned over the base model, in percent (score-evaluation). */
  RELATIVE_IMPROVEMENT: 'RelativeImprovementPercent',
  /** Seconds a customization job took, from creation to end (check-job, when the job ends). */
  JOB_DURATION: 'JobDuration',
  /** Age in seconds of the oldest Provisioned Throughput created by a run (0 when none exists). */
  OLDEST_RUN_PROVISIONED_THROUGHPUT_AGE: 'OldestRunProvisionedThroughputAge',
  /** Number of Provisioned Throughputs created by runs that exist now. */
  RUN_PROVISIONED_THROUGHPUTS: 'RunProvisionedThroughputs',
  /**
   * Provisioned Throughputs a run could not delete: Bedrock still refused after every retry
   * (provisioned-throughput's release, cleanup-run). They bill by the hour until the watch or a
   * person deletes them. One per refused throughput.
   */
  UNDELETED_PROVISIONED_THROUGHPUTS: 'UndeletedProvisionedThroughputs',
  /**
   * Run outcomes that were recorded but not announced: SNS or EventBridge refused (or throttled
   * past retries) the message or event (record-outcome, cleanup-run). One per refused channel.
   */
  NOTIFICATION_FAILURES: 'NotificationFailures',
} as const;

/** Name of one custom metric. */
export type FinetuneMetricName = (typeof FinetuneMetric)[keyof typeof FinetuneMetric];
