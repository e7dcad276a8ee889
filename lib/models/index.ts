export * from './llama-models';
