/**
 * Throttling storms of a chosen length on every stand-in, driven by the real SDK clients: each
 * stand-in answers with its own service's throttling error (status, code, body format), so the
 * SDK's retry logic classifies it as throttling, retries, and gives up with that error while the
 * storm lasts; once the window closes, calls succeed again.
 */
import { BedrockClient, ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { isThrottlingError } from '@smithy/core/retry';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { FaultLength } from '../support/stand-ins/fault-plan';
import { fastRetries } from '../support/stand-ins/fast-retries';

const TOPIC = 'arn:aws:sns:us-west-2:111122223333:run-outcomes';
const ATTEMPTS = 3;

interface SdkError extends Error {
  readonly $metadata: { readonly httpStatusCode?: number; readonly attempts?: number };
  readonly $fault?: string;
}

async function rejectionOf(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('throttling storms on every stand-in', () => {
  /** The stand-ins' fault clock; tests move it instead of waiting. */
  let now = 1_000_000;
  let aws: LocalAws;
  let clients: { destroy(): void }[];

  /** One row per stand-in: how to start a storm, one call the handlers make, and the documented throttling answer. */
  let cases: Array<{
    readonly service: string;
    readonly storm: (length: FaultLength) => void;
    readonly call: () => Promise<{ $metadata: { attempts?: number } }>;
    readonly status: number;
    readonly errorName: string;
  }>;

  beforeAll(async () => {
    aws = await startLocalAws({ buckets: ['data'], topics: [TOPIC], faultClock: () => now });
    const common = { region: 'us-west-2', credentials: { accessKeyId: 'AKIDSTORM', secretAccessKey: 'test' }, retryStrategy: fastRetries(ATTEMPTS) };
    const s3 = new S3Client({ ...common, endpoint: aws.s3.endpoint });
    const sns = new SNSClient({ ...common, endpoint: aws.sns.endpoint });
    const events = new EventBridgeClient({ ...common, endpoint: aws.events.endpoint });
    const bedrock = new BedrockClient({ ...common, endpoint: aws.bedrock.endpoint });
    const runtime = new BedrockRuntimeClient({ ...common, endpoint: aws.runtime.endpoint });
    clients = [s3, sns, events, bedrock, runtime];
    cases = [
      // S3: 503 SlowDown in the REST-XML error document.
      { service: 'LocalS3', storm: (l) => aws.s3.throttle(l, { operation: 'PutObject' }), call: () => s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'k', Body: 'x' })), status: 503, errorName: 'SlowDown' },
      // SNS Publish: 429 Throttled (awsQuery ErrorResponse), ThrottledException in the SDK.
      { service: 'LocalSns', storm: (l) => aws.sns.throttle(l), call: () => sns.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hi' })), status: 429, errorName: 'ThrottledException' },
      // EventBridge: 400 ThrottlingException (awsJson1_1 __type).
      {
        service: 'LocalEventBridge',
        storm: (l) => aws.events.throttle(l),
        call: () => events.send(new PutEventsCommand({ Entries: [{ Source: 'llama-finetune', DetailType: 'x', Detail: '{}' }] })),
        status: 400,
        errorName: 'ThrottlingException',
      },
      // Bedrock and Bedrock Runtime: 429 ThrottlingException (restJson x-amzn-errortype).
      { service: 'LocalBedrock', storm: (l) => aws.bedrock.throttle(l, { operation: 'ListModelCustomizationJobs' }), call: () => bedrock.send(new ListModelCustomizationJobsCommand({})), status: 429, errorName: 'ThrottlingException' },
      {
        service: 'LocalBedrockRuntime',
        storm: (l) => aws.runtime.throttle(l),
        call: () => runtime.send(new ConverseCommand({ modelId: 'us.meta.llama3-2-1b-instruct-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })),
        status: 429,
        errorName: 'ThrottlingException',
      },
    ];
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await aws.stop();
  });

  beforeEach(() => {
    for (const standIn of [aws.s3, aws.sns, aws.events, aws.bedrock, aws.runtime]) standIn.clearFaults();
  });

  it('throttles every call for the length of a window, with the error the SDK retries as throttling, and lets calls through after it', async () => {
    for (const c of cases) {
      c.storm({ forMs: 5 * 60_000 });
      for (const minute of [0, 1, 4]) {
        now += minute * 60_000;
        const err = await rejectionOf(c.call());
        expect({ service: c.service, name: err.name, status: err.$metadata.httpStatusCode, attempts: err.$metadata.attempts, throttling: isThrottlingError(err as never) }).toEqual({
          service: c.service,
          name: c.errorName,
          status: c.status,
          attempts: ATTEMPTS,
          throttling: true,
        });
        now -= minute * 60_000;
      }
      now += 5 * 60_000;
      expect((await c.call()).$metadata.attempts).toBe(1);
    }
  });

  it('throttles a counted storm of N calls, which the SDK rides out when N is below its attempts', async () => {
    for (const c of cases) {
      c.storm(ATTEMPTS - 1);
      expect({ service: c.service, attempts: (await c.call()).$metadata.attempts }).toEqual({ service: c.service, attempts: ATTEMPTS });
      expect((await c.call()).$metadata.attempts).toBe(1);
    }
  });

  it('measures windows by the wall clock when no clock is given', async () => {
    // The wall clock is Date.now; the test moves it instead of sleeping, so a slow machine
    // cannot carry the first call past the window.
    let wallClock = Date.now();
    const dateNow = jest.spyOn(Date, 'now').mockImplementation(() => wallClock);
    const local = await startLocalAws({ buckets: ['data'] });
    const s3 = new S3Client({ region: 'us-west-2', endpoint: local.s3.endpoint, credentials: { accessKeyId: 'AKIDSTORM', secretAccessKey: 'test' }, retryStrategy: fastRetries(2) });
    try {
      local.s3.throttle({ forMs: 300 });
      expect((await rejectionOf(s3.send(new ListBucketsCommand({})))).name).toBe('SlowDown');
      wallClock += 299;
      expect((await rejectionOf(s3.send(new ListBucketsCommand({})))).name).toBe('SlowDown');
      wallClock += 1;
      expect((await s3.send(new ListBucketsCommand({}))).$metadata.attempts).toBe(1);
    } finally {
      s3.destroy();
      await local.stop();
      dateNow.mockRestore();
    }
  });
});
