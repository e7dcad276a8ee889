/**
 * Custom metrics as CloudWatch Embedded Metric Format (EMF) log lines. CloudWatch Logs turns
 * such a line in a Lambda function's log group into metric data points, so handlers publish
 * metrics with no cloudwatch:PutMetricData permission and no extra call. The line goes through
 * the structured logger, so it carries the step and run id like every other line.
 *
 * Format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { ENVIRONMENT_DIMENSION, FinetuneMetricName, METRICS_NAMESPACE } from './metric-names';
import { Logger } from './logger';

/** Units used by this project's metrics (a subset of CloudWatch's). */
export type MetricUnit = 'Seconds' | 'Milliseconds' | 'Count' | 'Percent' | 'None';

/** One data point. A value that is not a finite number (null when there is nothing to say) is left out. */
export interface MetricDatum {
  readonly name: FinetuneMetricName;
  readonly value: number | null | undefined;
  readonly unit: MetricUnit;
}

/** Keys the logger writes on every line; a metric or dimension by these names would collide. */
const RESERVED_KEYS = new Set(['_aws', 'timestamp', 'level', 'message', 'step', 'runId', ENVIRONMENT_DIMENSION]);

/** The message of every metrics line, so Logs Insights can find (or skip) them. */
export const METRICS_LOG_MESSAGE = 'metrics';

/**
 * The top-level fields of one EMF document: the `_aws` metadata, the dimension value and one
 * member per metric. Undefined when no datum has a finite value (nothing to publish). Pure.
 */
export function embeddedMetricFields(metrics: readonly MetricDatum[], environment: string, timestampMs: number): Record<string, unknown> | undefined {
  if (environment === '') throw new Error('EMF: the environment dimension is empty; set ENVIRONMENT_NAME on the function');
  const kept = metrics.filter((m) => typeof m.value === 'number' && Number.isFinite(m.value));
  if (kept.length === 0) return undefined;
  const seen = new Set<string>();
  for (const m of kept) {
    if (RESERVED_KEYS.has(m.name)) throw new Error(`EMF: metric name '${m.name}' collides with a log field; rename the metric`);
    if (seen.has(m.name)) throw new Error(`EMF: metric '${m.name}' is given twice in one line; emit one value per metric`);
    seen.add(m.name);
  }
  const fields: Record<string, unknown> = {
    _aws: {
      Timestamp: Math.round(timestampMs),
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [[ENVIRONMENT_DIMENSION]],
          Metrics: kept.map((m) => ({ Name: m.name, Unit: m.unit })),
        },
      ],
    },
    [ENVIRONMENT_DIMENSION]: environment,
  };
  for (const m of kept) fields[m.name] = m.value;
  return fields;
}

/**
 * Writes the metrics as one EMF line through `log` (bind the run id with `log.child` first).
 * `environment` is the function's ENVIRONMENT_NAME; unset means the construct's default name.
 */
export function emitMetrics(log: Logger, metrics: readonly MetricDatum[], environment: string | undefined, now: number = Date.now()): void {
  const fields = embeddedMetricFields(metrics, environment || 'default', now);
  if (fields) log.info(METRICS_LOG_MESSAGE, fields);
}
