/**
 * LocalEventBridge driven by the real @aws-sdk/client-eventbridge (awsJson1_1, PutEvents).
 */
import { AccessDeniedException, EventBridgeClient, EventBridgeServiceException, InternalException, PutEventsCommand, PutEventsRequestEntry, ThrottlingException } from '@aws-sdk/client-eventbridge';
import { checkPutEventsEntry, checkPutEventsRequest, DEFAULT_MAX_REQUEST_BYTES, LocalEventBridge, MAX_ENTRIES_PER_CALL, putEventsEntrySize } from '../support/local-eventbridge';
import { fastRetries } from '../support/stand-ins/fast-retries';

const BUS_ARN = (name: string) => `arn:aws:events:us-west-2:111122223333:event-bus/${name}`;

async function rejectionOf(promise: Promise<unknown>): Promise<EventBridgeServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as EventBridgeServiceException;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function entry(overrides: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return { Source: 'llama.finetuning', DetailType: 'Run Outcome', Detail: JSON.stringify({ runId: 'r-1', status: 'Completed' }), EventBusName: 'runs', ...overrides };
}

describe('LocalEventBridge with the AWS SDK', () => {
  let events: LocalEventBridge;
  let client: EventBridgeClient;

  const put = (...entries: PutEventsRequestEntry[]) => client.send(new PutEventsCommand({ Entries: entries }));

  beforeAll(async () => {
    events = await LocalEventBridge.start({ eventBuses: ['runs'] });
    client = new EventBridgeClient({ region: 'us-west-2', endpoint: events.endpoint, credentials: { accessKeyId: 'AKIDEVENTS', secretAccessKey: 'test' }, retryStrategy: fastRetries(3) });
  });

  afterAll(async () => {
    client.destroy();
    await events.stop();
  });

  beforeEach(() => {
    events.clearFaults();
    events.clearEvents();
    events.callLog.clear();
    events.setAuthorizer(undefined);
  });

  it('records events with parsed detail on the named bus, the default bus and a bus given by ARN', async () => {
    const when = new Date('2026-03-01T12:00:00.000Z');
    const out = await put(
      entry({ Resources: ['arn:aws:states:us-west-2:111122223333:execution:wf:r-1'], Time: when }),
      entry({ EventBusName: undefined, DetailType: 'Other', Detail: '{"n":1}' }),
      entry({ EventBusName: BUS_ARN('runs'), Detail: '{"nested":{"list":[1,2]}}' }),
    );
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries).toHaveLength(3);
    const ids = out.Entries!.map((e) => e.EventId);
    expect(new Set(ids).size).toBe(3);

    const onRuns = events.events({ eventBusName: 'runs' });
    expect(onRuns.map((e) => e.eventId)).toEqual([ids[0], ids[2]]);
    expect(onRuns[0]).toMatchObject({
      eventBusName: 'runs',
      eventBusArn: BUS_ARN('runs'),
      source: 'llama.finetuning',
      detailType: 'Run Outcome',
      detail: { runId: 'r-1', status: 'Completed' },
      resources: ['arn:aws:states:us-west-2:111122223333:execution:wf:r-1'],
      principal: 'AKIDEVENTS',
    });
    expect(onRuns[0].time.toISOString()).toBe(when.toISOString());
    expect(onRuns[1].detail).toEqual({ nested: { list: [1, 2] } });
    expect(events.events({ eventBusName: BUS_ARN('runs') })).toHaveLength(2);
    expect(events.events({ eventBusName: 'default' })).toEqual([expect.objectContaining({ eventId: ids[1], detailType: 'Other', detail: { n: 1 } })]);
    expect(events.events({ detailType: 'Run Outcome' })).toHaveLength(2);
  });

  it('fails bad entries one by one and keeps the good ones, as FailedEntryCount reports', async () => {
    const out = await put(
      entry({ Detail: 'not json' }),
      entry(),
      entry({ Detail: '[1,2]' }),
      entry({ Source: undefined }),
      entry({ DetailType: undefined }),
      entry({ Detail: undefined }),
      entry({ Source: 'aws.s3' }),
    );
    expect(out.FailedEntryCount).toBe(6);
    expect(out.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['MalformedDetail', 'ok', 'MalformedDetail', 'InvalidArgument', 'InvalidArgument', 'InvalidArgument', 'NotAuthorizedForSourceException']);
    expect(out.Entries![0]).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(out.Entries![3].ErrorMessage).toBe('Parameter Source is not valid. Reason: Source is a required argument.');
    expect(out.Entries![1].EventId).toBeTruthy();
    expect(events.events().map((e) => e.eventId)).toEqual([out.Entries![1].EventId]);
  });

  it.each([
    ['more than 10 entries', () => Array.from({ length: MAX_ENTRIES_PER_CALL + 1 }, () => entry()), /Member must have length less than or equal to 10/],
    ['no entries', () => [], /Member must have length greater than or equal to 1/],
    ['entries over 256 KiB in total', () => [entry({ Detail: JSON.stringify({ blob: 'x'.repeat(200_000) }) }), entry({ Detail: JSON.stringify({ blob: 'y'.repeat(100_000) }) })], /Total size of the entries/],
    ['a malformed bus name', () => [entry({ EventBusName: 'my bus' })], /'entries.1.member.eventBusName' failed to satisfy constraint/],
  ])('fails the whole call with ValidationException for %s', async (_label, entries, message) => {
    const err = await rejectionOf(put(...entries()));
    expect(err.name).toBe('ValidationException');
    expect(err.message).toMatch(message);
    expect(err.$metadata.attempts).toBe(1);
    expect(events.events()).toEqual([]);
  });

  it('accepts events for a bus that does not exist but does not deliver them, like EventBridge', async () => {
    const out = await put(entry({ EventBusName: 'typo-bus' }));
    expect(out.FailedEntryCount).toBe(0);
    expect(out.Entries![0].EventId).toBeTruthy();
    expect(events.events()).toEqual([]);
    expect(events.undeliveredEvents()).toEqual([expect.objectContaining({ eventBusName: 'typo-bus', eventId: out.Entries![0].EventId })]);
  });

  it('retries through throttling and raises ThrottlingException once the SDK runs out of attempts', async () => {
    events.throttleNext(2);
    const ok = await put(entry());
    expect(ok.$metadata.attempts).toBe(3);
    expect(events.events()).toHaveLength(1);

    events.throttleNext(3);
    const err = await rejectionOf(put(entry()));
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata.attempts).toBe(3);
    expect(events.events()).toHaveLength(1);
  });

  it('retries an injected InternalException, and reports injected per-entry failures without retrying', async () => {
    events.failNext(1);
    expect((await put(entry())).$metadata.attempts).toBe(2);
    events.failNext(3);
    expect(await rejectionOf(put(entry()))).toBeInstanceOf(InternalException);

    events.failNextEntries(1, 'ThrottlingException');
    const partial = await put(entry({ Detail: '{"n":1}' }), entry({ Detail: '{"n":2}' }));
    expect(partial.$metadata.attempts).toBe(1);
    expect(partial.FailedEntryCount).toBe(1);
    expect(partial.Entries![0].ErrorCode).toBe('ThrottlingException');
    // One event from the first call, then only the second entry of the partial call.
    expect(events.events().map((e) => e.detail)).toEqual([{ runId: 'r-1', status: 'Completed' }, { n: 2 }]);
  });

  it('logs events:PutEvents on the ARN of every bus the entries name', async () => {
    await put(entry(), entry({ EventBusName: undefined }), entry({ EventBusName: BUS_ARN('runs') }));
    events.throttleNext(1);
    await put(entry());
    expect(events.callLog.entries()).toEqual([
      expect.objectContaining({ service: 'events', operation: 'PutEvents', action: 'events:PutEvents', resources: [BUS_ARN('runs'), BUS_ARN('default')], status: 200, principal: 'AKIDEVENTS' }),
      expect.objectContaining({ action: 'events:PutEvents', resources: [BUS_ARN('runs')], status: 400, errorCode: 'ThrottlingException' }),
      expect.objectContaining({ action: 'events:PutEvents', resources: [BUS_ARN('runs')], status: 200 }),
    ]);
  });

  it('refuses with AccessDeniedException when the authorizer denies a bus', async () => {
    events.setAuthorizer(({ resources }) => resources.every((r) => r === BUS_ARN('default')));
    const err = await rejectionOf(put(entry()));
    expect(err).toBeInstanceOf(AccessDeniedException);
    expect(err.message).toContain(`events:PutEvents on resource: ${BUS_ARN('runs')}`);
    expect(events.events()).toEqual([]);
    expect((await put(entry({ EventBusName: 'default' }))).FailedEntryCount).toBe(0);
  });

  it('tells listeners about each delivered event', async () => {
    const seen: string[] = [];
    const stop = events.onEvent((e) => seen.push(e.detailType));
    await put(entry({ DetailType: 'first' }), entry({ DetailType: 'lost', EventBusName: 'nowhere' }));
    stop();
    await put(entry({ DetailType: 'second' }));
    expect(seen).toEqual(['first']);
  });
});

describe('LocalEventBridge rules (pure)', () => {
  it('sizes entries as EventBridge documents: Time 14 bytes plus UTF-8 bytes of the strings', () => {
    expect(putEventsEntrySize({ Source: 'ab', DetailType: 'cd', Detail: '{"é":1}', Resources: ['r1', 'r22'] })).toBe(2 + 2 + 8 + 2 + 3);
    expect(putEventsEntrySize({ Source: 'ab', DetailType: 'cd', Time: 0 })).toBe(14 + 4);
  });

  it('allows exactly the size limit and not a byte more', () => {
    const fixed = putEventsEntrySize({ Source: 's', DetailType: 't', Detail: '{"a":""}' });
    const fill = (extra: number) => ({ Entries: [{ Source: 's', DetailType: 't', Detail: `{"a":"${'x'.repeat(DEFAULT_MAX_REQUEST_BYTES - fixed + extra)}"}` }] });
    expect(() => checkPutEventsRequest(fill(0))).not.toThrow();
    expect(() => checkPutEventsRequest(fill(1))).toThrow('Total size of the entries in the request is over the limit.');
  });

  it('checks DetailType length and reads Time as epoch seconds', () => {
    expect(checkPutEventsEntry({ Source: 's', DetailType: 'd'.repeat(129), Detail: '{}' })).toMatchObject({ ErrorCode: 'InvalidArgument' });
    expect(checkPutEventsEntry({ Source: 's', DetailType: 'd'.repeat(128), Detail: '{}' })).toMatchObject({ detailType: 'd'.repeat(128) });
    expect(checkPutEventsEntry({ Source: 's', DetailType: 'd', Detail: '{}', Time: 1_700_000_000.5 })).toMatchObject({ time: new Date(1_700_000_000_500) });
  });

  it('declares buses by name or by ARN in its own account and region only', async () => {
    const events = await LocalEventBridge.start();
    try {
      expect(events.createEventBus(BUS_ARN('by-arn'))).toBe(BUS_ARN('by-arn'));
      expect(events.createEventBus('by-name')).toBe(BUS_ARN('by-name'));
      expect(events.eventBusNames()).toEqual(['default', 'by-arn', 'by-name']);
      expect(() => events.createEventBus('arn:aws:events:eu-west-1:111122223333:event-bus/x')).toThrow(/eu-west-1/);
    } finally {
      await events.stop();
    }
  });
});
