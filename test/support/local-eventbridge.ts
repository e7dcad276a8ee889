/**
 * LocalEventBridge: Amazon EventBridge's PutEvents on 127.0.0.1 for the real
 * `@aws-sdk/client-eventbridge`, which speaks awsJson1_1: `POST /` with
 * `X-Amz-Target: AWSEvents.PutEvents` and a JSON body; errors come back as
 * `x-amzn-errortype` plus `{"__type", "message"}`.
 *
 * PutEvents answers as the service does: request-level problems (no entries, more than 10,
 * entries over 256 KiB in total, a malformed EventBusName) fail the whole call with
 * ValidationException; problems with one entry (missing Source/DetailType/Detail, Detail that
 * is not a JSON object, a reserved `aws.` source) fail only that entry, reported in
 * `Entries[i].ErrorCode/ErrorMessage` and counted in `FailedEntryCount`.
 *
 * Event buses: `default` always exists; others are declared with {@link LocalEventBridge.createEventBus}
 * or the `eventBuses` option. Like the real service, PutEvents to a bus that does not exist
 * still answers with an EventId (FailedEntryCount 0) but the event goes nowhere: it is kept
 * apart in {@link LocalEventBridge.undeliveredEvents} instead of {@link LocalEventBridge.events},
 * so a test of the happy path fails when code names the wrong bus.
 *
 * Every call goes to the {@link AwsCallLog} as `events:PutEvents` on the ARNs of the buses
 * its entries name.
 */
import { randomUUID } from 'node:crypto';
import { AwsCallLog } from './aws-call-log';
import { Authorizer } from './local-s3';
import { AwsScope } from './stand-ins/bedrock-arns';
import { answerAwsJson, AwsJsonError } from './stand-ins/aws-json';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { RunningServer, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';

/** The EventBridge operations LocalEventBridge answers. */
export type EventBridgeOperation = 'PutEvents';

/** Most entries in one PutEvents call. */
export const MAX_ENTRIES_PER_CALL = 10;

/** Default limit on the summed entry sizes of one call: 256 KiB (see {@link putEventsEntrySize}). */
export const DEFAULT_MAX_REQUEST_BYTES = 262_144;

/** Longest DetailType EventBridge accepts. */
export const MAX_DETAIL_TYPE_LENGTH = 128;

/** EventBusName as the API reference constrains it (a name, or a bus ARN). */
const EVENT_BUS_NAME_PATTERN = /^(arn:aws[\w-]*:events:[a-z]{2}-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/;
const EVENT_BUS_ARN = /^arn:aws[\w-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/(.+)$/;

const ERROR_STATUS: Readonly<Record<string, number>> = {
  ValidationException: 400,
  SerializationException: 400,
  UnknownOperationException: 400,
  AccessDeniedException: 400,
  ThrottlingException: 400,
  LimitExceededException: 400,
  InternalException: 500,
  InternalFailure: 500,
};

const DEFAULT_MESSAGES: Readonly<Record<string, string>> = {
  ThrottlingException: 'Rate exceeded',
  InternalException: 'An internal error occurred.',
  InternalFailure: 'Internal Service Failure',
};

/** One entry of a PutEvents request, as the SDK sends it. */
export interface PutEventsEntryInput {
  readonly Source?: unknown;
  readonly DetailType?: unknown;
  readonly Detail?: unknown;
  readonly EventBusName?: unknown;
  readonly Resources?: unknown;
  /** Epoch seconds (the SDK serialises Date that way). */
  readonly Time?: unknown;
  readonly TraceHeader?: unknown;
}

/** An event EventBridge accepted. */
export interface RecordedEvent {
  readonly eventId: string;
  /** Bus name (from a name or an ARN; `default` when omitted). */
  readonly eventBusName: string;
  readonly eventBusArn: string;
  readonly source: string;
  readonly detailType: string;
  /** Detail parsed from its JSON text. */
  readonly detail: Record<string, unknown>;
  /** Detail exactly as sent. */
  readonly detailText: string;
  readonly resources: readonly string[];
  /** The entry's Time, or when the call arrived. */
  readonly time: Date;
  readonly traceHeader?: string;
  /** Access key id of the caller. */
  readonly principal: string;
}

/** Criteria for {@link LocalEventBridge.events}; every given field must match. */
export interface EventFilter {
  /** A bus name (`default`) or bus ARN. */
  readonly eventBusName?: string;
  readonly source?: string;
  readonly detailType?: string;
}

/** Options of {@link LocalEventBridge.start}. */
export interface LocalEventBridgeOptions {
  readonly port?: number;
  readonly callLog?: AwsCallLog;
  /** Default 111122223333. */
  readonly accountId?: string;
  /** Default us-west-2. */
  readonly region?: string;
  /** Custom buses to create up front (names or bus ARNs in this account and region). */
  readonly eventBuses?: readonly string[];
  /** Limit on the summed entry sizes of one call; default 256 KiB. */
  readonly maxRequestBytes?: number;
  /** Clock that fault windows (`{ forMs }`) are measured by; default Date.now. */
  readonly faultClock?: () => number;
}

/** An error LocalEventBridge should answer whole calls with (see {@link LocalEventBridge.failNext}). */
export interface EventBridgeFaultOptions {
  /** Error type; default `InternalException` (500, which the SDK retries). */
  readonly code?: string;
  readonly status?: number;
  readonly message?: string;
}

/** What one entry became: an event id, or an error code and message. */
export type EntryOutcome = { readonly EventId: string } | { readonly ErrorCode: string; readonly ErrorMessage: string };

/** Thrown for request-level problems; the whole call fails with `type`. */
export class EventBridgeRuleError extends AwsJsonError {
  constructor(type: string, message: string, status?: number) {
    super(type, message, status ?? ERROR_STATUS[type] ?? 400);
    this.name = 'EventBridgeRuleError';
  }
}

// ---- pure rules ---------------------------------------------------------------------------

/**
 * Size EventBridge counts for an entry: 14 bytes for Time when given, plus the UTF-8 bytes of
 * Source, DetailType, Detail and each Resources item.
 */
export function putEventsEntrySize(entry: PutEventsEntryInput): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  let size = entry.Time !== undefined && entry.Time !== null ? 14 : 0;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  if (Array.isArray(entry.Resources)) for (const resource of entry.Resources) size += bytes(resource);
  return size;
}

/** The ARN of the bus named `name`. */
export function eventBusArnFor(scope: AwsScope, name: string): string {
  return `arn:aws:events:${scope.region}:${scope.accountId}:event-bus/${name}`;
}

/** Region, account and name of a bus ARN, or undefined when it is not one. */
export function parseEventBusArn(arn: string): { readonly region: string; readonly accountId: string; readonly name: string } | undefined {
  const match = EVENT_BUS_ARN.exec(arn);
  return match ? { region: match[1], accountId: match[2], name: match[3] } : undefined;
}

/**
 * Checks what fails a whole PutEvents call: the entry count, the EventBusName constraint and
 * the total size. Messages follow AWS's "N validation error(s) detected" wording.
 * @throws EventBridgeRuleError (ValidationException).
 */
export function checkPutEventsRequest(body: Record<string, unknown>, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): PutEventsEntryInput[] {
  const entries = body.Entries;
  if (!Array.isArray(entries)) {
    throw new EventBridgeRuleError('ValidationException', "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null");
  }
  const violations: string[] = [];
  if (entries.length < 1) violations.push("Value '[]' at 'entries' failed to satisfy constraint: Member must have length greater than or equal to 1");
  if (entries.length > MAX_ENTRIES_PER_CALL) {
    violations.push(`Value '[${entries.length} entries]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${MAX_ENTRIES_PER_CALL}`);
  }
  entries.forEach((entry: PutEventsEntryInput, index) => {
    const bus = entry?.EventBusName;
    if (bus === undefined || bus === null) return;
    const at = `entries.${index + 1}.member.eventBusName`;
    if (typeof bus !== 'string' || bus.length < 1 || bus.length > 1600 || !EVENT_BUS_NAME_PATTERN.test(bus)) {
      violations.push(`Value '${String(bus)}' at '${at}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${EVENT_BUS_NAME_PATTERN.source.replace(/^\^|\$$/g, '')}`);
    }
  });
  if (violations.length > 0) {
    throw new EventBridgeRuleError('ValidationException', `${violations.length} validation error${violations.length === 1 ? '' : 's'} detected: ${violations.join('; ')}`);
  }
  const total = entries.reduce((sum: number, entry: PutEventsEntryInput) => sum + putEventsEntrySize(entry ?? {}), 0);
  if (total > maxRequestBytes) throw new EventBridgeRuleError('ValidationException', 'Total size of the entries in the request is over the limit.');
  return entries as PutEventsEntryInput[];
}

/** An entry that passed the per-entry rules. */
export interface AcceptedEntry {
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  readonly detailText: string;
  readonly resources: readonly string[];
  readonly time?: Date;
  readonly traceHeader?: string;
}

/**
 * Checks one entry; returns the accepted entry or the per-entry error EventBridge reports
 * (InvalidArgument, MalformedDetail, NotAuthorizedForSourceException).
 */
export function checkPutEventsEntry(entry: PutEventsEntryInput): AcceptedEntry | { readonly ErrorCode: string; readonly ErrorMessage: string } {
  const required = (name: string) => ({ ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${name} is not valid. Reason: ${name} is a required argument.` });
  if (typeof entry.Source !== 'string' || entry.Source === '') return required('Source');
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return required('DetailType');
  if (typeof entry.Detail !== 'string' || entry.Detail === '') return required('Detail');
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  // Detail must be a JSON object; arrays, strings and numbers are malformed too.
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  if (entry.DetailType.length > MAX_DETAIL_TYPE_LENGTH) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter DetailType is not valid. Reason: DetailType must be at most ${MAX_DETAIL_TYPE_LENGTH} characters; got ${entry.DetailType.length}.` };
  }
  // Sources starting with "aws." are reserved for AWS services.
  if (entry.Source.startsWith('aws.')) return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : undefined;
  return {
    source: entry.Source,
    detailType: entry.DetailType,
    detail: detail as Record<string, unknown>,
    detailText: entry.Detail,
    resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
    time,
    traceHeader: typeof entry.TraceHeader === 'string' ? entry.TraceHeader : undefined,
  };
}

// ---- the stand-in -------------------------------------------------------------------------

/** An in-memory EventBridge (PutEvents only). */
export class LocalEventBridge {
  /** Starts LocalEventBridge on 127.0.0.1. */
  static async start(options: LocalEventBridgeOptions = {}): Promise<LocalEventBridge> {
    const events = new LocalEventBridge(options);
    for (const bus of options.eventBuses ?? []) events.createEventBus(bus);
    events.server = await startServer((req, res) => events.handle(req, res), options.port ?? 0, 'LocalEventBridge');
    return events;
  }

  readonly callLog: AwsCallLog;
  readonly scope: AwsScope;
  private server: RunningServer;
  private readonly maxRequestBytes: number;
  private readonly busNames = new Set<string>(['default']);
  private readonly delivered: RecordedEvent[] = [];
  private readonly undelivered: RecordedEvent[] = [];
  private readonly listeners = new Set<(event: RecordedEvent) => void>();
  private readonly faults: FaultPlan;
  /** Per-entry failures (the call succeeds, individual entries fail). */
  private readonly entryFaults: FaultPlan;
  private authorizer?: Authorizer;
  private readonly serviceEventLosses: Array<{ matches(event: RecordedEvent): boolean }> = [];
  private readonly lostServiceEvents: RecordedEvent[] = [];

  private constructor(options: LocalEventBridgeOptions) {
    this.callLog = options.callLog ?? new AwsCallLog();
    this.scope = { accountId: options.accountId ?? '111122223333', region: options.region ?? 'us-west-2' };
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    this.faults = new FaultPlan(options.faultClock);
    this.entryFaults = new FaultPlan(options.faultClock);
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_EVENTBRIDGE`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await this.server.close();
  }

  /** Declares a custom bus (idempotent) from a name or a bus ARN in this account and region; returns its ARN. */
  createEventBus(nameOrArn: string): string {
    const parsed = parseEventBusArn(nameOrArn);
    if (nameOrArn.startsWith('arn:') && !parsed) throw new Error(`LocalEventBridge.createEventBus: '${nameOrArn}' is not an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>).`);
    if (parsed && (parsed.region !== this.scope.region || parsed.accountId !== this.scope.accountId)) {
      throw new Error(`LocalEventBridge.createEventBus: '${nameOrArn}' is in ${parsed.accountId}/${parsed.region}, but this LocalEventBridge is ${this.scope.accountId}/${this.scope.region}; start it with matching accountId/region.`);
    }
    const name = parsed ? parsed.name : nameOrArn;
    if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(name)) throw new Error(`LocalEventBridge.createEventBus: '${name}' is not a valid bus name (1-256 letters, digits, '.', '-', '_' or '/').`);
    this.busNames.add(name);
    return eventBusArnFor(this.scope, name);
  }

  /** Names of the buses that exist (`default` first). */
  eventBusNames(): string[] {
    return [...this.busNames];
  }

  /** Events delivered to an existing bus, oldest first, matching `filter`. */
  events(filter: EventFilter = {}): RecordedEvent[] {
    const bus = filter.eventBusName === undefined ? undefined : (parseEventBusArn(filter.eventBusName)?.name ?? filter.eventBusName);
    return this.delivered.filter(
      (e) => (bus === undefined || e.eventBusName === bus) && (filter.source === undefined || e.source === filter.source) && (filter.detailType === undefined || e.detailType === filter.detailType),
    );
  }

  /** Events accepted for a bus that does not exist (the service answers success and drops them). */
  undeliveredEvents(): RecordedEvent[] {
    return [...this.undelivered];
  }

  /** Forgets the recorded events (buses stay). */
  clearEvents(): void {
    this.delivered.length = 0;
    this.undelivered.length = 0;
  }

  /**
   * Delivers an event an AWS service emits on the default bus (e.g. Bedrock's job state
   * changes), which no PutEvents caller may send (`aws.` sources are reserved). EventBridge
   * delivers these on a best-effort basis; {@link LocalEventBridge.loseServiceEvents} makes it
   * lose some. Returns the delivered event, or undefined when it was lost.
   */
  putServiceEvent(event: { readonly source: string; readonly detailType: string; readonly detail: Record<string, unknown>; readonly resources?: readonly string[]; readonly time?: Date }): RecordedEvent | undefined {
    if (!event.source.startsWith('aws.')) throw new Error(`LocalEventBridge.putServiceEvent: '${event.source}' is not an AWS service source (aws.*); send application events with PutEvents.`);
    const recorded: RecordedEvent = {
      eventId: randomUUID(),
      eventBusName: 'default',
      eventBusArn: eventBusArnFor(this.scope, 'default'),
      source: event.source,
      detailType: event.detailType,
      detail: event.detail,
      detailText: JSON.stringify(event.detail),
      resources: [...(event.resources ?? [])],
      time: event.time ?? new Date(),
      principal: event.source.replace(/^aws\./, '') + '.amazonaws.com',
    };
    const loss = this.serviceEventLosses.find((l) => l.matches(recorded));
    if (loss) {
      this.lostServiceEvents.push(recorded);
      return undefined;
    }
    this.delivered.push(recorded);
    for (const listener of this.listeners) listener(recorded);
    return recorded;
  }

  /** Loses (does not deliver) the service events `matches` accepts, until the returned function is called. */
  loseServiceEvents(matches: (event: RecordedEvent) => boolean): () => void {
    const loss = { matches };
    this.serviceEventLosses.push(loss);
    return () => void this.serviceEventLosses.splice(this.serviceEventLosses.indexOf(loss), 1);
  }

  /** Service events that were lost. */
  lostEvents(): RecordedEvent[] {
    return [...this.lostServiceEvents];
  }

  /** Calls `listener` with every delivered event (e.g. to match rules); returns an unsubscribe function. */
  onEvent(listener: (event: RecordedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Answers the next `times` calls with ThrottlingException ("Rate exceeded"), which the SDK retries. */
  throttleNext(times: FaultLength, message = DEFAULT_MESSAGES.ThrottlingException): void {
    this.throttle(times, { message });
  }

  /**
   * A throttling storm: answers whole calls with EventBridge's throttling error, 400
   * ThrottlingException "Rate exceeded" (awsJson: `x-amzn-errortype` and `__type`), which the
   * SDK retries as throttling, for `length`: a count, `'forever'`, or a wall-clock window `{ forMs }`.
   */
  throttle(length: FaultLength, options: { operation?: EventBridgeOperation; message?: string } = {}): void {
    this.faults.add(length, { status: ERROR_STATUS.ThrottlingException, code: 'ThrottlingException', message: options.message ?? DEFAULT_MESSAGES.ThrottlingException }, { operation: options.operation });
  }

  /** Answers calls with an error (default InternalException, 500) for `times`: a count, `'forever'` or `{ forMs }`. */
  failNext(times: FaultLength, options: EventBridgeFaultOptions = {}): void {
    const code = options.code ?? 'InternalException';
    this.faults.add(times, { status: options.status ?? ERROR_STATUS[code] ?? 400, code, message: options.message ?? DEFAULT_MESSAGES[code] ?? code });
  }

  /**
   * Fails the next `times` otherwise valid entries inside successful calls, with a retryable
   * per-entry code (`InternalFailure` or `ThrottlingException`), so code that must resend
   * failed entries can be tested. The SDK does not retry these by itself.
   */
  failNextEntries(times: FaultLength, code: 'InternalFailure' | 'ThrottlingException' = 'InternalFailure', message?: string): void {
    this.entryFaults.add(times, { status: 200, code, message: message ?? DEFAULT_MESSAGES[code] ?? code });
  }

  /** Removes every planned fault (whole-call and per-entry). */
  clearFaults(): void {
    this.faults.clear();
    this.entryFaults.clear();
  }

  /** Installs (or removes) an access check; a refusal fails the call with AccessDeniedException. */
  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    return answerAwsJson(
      req,
      res,
      { standIn: 'LocalEventBridge', sourceFile: 'test/support/local-eventbridge.ts', targetPrefix: 'AWSEvents', jsonVersion: '1.1', iamPrefix: 'events', operations: ['PutEvents'], callLog: this.callLog },
      {
        resourcesOf: (_operation, body) => {
          const rawEntries = Array.isArray(body.Entries) ? (body.Entries as PutEventsEntryInput[]) : [];
          const buses = [...new Set(rawEntries.map((e) => this.busOf(e?.EventBusName).arn))];
          return buses.length > 0 ? buses : [eventBusArnFor(this.scope, 'default')];
        },
        faults: this.faults,
        authorizer: this.authorizer,
        answer: (_operation, body, principal) => this.putEvents(checkPutEventsRequest(body, this.maxRequestBytes), principal),
      },
    );
  }

  /** Bus name, ARN and whether it exists here, for an entry's EventBusName. */
  private busOf(eventBusName: unknown): { name: string; arn: string; exists: boolean } {
    const given = typeof eventBusName === 'string' && eventBusName !== '' ? eventBusName : 'default';
    const parsed = parseEventBusArn(given);
    if (parsed) {
      const local = parsed.region === this.scope.region && parsed.accountId === this.scope.accountId;
      return { name: parsed.name, arn: given, exists: local && this.busNames.has(parsed.name) };
    }
    return { name: given, arn: eventBusArnFor(this.scope, given), exists: this.busNames.has(given) };
  }

  private putEvents(entries: readonly PutEventsEntryInput[], principal: string): { FailedEntryCount: number; Entries: EntryOutcome[] } {
    const arrived = new Date();
    const outcomes = entries.map((entry): EntryOutcome => {
      const checked = checkPutEventsEntry(entry ?? {});
      if ('ErrorCode' in checked) return checked;
      const fault = this.entryFaults.take('PutEvents');
      if (fault) return { ErrorCode: fault.code, ErrorMessage: fault.message ?? fault.code };
      const bus = this.busOf(entry.EventBusName);
      const { time, ...rest } = checked;
      const event: RecordedEvent = { ...rest, eventId: randomUUID(), eventBusName: bus.name, eventBusArn: bus.arn, time: time ?? arrived, principal };
      if (bus.exists) {
        this.delivered.push(event);
        for (const listener of this.listeners) listener(event);
      } else {
        this.undelivered.push(event);
      }
      return { EventId: event.eventId };
    });
    return { FailedEntryCount: outcomes.filter((o) => 'ErrorCode' in o).length, Entries: outcomes };
  }
}
