/**
 * Conformance of the stand-ins with an independent AWS emulator, moto's server
 * (`python3 -m moto.server`): the calls the handlers make are sent, with the real SDK clients,
 * to both, and must get the same answers wherever moto models the behaviour.
 *
 * Where moto is known to differ from AWS's documentation, the case is listed in
 * KNOWN_DIFFERENCES with the documented behaviour and its reference; the stand-in is asserted to
 * follow the documentation, and moto to still answer as recorded (when moto changes, the row
 * must move to the agreeing cases or be corrected).
 *
 * The file skips, saying why, when python3 or the moto package is absent. Any other failure to
 * start moto fails the file: a broken install must not pass for a missing one. Set
 * REQUIRE_MOTO=1 to fail instead of skipping.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer, AddressInfo } from 'node:net';
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  CreateModelCustomizationJobCommandInput,
  GetModelCustomizationJobCommand,
  ListTagsForResourceCommand,
  StopModelCustomizationJobCommand,
  TagResourceCommand,
} from '@aws-sdk/client-bedrock';
import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, GetParameterHistoryCommand, GetParametersByPathCommand, PutParameterCommand, PutParameterCommandInput, SSMClient } from '@aws-sdk/client-ssm';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { sleep } from '../support/stand-ins/http-server';

// ---- finding moto ----------------------------------------------------------------------------

type MotoProbe = { readonly available: true; readonly version: string } | { readonly available: false; readonly reason: string };

/**
 * Whether moto can run here. Only two findings skip: no python3 on PATH, or Python reporting
 * that the `moto` module does not exist. Anything else (moto present but broken) is an error.
 */
function probeMoto(): MotoProbe {
  const probe = spawnSync('python3', ['-c', 'import moto, moto.server; print(moto.__version__)'], { encoding: 'utf8', timeout: 30_000 });
  if ((probe.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { available: false, reason: 'python3 is not on PATH' };
  if (probe.error) throw new Error(`Could not run python3 to look for moto: ${probe.error.message}`);
  if (probe.status === 0) return { available: true, version: probe.stdout.trim() };
  if (/ModuleNotFoundError: No module named 'moto'(?!\.)/.test(probe.stderr)) return { available: false, reason: "python3 has no 'moto' package (pip install 'moto[server]')" };
  throw new Error(`moto is installed but cannot be imported, so the conformance test cannot run:\n${probe.stderr}`);
}

const MOTO = probeMoto();
if (!MOTO.available && process.env.REQUIRE_MOTO === '1') throw new Error(`REQUIRE_MOTO=1, but ${MOTO.reason}.`);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts moto's server on a free port; resolves once it answers, within `timeoutMs`. */
async function startMoto(timeoutMs = 20_000): Promise<{ endpoint: string; child: ChildProcess; output: () => string }> {
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto's server exited with ${child.exitCode} before it was ready:\n${output}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok) return { endpoint, child, output: () => output };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`moto's server did not answer on ${endpoint} within ${timeoutMs} ms:\n${output}`);
}

/** Stops moto: SIGTERM, then SIGKILL if it has not exited within two seconds. */
async function stopMoto(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}

// ---- comparing answers -----------------------------------------------------------------------

/** What a call came to, reduced to what both sides can be compared on. */
type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string; readonly status?: number };

interface SdkError extends Error {
  readonly $metadata?: { readonly httpStatusCode?: number };
}

async function outcomeOf<R, T>(call: Promise<R>, pick: (result: R) => T | Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await pick(await call) };
  } catch (err) {
    const e = err as SdkError;
    return { ok: false, error: e.name, status: e.$metadata?.httpStatusCode };
  }
}

/** The clients of one target (the stand-ins or moto). */
interface Target {
  readonly name: 'stand-ins' | 'moto';
  readonly s3: S3Client;
  readonly sns: SNSClient;
  readonly events: EventBridgeClient;
  readonly bedrock: BedrockClient;
  readonly ssm: SSMClient;
  readonly topicArn: string;
}

const ACCOUNT = '123456789012';
const REGION = 'us-west-2';
const BUCKET = 'conformance';
const VERSIONED = 'conformance-versioned';
const BODY = 'hello world, this is a body';

/**
 * Cases where moto 5.2 differs from AWS's documentation. Each names the documented behaviour the
 * stand-in follows and where AWS documents it.
 */
const KNOWN_DIFFERENCES = {
  snsSubject100: {
    case: 'SNS Publish with a Subject of exactly 100 characters',
    moto: 'accepted (moto refuses only > 100; getmoto/moto#1503 reports the live service accepting 100)',
    documented: 'refused with InvalidParameter (400): subjects "must be less than 100 characters long"',
    reference: 'Amazon SNS API Reference, Publish, Subject',
  },
  snsSubjectLineBreak: {
    case: 'SNS Publish with a line break in the Subject',
    moto: 'accepted',
    documented: 'refused with InvalidParameter (400): subjects "must not include line breaks or control characters"',
    reference: 'Amazon SNS API Reference, Publish, Subject',
  },
  snsSubjectNonAscii: {
    case: 'SNS Publish with a non-ASCII Subject',
    moto: 'accepted',
    documented: 'refused with InvalidParameter (400): subjects "must be ASCII text that begins with a letter, number, or punctuation mark" (newer SDK models say "UTF-8 text"; the stand-in keeps the stricter rule)',
    reference: 'Amazon SNS API Reference, Publish, Subject',
  },
  snsAttributesCount: {
    case: 'SNS Publish whose body fits 256 KiB but whose body plus message attributes does not',
    moto: 'accepted (moto counts the body only)',
    documented: 'refused with InvalidParameter (400) "Message too long": "All parts of the message attribute, including name, type, and value, are included in the message size restriction" of 262,144 bytes',
    reference: 'Amazon SNS API Reference, MessageAttributeValue',
  },
  eventsNoEntries: {
    case: 'EventBridge PutEvents with no entries',
    moto: 'accepted, FailedEntryCount 0',
    documented: 'refused with ValidationException (400): Entries has "Minimum number of 1 item"',
    reference: 'Amazon EventBridge API Reference, PutEvents, Entries',
  },
  eventsDetailNotObject: {
    case: 'EventBridge PutEvents entry whose Detail is JSON but not an object ("[1]")',
    moto: 'accepted',
    documented: 'entry fails with MalformedDetail: Detail is "A valid JSON object"',
    reference: 'Amazon EventBridge API Reference, PutEventsRequestEntry, Detail',
  },
  eventsRequestSize: {
    case: 'EventBridge PutEvents whose entries total more than 256 KiB',
    moto: 'accepted',
    documented: 'refused with ValidationException (400): the entries of one PutEvents call may total at most 256 KB, sized as the guide computes',
    reference: 'Amazon EventBridge User Guide, Calculating PutEvents event entry size',
  },
  eventsUnknownBus: {
    case: 'EventBridge PutEvents to an event bus that does not exist',
    moto: 'refuses the whole call with ResourceNotFoundException (400)',
    documented: 'not stated in the API reference; the service answers an EventId and FailedEntryCount 0 and drops the event (reported as observed in aws/aws-cli#9186 and aws/aws-sdk#186); the stand-in does the same and keeps the event apart in undeliveredEvents()',
    reference: 'Amazon EventBridge API Reference, PutEvents (silent on this); github.com/aws/aws-cli/issues/9186',
  },
  bedrockDuplicateJobName: {
    case: 'Bedrock CreateModelCustomizationJob with a job name already in use',
    moto: 'ResourceInUseException (400), an error Bedrock\'s API does not have',
    documented: 'ValidationException (400), one of the errors the API reference lists for CreateModelCustomizationJob (LocalBedrock can answer ConflictException instead, by option)',
    reference: 'Amazon Bedrock API Reference, CreateModelCustomizationJob, Errors',
  },
  bedrockNotFoundStatus: {
    case: 'Bedrock ResourceNotFoundException (unknown job, unknown ARN to tag)',
    moto: 'HTTP 400',
    documented: 'HTTP 404',
    reference: 'Amazon Bedrock API Reference, Common errors / ResourceNotFoundException (HTTP Status Code: 404)',
  },
  bedrockTimestamps: {
    case: 'Bedrock GetModelCustomizationJob timestamps',
    moto: "'YYYY-MM-DD HH:MM:SS' strings, which the SDK refuses (\"Invalid RFC-3339 date-time value\")",
    documented: 'ISO 8601 timestamps (creationTime, lastModifiedTime, endTime: Timestamp)',
    reference: 'Amazon Bedrock API Reference, GetModelCustomizationJob, Response Elements',
  },
  bedrockStopLifecycle: {
    case: 'Bedrock StopModelCustomizationJob, then stopping the same job again',
    moto: 'Stopped at once; the second stop is accepted',
    documented: 'Stopping, then Stopped; a job that is no longer InProgress cannot be stopped (the stand-in answers ConflictException)',
    reference: 'Amazon Bedrock API Reference, StopModelCustomizationJob; Bedrock User Guide, Stop a model customization job',
  },
  bedrockTagLimit: {
    case: 'Bedrock TagResource taking a resource to 51 tags',
    moto: 'accepted (moto compares against the size of its tag dict, not the tag count)',
    documented: 'TooManyTagsException: "50 tags per resource. The maximum number of tags includes both existing tags and those included in your current request."',
    reference: 'Amazon Bedrock API Reference, TagResource, TooManyTagsException',
  },
  ssmStandardValueSize: {
    case: 'SSM PutParameter of a 4,097-byte value in the Standard tier',
    moto: 'accepted',
    documented: 'refused with ValidationException (400): "Standard parameters have a value limit of 4 KB. Advanced parameters have a value limit of 8 KB."',
    reference: 'Amazon Systems Manager API Reference, PutParameter, Value (and Tier)',
  },
  ssmNestedValue: {
    case: 'SSM PutParameter of a value holding {{ssm:...}}',
    moto: 'accepted',
    documented: 'refused with ValidationException (400): "You can\'t include values wrapped in double brackets {{}} or {{ssm:parameter-name}} in a parameter value."',
    reference: 'Amazon Systems Manager API Reference, PutParameter, Value',
  },
  ssmHierarchyDepth: {
    case: 'SSM PutParameter of a name 16 levels deep',
    moto: 'accepted',
    documented: 'refused with HierarchyLevelLimitExceededException (400): "Parameter hierarchies are limited to a maximum depth of fifteen levels."',
    reference: 'Amazon Systems Manager API Reference, PutParameter, Name; HierarchyLevelLimitExceededException',
  },
  ssmNameWithArn: {
    case: 'SSM PutParameter of a name that fits 1011 characters only without its ARN',
    moto: 'accepted',
    documented: 'refused with ValidationException (400): "The maximum length for a parameter name that you specify is 1011 characters. This count of 1011 characters includes the characters in the ARN that precede the name you specify."',
    reference: 'Amazon Systems Manager API Reference, PutParameter, Name',
  },
  ssmAdvancedRevert: {
    case: 'SSM PutParameter taking an Advanced parameter back to the Standard tier',
    moto: 'accepted',
    documented: 'refused with ValidationException (400): "You can change a standard parameter to an advanced parameter any time. But you can\'t revert an advanced parameter to a standard parameter."',
    reference: 'Amazon Systems Manager API Reference, PutParameter, Tier',
  },
  ssmSpacesOnRead: {
    case: 'SSM GetParameter of a name with a space inside it',
    moto: 'ParameterNotFound (400)',
    documented: 'ValidationException (400): "If the specified name for a parameter contains spaces between characters, the request fails with a ValidationException error."',
    reference: 'Amazon Systems Manager API Reference, GetParameter (and GetParameterHistory, GetParametersByPath)',
  },
  ssmRelativePath: {
    case: 'SSM GetParametersByPath of a path without a leading slash',
    moto: 'an empty list',
    documented: 'refused with ValidationException (400): "Hierarchies start with a forward slash (/)."',
    reference: 'Amazon Systems Manager API Reference, GetParametersByPath, Path',
  },
  s3CopyIfNoneMatch: {
    case: 'S3 CopyObject with If-None-Match: * onto an existing key',
    moto: 'copies (200)',
    documented: 'refused with 412 PreconditionFailed: "Copies the object only if the object key name at the destination does not already exist"',
    reference: 'Amazon S3 API Reference, CopyObject, If-None-Match',
  },
} as const;

const describeWithMoto = MOTO.available ? describe : describe.skip;

if (!MOTO.available) {
  // A skipped suite lists no test names, so say why on the console too.
  console.warn(`moto-conformance.test.ts skipped: ${MOTO.reason}. The stand-ins were not compared with moto.`);
  describe('moto conformance', () => {
    it.skip(`skipped: ${MOTO.reason}`, () => undefined);
  });
}

describeWithMoto(`stand-ins agree with moto ${MOTO.available ? MOTO.version : ''} where moto models AWS`, () => {
  let moto: Awaited<ReturnType<typeof startMoto>>;
  let aws: LocalAws;
  let local: Target;
  let remote: Target;
  let motoEndpoint: string;

  /** Runs `call` against both targets and returns both outcomes (stand-ins first). */
  async function both<T>(call: (t: Target) => Promise<Outcome<T>>): Promise<{ local: Outcome<T>; moto: Outcome<T> }> {
    return { local: await call(local), moto: await call(remote) };
  }

  /** Asserts both targets came to the same outcome and returns it. */
  async function agree<T>(call: (t: Target) => Promise<Outcome<T>>): Promise<Outcome<T>> {
    const outcomes = await both(call);
    expect(outcomes.local).toEqual(outcomes.moto);
    return outcomes.local;
  }

  function clientsFor(name: Target['name'], endpoints: { s3: string; sns: string; events: string; bedrock: string; ssm: string }, topicArn: string): Target {
    const common = { region: REGION, credentials: { accessKeyId: 'AKIDCONFORMANCE', secretAccessKey: 'test' }, maxAttempts: 1 };
    return {
      name,
      s3: new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true }),
      sns: new SNSClient({ ...common, endpoint: endpoints.sns }),
      events: new EventBridgeClient({ ...common, endpoint: endpoints.events }),
      bedrock: new BedrockClient({ ...common, endpoint: endpoints.bedrock }),
      ssm: new SSMClient({ ...common, endpoint: endpoints.ssm }),
      topicArn,
    };
  }

  beforeAll(async () => {
    moto = await startMoto();
    motoEndpoint = moto.endpoint;
    aws = await startLocalAws({ accountId: ACCOUNT, region: REGION });
    // Jobs stay InProgress until stopped, as moto's do.
    aws.bedrock.scenario.job = { afterPolls: 'manual' };
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:run-outcomes`;
    local = clientsFor('stand-ins', { s3: aws.s3.endpoint, sns: aws.sns.endpoint, events: aws.events.endpoint, bedrock: aws.bedrock.endpoint, ssm: aws.ssm.endpoint }, topicArn);
    remote = clientsFor('moto', { s3: motoEndpoint, sns: motoEndpoint, events: motoEndpoint, bedrock: motoEndpoint, ssm: motoEndpoint }, topicArn);
    for (const t of [local, remote]) {
      await t.s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: REGION } }));
      await t.s3.send(new CreateBucketCommand({ Bucket: VERSIONED, CreateBucketConfiguration: { LocationConstraint: REGION } }));
      await t.s3.send(new PutBucketVersioningCommand({ Bucket: VERSIONED, VersioningConfiguration: { Status: 'Enabled' } }));
      await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'existing.txt', Body: BODY }));
      expect((await t.sns.send(new CreateTopicCommand({ Name: 'run-outcomes' }))).TopicArn).toBe(topicArn);
    }
  }, 60_000);

  afterAll(async () => {
    for (const t of [local, remote]) for (const c of [t?.s3, t?.sns, t?.events, t?.bedrock, t?.ssm]) c?.destroy();
    await aws?.stop();
    if (moto) await stopMoto(moto.child);
  });

  describe('S3', () => {
    const put = (t: Target, input: Partial<ConstructorParameters<typeof PutObjectCommand>[0]>) =>
      outcomeOf(t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'existing.txt', Body: 'new', ...input })), () => 'written');

    it('conditional writes: If-None-Match: * and If-Match answer 412, or NoSuchKey for If-Match on a missing key', async () => {
      expect(await agree((t) => put(t, { IfNoneMatch: '*' }))).toEqual({ ok: false, error: 'PreconditionFailed', status: 412 });
      expect(await agree((t) => put(t, { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toEqual({ ok: false, error: 'PreconditionFailed', status: 412 });
      expect(await agree((t) => put(t, { Key: 'missing.txt', IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toEqual({ ok: false, error: 'NoSuchKey', status: 404 });
      expect(await agree((t) => put(t, { Key: 'created-once.txt', IfNoneMatch: '*' }))).toEqual({ ok: true, value: 'written' });
      const matching = await agree(async (t) => {
        const head = await t.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'created-once.txt' }));
        return put(t, { Key: 'created-once.txt', IfMatch: head.ETag });
      });
      expect(matching).toEqual({ ok: true, value: 'written' });
    });

    it('a conditional CompleteMultipartUpload onto an existing key answers 412', async () => {
      const outcome = await agree(async (t) => {
        const created = await t.s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'existing.txt' }));
        const part = await t.s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'existing.txt', UploadId: created.UploadId, PartNumber: 1, Body: 'abc' }));
        return outcomeOf(
          t.s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'existing.txt', UploadId: created.UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } })),
          () => 'completed',
        );
      });
      expect(outcome).toEqual({ ok: false, error: 'PreconditionFailed', status: 412 });
    });

    it('versioned reads and writes: each version by id, HeadObject by id, NoSuchVersion for another key\'s version', async () => {
      const outcome = await agree(async (t) => {
        const v1 = await t.s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'data.jsonl', Body: 'one' }));
        const v2 = await t.s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'data.jsonl', Body: 'two' }));
        const other = await t.s3.send(new PutObjectCommand({ Bucket: VERSIONED, Key: 'other.jsonl', Body: 'x' }));
        const read = (VersionId?: string) => outcomeOf(t.s3.send(new GetObjectCommand({ Bucket: VERSIONED, Key: 'data.jsonl', VersionId })), async (r) => ({ body: await r.Body!.transformToString(), sameVersion: r.VersionId === (VersionId ?? v2.VersionId) }));
        const head = await outcomeOf(t.s3.send(new HeadObjectCommand({ Bucket: VERSIONED, Key: 'data.jsonl', VersionId: v1.VersionId })), (r) => ({ length: r.ContentLength, sameVersion: r.VersionId === v1.VersionId }));
        return { ok: true, value: { distinct: v1.VersionId !== v2.VersionId && Boolean(v1.VersionId), v1: await read(v1.VersionId), latest: await read(), head, wrong: await read(other.VersionId) } } as const;
      });
      expect(outcome).toEqual({
        ok: true,
        value: {
          distinct: true,
          v1: { ok: true, value: { body: 'one', sameVersion: true } },
          latest: { ok: true, value: { body: 'two', sameVersion: true } },
          head: { ok: true, value: { length: 3, sameVersion: true } },
          wrong: { ok: false, error: 'NoSuchVersion', status: 404 },
        },
      });
    });

    it('HeadObject and GetObject of a missing key: NotFound 404 without a body, NoSuchKey 404', async () => {
      expect(await agree((t) => outcomeOf(t.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'nothing-here' })), () => 'found'))).toEqual({ ok: false, error: 'NotFound', status: 404 });
      expect(await agree((t) => outcomeOf(t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'nothing-here' })), () => 'found'))).toEqual({ ok: false, error: 'NoSuchKey', status: 404 });
    });

    it.each([
      ['a closed range', 'bytes=0-4', { body: 'hello', contentRange: 'bytes 0-4/27', status: 206 }],
      ['a suffix range', 'bytes=-12', { body: 'is is a body', contentRange: 'bytes 15-26/27', status: 206 }],
      ['a suffix longer than the object', 'bytes=-1000', { body: BODY, contentRange: 'bytes 0-26/27', status: 206 }],
      ['an open-ended range', 'bytes=20-', { body: ' a body', contentRange: 'bytes 20-26/27', status: 206 }],
      ['a range past the end', 'bytes=1000-2000', 'InvalidRange'],
    ])('ranged GET with %s', async (_label, range, expected) => {
      const outcome = await agree((t) =>
        outcomeOf(t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'existing.txt', Range: range })), async (r) => ({ body: await r.Body!.transformToString(), contentRange: r.ContentRange, status: r.$metadata.httpStatusCode })),
      );
      expect(outcome).toEqual(typeof expected === 'string' ? { ok: false, error: expected, status: 416 } : { ok: true, value: expected });
    });

    it('ListObjectsV2 pages with MaxKeys and continuation tokens, keys in UTF-8 byte order, kept literal', async () => {
      const keys = ['page/b', 'page/a', 'page/a/../c', 'page/a//d', 'page/é', 'page/Z'];
      const outcome = await agree(async (t) => {
        for (const key of keys) await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
        const pages: Array<{ keys: string[]; keyCount?: number; truncated?: boolean }> = [];
        let token: string | undefined;
        do {
          const page = await t.s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'page/', MaxKeys: 4, ContinuationToken: token }));
          pages.push({ keys: (page.Contents ?? []).map((c) => c.Key!), keyCount: page.KeyCount, truncated: page.IsTruncated });
          token = page.NextContinuationToken;
        } while (token);
        return { ok: true, value: pages } as const;
      });
      expect(outcome).toEqual({
        ok: true,
        value: [
          // '.' (0x2E) sorts before '/' (0x2F); 'é' (0xC3 0xA9) after every ASCII character.
          { keys: ['page/Z', 'page/a', 'page/a/../c', 'page/a//d'], keyCount: 4, truncated: true },
          { keys: ['page/b', 'page/é'], keyCount: 2, truncated: false },
        ],
      });
    });
  });

  describe('SNS Publish limits', () => {
    const publish = (t: Target, input: Partial<PublishCommandInput>) => outcomeOf(t.sns.send(new PublishCommand({ TopicArn: t.topicArn, Message: 'run finished', ...input })), () => 'published');

    it('accepts a 99-character subject and refuses a 101-character one', async () => {
      expect(await agree((t) => publish(t, { Subject: 's'.repeat(99) }))).toEqual({ ok: true, value: 'published' });
      expect(await agree((t) => publish(t, { Subject: 's'.repeat(101) }))).toEqual({ ok: false, error: 'InvalidParameterException', status: 400 });
    });

    it('accepts a message of exactly 262,144 bytes and refuses one byte more', async () => {
      expect(await agree((t) => publish(t, { Message: 'm'.repeat(262_144) }))).toEqual({ ok: true, value: 'published' });
      expect(await agree((t) => publish(t, { Message: 'm'.repeat(262_145) }))).toEqual({ ok: false, error: 'InvalidParameterException', status: 400 });
    });

    it('answers NotFound (404) for a topic that does not exist', async () => {
      expect(await agree((t) => publish(t, { TopicArn: `arn:aws:sns:${REGION}:${ACCOUNT}:no-such-topic` }))).toEqual({ ok: false, error: 'NotFoundException', status: 404 });
    });
  });

  describe('EventBridge PutEvents', () => {
    const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({ Source: 'llama-finetune', DetailType: 'Fine-tuning Run Finished', Detail: '{"status":"SUCCEEDED"}', ...overrides });
    const putEvents = (t: Target, entries: PutEventsRequestEntry[]) =>
      outcomeOf(t.events.send(new PutEventsCommand({ Entries: entries })), (r) => ({ failed: r.FailedEntryCount, entries: r.Entries?.map((e) => e.ErrorCode ?? (e.EventId ? 'EventId' : 'none')) }));

    it('accepts up to 10 entries and refuses 11 with ValidationException', async () => {
      expect(await agree((t) => putEvents(t, Array.from({ length: 10 }, () => entry())))).toEqual({ ok: true, value: { failed: 0, entries: Array(10).fill('EventId') } });
      expect(await agree((t) => putEvents(t, Array.from({ length: 11 }, () => entry())))).toEqual({ ok: false, error: 'ValidationException', status: 400 });
    });

    it('fails bad entries one by one (InvalidArgument, MalformedDetail) and keeps the good ones', async () => {
      const outcome = await agree((t) => putEvents(t, [entry(), entry({ Source: undefined }), entry({ DetailType: undefined }), entry({ Detail: 'not json' })]));
      expect(outcome).toEqual({ ok: true, value: { failed: 3, entries: ['EventId', 'InvalidArgument', 'InvalidArgument', 'MalformedDetail'] } });
    });
  });

  describe('SSM Parameter Store (the model registry)', () => {
    const put = (t: Target, input: Partial<PutParameterCommandInput> & { Name: string }) =>
      outcomeOf(t.ssm.send(new PutParameterCommand({ Value: '{"runId":"r-1"}', Type: 'String', ...input })), (r) => ({ version: r.Version, tier: r.Tier }));
    const get = (t: Target, name: string) => outcomeOf(t.ssm.send(new GetParameterCommand({ Name: name })), (r) => ({ name: r.Parameter?.Name, value: r.Parameter?.Value, version: r.Parameter?.Version, type: r.Parameter?.Type }));

    it('writes need Overwrite once a name exists, count versions, and a type to create; reads answer ParameterNotFound or ParameterVersionNotFound', async () => {
      expect(await agree((t) => put(t, { Name: '/conformance/models/chart-qa', Description: 'current model' }))).toEqual({ ok: true, value: { version: 1, tier: 'Standard' } });
      expect(await agree((t) => put(t, { Name: '/conformance/models/chart-qa' }))).toEqual({ ok: false, error: 'ParameterAlreadyExists', status: 400 });
      expect(await agree((t) => put(t, { Name: '/conformance/models/chart-qa', Value: '{"runId":"r-2"}', Overwrite: true }))).toEqual({ ok: true, value: { version: 2, tier: 'Standard' } });
      expect(await agree((t) => put(t, { Name: '/conformance/models/untyped', Type: undefined }))).toEqual({ ok: false, error: 'ValidationException', status: 400 });
      expect(await agree((t) => put(t, { Name: '/aws/models/x' }))).toMatchObject({ ok: false, status: 400 });
      expect(await agree((t) => get(t, '/conformance/models/chart-qa'))).toEqual({ ok: true, value: { name: '/conformance/models/chart-qa', value: '{"runId":"r-2"}', version: 2, type: 'String' } });
      expect(await agree((t) => get(t, '/conformance/models/chart-qa:1'))).toEqual({ ok: true, value: { name: '/conformance/models/chart-qa', value: '{"runId":"r-1"}', version: 1, type: 'String' } });
      expect(await agree((t) => get(t, '/conformance/models/chart-qa:7'))).toEqual({ ok: false, error: 'ParameterVersionNotFound', status: 400 });
      expect(await agree((t) => get(t, '/conformance/models/missing'))).toEqual({ ok: false, error: 'ParameterNotFound', status: 400 });
      expect(await agree((t) => outcomeOf(t.ssm.send(new GetParameterHistoryCommand({ Name: '/conformance/models/chart-qa', MaxResults: 51 })), () => 'listed'))).toEqual({ ok: false, error: 'ValidationException', status: 400 });
    });

    it('GetParametersByPath lists one level unless recursive, the same names over all pages, at most 10 a page', async () => {
      for (const t of [local, remote]) {
        for (let i = 0; i < 12; i++) await t.ssm.send(new PutParameterCommand({ Name: `/conformance/listing/m${i}`, Value: String(i), Type: 'String' }));
        await t.ssm.send(new PutParameterCommand({ Name: '/conformance/listing/deeper/x', Value: 'deep', Type: 'String' }));
      }
      const listAll = (recursive: boolean) => async (t: Target) => {
        const names: string[] = [];
        let pageSizes = 0;
        let NextToken: string | undefined;
        do {
          const page = await t.ssm.send(new GetParametersByPathCommand({ Path: '/conformance/listing', Recursive: recursive, MaxResults: 10, NextToken }));
          names.push(...(page.Parameters ?? []).map((p) => p.Name!));
          pageSizes = Math.max(pageSizes, page.Parameters?.length ?? 0);
          NextToken = page.NextToken;
        } while (NextToken);
        return { ok: true, value: { names: names.sort(), withinTen: pageSizes <= 10 } } as const;
      };
      expect((await agree(listAll(false))) as { value: { names: string[] } }).toMatchObject({ value: { names: expect.not.arrayContaining(['/conformance/listing/deeper/x']), withinTen: true } });
      expect(((await agree(listAll(true))) as { value: { names: string[] } }).value.names).toContain('/conformance/listing/deeper/x');
      expect(await agree((t) => outcomeOf(t.ssm.send(new GetParametersByPathCommand({ Path: '/conformance', MaxResults: 11 })), () => 'listed'))).toEqual({ ok: false, error: 'ValidationException', status: 400 });
      expect(await agree((t) => outcomeOf(t.ssm.send(new GetParametersByPathCommand({ Path: '/conformance', ParameterFilters: [{ Key: 'Name', Values: ['x'] }] })), () => 'listed'))).toEqual({ ok: false, error: 'InvalidFilterKey', status: 400 });
    });
  });

  describe('Bedrock model customization jobs and tags', () => {
    let counter = 0;
    const jobInput = (overrides: Partial<CreateModelCustomizationJobCommandInput> = {}): CreateModelCustomizationJobCommandInput => {
      counter += 1;
      return {
        jobName: `conformance-job-${counter}`,
        customModelName: `conformance-model-${counter}`,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/llama-finetune-bedrock`,
        baseModelIdentifier: 'meta.llama3-2-1b-instruct-v1:0:128k',
        trainingDataConfig: { s3Uri: 's3://conformance/train/train.jsonl' },
        outputDataConfig: { s3Uri: 's3://conformance/runs/' },
        hyperParameters: { epochCount: '2', batchSize: '1', learningRate: '0.00005' },
        ...overrides,
      };
    };
    const tagsOf = (t: Target, resourceARN: string) => outcomeOf(t.bedrock.send(new ListTagsForResourceCommand({ resourceARN })), (r) => r.tags);

    it('creates a job with jobTags, lists them, adds with TagResource, and refuses to tag an unknown ARN', async () => {
      const outcome = await agree(async (t) => {
        const input = jobInput({ jobTags: [{ key: 'llama-finetune:run', value: 'r-1' }] });
        const { jobArn } = await t.bedrock.send(new CreateModelCustomizationJobCommand(input));
        const created = await tagsOf(t, jobArn!);
        await t.bedrock.send(new TagResourceCommand({ resourceARN: jobArn, tags: [{ key: 'stage', value: 'evaluate' }] }));
        const missing = await outcomeOf(t.bedrock.send(new TagResourceCommand({ resourceARN: `arn:aws:bedrock:${REGION}:${ACCOUNT}:model-customization-job/nothing/zzzzzzzzzzzz`, tags: [{ key: 'a', value: 'b' }] })), () => 'tagged');
        return { ok: true, value: { arnShape: /^arn:aws:bedrock:us-west-2:123456789012:model-customization-job\//.test(jobArn!), created, after: await tagsOf(t, jobArn!), missing: !missing.ok && missing.error } } as const;
      });
      expect(outcome).toEqual({
        ok: true,
        value: {
          arnShape: true,
          created: { ok: true, value: [{ key: 'llama-finetune:run', value: 'r-1' }] },
          after: { ok: true, value: [{ key: 'llama-finetune:run', value: 'r-1' }, { key: 'stage', value: 'evaluate' }] },
          missing: 'ResourceNotFoundException',
        },
      });
    });

    it('refuses a job whose S3 URI is not s3:// with ValidationException, and an unknown job with ResourceNotFoundException', async () => {
      expect(await agree((t) => outcomeOf(t.bedrock.send(new CreateModelCustomizationJobCommand(jobInput({ trainingDataConfig: { s3Uri: 'https://example.com/train.jsonl' } }))), () => 'created'))).toEqual({
        ok: false,
        error: 'ValidationException',
        status: 400,
      });
      const missing = await both((t) => outcomeOf(t.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: 'no-such-job' })), () => 'found'));
      expect([missing.local.ok, missing.moto.ok]).toEqual([false, false]);
      expect([(missing.local as { error: string }).error, (missing.moto as { error: string }).error]).toEqual(['ResourceNotFoundException', 'ResourceNotFoundException']);
    });

    it('reports a new job InProgress and accepts a stop of it', async () => {
      const input = jobInput();
      const localArn = (await local.bedrock.send(new CreateModelCustomizationJobCommand(input))).jobArn!;
      const motoArn = (await remote.bedrock.send(new CreateModelCustomizationJobCommand(input))).jobArn!;
      // moto's timestamps cannot be parsed by the SDK (see KNOWN_DIFFERENCES.bedrockTimestamps): read its status raw.
      const localJob = await local.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: localArn }));
      expect([localJob.status, (await motoJob(input.jobName!)).status]).toEqual(['InProgress', 'InProgress']);
      expect(localJob.jobName).toBe(input.jobName);
      const stops = await Promise.all([local.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: localArn })), remote.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: motoArn }))]);
      expect(stops.map((s) => s.$metadata.httpStatusCode)).toEqual([200, 200]);
    });
  });

  /** GetModelCustomizationJob read from moto without the SDK's deserializer (moto's timestamps break it). */
  async function motoJob(jobName: string): Promise<{ status: string; creationTime: string }> {
    const authorization = `AWS4-HMAC-SHA256 Credential=AKIDCONFORMANCE/20260101/${REGION}/bedrock/aws4_request, SignedHeaders=host, Signature=0`;
    const res = await fetch(`${motoEndpoint}/model-customization-jobs/${encodeURIComponent(jobName)}`, { headers: { authorization } });
    expect(res.status).toBe(200);
    return (await res.json()) as { status: string; creationTime: string };
  }

  describe('known differences: the stand-ins follow the documentation, moto differs', () => {
    it.each(Object.entries(KNOWN_DIFFERENCES))('%s is listed with the documented behaviour and its reference', (_id, row) => {
      expect(row.case.length).toBeGreaterThan(0);
      expect(row.documented.length).toBeGreaterThan(0);
      expect(row.reference).toMatch(/^Amazon /);
    });

    const publish = (t: Target, input: Partial<PublishCommandInput>) => outcomeOf(t.sns.send(new PublishCommand({ TopicArn: t.topicArn, Message: 'run finished', ...input })), () => 'published');
    const refused = { ok: false, error: 'InvalidParameterException', status: 400 };

    it(KNOWN_DIFFERENCES.snsSubject100.case, async () => {
      expect(await both((t) => publish(t, { Subject: 's'.repeat(100) }))).toEqual({ local: refused, moto: { ok: true, value: 'published' } });
    });

    it(KNOWN_DIFFERENCES.snsSubjectLineBreak.case, async () => {
      expect(await both((t) => publish(t, { Subject: 'run r-1\nfailed' }))).toEqual({ local: refused, moto: { ok: true, value: 'published' } });
    });

    it(KNOWN_DIFFERENCES.snsSubjectNonAscii.case, async () => {
      expect(await both((t) => publish(t, { Subject: 'Exécution terminée' }))).toEqual({ local: refused, moto: { ok: true, value: 'published' } });
    });

    it(KNOWN_DIFFERENCES.snsAttributesCount.case, async () => {
      const input = { Message: 'm'.repeat(262_144 - 4), MessageAttributes: { status: { DataType: 'String', StringValue: 'FAILED' } } };
      expect(await both((t) => publish(t, input))).toEqual({ local: refused, moto: { ok: true, value: 'published' } });
    });

    const putEvents = (t: Target, entries: PutEventsRequestEntry[]) =>
      outcomeOf(t.events.send(new PutEventsCommand({ Entries: entries })), (r) => ({ failed: r.FailedEntryCount, codes: r.Entries?.map((e) => e.ErrorCode ?? 'EventId') }));
    const entry = (overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry => ({ Source: 'llama-finetune', DetailType: 'Fine-tuning Run Finished', Detail: '{}', ...overrides });

    it(KNOWN_DIFFERENCES.eventsNoEntries.case, async () => {
      expect(await both((t) => putEvents(t, []))).toEqual({ local: { ok: false, error: 'ValidationException', status: 400 }, moto: { ok: true, value: { failed: 0, codes: [] } } });
    });

    it(KNOWN_DIFFERENCES.eventsDetailNotObject.case, async () => {
      expect(await both((t) => putEvents(t, [entry({ Detail: '[1]' })]))).toEqual({ local: { ok: true, value: { failed: 1, codes: ['MalformedDetail'] } }, moto: { ok: true, value: { failed: 0, codes: ['EventId'] } } });
    });

    it(KNOWN_DIFFERENCES.eventsUnknownBus.case, async () => {
      expect(await both((t) => putEvents(t, [entry({ EventBusName: 'no-such-bus' })]))).toEqual({
        local: { ok: true, value: { failed: 0, codes: ['EventId'] } },
        moto: { ok: false, error: 'ResourceNotFoundException', status: 400 },
      });
      expect(aws.events.undeliveredEvents().map((e) => e.eventBusName)).toEqual(['no-such-bus']);
    });

    it(KNOWN_DIFFERENCES.eventsRequestSize.case, async () => {
      const big = entry({ Detail: JSON.stringify({ padding: 'x'.repeat(262_144) }) });
      expect(await both((t) => putEvents(t, [big]))).toEqual({ local: { ok: false, error: 'ValidationException', status: 400 }, moto: { ok: true, value: { failed: 0, codes: ['EventId'] } } });
    });

    const job = (name: string, overrides: Partial<CreateModelCustomizationJobCommandInput> = {}): CreateModelCustomizationJobCommandInput => ({
      jobName: name,
      customModelName: `${name}-model`,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/llama-finetune-bedrock`,
      baseModelIdentifier: 'meta.llama3-2-1b-instruct-v1:0:128k',
      trainingDataConfig: { s3Uri: 's3://conformance/train/train.jsonl' },
      outputDataConfig: { s3Uri: 's3://conformance/runs/' },
      hyperParameters: { epochCount: '2' },
      ...overrides,
    });

    it(KNOWN_DIFFERENCES.bedrockDuplicateJobName.case, async () => {
      const outcome = await both(async (t) => {
        await t.bedrock.send(new CreateModelCustomizationJobCommand(job('difference-dup')));
        return outcomeOf(t.bedrock.send(new CreateModelCustomizationJobCommand(job('difference-dup', { customModelName: 'difference-dup-other' }))), () => 'created');
      });
      expect(outcome).toEqual({ local: { ok: false, error: 'ValidationException', status: 400 }, moto: { ok: false, error: 'ResourceInUseException', status: 400 } });
    });

    it(KNOWN_DIFFERENCES.bedrockNotFoundStatus.case, async () => {
      const outcome = await both((t) => outcomeOf(t.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: 'no-such-job' })), () => 'stopped'));
      expect(outcome).toEqual({ local: { ok: false, error: 'ResourceNotFoundException', status: 404 }, moto: { ok: false, error: 'ResourceNotFoundException', status: 400 } });
    });

    it(KNOWN_DIFFERENCES.bedrockTimestamps.case, async () => {
      const input = job('difference-time');
      const outcome = await both(async (t) => {
        const { jobArn } = await t.bedrock.send(new CreateModelCustomizationJobCommand(input));
        return outcomeOf(t.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn })), (r) => r.creationTime instanceof Date);
      });
      expect(outcome.local).toEqual({ ok: true, value: true });
      expect(outcome.moto).toMatchObject({ ok: false, error: 'TypeError' });
      expect((await motoJob(input.jobName!)).creationTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    });

    it(KNOWN_DIFFERENCES.bedrockStopLifecycle.case, async () => {
      const input = job('difference-stop');
      const localArn = (await local.bedrock.send(new CreateModelCustomizationJobCommand(input))).jobArn!;
      const motoArn = (await remote.bedrock.send(new CreateModelCustomizationJobCommand(input))).jobArn!;
      await local.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: localArn }));
      await remote.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: motoArn }));
      expect([(await local.bedrock.send(new GetModelCustomizationJobCommand({ jobIdentifier: localArn }))).status, (await motoJob(input.jobName!)).status]).toEqual(['Stopping', 'Stopped']);
      const again = { local: await outcomeOf(local.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: localArn })), () => 'stopped'), moto: await outcomeOf(remote.bedrock.send(new StopModelCustomizationJobCommand({ jobIdentifier: motoArn })), () => 'stopped') };
      expect(again).toEqual({ local: { ok: false, error: 'ConflictException', status: 400 }, moto: { ok: true, value: 'stopped' } });
    });

    it(KNOWN_DIFFERENCES.bedrockTagLimit.case, async () => {
      const outcome = await both(async (t) => {
        const { jobArn } = await t.bedrock.send(new CreateModelCustomizationJobCommand(job(`difference-tags-${t.name}`, { jobTags: [{ key: 'k0', value: 'v' }] })));
        await t.bedrock.send(new TagResourceCommand({ resourceARN: jobArn, tags: Array.from({ length: 49 }, (_, i) => ({ key: `k${i + 1}`, value: 'v' })) }));
        return outcomeOf(t.bedrock.send(new TagResourceCommand({ resourceARN: jobArn, tags: [{ key: 'k50', value: 'v' }] })), () => 'tagged');
      });
      expect(outcome).toEqual({ local: { ok: false, error: 'TooManyTagsException', status: 400 }, moto: { ok: true, value: 'tagged' } });
    });

    const putParameter = (t: Target, input: Partial<PutParameterCommandInput> & { Name: string }) => outcomeOf(t.ssm.send(new PutParameterCommand({ Value: 'v', Type: 'String', ...input })), (r) => r.Tier);
    const ssmRefused = { ok: false, error: 'ValidationException', status: 400 };

    it(KNOWN_DIFFERENCES.ssmStandardValueSize.case, async () => {
      expect(await both((t) => putParameter(t, { Name: '/difference/big', Value: 'x'.repeat(4097) }))).toEqual({ local: ssmRefused, moto: { ok: true, value: 'Standard' } });
    });

    it(KNOWN_DIFFERENCES.ssmNestedValue.case, async () => {
      expect(await both((t) => putParameter(t, { Name: '/difference/nested', Value: '{{ssm:/difference/other}}' }))).toEqual({ local: ssmRefused, moto: { ok: true, value: 'Standard' } });
    });

    it(KNOWN_DIFFERENCES.ssmHierarchyDepth.case, async () => {
      const name = `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`;
      expect(await both((t) => putParameter(t, { Name: name }))).toEqual({ local: { ok: false, error: 'HierarchyLevelLimitExceededException', status: 400 }, moto: { ok: true, value: 'Standard' } });
    });

    it(KNOWN_DIFFERENCES.ssmNameWithArn.case, async () => {
      // 45 characters of arn:aws:ssm:us-west-2:123456789012:parameter/ + 1000.
      expect(await both((t) => putParameter(t, { Name: `/${'n'.repeat(999)}` }))).toEqual({ local: ssmRefused, moto: { ok: true, value: 'Standard' } });
    });

    it(KNOWN_DIFFERENCES.ssmAdvancedRevert.case, async () => {
      const outcome = await both(async (t) => {
        await t.ssm.send(new PutParameterCommand({ Name: '/difference/advanced', Value: 'v', Type: 'String', Tier: 'Advanced' }));
        return putParameter(t, { Name: '/difference/advanced', Tier: 'Standard', Overwrite: true });
      });
      expect(outcome).toEqual({ local: ssmRefused, moto: { ok: true, value: 'Standard' } });
    });

    it(KNOWN_DIFFERENCES.ssmSpacesOnRead.case, async () => {
      expect(await both((t) => outcomeOf(t.ssm.send(new GetParameterCommand({ Name: '/difference/has space' })), () => 'found'))).toEqual({ local: ssmRefused, moto: { ok: false, error: 'ParameterNotFound', status: 400 } });
    });

    it(KNOWN_DIFFERENCES.ssmRelativePath.case, async () => {
      expect(await both((t) => outcomeOf(t.ssm.send(new GetParametersByPathCommand({ Path: 'difference' })), (r) => r.Parameters))).toEqual({ local: ssmRefused, moto: { ok: true, value: [] } });
    });

    it(KNOWN_DIFFERENCES.s3CopyIfNoneMatch.case, async () => {
      const outcome = await both(async (t) => {
        await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy-target.txt', Body: 'kept' }));
        return outcomeOf(t.s3.send(new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy-target.txt', CopySource: `${BUCKET}/existing.txt`, IfNoneMatch: '*' })), () => 'copied');
      });
      expect(outcome).toEqual({ local: { ok: false, error: 'PreconditionFailed', status: 412 }, moto: { ok: true, value: 'copied' } });
    });
  });
});
