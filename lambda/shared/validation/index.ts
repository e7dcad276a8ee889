/**
 * The dataset validation engine, shared by the validate-dataset Lambda and the
 * `llama-finetune validate` command. Start with {@link validateDataset}; rules.ts lists every
 * rule id.
 */
export * from './engine';
export * from './report';
export * from './rules';
export * from './problems';
export * from './summary';
export * from './hyperparameters';
export * from './dataset-source';
export * from './image-source';
export * from './image-check';
export * from './image-location';
export * from './record-checks';
export * from './token-estimate';
export * from './answer-style';
export * from './histogram';
export * from './digest-set';
export * from './retry';
export * from './concurrency';
export * from './run-files';
export * from './empty-answer';
