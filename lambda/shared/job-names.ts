/**
 * Names and tokens for Bedrock customization jobs, derived from the run so they are valid
 * (Bedrock's patterns), unique per request version and the same on every retry.
 */
import { createHash } from 'crypto';
import { RunContext, requestIdentityDigest } from './run-context';

/** Bedrock: jobName 1-63, [a-zA-Z0-9](-*[a-zA-Z0-9+\-.])* */
export const JOB_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9+\-.])*$/;
/** Bedrock: customModelName 1-63, ([0-9a-zA-Z][_-]?){1,63} */
export const CUSTOM_MODEL_NAME_PATTERN = /^([0-9a-zA-Z][_-]?){1,63}$/;
/** Bedrock tag keys and values: letters, digits, spaces and _ . : / = + - @ */
const TAG_CHARACTERS = /[^a-zA-Z0-9\s._:/=+@-]/g;

/** The customization job name: the run id (already unique per request version). */
export function jobNameFor(run: Pick<RunContext, 'runId'>): string {
  const name = run.runId.slice(0, 63).replace(/[^a-zA-Z0-9+\-.]/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
  if (!JOB_NAME_PATTERN.test(name)) throw new Error(`Cannot derive a valid Bedrock job name from run id '${run.runId}'`);
  return name;
}

/** The custom model name: the run id without repeated separators (Bedrock forbids them). */
export function customModelNameFor(run: Pick<RunContext, 'runId'>): string {
  const name = run.runId
    .replace(/[^0-9a-zA-Z_-]/g, '-')
    .replace(/[_-]{2,}/g, '-')
    .replace(/^[_-]+/, '')
    .slice(0, 63)
    .replace(/[_-]+$/, '');
  if (!CUSTOM_MODEL_NAME_PATTERN.test(name)) throw new Error(`Cannot derive a valid custom model name from run id '${run.runId}'`);
  return name;
}

/**
 * The idempotency token: the same request object version always yields the same token, so a
 * duplicated trigger (or a retried launch) never starts a second job, and a changed request
 * (new version or ETag) starts a new one. The variants of an experiment come from one upload,
 * so each variant's token also digests its name: Bedrock refuses a token reused for a different
 * job (ConflictException).
 */
export function clientRequestTokenFor(request: RunContext['request'], experiment?: RunContext['experiment']): string {
  const identity = requestIdentityDigest(request);
  if (experiment?.kind !== 'variant') return identity;
  return createHash('sha256').update(`${identity}/variant/${experiment.variantName}`).digest('hex');
}

/** Tag that names the run request a job, custom model or Provisioned Throughput came from. */
export const REQUEST_TAG_KEY = 'llama-finetune:request';

/** A tag value cleaned to Bedrock's tag alphabet and length. */
export function bedrockTagValue(value: string): string {
  return value.replace(TAG_CHARACTERS, '_').slice(0, 256);
}

/** The location of a request as tagged: `s3://<bucket>/<key>`. */
export function requestLocation(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** Tag that names the run a job or custom model came from. */
export const RUN_ID_TAG_KEY = 'llama-finetune:run-id';

/**
 * Tag that names the deployment (one LlamaFinetuning in one stack) whose run created a job or
 * custom model: the custom model retention sweep touches only models with its own value.
 */
export const DEPLOYMENT_TAG_KEY = 'llama-finetune:deployment';

/** Job tags: run id, environment, the request's location and the deployment, cleaned to Bedrock's tag alphabet. */
export function jobTagsFor(run: RunContext, environmentName: string, deploymentId?: string): Array<{ key: string; value: string }> {
  const tag = (key: string, value: string) => ({ key, value: bedrockTagValue(value) });
  return [
    tag(RUN_ID_TAG_KEY, run.runId),
    tag('llama-finetune:environment', environmentName),
    tag(REQUEST_TAG_KEY, requestLocation(run.request.bucket, run.request.key)),
    ...(deploymentId ? [tag(DEPLOYMENT_TAG_KEY, deploymentId)] : []),
  ];
}

/** The value of tag `key`, if present. */
export function tagValue(tags: ReadonlyArray<{ readonly key?: string; readonly value?: string }>, key: string): string | undefined {
  return tags.find((t) => t.key === key)?.value;
}

/**
 * Whether tags say a resource came from a request under `requestsLocation` (`s3://<bucket>/<prefix>`):
 * how one deployment tells its own resources from those of another deployment in the same account.
 */
export function taggedFromRequestsUnder(tags: ReadonlyArray<{ readonly key?: string; readonly value?: string }>, requestsLocation: string): boolean {
  const expected = bedrockTagValue(requestsLocation);
  return tags.some((tag) => tag.key === REQUEST_TAG_KEY && tag.value !== undefined && tag.value.startsWith(expected));
}

/** The job id: the last segment of a job ARN. */
export function jobIdOf(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1);
}
