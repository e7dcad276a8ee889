/**
 * A Lambda handler for the runner's own tests (not product code): records the events it
 * receives in S3 and can be asked to fail or to run long, so the tests can watch the
 * runner's mechanics (worker environment, errors, timeouts, rule deliveries) with real SDK
 * calls against LocalS3.
 *
 * Event fields it obeys: `throwName`/`throwMessage` (throw an error with that name),
 * `sleepMs` (wait before answering), `padBytes` (answer with that many extra bytes, for
 * payload limits), `record: true` (write the event to
 * s3://$RECORD_BUCKET/events/<request id>.json). Status change events from EventBridge are
 * always recorded, under status/<execution name>-<status>.json. Its answer carries a
 * `Math.random()` draw, so the runner's backoffJitter option can be seen.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

interface RecorderEvent {
  readonly throwName?: string;
  readonly throwMessage?: string;
  readonly sleepMs?: number;
  readonly padBytes?: number;
  readonly record?: boolean;
  readonly item?: unknown;
  readonly 'detail-type'?: string;
  readonly detail?: { readonly name?: string; readonly status?: string };
}

interface LambdaContextPart {
  readonly awsRequestId: string;
  readonly functionName: string;
  getRemainingTimeInMillis(): number;
}

let client: S3Client | undefined;
/** Counts invocations served by this execution environment (module state survives warm starts). */
let invocationsInEnvironment = 0;

export async function handler(event: RecorderEvent, context: LambdaContextPart) {
  invocationsInEnvironment += 1;
  if (event?.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event?.throwName) {
    const error = new Error(event.throwMessage ?? 'the event asked the recorder to fail');
    error.name = event.throwName;
    throw error;
  }
  let recorded: string | null = null;
  const bucket = process.env.RECORD_BUCKET;
  if (bucket && (event?.record || event?.['detail-type'])) {
    recorded = event['detail-type'] ? `status/${event.detail?.name}-${event.detail?.status}.json` : `events/${context.awsRequestId}.json`;
    client ??= new S3Client({});
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: recorded, Body: JSON.stringify(event), ContentType: 'application/json' }));
  }
  return {
    recorded,
    item: event?.item,
    functionName: context.functionName,
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    hasTimeLeft: context.getRemainingTimeInMillis() > 0,
    invocationsInEnvironment,
    random: Math.random(),
    ...(event?.padBytes ? { padding: 'x'.repeat(event.padBytes) } : {}),
  };
}
