import { AwsEvent, EventPatternError, executionStatusChangeEvent, jsonPathValue, matchesEventPattern, s3ObjectCreatedEvent, transformInput } from '../support/local-workflow';

const origin = { accountId: '111122223333', region: 'us-west-2', time: new Date('2025-01-02T03:04:05.678Z'), id: 'event-1' };
const upload = s3ObjectCreatedEvent({ bucket: 'datasets', key: 'requests/run.json', size: 42, etag: '"abc123"', versionId: 'v1', sequencer: '0000000000000001' }, origin);
const failed = executionStatusChangeEvent(
  {
    executionArn: 'arn:aws:states:us-west-2:111122223333:execution:Machine:run-1',
    stateMachineArn: 'arn:aws:states:us-west-2:111122223333:stateMachine:Machine',
    name: 'run-1',
    status: 'FAILED',
    startDate: new Date(1000),
    stopDate: new Date(5000),
    input: { bucket: 'datasets' },
    error: 'InvalidRunRequest',
    cause: 'bad request',
  },
  origin,
);

describe('EventBridge pattern matching', () => {
  const matches = (pattern: unknown, event: AwsEvent = upload) => matchesEventPattern(pattern, event);

  test('the run-request trigger pattern (as CDK renders it) matches request uploads only', () => {
    const pattern = { source: ['aws.s3'], 'detail-type': ['Object Created'], detail: { bucket: { name: ['datasets'] }, object: { key: [{ wildcard: 'requests/*.json' }] } } };
    expect(matches(pattern)).toBe(true);
    expect(matches(pattern, s3ObjectCreatedEvent({ bucket: 'datasets', key: 'requests/run.txt', size: 1, etag: 'x', sequencer: '0000000000000002' }, origin))).toBe(false);
    expect(matches(pattern, s3ObjectCreatedEvent({ bucket: 'other', key: 'requests/run.json', size: 1, etag: 'x', sequencer: '0000000000000003' }, origin))).toBe(false);
  });

  test('the execution status pattern matches the listed statuses of its state machine', () => {
    const pattern = {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: ['arn:aws:states:us-west-2:111122223333:stateMachine:Machine'] },
    };
    expect(matches(pattern, failed)).toBe(true);
    expect(matches(pattern, { ...failed, detail: { ...failed.detail, status: 'SUCCEEDED' } })).toBe(false);
    expect(matches(pattern, { ...failed, detail: { ...failed.detail, stateMachineArn: 'arn:aws:states:us-west-2:111122223333:stateMachine:Other' } })).toBe(false);
  });

  test.each([
    ['prefix', { detail: { object: { key: [{ prefix: 'requests/' }] } } }, true],
    ['prefix that differs', { detail: { object: { key: [{ prefix: 'data/' }] } } }, false],
    ['prefix ignoring case', { detail: { object: { key: [{ prefix: { 'equals-ignore-case': 'REQUESTS/' } }] } } }, true],
    ['suffix', { detail: { object: { key: [{ suffix: '.json' }] } } }, true],
    ['equals-ignore-case', { source: [{ 'equals-ignore-case': 'AWS.S3' }] }, true],
    ['wildcard with an escaped star', { detail: { object: { key: [{ wildcard: 'requests/\\*.json' }] } } }, false],
    ['anything-but a value', { detail: { reason: [{ 'anything-but': 'CopyObject' }] } }, true],
    ['anything-but the value', { detail: { reason: [{ 'anything-but': ['PutObject', 'CopyObject'] }] } }, false],
    ['anything-but a prefix', { detail: { object: { key: [{ 'anything-but': { prefix: 'requests/' } }] } } }, false],
    ['exists on a present leaf', { detail: { object: { 'version-id': [{ exists: true }] } } }, true],
    ['exists on an absent leaf', { detail: { object: { 'missing-field': [{ exists: true }] } } }, false],
    ['not exists on an absent leaf', { detail: { object: { 'missing-field': [{ exists: false }] } } }, true],
    ['exists on an object (only leaves match)', { detail: { object: [{ exists: true }] } }, false],
    ['numeric range', { detail: { object: { size: [{ numeric: ['>', 0, '<=', 42] }] } } }, true],
    ['numeric range that excludes', { detail: { object: { size: [{ numeric: ['<', 42] }] } } }, false],
    ['an exact number', { detail: { object: { size: [42] } } }, true],
    ['a value in an event array', { resources: ['arn:aws:s3:::datasets'] }, true],
    ['$or of two alternatives', { detail: { $or: [{ reason: ['CopyObject'] }, { object: { size: [42] } }] } }, true],
    ['a nested pattern against a scalar', { source: { nested: ['x'] } }, false],
  ])('%s', (_name, pattern, expected) => {
    expect(matches(pattern)).toBe(expected);
  });

  test('an operator the matcher lacks is an error that says where and what to do', () => {
    expect(() => matches({ detail: { 'source-ip-address': [{ cidr: '10.0.0.0/8' }] } })).toThrow(EventPatternError);
    expect(() => matches({ detail: { 'source-ip-address': [{ cidr: '10.0.0.0/8' }] } })).toThrow(/detail\.source-ip-address: the matcher 'cidr' is not supported.*eventbridge-pattern\.ts/);
  });
});

describe('AWS events and rule target input', () => {
  test('the S3 Object Created event carries the object as S3 reports it', () => {
    expect(upload).toMatchObject({ source: 'aws.s3', 'detail-type': 'Object Created', time: '2025-01-02T03:04:05Z', resources: ['arn:aws:s3:::datasets'] });
    expect(upload.detail).toMatchObject({ bucket: { name: 'datasets' }, object: { key: 'requests/run.json', size: 42, etag: 'abc123', 'version-id': 'v1' }, reason: 'PutObject' });
  });

  test('the status change event carries input and output as JSON text and dates as epoch milliseconds', () => {
    expect(failed.detail).toMatchObject({ status: 'FAILED', input: '{"bucket":"datasets"}', output: null, startDate: 1000, stopDate: 5000, error: 'InvalidRunRequest', cause: 'bad request' });
    expect(failed.resources).toEqual(['arn:aws:states:us-west-2:111122223333:execution:Machine:run-1']);
  });

  test('InputPath and an InputTransformer as CDK renders them', () => {
    expect(jsonPathValue(upload, '$.detail')).toBe(upload.detail);
    expect(jsonPathValue(upload, "$.detail.object['version-id']")).toBe('v1');
    expect(jsonPathValue(upload, '$.resources[0]')).toBe('arn:aws:s3:::datasets');
    const transformer = {
      InputPathsMap: { 'detail-status': '$.detail.status', 'detail-startDate': '$.detail.startDate' },
      InputTemplate: '{"status":<detail-status>,"started":<detail-startDate>,"text":"ended <detail-status> by <aws.events.rule-name>"}',
    };
    expect(transformInput(transformer, failed, { name: 'Cleanup', arn: 'arn:aws:events:us-west-2:111122223333:rule/Cleanup' })).toEqual({
      status: 'FAILED',
      started: 1000,
      text: 'ended FAILED by Cleanup',
    });
  });
});
