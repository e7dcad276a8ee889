/**
 * First step of a run: reads the uploaded run request, checks it against the model catalogue
 * and the dataset bucket, and returns the run context every later step uses.
 *
 * Input: the S3 "Object Created" event detail that EventBridge passes to the execution.
 * Output: RunContext. Throws InvalidRunRequest (the state machine ends the run as failed with
 * the message) when the request cannot be run.
 */
import { s3Client } from '../shared/aws-clients';
import { jsonEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { logFailures } from '../shared/log-failures';
import { RunContext, buildRunContext } from '../shared/run-context';
import { InvalidRunRequestError, MAX_RUN_REQUEST_BYTES, RunRequestProblem, parseRunRequest, requestTooLarge } from '../shared/run-request';
import { getTextAtMost, headObject, isNotFound } from '../shared/s3';

/** The part of the S3 EventBridge event detail this step reads. */
export interface ObjectCreatedDetail {
  readonly bucket: { readonly name: string };
  readonly object: { readonly key: string; readonly 'version-id'?: string; readonly etag?: string; readonly size?: number };
}

const log = createLogger({ step: 'read-request' });

/** The entry point: readRunRequest, with its errors logged with the request (the run id is not known before it is read). */
export const handler = logFailures(log, requestOf, readRunRequest);

async function readRunRequest(event: ObjectCreatedDetail): Promise<RunContext> {
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
  const request = parseRunRequest(text, source, datasetBucket, {
    defaultModel: process.env.DEFAULT_MODEL || undefined,
    defaultHyperParameters: jsonEnv<Record<string, number>>('DEFAULT_HYPERPARAMETERS', {}),
  });

  const missing: RunRequestProblem[] = [];
  const files: Array<[string, string | undefined]> = [
    ['trainingData', request.trainingDataKey],
    ['validationData', request.validationDataKey],
    ['testData', request.testDataKey],
  ];
  await Promise.all(
    files.map(async ([field, dataKey]) => {
      if (!dataKey) return;
      const head = await headObject(s3Client(), { bucket: datasetBucket, key: dataKey });
      if (!head) {
        missing.push({ field, rule: 'data-missing', message: `s3://${datasetBucket}/${dataKey} does not exist; upload the file first, then upload the request again` });
      } else if (head.size === 0) {
        missing.push({ field, rule: 'data-empty', message: `s3://${datasetBucket}/${dataKey} is empty` });
      }
    }),
  );
  if (missing.length > 0) throw new InvalidRunRequestError(source, missing);

  const run = buildRunContext(request, { bucket, key, versionId, etag: event.object.etag }, datasetBucket, artifactsBucket, runsPrefix);
  log.info('run request accepted', { runId: run.runId, request: source, model: run.model.name });
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
function requestOf(event: ObjectCreatedDetail): Record<string, unknown> {
  return event?.bucket?.name && event.object?.key ? { request: `s3://${event.bucket.name}/${event.object.key}` } : {};
}
