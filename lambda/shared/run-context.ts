/**
 * The run context: what the read-request step produces and every later step of the state
 * machine receives (at `$.run`). One definition, so handlers agree on its shape.
 */
import { createHash } from 'crypto';
import { RunRequest } from './run-request';

export interface RunContext {
  /** Unique per request object version: `<name>-<12 hex of sha256(bucket/key/version)>`. */
  readonly runId: string;
  /** The request's `name`. */
  readonly requestName: string;
  /** The uploaded request object that started the run. */
  readonly request: { readonly bucket: string; readonly key: string; readonly versionId?: string; readonly etag?: string };
  readonly model: {
    readonly name: string;
    readonly baseModelIdentifier: string;
    readonly inferenceProfileId: string;
    readonly supportsImages: boolean;
    readonly maxTokensPerRecord: number;
  };
  /** Dataset files, as keys in the dataset bucket. */
  readonly data: {
    readonly bucket: string;
    readonly trainingKey: string;
    readonly validationKey?: string;
    readonly testKey?: string;
  };
  readonly hyperParameters: Record<string, number>;
  /** Names of hyperparameters the request set itself (the rest are defaults or recommendations). */
  readonly hyperParametersOverridden: readonly string[];
  readonly evaluation: { readonly enabled: boolean; readonly maxTokens: number; readonly maxRecords?: number };
  /** Where this run writes: `s3://<bucket>/<prefix>` with prefix `runs/<runId>/`. */
  readonly artifacts: { readonly bucket: string; readonly prefix: string };
  /**
   * The Step Functions execution this context was read in: the only one that may change the
   * run's record (its `executionArn`), stop its job or delete its Provisioned Throughput. A
   * duplicate execution of the same request version carries its own ARN, so it never can.
   */
  readonly executionArn: string;
}

/**
 * Derives the run id from the request object's identity, so the same upload delivered twice
 * maps to the same run, and a changed request (new version or ETag) to a new one.
 */
export function deriveRunId(name: string, request: RunContext['request']): string {
  return `${name}-${requestIdentityDigest(request).slice(0, 12)}`;
}

/**
 * SHA-256 (hex) of the request object's identity: bucket, key and version (or ETag). The run id
 * and Bedrock's idempotency token both come from it, so they change together.
 */
export function requestIdentityDigest(request: RunContext['request']): string {
  const identity = [request.bucket, request.key, request.versionId ?? request.etag ?? ''].join('/');
  return createHash('sha256').update(identity).digest('hex');
}

/** Builds the run context from a checked request, where it came from and the execution reading it. */
export function buildRunContext(
  request: RunRequest,
  source: RunContext['request'],
  datasetBucket: string,
  artifactsBucket: string,
  runsPrefix: string,
  executionArn: string,
): RunContext {
  const runId = deriveRunId(request.name, source);
  return {
    runId,
    requestName: request.name,
    request: source,
    model: {
      name: request.model.name,
      baseModelIdentifier: request.model.baseModelIdentifier,
      inferenceProfileId: request.model.inferenceProfileId,
      supportsImages: request.model.supportsImages,
      maxTokensPerRecord: request.model.maxTokensPerRecord,
    },
    data: {
      bucket: datasetBucket,
      trainingKey: request.trainingDataKey,
      validationKey: request.validationDataKey,
      testKey: request.testDataKey,
    },
    hyperParameters: { ...request.hyperParameters },
    hyperParametersOverridden: request.hyperParametersOverridden,
    evaluation: request.evaluation,
    artifacts: { bucket: artifactsBucket, prefix: `${runsPrefix}${runId}/` },
    executionArn,
  };
}
