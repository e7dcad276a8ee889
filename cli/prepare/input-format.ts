/**
 * The dataset formats prepare reads, and how a format is told from a file's content when
 * --format is not given. Pure.
 */
import { JsonInput } from './json-input';
import { isJsonObject } from './converters/field-readers';

/** Formats prepare converts. */
export type InputFormat = 'llava' | 'vqav2' | 'chartqa' | 'csv';

/** Every format, for usage text and checks. */
export const INPUT_FORMATS: readonly InputFormat[] = ['llava', 'vqav2', 'chartqa', 'csv'];

/** Whether a file should be read as CSV rather than JSON: by extension, else by its first character. */
export function looksLikeCsv(fileName: string, text: string): boolean {
  if (/\.(csv|txt)$/i.test(fileName)) return true;
  if (/\.(json|jsonl|ndjson)$/i.test(fileName)) return false;
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  return first !== '[' && first !== '{';
}

/**
 * Tells the format of parsed JSON input from the fields its first example has.
 * @returns the format, or a sentence explaining why it could not be told.
 */
export function detectJsonFormat(input: JsonInput): { format: InputFormat } | { reason: string } {
  if (input.kind === 'object') {
    if (Array.isArray(input.value.questions)) return { format: 'vqav2' };
    if ('conversations' in input.value) return { format: 'llava' };
    if ('imgname' in input.value && 'query' in input.value) return { format: 'chartqa' };
    if (Array.isArray(input.value.annotations)) {
      return { reason: 'this is a VQAv2 annotations file; pass the questions file as the input and this file with --annotations' };
    }
    return { reason: `it is a JSON object with fields ${Object.keys(input.value).slice(0, 8).join(', ') || '(none)'}, not a known dataset` };
  }
  const first = input.items.find((item) => isJsonObject(item.value))?.value as Record<string, unknown> | undefined;
  if (!first) return { reason: 'it holds no JSON objects' };
  if ('conversations' in first) return { format: 'llava' };
  if ('imgname' in first && 'query' in first) return { format: 'chartqa' };
  return { reason: `its first example has fields ${Object.keys(first).slice(0, 8).join(', ') || '(none)'}; LLaVA examples have "conversations", ChartQA examples "imgname", "query" and "label"` };
}
