/**
 * LLaVA-Instruct style data: a JSON array (or JSON Lines) of
 * `{id, image?, conversations: [{from: 'human'|'gpt', value}]}`. The human turns may hold the
 * "<image>" placeholder, which is removed (Bedrock places the image block itself). Multi-turn
 * conversations are kept; examples without an image become text-only examples.
 */
import { JsonItem } from '../json-input';
import { ConversionProblem, ConversionResult, ExampleTurn, SourceExample } from '../source-example';
import { isEmptyAnswer } from '../../../lambda/shared/validation/empty-answer';
import { describeJsonType, isJsonObject } from './field-readers';

const USER_SPEAKERS = new Set(['human', 'user']);
const ASSISTANT_SPEAKERS = new Set(['gpt', 'assistant']);
const IMAGE_PLACEHOLDER = /<image>/g;

/** Converts LLaVA-style items. Pure. */
export function convertLlava(items: readonly JsonItem[]): ConversionResult {
  const examples: SourceExample[] = [];
  const problems: ConversionProblem[] = [];
  for (const item of items) {
    const record = item.value;
    if (!isJsonObject(record)) {
      problems.push({ location: item.location, rule: 'example-object', message: `must be an object with "conversations", got ${describeJsonType(record)}` });
      continue;
    }
    const id = typeof record.id === 'string' || typeof record.id === 'number' ? String(record.id) : undefined;
    // Messages cite the example's own id beside its position.
    const location = id !== undefined ? { ...item.location, id } : item.location;
    const problem = (rule: string, message: string) => problems.push({ location, rule, message });

    const image = readImage(record.image);
    if ('problem' in image) {
      problem(image.rule, image.problem);
      continue;
    }

    const turns = readTurns(record.conversations);
    if ('problem' in turns) {
      problem(turns.rule, turns.problem);
      continue;
    }
    examples.push({ location, id, image: image.value, turns: turns.value });
  }
  return { examples, problems };
}

type Read<T> = { value: T } | { rule: string; problem: string };

function readImage(raw: unknown): Read<string | undefined> {
  if (raw === undefined || raw === null || raw === '') return { value: undefined };
  // Some LLaVA variants wrap the image in a list; Bedrock records take one image each.
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length > 1) {
    return { rule: 'one-image', problem: `has ${list.length} images; Bedrock records take one image each, so split the example or keep one image` };
  }
  if (list.length === 0) return { value: undefined };
  if (typeof list[0] !== 'string' || list[0].trim() === '') {
    return { rule: 'image-path', problem: `"image" must be a file path relative to the image folder, got ${describeJsonType(list[0])}` };
  }
  return { value: list[0].trim() };
}

function readTurns(raw: unknown): Read<ExampleTurn[]> {
  if (!Array.isArray(raw) || raw.length === 0) {
    return { rule: 'conversations', problem: `"conversations" must be a non-empty array of {from, value}, got ${describeJsonType(raw)}` };
  }
  const turns: ExampleTurn[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const question = readTurn(raw[i], i, USER_SPEAKERS, 'human');
    if ('problem' in question) return question;
    if (i + 1 >= raw.length) {
      return {
        rule: 'ends-with-assistant',
        problem: `conversations[${i}] is a human turn with no answer after it; a Bedrock conversation ends with the assistant, so add the "gpt" answer or drop the last turn`,
      };
    }
    const answer = readTurn(raw[i + 1], i + 1, ASSISTANT_SPEAKERS, 'gpt');
    if ('problem' in answer) return answer;
    turns.push({ question: question.value, answer: answer.value });
  }
  return { value: turns };
}

function readTurn(raw: unknown, index: number, speakers: ReadonlySet<string>, expected: string): Read<string> {
  const where = `conversations[${index}]`;
  if (!isJsonObject(raw)) return { rule: 'turn-object', problem: `${where} must be an object {from, value}, got ${describeJsonType(raw)}` };
  const from = typeof raw.from === 'string' ? raw.from.toLowerCase() : undefined;
  if (!from || !speakers.has(from)) {
    return {
      rule: 'alternating-turns',
      problem: `${where} has from=${JSON.stringify(raw.from)} where a "${expected}" turn belongs; turns must alternate human, gpt, human, gpt, ...`,
    };
  }
  if (typeof raw.value !== 'string') return { rule: 'turn-text', problem: `${where}.value must be text, got ${describeJsonType(raw.value)}` };
  const text = raw.value.replace(IMAGE_PLACEHOLDER, '').trim();
  // An empty answer is kept (a warning, as validate has it: empty-answer.ts); an empty question is not.
  if (expected === 'gpt' && isEmptyAnswer(text)) return { value: '' };
  if (text === '') return { rule: 'turn-text', problem: `${where}.value is empty${raw.value.includes('<image>') ? ' once "<image>" is removed' : ''}; every turn needs text` };
  return { value: text };
}
