/**
 * Token estimates for one training record, without a tokenizer.
 *
 * Text: ceil(UTF-8 bytes / 4). Llama 3's tokenizer is a byte-level BPE with a 128k
 * vocabulary; English prose averages about 4 bytes (characters) per token. Counting bytes
 * rather than characters or words keeps the estimate honest for scripts without spaces and
 * with multi-byte characters (Chinese, Japanese, Hindi...), where a words x 1.3 rule would
 * count a whole sentence as one "word" and a characters / 4 rule would undercount threefold.
 * It is an estimate: the check exists to catch records that are clearly too long, and the
 * limit is far above typical visual question answering records.
 *
 * Each message also costs the chat template's framing (role header and end-of-turn tokens),
 * counted as {@link MESSAGE_OVERHEAD_TOKENS}, plus {@link RECORD_OVERHEAD_TOKENS} per record.
 *
 * Images: Bedrock's formula, `estimateImageTokens` in the model catalogue.
 */
import { estimateImageTokens } from '../models/llama-models';

/** Framing tokens per message: start header, role, end header, blank line, end of turn. */
export const MESSAGE_OVERHEAD_TOKENS = 5;

/** Tokens every record costs once (begin of text). */
export const RECORD_OVERHEAD_TOKENS = 1;

/** Average UTF-8 bytes per token assumed for text. */
export const BYTES_PER_TOKEN = 4;

/** The most an image can cost by Bedrock's formula (2 x 2 tiles); used when its size is unknown. */
export const MAX_IMAGE_TOKENS = estimateImageTokens(8192, 8192);

/** Estimated tokens of a text given its UTF-8 length. */
export function estimateTextTokensFromBytes(utf8Bytes: number): number {
  return Math.ceil(utf8Bytes / BYTES_PER_TOKEN);
}

/** Estimated tokens of a text. */
export function estimateTextTokens(text: string): number {
  return estimateTextTokensFromBytes(Buffer.byteLength(text, 'utf8'));
}

/** Estimated tokens of a record's text and framing (images excluded). */
export function estimateRecordTextTokens(textUtf8Bytes: number, messageCount: number): number {
  return estimateTextTokensFromBytes(textUtf8Bytes) + messageCount * MESSAGE_OVERHEAD_TOKENS + RECORD_OVERHEAD_TOKENS;
}

export { estimateImageTokens };
