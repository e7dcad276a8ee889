/**
 * The per-record rules that need no I/O: JSON, schema version, system block, message roles
 * and order, content block shapes, image references (format, URI, bucket owner, location).
 * Pure: one line of text in, problems and the facts later checks need out.
 */
import { SCHEMA_VERSION } from '../bedrock-record';
import { DATASET_LIMITS, LLAMA_MODELS, LlamaModelSpec } from '../models/llama-models';
import { describeValue, quoted } from '../display-text';
import { exceedsJsonDepth, isStackOverflow, MAX_RECORD_DEPTH } from '../json-depth';
import { RuleId } from './rules';
import { AllowedImageLocation, describeImageLocations, isAllowedImageLocation } from './image-location';
import { EMPTY_ANSWER_ADVICE, EMPTY_ANSWER_RULE, isEmptyAnswer } from './empty-answer';

/** A problem of one record, before the engine adds file and line. */
export interface RecordProblem {
  readonly rule: RuleId;
  readonly message: string;
}

/** A well-formed image reference of a record. */
export interface ImageReference {
  /** `s3://bucket/key` as written. */
  readonly uri: string;
  readonly bucket: string;
  readonly key: string;
  /** The declared `format` (one of the four Bedrock accepts). */
  readonly declaredFormat: string;
  /** Where it appears, for messages: "message 1, content block 2". */
  readonly position: string;
  /** False when the image must not be read (outside the allowed locations). */
  readonly readable: boolean;
}

/** What the engine learns from one record. */
export interface RecordInspection {
  /** Whether the line was a JSON object (otherwise nothing else was checked). */
  readonly isObject: boolean;
  readonly problems: RecordProblem[];
  /** UTF-8 bytes of every text (system, user and assistant). */
  readonly textBytes: number;
  /** Messages plus the system prompt, each costing chat-template framing tokens. */
  readonly framedMessages: number;
  /** Image blocks in user messages, well-formed or not. */
  readonly imageBlockCount: number;
  /** The well-formed image references (empty for text-only models). */
  readonly images: ImageReference[];
  /** Text of each assistant turn (text blocks joined by a space). */
  readonly answers: string[];
}

/** What the record checks need to know besides the record. */
export interface RecordCheckContext {
  readonly model: LlamaModelSpec;
  /** Account that must own image buckets; unchecked when undefined. */
  readonly expectedAccountId?: string;
  /** Where images may lie; unchecked when undefined. */
  readonly allowedImageLocations?: readonly AllowedImageLocation[];
}

/** Shared empty results (never modified), so records without images allocate no list for them. */
const NO_IMAGES: ImageReference[] = [];
const NO_ANSWERS: string[] = [];
const RECORD_FIELDS = new Set(['schemaVersion', 'system', 'messages']);
const MESSAGE_FIELDS = new Set(['role', 'content']);
const IMAGE_FIELDS = new Set(['format', 'source']);
const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;
const ACCOUNT_ID = /^\d{12}$/;
const FORMAT_HINTS: Record<string, string> = { jpg: 'jpeg', JPG: 'jpeg', JPEG: 'jpeg', PNG: 'png', GIF: 'gif', WEBP: 'webp' };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The only key of an object; undefined when it has none or several. */
function soleKey(value: Record<string, unknown>): string | undefined {
  let only: string | undefined;
  for (const key in value) {
    if (only !== undefined) return undefined;
    only = key;
  }
  return only;
}

/** A value as messages show it: bounded, escaped, never a deep walk (see display-text.ts). */
function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${describeValue(value, 60)}`;
}

function imageModelNames(): string {
  return LLAMA_MODELS.filter((m) => m.supportsImages).map((m) => m.name).join(' or ');
}

/** Where a message is, for messages ("message 2"). Built only when a message needs it: the checks run per record. */
function messageAt(messageIndex: number): string {
  return `message ${messageIndex + 1}`;
}

/** Where a content block is ("message 1, content block 2"). */
function blockAt(messageIndex: number, blockIndex: number): string {
  return `message ${messageIndex + 1}, content block ${blockIndex + 1}`;
}

/** Field names as messages list them: quoted, escaped, at most 10. */
function listKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, 10).map((k) => quoted(k, 60)).join(', ');
  return keys.length > 10 ? `${shown} and ${keys.length - 10} more` : shown;
}

/** The outcome for a record nested too deeply to be checked. */
function tooDeep(problems: ProblemList): RecordInspection {
  addProblem(
    problems,
    'json-too-deep',
    `The record nests lists or objects more than ${MAX_RECORD_DEPTH} levels deep; a Bedrock conversation record needs 8 (record, messages, message, content, block, image, source, s3Location). ` +
      'The line was not checked further: look for a runaway generator or a value wrapped in lists over and over.',
  );
  return { isObject: false, problems, textBytes: 0, framedMessages: 0, imageBlockCount: 0, images: NO_IMAGES, answers: NO_ANSWERS };
}

/** The problems of one record, collected without a closure per record. */
type ProblemList = RecordProblem[];

function addProblem(problems: ProblemList, rule: RuleId, message: string): void {
  problems.push({ rule, message });
}

/** Checks one non-blank line; see the module comment. */
export function inspectRecord(line: string, context: RecordCheckContext): RecordInspection {
  const problems: ProblemList = [];

  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (err) {
    if (isStackOverflow(err)) return tooDeep(problems);
    addProblem(
      problems,
      'json-syntax',
      `The line is not valid JSON (${(err as Error).message}). Each line must hold one complete JSON object: look for a missing quote, comma or brace, or a record split over several lines.`,
    );
    return { isObject: false, problems, textBytes: 0, framedMessages: 0, imageBlockCount: 0, images: NO_IMAGES, answers: NO_ANSWERS };
  }
  // Before anything walks the record: nothing below may recurse into a value nested 20,000 deep.
  if (exceedsJsonDepth(record, MAX_RECORD_DEPTH)) return tooDeep(problems);
  if (!isPlainObject(record)) {
    addProblem(problems, 'record-not-object', `The line holds ${describeJson(record)}, not a record. Each line must be one JSON object {"schemaVersion": ..., "messages": [...]}.`);
    return { isObject: false, problems, textBytes: 0, framedMessages: 0, imageBlockCount: 0, images: NO_IMAGES, answers: NO_ANSWERS };
  }

  for (const field in record) {
    if (!RECORD_FIELDS.has(field)) {
      addProblem(problems, 'unknown-field', `The record has a field ${quoted(field, 60)} that the Bedrock conversation format does not define; remove it (allowed: schemaVersion, system, messages).`);
    }
  }

  if (record.schemaVersion !== SCHEMA_VERSION) {
    addProblem(
      problems,
      'schema-version',
      record.schemaVersion === undefined
        ? `The record has no schemaVersion; add "schemaVersion": "${SCHEMA_VERSION}".`
        : `schemaVersion is ${describeValue(record.schemaVersion, 60)}; it must be "${SCHEMA_VERSION}".`,
    );
  }

  let textBytes = 0;
  let framedMessages = 0;
  if (record.system !== undefined) {
    const system = record.system;
    if (!Array.isArray(system)) {
      addProblem(problems, 'system-shape', `system is ${describeJson(system)}; it must be a list of text blocks, e.g. "system": [{"text": "You answer questions about charts."}].`);
    } else {
      // Bedrock documents one system prompt per record, and AWS's validator for these models
      // (amazon-bedrock-samples, meta-llama/dataset_validation) rejects a second block.
      if (system.length > 1) {
        addProblem(problems, 'system-too-many', `system holds ${system.length} blocks; Bedrock takes one system prompt per record: join them into one, e.g. "system": [{"text": "<first>\\n<second>"}].`);
      }
      for (let index = 0; index < system.length; index++) {
        const block: unknown = system[index];
        if (!isPlainObject(block) || typeof block.text !== 'string' || soleKey(block) !== 'text') {
          addProblem(problems, 'system-shape', `system block ${index + 1} must be exactly {"text": "<instructions>"}, found ${describeJson(block)}.`);
        } else {
          textBytes += Buffer.byteLength(block.text, 'utf8');
        }
      }
      if (system.length > 0) framedMessages++;
    }
  }

  const messages = record.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    addProblem(
      problems,
      'messages-shape',
      messages === undefined
        ? 'The record has no messages; add "messages": [{"role": "user", ...}, {"role": "assistant", ...}].'
        : `messages is ${Array.isArray(messages) ? 'an empty list' : describeJson(messages)}; it must be a list of at least a user and an assistant message.`,
    );
    return { isObject: true, problems, textBytes, framedMessages, imageBlockCount: 0, images: NO_IMAGES, answers: NO_ANSWERS };
  }

  const answers: string[] = [];
  let images = NO_IMAGES;
  let imageBlockCount = 0;
  const roles: (string | undefined)[] = [];

  for (let messageIndex = 0; messageIndex < messages.length; messageIndex++) {
    const message: unknown = messages[messageIndex];
    if (!isPlainObject(message)) {
      addProblem(problems, 'messages-shape', `${messageAt(messageIndex)} is ${describeJson(message)}; each message must be an object {"role": ..., "content": [...]}.`);
      roles.push(undefined);
      continue;
    }
    framedMessages++;
    for (const field in message) {
      if (!MESSAGE_FIELDS.has(field)) addProblem(problems, 'unknown-field', `${messageAt(messageIndex)} has a field ${quoted(field, 60)} that messages do not have; remove it (allowed: role, content).`);
    }
    const role = message.role;
    if (role !== 'user' && role !== 'assistant') {
      addProblem(problems, 'role-invalid', `${messageAt(messageIndex)} has role ${describeValue(role, 60)}; use "user" or "assistant" (put system instructions in the record's "system" field).`);
      roles.push(undefined);
    } else {
      roles.push(role);
    }
    const content = message.content;
    if (!Array.isArray(content)) {
      addProblem(problems, 'messages-shape', `${messageAt(messageIndex)} has no content list; write "content": [{"text": "..."}].`);
      continue;
    }
    if (content.length === 0) {
      addProblem(problems, 'content-empty', `${messageAt(messageIndex)} has an empty content list; give it at least one {"text": "..."} block.`);
      continue;
    }
    let answer: string | undefined;
    for (let blockIndex = 0; blockIndex < content.length; blockIndex++) {
      const block: unknown = content[blockIndex];
      const key = isPlainObject(block) ? soleKey(block) : undefined;
      if (key === 'text') {
        const text = (block as Record<string, unknown>).text;
        if (typeof text !== 'string') {
          addProblem(problems, 'content-block-shape', `${blockAt(messageIndex, blockIndex)}: "text" is ${describeJson(text)}; it must be a string.`);
          continue;
        }
        textBytes += Buffer.byteLength(text, 'utf8');
        if (role === 'assistant') answer = answer === undefined ? text : `${answer} ${text}`;
        continue;
      }
      if (key === 'image') {
        if (role === 'assistant') {
          addProblem(problems, 'assistant-non-text', `${blockAt(messageIndex, blockIndex)} is an image; assistant messages may hold text only. Move the image to the user message before it.`);
          continue;
        }
        imageBlockCount++;
        if (!context.model.supportsImages) continue; // reported once per record below
        const reference = checkImageBlock((block as Record<string, unknown>).image, blockAt(messageIndex, blockIndex), context, problems);
        if (reference) (images === NO_IMAGES ? (images = []) : images).push(reference);
        continue;
      }
      const keys = isPlainObject(block) ? Object.keys(block) : [];
      if (role === 'assistant' && isPlainObject(block) && !keys.includes('text')) {
        addProblem(problems, 'assistant-non-text', `${blockAt(messageIndex, blockIndex)} has ${listKeys(keys) || 'nothing'}; assistant messages may hold text blocks {"text": "..."} only.`);
        continue;
      }
      const hint = isPlainObject(block) && 'type' in block ? ' Bedrock does not use a "type" field: write {"text": "..."} or {"image": {...}}.' : '';
      addProblem(problems, 'content-block-shape', `${blockAt(messageIndex, blockIndex)} is ${describeJson(block)} with fields ${listKeys(keys) || 'none'}; it must be exactly {"text": "..."} or {"image": {...}}.${hint}`);
    }
    if (role === 'assistant') answers.push(answer ?? '');
  }

  checkRoleOrder(roles, problems);

  if (imageBlockCount > 0 && !context.model.supportsImages) {
    addProblem(
      problems,
      'images-not-supported',
      `The record has ${imageBlockCount} image(s), but ${context.model.name} accepts text only. Remove the images, or fine-tune ${imageModelNames()}.`,
    );
  }
  if (imageBlockCount > 1 && context.model.supportsImages) {
    addProblem(problems, 'multiple-images', `The record has ${imageBlockCount} images; the published best practice is one image per example. Split it into one record per image if you can.`);
  }
  answers.forEach((answer, index) => {
    if (isEmptyAnswer(answer)) {
      addProblem(problems, EMPTY_ANSWER_RULE, `Assistant answer ${index + 1} is empty; ${EMPTY_ANSWER_ADVICE}.`);
    }
  });

  return { isObject: true, problems, textBytes, framedMessages, imageBlockCount, images, answers };
}

function checkRoleOrder(roles: readonly (string | undefined)[], problems: ProblemList): void {
  if (roles[0] !== undefined && roles[0] !== 'user') {
    addProblem(problems, 'first-role-not-user', `The conversation starts with an ${roles[0]} message; it must start with a user message.`);
  }
  for (let i = 1; i < roles.length; i++) {
    if (roles[i] !== undefined && roles[i] === roles[i - 1]) {
      addProblem(
        problems,
        'roles-not-alternating',
        `Messages ${i} and ${i + 1} are both ${roles[i]} messages; user and assistant must alternate. Merge them into one message or add the missing turn.`,
      );
      break; // one report per record is enough to fix it
    }
  }
  const last = roles[roles.length - 1];
  if (last !== undefined && last !== 'assistant') {
    addProblem(problems, 'last-role-not-assistant', `The conversation ends with a ${last} message; it must end with the assistant's answer.`);
  }
}

function checkImageBlock(
  image: unknown,
  where: string,
  context: RecordCheckContext,
  problems: ProblemList,
): ImageReference | undefined {
  const shape = '{"format": "png", "source": {"s3Location": {"uri": "s3://bucket/key.png", "bucketOwner": "111122223333"}}}';
  if (!isPlainObject(image)) {
    addProblem(problems, 'image-source-shape', `${where}: "image" is ${describeJson(image)}; write ${shape}.`);
    return undefined;
  }
  for (const field in image) {
    if (!IMAGE_FIELDS.has(field)) addProblem(problems, 'unknown-field', `${where}: the image has a field ${quoted(field, 60)} that images do not have; remove it (allowed: format, source).`);
  }
  let formatOk = true;
  const format = image.format;
  if (typeof format !== 'string' || !DATASET_LIMITS.imageFormats.includes(format)) {
    const hint = typeof format === 'string' && FORMAT_HINTS[format] ? ` Write "${FORMAT_HINTS[format]}".` : '';
    addProblem(problems, 'image-format-unsupported', `${where}: image format ${describeValue(format, 60)} is not supported; use one of ${DATASET_LIMITS.imageFormats.join(', ')}.${hint}`);
    formatOk = false;
  }
  const source = image.source;
  if (!isPlainObject(source) || !isPlainObject(source.s3Location)) {
    const hint = isPlainObject(source) && 'bytes' in source ? ' Training data cannot embed image bytes: upload the image to S3 and reference it.' : '';
    addProblem(problems, 'image-source-shape', `${where}: the image needs "source": {"s3Location": {"uri": "s3://...", "bucketOwner": "..."}}.${hint}`);
    return undefined;
  }
  const s3Location = source.s3Location;
  const uri = s3Location.uri;
  const match = typeof uri === 'string' ? S3_URI.exec(uri) : null;
  if (!match) {
    addProblem(problems, 'image-source-shape', `${where}: s3Location.uri is ${describeJson(uri)}; it must be an S3 URI such as "s3://my-bucket/images/0001.png".`);
    return undefined;
  }
  const [, bucket, key] = match;
  const owner = s3Location.bucketOwner;
  if (owner === undefined) {
    addProblem(
      problems,
      'image-bucket-owner-missing',
      `${where}: s3Location has no bucketOwner; add "bucketOwner": "${context.expectedAccountId ?? '<12-digit account id that owns the bucket>'}".`,
    );
  } else if (typeof owner !== 'string' || !ACCOUNT_ID.test(owner)) {
    addProblem(problems, 'image-bucket-owner-mismatch', `${where}: bucketOwner ${describeValue(owner, 60)} is not a 12-digit AWS account id (as a string).`);
  } else if (context.expectedAccountId !== undefined && owner !== context.expectedAccountId) {
    addProblem(
      problems,
      'image-bucket-owner-mismatch',
      `${where}: bucketOwner is ${owner}, but the data bucket belongs to account ${context.expectedAccountId}; set "bucketOwner": "${context.expectedAccountId}" (or copy the image into a bucket of that account).`,
    );
  }
  let readable = true;
  const allowed = context.allowedImageLocations;
  if (allowed !== undefined && !isAllowedImageLocation(bucket, key, allowed)) {
    addProblem(
      problems,
      'image-location',
      `${where}: ${quoted(uri as string, 200)} lies outside the locations the customization role may read (${describeImageLocations(allowed) || 'none'}). Copy the image there and update the URI.`,
    );
    readable = false;
  }
  if (!formatOk) return undefined;
  return { uri: uri as string, bucket, key, declaredFormat: format as string, position: where, readable };
}
