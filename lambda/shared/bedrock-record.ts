/**
 * Types of one training record in Bedrock's conversation format (schemaVersion
 * "bedrock-conversation-2024"), as written by `llama-finetune prepare` and checked by the
 * validation engine. See README.md "Dataset format".
 */
export const SCHEMA_VERSION = 'bedrock-conversation-2024';

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp';

export interface TextBlock {
  readonly text: string;
}

export interface ImageBlock {
  readonly image: {
    readonly format: ImageFormat;
    readonly source: { readonly s3Location: { readonly uri: string; readonly bucketOwner?: string } };
  };
}

export type ContentBlock = TextBlock | ImageBlock;

export interface ConversationMessage {
  readonly role: 'user' | 'assistant';
  readonly content: readonly ContentBlock[];
}

export interface ConversationRecord {
  readonly schemaVersion: typeof SCHEMA_VERSION;
  readonly system?: readonly TextBlock[];
  readonly messages: readonly ConversationMessage[];
}
