/**
 * LocalSns: Amazon SNS on 127.0.0.1 for the real `@aws-sdk/client-sns`, enough to publish
 * notifications: Publish, plus CreateTopic and ListTopics so code can also set topics up.
 *
 * Wire format, as the installed client (AwsQueryProtocol) sends it: a form-encoded POST to `/`
 * with `Action=Publish&Version=2010-03-31&TopicArn=...`, maps flattened as
 * `MessageAttributes.entry.N.Name` / `.Value.DataType` / `.Value.StringValue` /
 * `.Value.BinaryValue` (base64). Answers are XML: `<PublishResponse><PublishResult>...` on
 * success, `<ErrorResponse><Error><Type/><Code/><Message/></Error>` on failure, where the
 * SDK turns the Code into its exception class (InvalidParameter -> InvalidParameterException,
 * NotFound -> NotFoundException, ParameterValueInvalid -> InvalidParameterValueException).
 *
 * Topics exist only once declared ({@link LocalSns.createTopic}, the `topics` option or a
 * CreateTopic call); publishing to any other ARN answers NotFound, as SNS does. Input rules
 * follow the SNS API reference (subject, message size, message attributes, MessageStructure).
 * Every request goes to the {@link AwsCallLog} as `sns:<Action>` on the topic ARN.
 */
import { randomUUID } from 'node:crypto';
import { AwsCallLog } from './aws-call-log';
import { Authorizer } from './local-s3';
import { AwsScope } from './stand-ins/bedrock-arns';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { principalOf, readBody, RunningServer, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';
import { namespacedDocument, XmlNode } from './stand-ins/xml';

/** The SNS operations LocalSns answers. */
export type SnsOperation = 'Publish' | 'CreateTopic' | 'ListTopics';

/** Namespace SNS puts on every response document. */
const SNS_XML_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

/** Largest message SNS accepts, attributes included: 256 KiB. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** SNS allows subjects shorter than this many characters. */
export const SNS_SUBJECT_LIMIT = 100;

/**
 * A subject SNS accepts. The Publish API reference: "Subjects must be ASCII text that begins
 * with a letter, number, or punctuation mark; must not include line breaks or control
 * characters; and must be less than 100 characters long." (Newer SDK models say "UTF-8 text"
 * and drop the first-character rule; LocalSns keeps the stricter, older wording, so code that
 * passes here passes under either.) Printable ASCII is 0x20-0x7E; the first character may not be a space.
 */
const SNS_SUBJECT_PATTERN = /^[\x21-\x7e][\x20-\x7e]*$/;

/** Why SNS refuses `subject`, or undefined when it accepts it. */
export function subjectProblem(subject: string): string | undefined {
  if (subject.length === 0) return 'it is empty';
  if (subject.length >= SNS_SUBJECT_LIMIT) return `it has ${subject.length} characters; SNS requires fewer than ${SNS_SUBJECT_LIMIT}`;
  if (/[\r\n]/.test(subject)) return 'it contains a line break';
  if (/[\u0000-\u001f\u007f]/.test(subject)) return 'it contains a control character';
  if (!/^[\x00-\x7f]*$/.test(subject)) return 'it contains a character outside ASCII';
  if (!SNS_SUBJECT_PATTERN.test(subject)) return 'it must begin with a letter, number or punctuation mark';
  return undefined;
}

/** Topics per ListTopics page (SNS returns up to 100). */
const LIST_TOPICS_PAGE_SIZE = 100;

/**
 * HTTP status of each error code, as the SDK's schema declares it (awsQueryError traits).
 * `Throttling` is the generic "Rate exceeded" answer of query APIs, not modeled by the client.
 */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  InvalidParameter: 400,
  ParameterValueInvalid: 400,
  NotFound: 404,
  AuthorizationError: 403,
  InternalError: 500,
  Throttled: 429,
  Throttling: 400,
  InvalidAction: 400,
  MissingAction: 400,
  KMSThrottling: 400,
};

const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  InternalError: 'Internal Error',
  Throttling: 'Rate exceeded',
  Throttled: 'Rate exceeded',
};

/** One message attribute as the publisher sent it. */
export interface SnsMessageAttribute {
  /** `String`, `String.Array`, `Number`, `Binary`, optionally with a custom suffix (`String.json`). */
  readonly dataType: string;
  readonly stringValue?: string;
  readonly binaryValue?: Buffer;
}

/** A message SNS accepted. */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  /** `json` when the publisher sent one message per protocol. */
  readonly messageStructure?: string;
  readonly attributes: Readonly<Record<string, SnsMessageAttribute>>;
  /** Access key id of the publisher. */
  readonly principal: string;
  readonly time: Date;
}

/** Options of {@link LocalSns.start}. */
export interface LocalSnsOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Log to write to (share one across stand-ins via local-aws.ts). */
  readonly callLog?: AwsCallLog;
  /** Default 111122223333. */
  readonly accountId?: string;
  /** Default us-west-2. */
  readonly region?: string;
  /** Topics to create up front: names or topic ARNs in this account and region. */
  readonly topics?: readonly string[];
  /** Clock that fault windows (`{ forMs }`) are measured by; default Date.now. */
  readonly faultClock?: () => number;
}

/** An error LocalSns should answer the next requests with (see {@link LocalSns.failNext}). */
export interface SnsFaultOptions {
  /** SNS error code; default `InternalError` (500, which the SDK retries). */
  readonly code?: string;
  /** HTTP status; default the code's status (see the SDK's error schema). */
  readonly status?: number;
  readonly message?: string;
  /** Only requests for this operation fail; every operation when omitted. */
  readonly operation?: SnsOperation;
}

/** Thrown by the pure rule checks; `code` and `message` are what SNS would answer. */
export class SnsRuleError extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    status?: number,
  ) {
    super(message);
    this.name = 'SnsRuleError';
    this.status = status ?? ERROR_STATUS[code] ?? 400;
  }
}

// ---- pure rules ---------------------------------------------------------------------------

/** Topic names: letters, digits, `_` and `-`, 1..256 characters, `.fifo` allowed at the end. */
const TOPIC_NAME = /^[A-Za-z0-9_-]+(\.fifo)?$/;
const TOPIC_ARN = /^arn:aws(?:-[a-z]+)*:sns:([a-z0-9-]+):(\d{12}):([^:]+)$/;

/** The ARN SNS gives a topic named `name`. */
export function topicArnFor(scope: AwsScope, name: string): string {
  return `arn:aws:sns:${scope.region}:${scope.accountId}:${name}`;
}

/** Region, account and name of a topic ARN, or undefined when it is not one. */
export function parseTopicArn(arn: string): { readonly region: string; readonly accountId: string; readonly name: string } | undefined {
  const match = TOPIC_ARN.exec(arn);
  return match ? { region: match[1], accountId: match[2], name: match[3] } : undefined;
}

/** Whether `name` is a valid topic name. */
export function isValidTopicName(name: string): boolean {
  return name.length >= 1 && name.length <= 256 && TOPIC_NAME.test(name);
}

/**
 * Reads a flattened awsQuery map (`<prefix>.entry.N.Name` / `.Value.*`) of message attributes.
 * Entries are numbered from 1; reading stops at the first missing number, as SNS does.
 */
export function readMessageAttributes(params: URLSearchParams, prefix = 'MessageAttributes'): Array<{ readonly name: string } & Partial<SnsMessageAttribute>> {
  const found: Array<{ readonly name: string } & Partial<SnsMessageAttribute>> = [];
  for (let n = 1; params.has(`${prefix}.entry.${n}.Name`); n++) {
    const at = `${prefix}.entry.${n}`;
    const binary = params.get(`${at}.Value.BinaryValue`);
    found.push({
      name: params.get(`${at}.Name`) ?? '',
      dataType: params.get(`${at}.Value.DataType`) ?? undefined,
      stringValue: params.get(`${at}.Value.StringValue`) ?? undefined,
      binaryValue: binary === null ? undefined : Buffer.from(binary, 'base64'),
    });
  }
  return found;
}

const ATTRIBUTE_NAME_CHARACTER = /[A-Za-z0-9_\-.]/;

/** Checks one message attribute the way SNS does; throws ParameterValueInvalid. */
function checkMessageAttribute(attribute: { readonly name: string } & Partial<SnsMessageAttribute>): SnsMessageAttribute {
  const { name } = attribute;
  const invalid = (message: string) => new SnsRuleError('ParameterValueInvalid', message);
  if (name.length === 0) throw invalid('The message attribute name can not be empty.');
  if (Buffer.byteLength(name) > 256) throw invalid(`Length of message attribute name must be less than 256 bytes (attribute '${name.slice(0, 40)}...').`);
  if (name.startsWith('.')) throw invalid("Invalid message attribute name starting with character '.' was found.");
  if (name.endsWith('.')) throw invalid("Invalid message attribute name ending with character '.' was found.");
  if (name.includes('..')) throw invalid("Message attribute name can not have successive '.' character.");
  const bad = [...name].find((c) => !ATTRIBUTE_NAME_CHARACTER.test(c));
  if (bad !== undefined) {
    throw invalid(`Invalid non-alphanumeric character '#x${bad.codePointAt(0)!.toString(16).toUpperCase()}' was found in the message attribute name. Can only include alphanumeric characters, hyphens, underscores, or dots.`);
  }
  if (/^(aws|amazon)\./i.test(name)) throw invalid(`The message attribute name '${name}' is reserved: names starting with 'AWS.' or 'Amazon.' are for AWS use.`);

  const dataType = attribute.dataType ?? '';
  if (dataType === '') throw invalid(`The message attribute '${name}' must contain non-empty message attribute type.`);
  const prefix = dataType.split('.')[0];
  if (!['String', 'Number', 'Binary'].includes(prefix)) {
    throw invalid(`The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`);
  }
  if (prefix === 'Binary') {
    if (!attribute.binaryValue || attribute.binaryValue.length === 0) throw invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
    return { dataType, binaryValue: attribute.binaryValue };
  }
  const value = attribute.stringValue ?? '';
  if (value === '') throw invalid(`The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`);
  if (prefix === 'Number' && (value.trim() === '' || !Number.isFinite(Number(value)))) throw invalid(`Could not cast message attribute '${name}' value to number.`);
  if (dataType === 'String.Array') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed)) throw invalid(`The message attribute '${name}' of type 'String.Array' must be a JSON array of strings, numbers, booleans or null.`);
  }
  return { dataType, stringValue: value };
}

/** A Publish request that passed every rule. */
export interface AcceptedPublish {
  readonly topicArn: string;
  readonly message: string;
  readonly subject?: string;
  readonly messageStructure?: string;
  readonly attributes: Readonly<Record<string, SnsMessageAttribute>>;
}

/** Bytes a message counts against the 256 KiB limit: the body plus every attribute's name, type and value. */
export function publishedSize(message: string, attributes: Readonly<Record<string, SnsMessageAttribute>>): number {
  let size = Buffer.byteLength(message);
  for (const [name, a] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(a.dataType) + (a.binaryValue?.length ?? Buffer.byteLength(a.stringValue ?? ''));
  }
  return size;
}

/**
 * Checks a Publish request's parameters as SNS does, before it looks the topic up.
 * @throws SnsRuleError with SNS's code and message.
 */
export function checkPublishRequest(params: URLSearchParams): AcceptedPublish {
  const invalid = (what: string) => new SnsRuleError('InvalidParameter', `Invalid parameter: ${what}`);
  if (params.has('PhoneNumber') || params.has('TargetArn')) {
    throw invalid('TargetArn/PhoneNumber. LocalSns publishes to topics only; send TopicArn, or extend test/support/local-sns.ts for direct endpoint or SMS publishing.');
  }
  const topicArn = params.get('TopicArn');
  if (!topicArn) throw invalid('TopicArn or TargetArn Reason: no value for required parameter');
  const message = params.get('Message');
  if (!message) throw invalid('Empty message');
  if (!parseTopicArn(topicArn)) throw invalid('TopicArn');

  const subject = params.get('Subject') ?? undefined;
  // SNS answers only "Invalid parameter: Subject"; the reason is for whoever reads the test failure.
  if (subject !== undefined && subjectProblem(subject) !== undefined) throw invalid(`Subject (LocalSns: ${subjectProblem(subject)})`);

  const attributes: Record<string, SnsMessageAttribute> = {};
  for (const attribute of readMessageAttributes(params)) {
    if (attributes[attribute.name] !== undefined) throw new SnsRuleError('ParameterValueInvalid', `Message attribute name '${attribute.name}' is used more than once.`);
    attributes[attribute.name] = checkMessageAttribute(attribute);
  }
  if (Buffer.byteLength(message) > SNS_MAX_MESSAGE_BYTES || publishedSize(message, attributes) > SNS_MAX_MESSAGE_BYTES) throw invalid('Message too long');

  const messageStructure = params.get('MessageStructure') ?? undefined;
  if (messageStructure !== undefined) {
    if (messageStructure !== 'json') throw invalid('MessageStructure');
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      throw invalid('Message Structure - JSON message body failed to parse');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || typeof (parsed as Record<string, unknown>).default !== 'string') {
      throw invalid('Message Structure - No default entry in JSON message body');
    }
  }
  return { topicArn, message, subject, messageStructure, attributes };
}

// ---- the stand-in -------------------------------------------------------------------------

interface SnsAnswer {
  readonly result: readonly (XmlNode | undefined)[];
}

/** An in-memory SNS (topics and published messages). */
export class LocalSns {
  /** Starts LocalSns on 127.0.0.1. */
  static async start(options: LocalSnsOptions = {}): Promise<LocalSns> {
    const sns = new LocalSns(options);
    for (const topic of options.topics ?? []) sns.createTopic(topic);
    sns.server = await startServer((req, res) => sns.handle(req, res), options.port ?? 0, 'LocalSns');
    return sns;
  }

  readonly callLog: AwsCallLog;
  readonly scope: AwsScope;
  private server: RunningServer;
  /** Topic ARNs in creation order. */
  private readonly topicArns = new Set<string>();
  private readonly published: PublishedMessage[] = [];
  private readonly listeners = new Set<(message: PublishedMessage) => void>();
  private readonly faults: FaultPlan;
  private authorizer?: Authorizer;

  private constructor(options: LocalSnsOptions) {
    this.callLog = options.callLog ?? new AwsCallLog();
    this.faults = new FaultPlan(options.faultClock);
    this.scope = { accountId: options.accountId ?? '111122223333', region: options.region ?? 'us-west-2' };
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SNS`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await this.server.close();
  }

  /**
   * Declares a topic (idempotent) and returns its ARN. Takes a name, or an ARN in this
   * stand-in's account and region (ARNs elsewhere would never be reachable through it).
   */
  createTopic(nameOrArn: string): string {
    const parsed = parseTopicArn(nameOrArn);
    if (nameOrArn.startsWith('arn:') && !parsed) throw new Error(`LocalSns.createTopic: '${nameOrArn}' is not a topic ARN (arn:aws:sns:<region>:<account>:<name>).`);
    if (parsed && (parsed.region !== this.scope.region || parsed.accountId !== this.scope.accountId)) {
      throw new Error(`LocalSns.createTopic: '${nameOrArn}' is in ${parsed.accountId}/${parsed.region}, but this LocalSns is ${this.scope.accountId}/${this.scope.region}; start it with matching accountId/region.`);
    }
    const name = parsed ? parsed.name : nameOrArn;
    if (!isValidTopicName(name)) throw new Error(`LocalSns.createTopic: '${name}' is not a valid topic name (1-256 letters, digits, '_' or '-', optionally ending in '.fifo').`);
    const arn = topicArnFor(this.scope, name);
    this.topicArns.add(arn);
    return arn;
  }

  /** ARNs of every topic, in creation order. */
  topics(): string[] {
    return [...this.topicArns];
  }

  /** Accepted messages, oldest first; only those to `topicArn` when given. */
  messages(topicArn?: string): PublishedMessage[] {
    return this.published.filter((m) => topicArn === undefined || m.topicArn === topicArn);
  }

  /** Forgets the recorded messages (topics stay). */
  clearMessages(): void {
    this.published.length = 0;
  }

  /** Calls `listener` with every accepted message (e.g. to deliver it to a subscriber); returns an unsubscribe function. */
  onMessage(listener: (message: PublishedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Answers the next `times` requests (of `operation`, default Publish) with `Throttling` / "Rate exceeded", which the SDK retries. */
  throttleNext(times: FaultLength, options: { operation?: SnsOperation; message?: string } = {}): void {
    this.faults.add(times, { status: ERROR_STATUS.Throttling, code: 'Throttling', message: options.message ?? DEFAULT_MESSAGES.Throttling }, { operation: options.operation ?? 'Publish' });
  }

  /**
   * A throttling storm: answers matching requests (every operation unless `operation` is
   * given) with the throttling error the Publish API reference documents, 429 `Throttled`
   * (ThrottledException in the SDK, which retries it as throttling), for `length`: a count,
   * `'forever'`, or a wall-clock window `{ forMs }`.
   */
  throttle(length: FaultLength, options: { operation?: SnsOperation; message?: string } = {}): void {
    this.faults.add(length, { status: ERROR_STATUS.Throttled, code: 'Throttled', message: options.message ?? DEFAULT_MESSAGES.Throttled }, { operation: options.operation });
  }

  /** Answers matching requests with an SNS error (default InternalError, 500) for `times`: a count, `'forever'` or `{ forMs }`. */
  failNext(times: FaultLength, options: SnsFaultOptions = {}): void {
    const code = options.code ?? 'InternalError';
    this.faults.add(times, { status: options.status ?? ERROR_STATUS[code] ?? 400, code, message: options.message ?? DEFAULT_MESSAGES[code] ?? code }, { operation: options.operation });
  }

  /** Removes every planned fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Installs (or removes) an access check; a refusal answers AuthorizationError (403). */
  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const principal = principalOf(req, url.searchParams);
    const raw = await readBody(req);
    // awsQuery sends parameters in the body; accept the query string too, as SNS does.
    const params = new URLSearchParams(req.method === 'POST' ? raw.toString('utf8') : url.search);
    const action = params.get('Action') ?? '';

    let status = 200;
    let errorCode: string | undefined;
    let body: string;
    let resources: string[] = ['*'];
    try {
      if (!isSnsOperation(action)) {
        throw action === ''
          ? new SnsRuleError('MissingAction', 'The request must contain the parameter Action.')
          : new SnsRuleError('InvalidAction', `The action ${action} is not valid for this web service. LocalSns implements Publish, CreateTopic and ListTopics; add others to test/support/local-sns.ts.`);
      }
      resources = this.resourcesOf(action, params);
      const fault = this.faults.take(action);
      if (fault) throw new SnsRuleError(fault.code, fault.message ?? fault.code, fault.status);
      if (this.authorizer && !this.authorizer({ principal, action: `sns:${action}`, resources })) {
        throw new SnsRuleError('AuthorizationError', `User: ${principal} is not authorized to perform: SNS:${action} on resource: ${resources.join(', ')} because no identity-based policy allows the SNS:${action} action`);
      }
      const answer = this.perform(action, params, principal);
      body = namespacedDocument(`${action}Response`, SNS_XML_NAMESPACE, [[`${action}Result`, answer.result], ['ResponseMetadata', [['RequestId', requestId]]]]);
    } catch (err) {
      if (!(err instanceof SnsRuleError)) throw err;
      status = err.status;
      errorCode = err.code;
      const type = status >= 500 ? 'Receiver' : 'Sender';
      body = namespacedDocument('ErrorResponse', SNS_XML_NAMESPACE, [['Error', [['Type', type], ['Code', err.code], ['Message', err.message]]], ['RequestId', requestId]]);
    }
    this.callLog.record({ requestId, service: 'sns', operation: action || 'Unknown', action: `sns:${action || 'Unknown'}`, resources, status, errorCode, principal });
    const out = Buffer.from(body, 'utf8');
    res.writeHead(status, { 'content-type': 'text/xml', 'content-length': out.length, 'x-amzn-requestid': requestId });
    res.end(out);
  }

  /** ARNs IAM evaluates for the action. */
  private resourcesOf(action: SnsOperation, params: URLSearchParams): string[] {
    if (action === 'Publish') return [params.get('TopicArn') || params.get('TargetArn') || '*'];
    if (action === 'CreateTopic') return [topicArnFor(this.scope, params.get('Name') ?? '')];
    return ['*'];
  }

  private perform(action: SnsOperation, params: URLSearchParams, principal: string): SnsAnswer {
    switch (action) {
      case 'Publish':
        return this.publish(params, principal);
      case 'CreateTopic':
        return this.createTopicCall(params);
      case 'ListTopics':
        return this.listTopics(params);
    }
  }

  private publish(params: URLSearchParams, principal: string): SnsAnswer {
    const accepted = checkPublishRequest(params);
    if (!this.topicArns.has(accepted.topicArn)) {
      throw new SnsRuleError('NotFound', 'Topic does not exist');
    }
    const message: PublishedMessage = { ...accepted, messageId: randomUUID(), principal, time: new Date() };
    this.published.push(message);
    for (const listener of this.listeners) listener(message);
    return { result: [['MessageId', message.messageId]] };
  }

  private createTopicCall(params: URLSearchParams): SnsAnswer {
    const name = params.get('Name') ?? '';
    if (!isValidTopicName(name)) throw new SnsRuleError('InvalidParameter', 'Invalid parameter: Topic Name');
    return { result: [['TopicArn', this.createTopic(name)]] };
  }

  private listTopics(params: URLSearchParams): SnsAnswer {
    const all = this.topics();
    const token = params.get('NextToken');
    const start = token === null ? 0 : Number(Buffer.from(token, 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw new SnsRuleError('InvalidParameter', 'Invalid parameter: NextToken');
    const page = all.slice(start, start + LIST_TOPICS_PAGE_SIZE);
    const next = start + page.length < all.length ? Buffer.from(String(start + page.length)).toString('base64') : undefined;
    return {
      result: [['Topics', page.map((arn): XmlNode => ['member', [['TopicArn', arn]]])], next === undefined ? undefined : ['NextToken', next]],
    };
  }
}

function isSnsOperation(action: string): action is SnsOperation {
  return action === 'Publish' || action === 'CreateTopic' || action === 'ListTopics';
}
