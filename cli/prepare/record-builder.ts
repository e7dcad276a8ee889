/**
 * Turns a {@link SourceExample} into one Bedrock conversation record. Pure.
 *
 * The image goes into the first user message after its text, as in Bedrock's documented example;
 * the prompt template wraps every question, so multi-turn examples are phrased consistently.
 */
import { ContentBlock, ConversationMessage, ConversationRecord, ImageFormat, SCHEMA_VERSION } from '../../lambda/shared/bedrock-record';
import { PromptTemplate } from './prompt-template';
import { SourceExample } from './source-example';

/** Where a record's image lives in S3 and what it really is. */
export interface RecordImage {
  readonly uri: string;
  readonly format: ImageFormat;
  readonly bucketOwner?: string;
}

/** Text added to every record. */
export interface RecordText {
  readonly system?: string;
  readonly promptTemplate?: PromptTemplate;
}

/** Builds the record for one example. */
export function buildConversationRecord(example: SourceExample, image: RecordImage | undefined, text: RecordText): ConversationRecord {
  const messages: ConversationMessage[] = [];
  example.turns.forEach((turn, index) => {
    const question = text.promptTemplate ? text.promptTemplate.apply(turn.question) : turn.question;
    const content: ContentBlock[] = [{ text: question }];
    if (index === 0 && image) {
      const s3Location = image.bucketOwner ? { uri: image.uri, bucketOwner: image.bucketOwner } : { uri: image.uri };
      content.push({ image: { format: image.format, source: { s3Location } } });
    }
    messages.push({ role: 'user', content });
    messages.push({ role: 'assistant', content: [{ text: turn.answer }] });
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    ...(text.system !== undefined ? { system: [{ text: text.system }] } : {}),
    messages,
  };
}
