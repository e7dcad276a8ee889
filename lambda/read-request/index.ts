/**
 * First step of a run: reads the uploaded run request, checks it against the model catalogue
 * and the dataset bucket, and returns the run context every later step uses.
 *
 * Input: the S3 "Object Created" event detail that EventBridge passes to the execution, with the
 * execution's ARN (`executionArn`), which the run context carries.
 * Output: RunContext (for a request with `experiment`, the experiment's own context, whose
 * `experiment.variants` name each variant's run). Throws InvalidRunRequest (the state machine ends the run as failed with
 * the message) when the request cannot be run.
 */
import { s3Client } from '../shared/aws-clients';
import { jsonEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { dataPrefixProblems } from '../shared/data-prefix';
import { currentDataFileVersions, dataFileProblems, sourceDataKeys } from '../shared/pinned-data';
import { RunContext, buildRunContext } from '../shared/run-context';
import { parseExperimentRequest } from '../shared/experiment-plan';
import { experimentOfPlan } from '../shared/experiment-runs';
import { InvalidRunRequestError, MAX_RUN_REQUEST_BYTES, requestTooLarge } from '../shared/run-request';
import { getTextAtMost, isNotFound } from '../shared/s3';

/** The part of the S3 EventBridge event detail this step reads. */
export interface ObjectCreatedDetail {
  readonly bucket: { readonly name: string };
  readonly object: {
    readonly key: string;
    readonly 'version-id'?: string;
    /** Unique per write of the key, the same in a duplicate delivery: the identity of an upload to an unversioned bucket. */
    readonly sequencer?: string;
    readonly etag?: string;
    readonly size?: number;
  };
}

/** The step's input: the event detail and the execution reading it (`$$.Execution.Id`). */
export interface ReadRequestEvent extends ObjectCreatedDetail {
  readonly executionArn: string;
}

const log = createLogger({ step: 'read-request' });

/** The entry point: readRunRequest, with its errors logged with the request (the run id is not known before it is read). */
export const handler = logFailures(log, requestOf, readRunRequest);

async function readRunRequest(event: ReadRequestEvent): Promise<RunContext> {
  const datasetBucket = requireEnv('DATASET_BUCKET');
  const artifactsBucket = requireEnv('ARTIFACTS_BUCKET');
  const runsPrefix = requireEnv('RUNS_PREFIX');

  const bucket = event?.bucket?.name;
  const rawKey = event?.object?.key;
  if (!bucket || !rawKey) {
    throw new InvalidRunRequestError('(event)', [
      { field: '(event)', rule: 'event-shape', message: 'the execution input is not an S3 Object Created event detail with bucket.name and object.key' },
    ]);
  }
  if (bucket !== datasetBucket) {
    throw new InvalidRunRequestError(`s3://${bucket}/${rawKey}`, [
      { field: '(event)', rule: 'request-bucket', message: `run requests are read only from the dataset bucket ${datasetBucket}` },
    ]);
  }
  const versionId = event.object['version-id'] || undefined;
  const { key, text } = await readRequest(bucket, rawKey, versionId);
  const source = `s3://${bucket}/${key}`;
  // A request with `experiment` is read with its variants (experiment-plan.ts); the rest of the
  // request is common to them and is checked here like a single run's.
  const { request, experiment: plan } = parseExperimentRequest(text, source, datasetBucket, {
    defaultModel: process.env.DEFAULT_MODEL || undefined,
    defaultHyperParameters: jsonEnv<Record<string, number>>('DEFAULT_HYPERPARAMETERS', {}),
  });

  // A deployment confined to a data prefix reads nothing outside it, not even to say it is missing.
  const outside = dataPrefixProblems(process.env.DATA_PREFIX || undefined, datasetBucket, [
    ['trainingData', request.trainingDataKey],
    ['validationData', request.validationDataKey],
    ['testData', request.testDataKey],
  ]);
  if (outside.length > 0) throw new InvalidRunRequestError(source, outside);

  // The state machine passes it; without it no later step could tell its own record from a duplicate's.
  if (!event.executionArn) throw new Error('read-request: the input has no executionArn; the state machine passes $$.Execution.Id');
  // The exact versions of the data as the request is accepted: validation reads these, and the run trains and evaluates their copies.
  const keys = sourceDataKeys({ trainingKey: request.trainingDataKey, validationKey: request.validationDataKey, testKey: request.testDataKey });
  const versions = await currentDataFileVersions(s3Client(), datasetBucket, keys);
  const problems = dataFileProblems(datasetBucket, keys, versions);
  if (problems.length > 0) throw new InvalidRunRequestError(source, problems);

  const requestSource = { bucket, key, versionId, sequencer: event.object.sequencer || undefined, etag: event.object.etag };
  const single = buildRunContext(request, requestSource, datasetBucket, artifactsBucket, runsPrefix, event.executionArn, versions);
  const run: RunContext = plan ? { ...single, experiment: experimentOfPlan(plan, single.runId) } : single;
  log.info(plan ? 'experiment request accepted' : 'run request accepted', { runId: run.runId, request: source, model: run.model.name, ...(plan ? { variants: plan.variants.map((v) => v.name) } : {}) });
  return run;
}

/**
 * Reads the request object, at most MAX_RUN_REQUEST_BYTES of it (a larger one is refused
 * before its body is read). EventBridge may deliver the key URL-encoded; when the literal key
 * is missing, the decoded one is tried.
 */
async function readRequest(bucket: string, rawKey: string, versionId?: string): Promise<{ key: string; text: string }> {
  const candidates = [rawKey];
  const decoded = safeDecode(rawKey);
  if (decoded !== rawKey) candidates.push(decoded);
  for (const key of candidates) {
    try {
      const read = await getTextAtMost(s3Client(), { bucket, key, versionId }, MAX_RUN_REQUEST_BYTES);
      if ('tooLarge' in read) throw requestTooLarge(`s3://${bucket}/${key}`, read.size);
      return { key, text: read.text };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  throw new InvalidRunRequestError(`s3://${bucket}/${rawKey}`, [
    { field: '(file)', rule: 'request-missing', message: 'the request object no longer exists (deleted after upload?); upload it again' },
  ]);
}

function safeDecode(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/** The request an event names, for the error line of a request that never became a run. */
function requestOf(event: ReadRequestEvent): Record<string, unknown> {
  return event?.bucket?.name && event.object?.key ? { request: `s3://${event.bucket.name}/${event.object.key}` } : {};
}
