/**
 * AWS SDK clients shared by the handlers, created on first use and then reused across
 * invocations of a warm Lambda. Created lazily (not at import) so that configuration from the
 * environment, such as AWS_ENDPOINT_URL_S3 in the offline tests, is read when it is set.
 */
import { BedrockClient } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Connections kept open to Bedrock Runtime (the SDK default), more than the 2 x 16 calls the highest RECORD_CONCURRENCY makes at once. */
const RUNTIME_MAX_SOCKETS = 50;

let s3: S3Client | undefined;
let bedrock: BedrockClient | undefined;
let bedrockRuntime: BedrockRuntimeClient | undefined;
let sns: SNSClient | undefined;
let events: EventBridgeClient | undefined;
let sfn: SFNClient | undefined;
let ssm: SSMClient | undefined;

/** The S3 client. */
export function s3Client(): S3Client {
  return (s3 ??= new S3Client({}));
}

/** The Bedrock control-plane client. */
export function bedrockClient(): BedrockClient {
  return (bedrock ??= new BedrockClient({}));
}

/** The Bedrock runtime (inference) client. */
export function bedrockRuntimeClient(): BedrockRuntimeClient {
  // More attempts than the default 3: evaluation fans out and meets throttling by design.
  // HTTP/1.1 with keep-alive instead of the client's default HTTP/2 handler, which opens a new
  // connection (and TLS handshake) for every call (disableConcurrentStreams); evaluation makes
  // two calls per test record, RECORD_CONCURRENCY pairs at a time. Converse needs no HTTP/2.
  return (bedrockRuntime ??= new BedrockRuntimeClient({
    maxAttempts: 6,
    requestHandler: new NodeHttpHandler({ httpAgent: { keepAlive: true, maxSockets: RUNTIME_MAX_SOCKETS }, httpsAgent: { keepAlive: true, maxSockets: RUNTIME_MAX_SOCKETS } }),
  }));
}

/** The SNS client. */
export function snsClient(): SNSClient {
  return (sns ??= new SNSClient({}));
}

/** The EventBridge client. */
export function eventBridgeClient(): EventBridgeClient {
  return (events ??= new EventBridgeClient({}));
}

/** The Step Functions client (task tokens). */
export function sfnClient(): SFNClient {
  return (sfn ??= new SFNClient({}));
}

/** The Systems Manager client (Parameter Store: the model registry). */
export function ssmClient(): SSMClient {
  return (ssm ??= new SSMClient({}));
}

/** Forgets the clients, so the next call reads the environment again (tests switch stand-ins). */
export function resetClients(): void {
  s3?.destroy();
  bedrock?.destroy();
  bedrockRuntime?.destroy();
  sns?.destroy();
  events?.destroy();
  sfn?.destroy();
  ssm?.destroy();
  s3 = bedrock = bedrockRuntime = sns = events = sfn = ssm = undefined;
}
