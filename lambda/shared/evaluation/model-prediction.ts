/** One line of an evaluation predictions file: one record, one model. */
export interface ModelPredictionLine {
  readonly recordId: string;
  /** Line of the test file. */
  readonly line: number;
  readonly model: 'base' | 'fine-tuned';
  /** The inference profile id or provisioned model ARN that answered. */
  readonly modelId: string;
  readonly question: string;
  readonly references: readonly string[];
  /** s3:// URIs of the images in the prompt, in order (absent for text records), so the report can show them. */
  readonly imageUris?: readonly string[];
  /** The answer; absent when the model refused the record (see `error`). */
  readonly prediction?: string;
  readonly error?: string;
  readonly latencyMs: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
}
