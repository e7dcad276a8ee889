/**
 * Turns held-out test records (Bedrock conversation format) into evaluation items: the prompt
 * (system + every turn before the last assistant turn) and the reference answers (the last
 * assistant turn, or the references of a `<name>.references.jsonl` sidecar that
 * `llama-finetune prepare` writes for datasets with several annotator answers).
 */
import { ConversationRecord, ImageFormat } from '../bedrock-record';

/** One content block of a prompt turn: text, or an image still in S3. */
export type PromptBlock = { readonly text: string } | { readonly image: { readonly format: ImageFormat; readonly uri: string } };

/** One record to evaluate. */
export interface EvaluationItem {
  /** Stable id: `<line number>` of the test file (1-based), or the sidecar's id. */
  readonly recordId: string;
  /** Line in the test file. */
  readonly line: number;
  readonly system?: string;
  /** Turns up to and including the last user turn. */
  readonly turns: ReadonlyArray<{ readonly role: 'user' | 'assistant'; readonly content: readonly PromptBlock[] }>;
  /** The question as text (the last user turn's text), for reports. */
  readonly question: string;
  /** Acceptable answers; F1 takes the best match. */
  readonly references: readonly string[];
}

/** A sidecar line: `{"line": n, "id"?: "...", "references": ["...", ...]}`. */
export interface ReferencesSidecarLine {
  readonly line: number;
  readonly id?: string;
  readonly references: readonly string[];
}

/** The sidecar key for a test file: `test.jsonl` -> `test.references.jsonl`. */
export function referencesSidecarKey(testKey: string): string {
  return testKey.replace(/\.jsonl$/i, '') + '.references.jsonl';
}

/**
 * Builds the evaluation item of one test record.
 * @throws Error naming the line when the record has no final assistant answer to score against.
 */
export function toEvaluationItem(record: ConversationRecord, line: number, sidecar?: ReferencesSidecarLine): EvaluationItem {
  const messages = record.messages ?? [];
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant') throw new Error(`test record on line ${line} does not end with an assistant answer to score against`);
  const answer = last.content.map((b) => ('text' in b ? b.text : '')).join(' ').trim();
  const turns = messages.slice(0, -1).map((m) => ({
    role: m.role,
    content: m.content.map((b): PromptBlock => ('text' in b ? { text: b.text } : { image: { format: b.image.format, uri: b.image.source.s3Location.uri } })),
  }));
  const lastUser = [...turns].reverse().find((t) => t.role === 'user');
  const question = lastUser ? lastUser.content.map((b) => ('text' in b ? b.text : '')).join(' ').trim() : '';
  const references = sidecar && sidecar.references.length > 0 ? [...sidecar.references] : [answer];
  return {
    recordId: sidecar?.id ?? String(line),
    line,
    system: record.system?.map((s) => s.text).join('\n') || undefined,
    turns,
    question,
    references,
  };
}

/** Splits items into shards of at most `size` (the last may be smaller). */
export function shardItems<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`shard size must be a positive whole number, got ${size}`);
  const shards: T[][] = [];
  for (let i = 0; i < items.length; i += size) shards.push(items.slice(i, i + size));
  return shards;
}

/** Key of the shard manifest (a JSON array of shards) under a run's artifacts prefix. */
export function evaluationManifestKey(runArtifactsPrefix: string): string {
  return `${runArtifactsPrefix}evaluation/shards/manifest.json`;
}

/** Folder of a run's evaluation answers (one predictions file per shard) under its artifacts prefix. */
export function evaluationPredictionsPrefix(runArtifactsPrefix: string): string {
  return `${runArtifactsPrefix}evaluation/predictions/`;
}

/** Key of one shard's answers (ModelPredictionLine JSONL) under a run's artifacts prefix. */
export function evaluationPredictionsKey(runArtifactsPrefix: string, shardIndex: number): string {
  return `${evaluationPredictionsPrefix(runArtifactsPrefix)}shard-${String(shardIndex).padStart(5, '0')}.jsonl`;
}
