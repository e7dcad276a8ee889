export * from './finetuning-operations';
export * from './provisioned-throughput-watch';
export * from './custom-model-retention';
export { allowCloudWatchAlarmsToPublish, isAwsManagedSnsKey } from './alarm-topic-access';
export type { AlarmAccessResult } from './alarm-topic-access';
export { finetuneMetric } from './custom-metrics';
export { ENVIRONMENT_DIMENSION, FinetuneMetric, METRICS_NAMESPACE, REQUEST_NAME_DIMENSION } from './metric-names';
export type { FinetuneMetricName } from './metric-names';
