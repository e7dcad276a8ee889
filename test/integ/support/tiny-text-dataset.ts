/**
 * The data the integration tests upload: tiny text-only records in Bedrock's conversation
 * format and the run request that points at them. Pure; the integration test apps put the
 * text into S3 through integ-tests assertions, and a jest test checks it with the real
 * validation engine, so a deployed test never fails (or passes) for the wrong reason.
 */
import type { RuleId } from '../../../lambda/shared/validation/rules';

/** The validation rule a dataset of fewer than 100 records breaks (and no other, for these records). */
export const TOO_FEW_RECORDS_RULE: RuleId = 'record-count-too-low';

/** Bedrock's schema version for conversation records. */
const SCHEMA_VERSION = 'bedrock-conversation-2024';

/**
 * `count` distinct single-turn records (one addition each, answered with the sum), as JSONL
 * with a trailing newline. A few dozen tokens per record keep a real training job cheap.
 */
export function tinyTextDataset(count: number): string {
  if (!Number.isInteger(count) || count < 1) throw new Error(`tinyTextDataset: count must be a positive integer, got ${count}`);
  const lines = Array.from({ length: count }, (_, index) =>
    JSON.stringify({
      schemaVersion: SCHEMA_VERSION,
      system: [{ text: 'Answer with the number only.' }],
      messages: [
        { role: 'user', content: [{ text: `What is ${index + 1} plus ${index + 2}?` }] },
        { role: 'assistant', content: [{ text: `${2 * index + 3}` }] },
      ],
    }),
  );
  return lines.join('\n') + '\n';
}

/** What a test's run request says. */
export interface TinyRunRequest {
  /** Run name: letters, digits and hyphens. */
  readonly name: string;
  /** Model short name, e.g. `llama3.2-1b`. */
  readonly model: string;
  /** Key of the training file in the dataset bucket. */
  readonly trainingData: string;
  /** Epochs; the fewer, the cheaper. */
  readonly epochCount: number;
}

/** The run request document (JSON text) for {@link TinyRunRequest}, with evaluation off. */
export function tinyRunRequest(request: TinyRunRequest): string {
  return JSON.stringify({
    name: request.name,
    model: request.model,
    trainingData: request.trainingData,
    hyperParameters: { epochCount: request.epochCount },
    evaluation: { enabled: false },
  });
}
