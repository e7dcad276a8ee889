/**
 * The run context: what the read-request step produces and every later step of the state
 * machine receives (at `$.run`). One definition, so handlers agree on its shape.
 */
import { createHash } from 'crypto';
import { CostBudget } from './cost-estimate';
import type { BaselineReference } from './evaluation/baseline';
import type { LlamaModelSpec } from './models/llama-models';
import { RunRequest } from './run-request';

/** A dataset file of a run, by what the run uses it for. */
export type DataFileRole = 'training' | 'validation' | 'test' | 'testReferences';

/** The exact object a run uses for one dataset file: read when the request was accepted. */
export interface DataFileVersion {
  /** Key in the dataset bucket. */
  readonly key: string;
  /** S3 version id, where the dataset bucket is versioned. */
  readonly versionId?: string;
  /** ETag as S3 returns it (quoted); the identity when the bucket is not versioned. */
  readonly etag: string;
  readonly size: number;
}

export interface RunContext {
  /** Unique per upload of the request: `<name>-<12 hex of sha256(bucket/key/version or sequencer)>`. */
  readonly runId: string;
  /** The request's `name`. */
  readonly requestName: string;
  /** The uploaded request object that started the run. */
  readonly request: {
    readonly bucket: string;
    readonly key: string;
    readonly versionId?: string;
    /** The upload's event sequencer: unique per write of the key, the same in a duplicate delivery. */
    readonly sequencer?: string;
    readonly etag?: string;
  };
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
    /**
     * The exact versions the run validates, trains and evaluates on (the test file's references
     * sidecar included when it exists), pinned when the request was accepted.
     * @default - read when the data is validated
     */
    readonly versions?: Readonly<Partial<Record<DataFileRole, DataFileVersion>>>;
    /**
     * The artifacts prefix whose `data/` folder holds the validated copies training and
     * evaluation read. An experiment's variants read their experiment's copies (validated once).
     * @default - the run's own artifacts prefix
     */
    readonly pinnedPrefix?: string;
  };
  readonly hyperParameters: Record<string, number>;
  /** Names of hyperparameters the request set itself (the rest are defaults or recommendations). */
  readonly hyperParametersOverridden: readonly string[];
  readonly evaluation: {
    readonly enabled: boolean;
    readonly maxTokens: number;
    readonly maxRecords?: number;
    /**
     * A stored baseline (the base model's answers on the same test records, computed once for
     * an experiment): the evaluation then sends only fine-tuned calls and scores the base side
     * from it. Set only by the experiment workflow for its variants, never by a request.
     * @default - the evaluation asks the base model itself
     */
    readonly baseline?: BaselineReference;
  };
  /**
   * The request's own budget (`budget` in the run request), checked with the environment's
   * before the job is created.
   * @default - only the environment's budget applies
   */
  readonly budget?: CostBudget;
  /**
   * Set when the request is an experiment (the experiment's own context lists its variants) or
   * when this run is one variant of an experiment (then it names the experiment).
   * @default - a single run
   */
  readonly experiment?: RunExperiment;
  /** Where this run writes: `s3://<bucket>/<prefix>` with prefix `runs/<runId>/`. */
  readonly artifacts: { readonly bucket: string; readonly prefix: string };
  /**
   * The Step Functions execution this context was read in: the only one that may change the
   * run's record (its `executionArn`), stop its job or delete its Provisioned Throughput. A
   * duplicate execution of the same request version carries its own ARN, so it never can.
   */
  readonly executionArn: string;
}

/** One variant of an experiment as the experiment's context carries it (small: the variants' full contexts are built after validation). */
export interface ExperimentVariantSpec {
  readonly name: string;
  /** 0-based, request order: the order variants start in. */
  readonly index: number;
  /** The variant's run id (`variantRunId`). */
  readonly runId: string;
  /** Catalogue name of the variant's model. */
  readonly model: string;
  readonly hyperParameters: Record<string, number>;
  readonly hyperParametersOverridden: readonly string[];
}

/** The experiment a run context belongs to. */
export type RunExperiment =
  | {
      /** This context is the experiment's own (one upload, several variants). */
      readonly kind: 'experiment';
      readonly variants: readonly ExperimentVariantSpec[];
    }
  | {
      /** This context is one variant's run. */
      readonly kind: 'variant';
      readonly experimentRunId: string;
      readonly variantName: string;
      readonly variantIndex: number;
    };

/**
 * Derives the run id from the request object's identity, so the same upload delivered twice
 * maps to the same run, and another upload of the request (new version, or new event
 * sequencer in an unversioned bucket, even with the same bytes) to a new one.
 */
export function deriveRunId(name: string, request: RunContext['request']): string {
  return `${name}-${requestIdentityDigest(request).slice(0, 12)}`;
}

/**
 * SHA-256 (hex) of the request object's identity: bucket, key and the write's identity: the
 * version id, else the event's sequencer (unversioned buckets: unique per write, the same in a
 * duplicate delivery), else the ETag. The run id and Bedrock's idempotency token both come
 * from it, so they change together.
 */
export function requestIdentityDigest(request: RunContext['request']): string {
  const identity = [request.bucket, request.key, request.versionId ?? request.sequencer ?? request.etag ?? ''].join('/');
  return createHash('sha256').update(identity).digest('hex');
}

/** A catalogue model as a run context names it. */
export function runModelOf(model: Pick<LlamaModelSpec, 'name' | 'baseModelIdentifier' | 'inferenceProfileId' | 'supportsImages' | 'maxTokensPerRecord'>): RunContext['model'] {
  return { name: model.name, baseModelIdentifier: model.baseModelIdentifier, inferenceProfileId: model.inferenceProfileId, supportsImages: model.supportsImages, maxTokensPerRecord: model.maxTokensPerRecord };
}

/** Builds the run context from a checked request, where it came from and the execution reading it. */
export function buildRunContext(
  request: RunRequest,
  source: RunContext['request'],
  datasetBucket: string,
  artifactsBucket: string,
  runsPrefix: string,
  executionArn: string,
  dataVersions?: RunContext['data']['versions'],
): RunContext {
  const runId = deriveRunId(request.name, source);
  return {
    runId,
    requestName: request.name,
    request: source,
    model: runModelOf(request.model),
    data: {
      bucket: datasetBucket,
      trainingKey: request.trainingDataKey,
      validationKey: request.validationDataKey,
      testKey: request.testDataKey,
      ...(dataVersions ? { versions: dataVersions } : {}),
    },
    hyperParameters: { ...request.hyperParameters },
    hyperParametersOverridden: request.hyperParametersOverridden,
    evaluation: request.evaluation,
    ...(request.budget ? { budget: request.budget } : {}),
    artifacts: { bucket: artifactsBucket, prefix: `${runsPrefix}${runId}/` },
    executionArn,
  };
}
