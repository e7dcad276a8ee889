export * from './finetuning-operations';
export * from './provisioned-throughput-watch';
export * from './custom-model-retention';
export type { AlarmAccessResult } from './alarm-topic-access';
