/**
 * Every rule the dataset validation engine checks, in one table. Rule ids are stable,
 * kebab-case and appear in reports, so scripts and people can search for them; never rename
 * one, add a new id instead.
 *
 * | id | severity | scope | what it checks |
 * |---|---|---|---|
 * | blank-line | error | line | a line is empty or only whitespace; every line must be one record |
 * | line-too-long | error | line | a line is longer than the engine reads (8 MiB by default) |
 * | json-syntax | error | line | the line is not valid JSON |
 * | invalid-utf8 | error | line | the line's bytes are not valid UTF-8 (first bad byte given) |
 * | json-too-deep | error | line | lists/objects nested deeper than 32 levels (the format needs 8) |
 * | record-not-object | error | line | the line is JSON but not an object |
 * | schema-version | error | line | `schemaVersion` is missing or not "bedrock-conversation-2024" |
 * | unknown-field | warning | line | a field the format does not define (record, message or image) |
 * | system-shape | error | line | `system` is not a list of `{"text": "..."}` blocks |
 * | system-too-many | error | line | `system` holds more than one block (Bedrock takes one system prompt per record) |
 * | messages-shape | error | line | `messages` is missing, not a list, empty, or holds a non-object / a message without a `content` list |
 * | role-invalid | error | line | a message role other than "user" or "assistant" |
 * | first-role-not-user | error | line | the first message is not from the user |
 * | roles-not-alternating | error | line | two consecutive messages have the same role |
 * | last-role-not-assistant | error | line | the last message is not from the assistant |
 * | content-empty | error | line | a message has no content blocks |
 * | content-block-shape | error | line | a content block is not exactly `{"text": string}` or `{"image": {...}}` |
 * | assistant-non-text | error | line | an assistant message holds something other than text |
 * | images-not-supported | error | line | a record has images but the model is text only (1B, 3B) |
 * | image-format-unsupported | error | line | `image.format` is not png, jpeg, gif or webp |
 * | image-source-shape | error | line | `image.source.s3Location.uri` is missing or not an s3:// URI |
 * | image-location | error | line | the image lies outside the buckets/prefixes the customization role may read |
 * | image-bucket-owner-missing | error | line | `s3Location.bucketOwner` is missing |
 * | image-bucket-owner-mismatch | error | line | `bucketOwner` is not a 12-digit account id or not the expected account |
 * | image-not-found | error | line | the image object does not exist |
 * | image-access-denied | error | line | the image cannot be read (access denied) |
 * | image-unreadable | error | line | the bytes are not a PNG/JPEG/GIF/WebP image or its header is broken |
 * | image-truncated | error | line | the image file is cut short: no PNG IEND chunk, JPEG end-of-image marker or GIF trailer at its end, or a WebP smaller than its RIFF size |
 * | image-format-mismatch | error | line | `image.format` differs from the format of the bytes |
 * | image-too-large | error | line | the image file is larger than 10 MB |
 * | image-dimensions | error | line | width or height outside 10..8192 pixels |
 * | record-too-many-tokens | error | line | estimated input + output tokens above the model's limit |
 * | file-not-found | error | file | a data file named by the run does not exist |
 * | file-empty | error | file | a data file holds no records |
 * | record-count-too-low | error | dataset | training + validation records fewer than 100 |
 * | record-count-too-high | error | dataset | training + validation records more than 10,000 |
 * | byte-order-mark | warning | file | the file starts with a UTF-8 byte order mark |
 * | answer-empty | warning | line | an assistant answer is empty or only whitespace |
 * | multiple-images | warning | line | a record has more than one image |
 * | duplicate-record | warning | line | a line repeats an earlier line of the same file exactly |
 * | duplicate-across-files | warning | line | a line repeats a line of another file (e.g. a test record also in training) |
 * | answer-length-mixed | warning | dataset | one-word answers mixed with sentence answers |
 * | answer-casing-mixed | warning | dataset | the same short answer written in different casing ("yes" / "Yes") |
 * | answer-punctuation-mixed | warning | dataset | short answers sometimes end with a period, sometimes not |
 * | answer-number-format-mixed | warning | dataset | numbers written in different styles (1,000 / 1000, 5% / 5 percent, 2 / two) |
 * | few-records | warning | dataset | fewer than 500 training + validation records |
 * | text-only-share | warning | dataset | most records of an image model's dataset have no image |
 * | images-not-checked | warning | dataset | image files were not read (no image source configured) |
 *
 * Empty answers are a warning, not an error: Bedrock accepts them, but a model trained on
 * them learns to answer with nothing, which is rarely what anybody wants. `prepare` follows
 * the same policy (empty-answer.ts).
 */

/** How bad a problem is: errors make the dataset invalid, warnings do not. */
export type Severity = 'error' | 'warning';

/** Where a rule applies: one line, one file, or the whole dataset. */
export type RuleScope = 'line' | 'file' | 'dataset';

/** Description of one rule. */
export interface RuleDefinition {
  readonly severity: Severity;
  readonly scope: RuleScope;
  /** One line saying what the rule checks. */
  readonly title: string;
}

/** The rule table (see the module comment for the same table in Markdown). */
export const RULES = {
  'blank-line': { severity: 'error', scope: 'line', title: 'a line is empty; every line must be one record' },
  'line-too-long': { severity: 'error', scope: 'line', title: 'a line is too long to be a record' },
  'json-syntax': { severity: 'error', scope: 'line', title: 'the line is not valid JSON' },
  'invalid-utf8': { severity: 'error', scope: 'line', title: 'the line is not valid UTF-8' },
  'json-too-deep': { severity: 'error', scope: 'line', title: 'the record nests lists or objects too deeply' },
  'record-not-object': { severity: 'error', scope: 'line', title: 'the record is not a JSON object' },
  'schema-version': { severity: 'error', scope: 'line', title: 'schemaVersion must be "bedrock-conversation-2024"' },
  'unknown-field': { severity: 'warning', scope: 'line', title: 'a field the record format does not define' },
  'system-shape': { severity: 'error', scope: 'line', title: 'system must be a list of {"text": ...} blocks' },
  'system-too-many': { severity: 'error', scope: 'line', title: 'system must hold one block: one system prompt per record' },
  'messages-shape': { severity: 'error', scope: 'line', title: 'messages must be a non-empty list of {role, content} objects' },
  'role-invalid': { severity: 'error', scope: 'line', title: 'a role must be "user" or "assistant"' },
  'first-role-not-user': { severity: 'error', scope: 'line', title: 'the conversation must start with a user message' },
  'roles-not-alternating': { severity: 'error', scope: 'line', title: 'user and assistant messages must alternate' },
  'last-role-not-assistant': { severity: 'error', scope: 'line', title: 'the conversation must end with an assistant message' },
  'content-empty': { severity: 'error', scope: 'line', title: 'a message must have at least one content block' },
  'content-block-shape': { severity: 'error', scope: 'line', title: 'a content block must be {"text": ...} or {"image": ...}' },
  'assistant-non-text': { severity: 'error', scope: 'line', title: 'assistant messages may hold text only' },
  'images-not-supported': { severity: 'error', scope: 'line', title: 'the model accepts text only' },
  'image-format-unsupported': { severity: 'error', scope: 'line', title: 'image format must be png, jpeg, gif or webp' },
  'image-source-shape': { severity: 'error', scope: 'line', title: 'an image needs source.s3Location.uri = s3://bucket/key' },
  'image-location': { severity: 'error', scope: 'line', title: 'the image lies where the customization role may not read' },
  'image-bucket-owner-missing': { severity: 'error', scope: 'line', title: 'an image needs s3Location.bucketOwner' },
  'image-bucket-owner-mismatch': { severity: 'error', scope: 'line', title: 'bucketOwner must be the account that owns the bucket' },
  'image-not-found': { severity: 'error', scope: 'line', title: 'the image object does not exist' },
  'image-access-denied': { severity: 'error', scope: 'line', title: 'the image cannot be read' },
  'image-unreadable': { severity: 'error', scope: 'line', title: 'the image bytes are not a readable PNG, JPEG, GIF or WebP' },
  'image-truncated': { severity: 'error', scope: 'line', title: 'the image file is cut short (incomplete upload or copy)' },
  'image-format-mismatch': { severity: 'error', scope: 'line', title: 'the declared format differs from the image bytes' },
  'image-too-large': { severity: 'error', scope: 'line', title: 'an image may be at most 10 MB' },
  'image-dimensions': { severity: 'error', scope: 'line', title: 'image width and height must be 10..8192 pixels' },
  'record-too-many-tokens': { severity: 'error', scope: 'line', title: "the record exceeds the model's token limit" },
  'file-not-found': { severity: 'error', scope: 'file', title: 'the data file does not exist' },
  'file-empty': { severity: 'error', scope: 'file', title: 'the file holds no records' },
  'record-count-too-low': { severity: 'error', scope: 'dataset', title: 'training + validation need at least 100 records' },
  'record-count-too-high': { severity: 'error', scope: 'dataset', title: 'training + validation may hold at most 10,000 records' },
  'byte-order-mark': { severity: 'warning', scope: 'file', title: 'the file starts with a byte order mark' },
  'answer-empty': { severity: 'warning', scope: 'line', title: 'an assistant answer is empty' },
  'multiple-images': { severity: 'warning', scope: 'line', title: 'a record has more than one image' },
  'duplicate-record': { severity: 'warning', scope: 'line', title: 'the record repeats an earlier record' },
  'duplicate-across-files': { severity: 'warning', scope: 'line', title: 'the record also appears in another file' },
  'answer-length-mixed': { severity: 'warning', scope: 'dataset', title: 'one-word and sentence answers are mixed' },
  'answer-casing-mixed': { severity: 'warning', scope: 'dataset', title: 'the same answer is written in different casing' },
  'answer-punctuation-mixed': { severity: 'warning', scope: 'dataset', title: 'short answers end with and without a period' },
  'answer-number-format-mixed': { severity: 'warning', scope: 'dataset', title: 'numbers are written in different styles' },
  'few-records': { severity: 'warning', scope: 'dataset', title: 'few training examples' },
  'text-only-share': { severity: 'warning', scope: 'dataset', title: 'most records have no image' },
  'images-not-checked': { severity: 'warning', scope: 'dataset', title: 'image files were not read' },
} as const satisfies Record<string, RuleDefinition>;

/** A stable rule id. */
export type RuleId = keyof typeof RULES;

/** Every rule id, in table order. */
export const RULE_IDS = Object.keys(RULES) as RuleId[];

/** The severity of a rule. */
export function severityOf(rule: RuleId): Severity {
  return RULES[rule].severity;
}
