/**
 * Builds the Converse request for one evaluation item: the same prompt for the base and the
 * fine-tuned model, deterministic settings (temperature 0), images as bytes.
 */
import type { ContentBlock, ConverseCommandInput, Message } from '@aws-sdk/client-bedrock-runtime';
import { EvaluationItem } from './test-records';

/** Reads an image's bytes given its s3:// URI. */
export type ImageReader = (uri: string) => Promise<Uint8Array>;

/** The Converse input for `modelId` (an inference profile id or a provisioned model ARN). */
export async function converseInputFor(item: EvaluationItem, modelId: string, maxTokens: number, readImage: ImageReader): Promise<ConverseCommandInput> {
  const messages: Message[] = [];
  for (const turn of item.turns) {
    const content: ContentBlock[] = [];
    for (const block of turn.content) {
      if ('text' in block) content.push({ text: block.text });
      else content.push({ image: { format: block.image.format, source: { bytes: await readImage(block.image.uri) } } });
    }
    messages.push({ role: turn.role, content });
  }
  return {
    modelId,
    messages,
    system: item.system ? [{ text: item.system }] : undefined,
    inferenceConfig: { temperature: 0, maxTokens },
  };
}
