/**
 * Identifiers and ARNs in the shapes Amazon Bedrock uses, e.g.
 *   arn:aws:bedrock:us-west-2:111122223333:model-customization-job/meta.llama3-2-11b-instruct-v1:0:128k/a1b2c3d4e5f6
 *   arn:aws:bedrock:us-west-2:111122223333:custom-model/meta.llama3-2-11b-instruct-v1:0:128k/a1b2c3d4e5f6
 *   arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-2-11b-instruct-v1:0:128k
 *   arn:aws:bedrock:us-west-2:111122223333:provisioned-model/a1b2c3d4e5f6
 * The resource id is always the last path segment. Pure functions.
 */
import { randomBytes } from 'node:crypto';

/** Account and region the stand-ins pretend to run in. */
export interface AwsScope {
  readonly accountId: string;
  readonly region: string;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A 12-character lower-case id like the ones Bedrock puts at the end of its ARNs. */
export function newResourceId(): string {
  return [...randomBytes(12)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

export function foundationModelArn(scope: Pick<AwsScope, 'region'>, modelId: string): string {
  return `arn:aws:bedrock:${scope.region}::foundation-model/${modelId}`;
}

export function customizationJobArn(scope: AwsScope, baseModelId: string, jobId: string): string {
  return `arn:aws:bedrock:${scope.region}:${scope.accountId}:model-customization-job/${baseModelId}/${jobId}`;
}

export function customModelArn(scope: AwsScope, baseModelId: string, modelId: string): string {
  return `arn:aws:bedrock:${scope.region}:${scope.accountId}:custom-model/${baseModelId}/${modelId}`;
}

export function provisionedModelArn(scope: AwsScope, id: string): string {
  return `arn:aws:bedrock:${scope.region}:${scope.accountId}:provisioned-model/${id}`;
}

export function inferenceProfileArn(scope: AwsScope, profileId: string): string {
  return `arn:aws:bedrock:${scope.region}:${scope.accountId}:inference-profile/${profileId}`;
}

/** The last path segment of an ARN (the resource id), or the input when it is not an ARN. */
export function resourceIdOf(arnOrName: string): string {
  return arnOrName.startsWith('arn:') ? arnOrName.slice(arnOrName.lastIndexOf('/') + 1) : arnOrName;
}

/** The model id inside a foundation-model ARN, or the input unchanged. */
export function foundationModelIdOf(identifier: string): string {
  const match = /^arn:aws(?:-[^:]+)?:bedrock:[a-z0-9-]*::foundation-model\/(.+)$/.exec(identifier);
  return match ? match[1] : identifier;
}
