/**
 * Starts every local AWS stand-in at once (LocalS3, LocalBedrock, LocalBedrockRuntime,
 * LocalSns, LocalEventBridge, LocalStepFunctions, LocalSsm) with one shared call log, and points
 * the AWS SDK at them through the environment: AWS_ENDPOINT_URL_S3 / _BEDROCK / _BEDROCK_RUNTIME /
 * _SNS / _EVENTBRIDGE / _SFN / _SSM, AWS_REGION and dummy credentials. As in AWS, Bedrock's
 * "Model Customization Job State Change" events reach the default bus of LocalEventBridge
 * (`aws.events.loseServiceEvents(...)` loses some, as best-effort delivery may).
 * `stop()` closes the servers and puts the environment back as it was.
 *
 * The SDK reads these variables when a client is created, so create clients after
 * `startLocalAws()` (handler modules that build clients lazily are fine).
 *
 *   const aws = await startLocalAws({ buckets: ['data-bucket', { name: 'out', versioned: true }] });
 *   try { ...run code that uses S3Client / BedrockClient... } finally { await aws.stop(); }
 *
 * SNS topics and custom event buses must be declared (`topics`, `eventBuses`, or
 * `aws.sns.createTopic` / `aws.events.createEventBus`), as they must exist in AWS: Publish to
 * an unknown topic answers NotFound, and events for an unknown bus are accepted but end up in
 * `aws.events.undeliveredEvents()` rather than `aws.events.events()`.
 */
import { AwsCallLog } from './aws-call-log';
import { LocalBedrock, LocalBedrockOptions } from './local-bedrock';
import { ConverseResponder, LocalBedrockRuntime } from './local-bedrock-runtime';
import { LocalS3 } from './local-s3';
import { LocalSns } from './local-sns';
import { LocalEventBridge } from './local-eventbridge';
import { LocalStepFunctions } from './local-stepfunctions';
import { LocalSsm } from './local-ssm';

/** Options of {@link startLocalAws}. */
export interface LocalAwsOptions {
  /** Account id in every ARN; default 111122223333. */
  readonly accountId?: string;
  /** Region in ARNs and AWS_REGION; default us-west-2. */
  readonly region?: string;
  /** Buckets to create up front. */
  readonly buckets?: ReadonlyArray<string | { readonly name: string; readonly versioned?: boolean }>;
  /** Smallest non-last multipart part LocalS3 accepts (S3: 5 MiB). */
  readonly minPartSize?: number;
  /** See {@link LocalBedrockOptions.duplicateJobNameError}. */
  readonly duplicateJobNameError?: LocalBedrockOptions['duplicateJobNameError'];
  /** Initial Converse responder. */
  readonly respond?: ConverseResponder;
  /** Access key id put in AWS_ACCESS_KEY_ID (it becomes the `principal` in the call log); default `test`. */
  readonly accessKeyId?: string;
  /** SNS topics to create up front (names or topic ARNs). */
  readonly topics?: readonly string[];
  /** Custom EventBridge buses to create up front (names or bus ARNs); `default` always exists. */
  readonly eventBuses?: readonly string[];
  /**
   * Clock every stand-in measures fault windows by (`throttle({ forMs })`, `failNext({ forMs })`);
   * default Date.now. Pass a test's own clock to run a storm of hours without waiting for it.
   */
  readonly faultClock?: () => number;
}

/** The running stand-ins. */
export interface LocalAws {
  readonly s3: LocalS3;
  readonly bedrock: LocalBedrock;
  readonly runtime: LocalBedrockRuntime;
  readonly sns: LocalSns;
  readonly events: LocalEventBridge;
  /** Task tokens: the runner issues them, code resumes waiting states with SendTaskSuccess/Failure. */
  readonly stepFunctions: LocalStepFunctions;
  /** Parameter Store (the model registry). */
  readonly ssm: LocalSsm;
  /** Shared by all the stand-ins. */
  readonly callLog: AwsCallLog;
  readonly accountId: string;
  readonly region: string;
  /** The variables that were set, e.g. for a child process. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops the servers and restores every environment variable that was changed. */
  stop(): Promise<void>;
}

/** Variables that would send the SDK elsewhere or to a real account; cleared while the stand-ins run. */
const CLEARED_VARIABLES = ['AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN'];

/** Starts the stand-ins and sets the SDK environment; see the module comment. */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const accountId = options.accountId ?? '111122223333';
  const region = options.region ?? 'us-west-2';
  const callLog = new AwsCallLog();
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const s3 = await LocalS3.start({ callLog, minPartSize: options.minPartSize, region, accountId, faultClock: options.faultClock });
    started.push(s3);
    const bedrock = await LocalBedrock.start({ callLog, s3, accountId, region, duplicateJobNameError: options.duplicateJobNameError, faultClock: options.faultClock });
    started.push(bedrock);
    const runtime = await LocalBedrockRuntime.start({ callLog, bedrock, accountId, region, respond: options.respond, faultClock: options.faultClock });
    started.push(runtime);
    const sns = await LocalSns.start({ callLog, accountId, region, topics: options.topics, faultClock: options.faultClock });
    started.push(sns);
    const events = await LocalEventBridge.start({ callLog, accountId, region, eventBuses: options.eventBuses, faultClock: options.faultClock });
    started.push(events);
    const stepFunctions = await LocalStepFunctions.start({ callLog, faultClock: options.faultClock });
    started.push(stepFunctions);
    // Bedrock announces job state changes on the account's default bus.
    const unbridge = bedrock.onJobStateChange((e) =>
      events.putServiceEvent({ source: e.source, detailType: e['detail-type'], detail: { version: '0.0', ...e.detail }, resources: e.resources, time: new Date(e.time) }),
    );
    started.push({ stop: async () => void unbridge() });
    const ssm = await LocalSsm.start({ callLog, accountId, region, faultClock: options.faultClock });
    started.push(ssm);
    for (const bucket of options.buckets ?? []) {
      if (typeof bucket === 'string') s3.createBucket(bucket);
      else s3.createBucket(bucket.name, { versioned: bucket.versioned });
    }

    const env: Record<string, string> = {
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_BEDROCK: bedrock.endpoint,
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: runtime.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.endpoint,
      AWS_ENDPOINT_URL_SFN: stepFunctions.endpoint,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: options.accessKeyId ?? 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    };
    const previous = new Map<string, string | undefined>();
    for (const name of [...Object.keys(env), ...CLEARED_VARIABLES]) previous.set(name, process.env[name]);
    for (const name of CLEARED_VARIABLES) delete process.env[name];
    Object.assign(process.env, env);

    let stopped = false;
    return {
      s3,
      bedrock,
      runtime,
      sns,
      events,
      stepFunctions,
      ssm,
      callLog,
      accountId,
      region,
      env,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const [name, value] of previous) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        await Promise.all(started.map((s) => s.stop()));
      },
    };
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.stop()));
    throw err;
  }
}
