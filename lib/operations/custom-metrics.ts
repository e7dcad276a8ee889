/**
 * The project's custom CloudWatch metrics (namespace LlamaFinetune, one dimension: the
 * environment), as CDK metric objects for alarms and graphs. The handlers emit them as EMF
 * log lines (lambda/shared/metrics-emf.ts) under the same names.
 */
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ENVIRONMENT_DIMENSION, FinetuneMetricName, METRICS_NAMESPACE } from '../../lambda/shared/metric-names';

/** A custom metric of one environment. No unit is set: an alarm with a unit would miss data points sent without it. */
export function finetuneMetric(metricName: FinetuneMetricName, environmentName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [ENVIRONMENT_DIMENSION]: environmentName },
    ...options,
  });
}
