/**
 * The shared baseline: the base model's answers on an experiment's pinned test records,
 * computed once and reused by every variant's evaluation (which then sends only fine-tuned
 * calls). Layout, under the experiment's artifacts prefix:
 *
 *   baseline/shards/manifest.json + shard-NNNNN.jsonl     the evaluation items (as a run's evaluation/shards/)
 *   baseline/<base model id>/predictions/shard-NNNNN.jsonl  the base model's answers (ModelPredictionLine, model "base")
 *   baseline/<base model id>/manifest.json                 {@link BaselineManifest}: what it was made for; written last
 *
 * A run uses a baseline only when it was made for exactly its evaluation: the same test file
 * version (and references sidecar), the same evaluated records (a digest of the evaluation
 * items), the same base model id, maxTokens and maxRecords; otherwise BaselineMismatch names
 * each difference.
 */
import { createHash } from 'crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DataFileVersion, RunContext } from '../run-context';
import { getText } from '../s3';
import { AnswerCoverageCounter } from './answer-coverage';
import { ModelPredictionLine } from './model-prediction';
import { EvaluationItem } from './test-records';

/** Where a stored baseline is: what the run context's `evaluation.baseline` holds. */
export interface BaselineReference {
  /** The artifacts bucket. */
  readonly bucket: string;
  /** Key of the baseline's manifest.json. */
  readonly key: string;
  /** The base model id that answered (inference profile id or ARN). */
  readonly baseModelId: string;
  /** Test records answered. */
  readonly records: number;
}

/** What a baseline was made for, and where its answers are. */
export interface BaselineManifest {
  readonly schemaVersion: 1;
  readonly createdAt: string;
  /** Catalogue name of the model whose base answered (e.g. llama3.2-11b). */
  readonly model: string;
  readonly baseModelId: string;
  /** The source test file's version the records came from (run.data.versions.test). */
  readonly testData?: DataFileVersion;
  readonly testReferences?: DataFileVersion;
  /** The dataset key of the test file. */
  readonly testKey?: string;
  readonly maxTokens: number;
  /** The request's maxRecords (absent: all records up to the evaluation cap). */
  readonly maxRecords?: number;
  readonly records: number;
  /** SHA-256 of the evaluation items: the same digest means the same prompts and references. */
  readonly itemsDigest: string;
  /** Prefix of the predictions files, in the same bucket. */
  readonly predictionsPrefix: string;
  /** Records the base model answered (the rest were refused and score 0, as in a run). */
  readonly answered: number;
}

/** The baseline's part of the artifacts prefix. */
export function baselineRoot(artifactsPrefix: string): string {
  return `${artifactsPrefix}baseline/`;
}

/** The folder of one base model's baseline: its id cleaned to a key segment. */
export function baselinePrefix(artifactsPrefix: string, baseModelId: string): string {
  return `${baselineRoot(artifactsPrefix)}${baseModelId.replace(/[^A-Za-z0-9._-]/g, '-')}/`;
}

/** Key of the manifest of one base model's baseline. */
export function baselineManifestKey(artifactsPrefix: string, baseModelId: string): string {
  return `${baselinePrefix(artifactsPrefix, baseModelId)}manifest.json`;
}

/** Key of the shard manifest of a baseline's evaluation items (shared by every base model). */
export function baselineShardManifestKey(artifactsPrefix: string): string {
  return `${baselineRoot(artifactsPrefix)}shards/manifest.json`;
}

/** Key of one shard's base answers. */
export function baselinePredictionsKey(artifactsPrefix: string, baseModelId: string, shardIndex: number): string {
  return `${baselinePrefix(artifactsPrefix, baseModelId)}predictions/shard-${String(shardIndex).padStart(5, '0')}.jsonl`;
}

/** SHA-256 (hex) of the evaluation items, in order: what the base model was asked and scored against. */
export function evaluationItemsDigest(items: readonly EvaluationItem[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(JSON.stringify([item.recordId, item.line, item.system ?? null, item.turns, item.references])).update('\n');
  return hash.digest('hex');
}

/**
 * The baseline a variant uses, of those the baseline piece returned: the one of the base model
 * its evaluation asks (the deployment's `evaluation.baseModelId` when set, else the model's
 * inference profile). Undefined when none was computed for it.
 */
export function baselineFor(baselines: readonly BaselineReference[], model: { readonly inferenceProfileId: string }, configuredBaseModelId?: string): BaselineReference | undefined {
  const wanted = configuredBaseModelId || model.inferenceProfileId;
  return baselines.find((b) => b.baseModelId === wanted);
}

/** A baseline that was made for another evaluation than the run's. */
export class BaselineMismatchError extends Error {
  constructor(readonly manifestUri: string, readonly differences: readonly string[]) {
    super(
      `The shared baseline ${manifestUri} was made for another evaluation than this run's: ${differences.join('; ')}. ` +
        'A variant may reuse only a baseline of the same test data, records, base model, maxTokens and maxRecords; compute the baseline again for this evaluation.',
    );
    this.name = 'BaselineMismatch';
  }
}

/** The run's evaluation as a baseline must match it. */
export interface BaselineTarget {
  readonly run: Pick<RunContext, 'model' | 'evaluation' | 'data'>;
  /** The base model id the run's evaluation would ask. */
  readonly baseModelId: string;
  /** Digest of the run's evaluation items, once they are read. */
  readonly itemsDigest?: string;
  readonly records?: number;
}

/** Every way the baseline differs from the run's evaluation (empty when it fits). */
export function baselineMismatches(manifest: BaselineManifest, target: BaselineTarget): string[] {
  const { run } = target;
  const out: string[] = [];
  const version = (v: DataFileVersion | undefined) => (v ? `${v.key} (version ${v.versionId ?? 'none'}, ETag ${v.etag}, ${v.size} bytes)` : 'none');
  const sameVersion = (a: DataFileVersion | undefined, b: DataFileVersion | undefined) =>
    (a === undefined && b === undefined) || (a !== undefined && b !== undefined && a.key === b.key && (a.versionId ?? '') === (b.versionId ?? '') && a.etag === b.etag && a.size === b.size);
  if (manifest.baseModelId !== target.baseModelId) out.push(`base model ${manifest.baseModelId} (${manifest.model}), this run asks ${target.baseModelId} (${run.model.name})`);
  if (manifest.maxTokens !== run.evaluation.maxTokens) out.push(`maxTokens ${manifest.maxTokens}, this run ${run.evaluation.maxTokens}`);
  if ((manifest.maxRecords ?? null) !== (run.evaluation.maxRecords ?? null)) out.push(`maxRecords ${manifest.maxRecords ?? 'all'}, this run ${run.evaluation.maxRecords ?? 'all'}`);
  if (manifest.testKey !== undefined && run.data.testKey !== undefined && manifest.testKey !== run.data.testKey) out.push(`test data ${manifest.testKey}, this run ${run.data.testKey}`);
  const versions = run.data.versions;
  if (!sameVersion(manifest.testData, versions?.test)) out.push(`test file ${version(manifest.testData)}, this run ${version(versions?.test)}`);
  if (!sameVersion(manifest.testReferences, versions?.testReferences)) out.push(`references sidecar ${version(manifest.testReferences)}, this run ${version(versions?.testReferences)}`);
  if (target.records !== undefined && target.records !== manifest.records) out.push(`${manifest.records} test records, this run ${target.records}`);
  if (target.itemsDigest !== undefined && target.itemsDigest !== manifest.itemsDigest) out.push('the test records themselves differ (prompts or references)');
  return out;
}

/** The manifest of a new baseline, from the context it was computed in. */
export function baselineManifestOf(
  run: Pick<RunContext, 'model' | 'evaluation' | 'data' | 'artifacts'>,
  baseModelId: string,
  computed: { readonly records: number; readonly itemsDigest: string; readonly answered: number },
  now = new Date(),
): BaselineManifest {
  return {
    schemaVersion: 1,
    createdAt: now.toISOString(),
    model: run.model.name,
    baseModelId,
    ...(run.data.versions?.test ? { testData: run.data.versions.test } : {}),
    ...(run.data.versions?.testReferences ? { testReferences: run.data.versions.testReferences } : {}),
    ...(run.data.testKey ? { testKey: run.data.testKey } : {}),
    maxTokens: run.evaluation.maxTokens,
    ...(run.evaluation.maxRecords !== undefined ? { maxRecords: run.evaluation.maxRecords } : {}),
    records: computed.records,
    itemsDigest: computed.itemsDigest,
    predictionsPrefix: `${baselinePrefix(run.artifacts.prefix, baseModelId)}predictions/`,
    answered: computed.answered,
  };
}

/** A baseline's answers were too few to compare a model against. */
export class BaselineIncompleteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BaselineIncomplete';
  }
}

/**
 * The baseline read back: its manifest and its base answers. Used by a run that reuses it
 * (score-evaluation) and by the step that records it.
 */
export class BaselineResults {
  /** Reads the manifest a reference names; a missing or unreadable one is an error naming it. */
  static async read(s3: S3Client, reference: Pick<BaselineReference, 'bucket' | 'key'>): Promise<BaselineResults> {
    const uri = `s3://${reference.bucket}/${reference.key}`;
    let manifest: BaselineManifest;
    try {
      manifest = JSON.parse(await getText(s3, reference)) as BaselineManifest;
    } catch (err) {
      throw new Error(`The shared baseline ${uri} cannot be read (${(err as Error).name}: ${(err as Error).message}); it is written when the baseline is complete`);
    }
    if (manifest?.schemaVersion !== 1 || typeof manifest.predictionsPrefix !== 'string') throw new Error(`${uri} is not a baseline manifest (schemaVersion 1)`);
    return new BaselineResults(reference.bucket, uri, manifest);
  }

  private constructor(readonly bucket: string, readonly uri: string, readonly manifest: BaselineManifest) {}

  /** Every base answer, in key order (shard by shard). */
  async predictions(s3: S3Client): Promise<ModelPredictionLine[]> {
    return readPredictionLines(s3, this.bucket, this.manifest.predictionsPrefix);
  }
}

/** The prediction lines of every file under a prefix, in key order. */
export async function readPredictionLines(s3: S3Client, bucket: string, prefix: string): Promise<ModelPredictionLine[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  const lines: ModelPredictionLine[] = [];
  for (const key of keys.sort()) {
    for (const text of (await getText(s3, { bucket, key })).split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as ModelPredictionLine);
  }
  return lines;
}

/**
 * Counts the base answers of a new baseline and refuses one with fewer than `minShare` of the
 * records answered (as a run's evaluation would): a baseline of refused calls would make every
 * variant look like an improvement.
 */
export function requireBaselineAnswers(lines: readonly ModelPredictionLine[], records: number, minShare: number, predictionsUri: string): number {
  const counter = new AnswerCoverageCounter();
  for (const line of lines) if (line.model === 'base') counter.add(line);
  const coverage = counter.coverage();
  const answered = coverage.answered.base;
  if (coverage.records !== records) {
    throw new BaselineIncompleteError(`The baseline has answers for ${coverage.records} of ${records} test records under ${predictionsUri}; every shard must be inferred`);
  }
  if (records === 0 || answered / records < minShare) {
    const errors = coverage.errors.filter((e) => e.model === 'base').slice(0, 3).map((e) => `${e.records} x ${e.error.slice(0, 200)}`);
    throw new BaselineIncompleteError(
      `The baseline is incomplete: the base model answered ${answered} of ${records} test records; at least ${Math.round(minShare * 1000) / 10}% must be answered for the variants' comparison to mean anything` +
        `${errors.length > 0 ? `. Errors: ${errors.join('; ')}` : ''}. Every record's error is in ${predictionsUri}. ` +
        'For AccessDeniedException, enable access to the base model (Bedrock console, Model access) in every region its inference profile routes to.',
    );
  }
  return answered;
}
