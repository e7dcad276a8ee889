/**
 * The building blocks of `llama-finetune prepare`: converters from public dataset formats to
 * Bedrock conversation records, the CSV parser, the deterministic splitter, the record builder,
 * the writers and the S3 uploader.
 */
export * from './bounded-concurrency';
export * from './command-line';
export * from './converters/chartqa';
export * from './converters/csv-table';
export * from './converters/llava';
export * from './converters/vqav2';
export * from './csv-parser';
export * from './image-inspector';
export * from './image-name-pattern';
export * from './image-naming';
export * from './image-staging';
export * from './input-format';
export * from './json-input';
export * from './jsonl-writer';
export * from './load-examples';
export * from './output-layout';
export * from './prepare-dataset';
export * from './prepare-errors';
export * from './prepare-options';
export * from './prepare-summary';
export * from './prepare-warnings';
export * from './progress-line';
export * from './prompt-template';
export * from './record-builder';
export * from './s3-uploader';
export * from './source-example';
export * from './split-assignment';
export * from './throttle-retry';
