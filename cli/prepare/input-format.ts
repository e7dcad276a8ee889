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
  if (/\.(csv|tsv|txt)$/i.test(fileName)) return true;
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

/** A dataset in a format prepare converts, found where Bedrock conversation JSONL was expected. */
export interface ForeignDataset {
  /** What the file is, for the message, e.g. "a LLaVA JSON array". */
  readonly what: string;
  /** The --format prepare needs, when the format is known. */
  readonly format?: InputFormat;
  /** What to do instead of prepare (an annotations file, an array of Bedrock records). */
  readonly advice?: string;
}

/** How much of a file {@link detectForeignDataset} looks at. */
export const FOREIGN_DATASET_HEAD_BYTES = 64 * 1024;

/**
 * Tells, from a file's name and first bytes, whether it is a dataset prepare converts (LLaVA,
 * VQAv2, ChartQA, CSV) or a JSON array, rather than JSONL with one Bedrock record per line; such
 * a file would otherwise fail validation on every line with json-syntax or messages-shape.
 * @returns undefined when the file may well be Bedrock JSONL (the validator says the rest).
 */
export function detectForeignDataset(fileName: string, head: string): ForeignDataset | undefined {
  if (/\.(csv|tsv)$/i.test(fileName)) return { what: 'a CSV file', format: 'csv' };
  const text = head.replace(/^\uFEFF/, '').trimStart();
  const firstLineEnd = text.search(/\r?\n/);
  const firstLine = firstLineEnd < 0 ? text : text.slice(0, firstLineEnd);
  if (text.startsWith('{') && firstLineEnd >= 0) {
    let first: unknown;
    try {
      first = JSON.parse(firstLine);
    } catch {
      first = undefined;
    }
    if (isJsonObject(first)) {
      // A complete object on the first line: JSON Lines. Bedrock records are the validator's business.
      if ('messages' in first || 'schemaVersion' in first) return undefined;
      const format = formatOfExample(first);
      if (format) return { what: `${FORMAT_NAMES[format]} JSON Lines`, format };
      if (Array.isArray(first.questions)) return { what: 'a VQAv2 questions file', format: 'vqav2' };
      if (Array.isArray(first.annotations)) return annotationsFile();
      return undefined;
    }
  }
  const keyed = (key: string) => new RegExp(`"${key}"\\s*:`).test(text);
  if (text.startsWith('[')) {
    if (keyed('conversations')) return { what: 'a LLaVA JSON array', format: 'llava' };
    if (keyed('imgname') && keyed('query')) return { what: 'a ChartQA JSON array', format: 'chartqa' };
    if (keyed('messages')) {
      return { what: 'a JSON array of records', advice: "Bedrock reads one record per line (JSON Lines): write each array item on its own line, e.g. jq -c '.[]'" };
    }
    return { what: 'a JSON array', advice: 'Bedrock reads JSON Lines: one {"schemaVersion": ..., "messages": [...]} record per line' };
  }
  // One JSON document (pretty-printed, or a single line longer than the head): VQAv2 ships those.
  if (text.startsWith('{')) {
    if (/"questions"\s*:\s*\[/.test(text)) return { what: 'a VQAv2 questions file', format: 'vqav2' };
    if (/"annotations"\s*:\s*\[/.test(text)) return annotationsFile();
    if (firstLine.trim() === '{') {
      if (keyed('conversations')) return { what: 'a pretty-printed LLaVA JSON document', format: 'llava' };
      if (keyed('messages')) return { what: 'a pretty-printed JSON record', advice: 'Bedrock reads one record per line: write each record on a single line (e.g. jq -c .)' };
    }
  }
  return undefined;
}

const FORMAT_NAMES: Record<InputFormat, string> = { llava: 'LLaVA', vqav2: 'VQAv2', chartqa: 'ChartQA', csv: 'CSV' };

function formatOfExample(example: Record<string, unknown>): InputFormat | undefined {
  if ('conversations' in example) return 'llava';
  if ('imgname' in example && 'query' in example) return 'chartqa';
  return undefined;
}

function annotationsFile(): ForeignDataset {
  return {
    what: 'a VQAv2 annotations file',
    format: 'vqav2',
    advice: 'prepare reads it beside the questions file: llama-finetune prepare <questions.json> --format vqav2 --annotations <this file> --bucket <bucket> --out <dir> --account <account id>',
  };
}
