/**
 * LocalSns driven by the real @aws-sdk/client-sns (awsQuery: form-encoded requests, XML answers).
 */
import {
  AuthorizationErrorException,
  CreateTopicCommand,
  InvalidParameterException,
  InvalidParameterValueException,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  PublishCommandInput,
  SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { LocalSns, SNS_MAX_MESSAGE_BYTES, SNS_SUBJECT_LIMIT, checkPublishRequest, parseTopicArn, publishedSize, readMessageAttributes, subjectProblem } from '../support/local-sns';
import { fastRetries } from '../support/stand-ins/fast-retries';

const TOPIC = 'arn:aws:sns:us-west-2:111122223333:run-outcomes';

async function rejectionOf(promise: Promise<unknown>): Promise<SNSServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as SNSServiceException;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('LocalSns with the AWS SDK', () => {
  let sns: LocalSns;
  let client: SNSClient;

  const publish = (input: Partial<PublishCommandInput>) => client.send(new PublishCommand({ TopicArn: TOPIC, Message: 'hello', ...input }));

  beforeAll(async () => {
    sns = await LocalSns.start({ topics: ['run-outcomes'] });
    client = new SNSClient({ region: 'us-west-2', endpoint: sns.endpoint, credentials: { accessKeyId: 'AKIDNOTIFY', secretAccessKey: 'test' }, retryStrategy: fastRetries(3) });
  });

  afterAll(async () => {
    client.destroy();
    await sns.stop();
  });

  beforeEach(() => {
    sns.clearFaults();
    sns.clearMessages();
    sns.callLog.clear();
    sns.setAuthorizer(undefined);
  });

  it('records a published message with its subject, text and attributes', async () => {
    const before = Date.now();
    const text = 'Run r-1 finished: F1 0.82 (base 0.61).\nSee s3://bucket/runs/r-1/ & more';
    const out = await publish({
      Subject: 'Fine-tuning run r-1: Completed',
      Message: text,
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'Completed' },
        score: { DataType: 'Number', StringValue: '0.82' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 254]) },
      },
    });
    expect(out.MessageId).toMatch(/^[0-9a-f-]{36}$/);
    const [message] = sns.messages(TOPIC);
    expect(message).toMatchObject({ messageId: out.MessageId, topicArn: TOPIC, subject: 'Fine-tuning run r-1: Completed', message: text, principal: 'AKIDNOTIFY' });
    expect(message.attributes.outcome).toEqual({ dataType: 'String', stringValue: 'Completed' });
    expect(message.attributes.score).toEqual({ dataType: 'Number', stringValue: '0.82' });
    expect(message.attributes.blob.binaryValue?.equals(Buffer.from([0, 1, 254]))).toBe(true);
    expect(message.time.getTime()).toBeGreaterThanOrEqual(before);
    expect(sns.messages('arn:aws:sns:us-west-2:111122223333:other')).toEqual([]);
  });

  it('answers NotFound for a topic that was never created, and records nothing', async () => {
    const err = await rejectionOf(publish({ TopicArn: 'arn:aws:sns:us-west-2:111122223333:missing' }));
    expect(err).toBeInstanceOf(NotFoundException);
    expect(err.message).toBe('Topic does not exist');
    expect(err.$metadata.httpStatusCode).toBe(404);
    expect(sns.messages()).toEqual([]);
  });

  it.each([
    ['a subject of 100 characters', { Subject: 'x'.repeat(SNS_SUBJECT_LIMIT) }, 'Invalid parameter: Subject'],
    ['a subject with a line break', { Subject: 'two\nlines' }, 'Invalid parameter: Subject'],
    ['an empty subject', { Subject: '' }, 'Invalid parameter: Subject'],
    ['a subject with a carriage return', { Subject: 'run r-1\rfailed' }, /Invalid parameter: Subject.*line break/],
    ['a subject with a tab (a control character)', { Subject: 'run\tfailed' }, /Invalid parameter: Subject.*control character/],
    ['a subject with non-ASCII text', { Subject: 'Exécution terminée' }, /Invalid parameter: Subject.*outside ASCII/],
    ['a subject that begins with a space', { Subject: ' run r-1 failed' }, /Invalid parameter: Subject.*begin with a letter, number or punctuation/],
    ['a message whose attributes take it over 256 KiB', { Message: 'm'.repeat(SNS_MAX_MESSAGE_BYTES - 10), MessageAttributes: { status: { DataType: 'String', StringValue: 'x' } } }, 'Invalid parameter: Message too long'],
    ['an empty message', { Message: '' }, 'Invalid parameter: Empty message'],
    ['a message over 256 KiB', { Message: 'a'.repeat(SNS_MAX_MESSAGE_BYTES + 1) }, 'Invalid parameter: Message too long'],
    ['a malformed topic ARN', { TopicArn: 'run-outcomes' }, 'Invalid parameter: TopicArn'],
    ['a json structure without a default', { MessageStructure: 'json', Message: '{"email":"hi"}' }, /No default entry/],
  ])('rejects %s with InvalidParameterException', async (_label, input, message) => {
    const err = await rejectionOf(publish(input));
    expect(err).toBeInstanceOf(InvalidParameterException);
    expect(err.message).toMatch(message);
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.$metadata.attempts).toBe(1);
    expect(sns.messages()).toEqual([]);
  });

  it('accepts a subject of 99 characters and a message of exactly 256 KiB', async () => {
    await publish({ Subject: 's'.repeat(SNS_SUBJECT_LIMIT - 1), Message: 'm'.repeat(SNS_MAX_MESSAGE_BYTES) });
    expect(sns.messages()[0].message).toHaveLength(SNS_MAX_MESSAGE_BYTES);
  });

  it('accepts subjects that begin with punctuation or a digit, and a message that fills 256 KiB together with its attributes', async () => {
    await publish({ Subject: '[production-west] Llama fine-tuning run r-1 failed' });
    await publish({ Subject: '42 runs: ok ~ done!' });
    // 'status' (6) + 'String' (6) + 'x' (1) = 13 bytes of attributes.
    await publish({ Message: 'm'.repeat(SNS_MAX_MESSAGE_BYTES - 13), MessageAttributes: { status: { DataType: 'String', StringValue: 'x' } } });
    expect(sns.messages().map((m) => m.subject)).toEqual(['[production-west] Llama fine-tuning run r-1 failed', '42 runs: ok ~ done!', undefined]);
  });

  it('names the subject rule that failed in the pure check', () => {
    expect(subjectProblem('x'.repeat(SNS_SUBJECT_LIMIT))).toBe('it has 100 characters; SNS requires fewer than 100');
    expect(subjectProblem('a\nb')).toBe('it contains a line break');
    expect(subjectProblem('\u00e9t\u00e9')).toBe('it contains a character outside ASCII');
    expect(subjectProblem('x'.repeat(SNS_SUBJECT_LIMIT - 1))).toBeUndefined();
  });

  it.each([
    ['an unknown data type', { a: { DataType: 'Text', StringValue: 'x' } }, /invalid message attribute type/],
    ['a Number that is not a number', { n: { DataType: 'Number', StringValue: 'twelve' } }, /Could not cast message attribute 'n'/],
    ['a String without a value', { s: { DataType: 'String' } }, /must contain non-empty message attribute value/],
    ['a name with a space', { 'bad name': { DataType: 'String', StringValue: 'x' } }, /Invalid non-alphanumeric character '#x20'/],
  ])('rejects a message attribute with %s as InvalidParameterValueException', async (_label, attributes, message) => {
    const err = await rejectionOf(publish({ MessageAttributes: attributes }));
    expect(err).toBeInstanceOf(InvalidParameterValueException);
    expect(err.message).toMatch(message);
  });

  it('retries through throttling and raises Throttling once the SDK runs out of attempts', async () => {
    sns.throttleNext(2);
    const out = await publish({});
    expect(out.$metadata.attempts).toBe(3);
    expect(sns.messages()).toHaveLength(1);

    sns.throttleNext(3);
    const err = await rejectionOf(publish({}));
    expect(err).toBeInstanceOf(SNSServiceException);
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata.attempts).toBe(3);
    expect(sns.messages()).toHaveLength(1);
    expect(sns.callLog.count({ operation: 'Publish', succeeded: false })).toBe(5);
  });

  it('injects other errors: InternalError is retried, NotFound is not', async () => {
    sns.failNext(1);
    expect((await publish({})).$metadata.attempts).toBe(2);
    sns.failNext(1, { code: 'NotFound', message: 'Topic does not exist' });
    expect(await rejectionOf(publish({}))).toBeInstanceOf(NotFoundException);
    expect(sns.callLog.entries().map((e) => e.errorCode)).toEqual(['InternalError', undefined, 'NotFound']);
  });

  it('logs sns:Publish on the topic ARN for the calling principal', async () => {
    await publish({});
    await rejectionOf(publish({ TopicArn: 'arn:aws:sns:us-west-2:111122223333:missing' }));
    expect(sns.callLog.entries()).toEqual([
      expect.objectContaining({ service: 'sns', operation: 'Publish', action: 'sns:Publish', resources: [TOPIC], status: 200, principal: 'AKIDNOTIFY' }),
      expect.objectContaining({ action: 'sns:Publish', resources: ['arn:aws:sns:us-west-2:111122223333:missing'], status: 404, errorCode: 'NotFound' }),
    ]);
  });

  it('refuses with AuthorizationErrorException when the authorizer denies the topic', async () => {
    sns.setAuthorizer(({ action, resources }) => action === 'sns:Publish' && resources.every((r) => r !== TOPIC));
    const err = await rejectionOf(publish({}));
    expect(err).toBeInstanceOf(AuthorizationErrorException);
    expect(err.message).toContain(`SNS:Publish on resource: ${TOPIC}`);
    expect(sns.messages()).toEqual([]);
  });

  it('creates topics idempotently and lists them', async () => {
    const first = await client.send(new CreateTopicCommand({ Name: 'alerts' }));
    const again = await client.send(new CreateTopicCommand({ Name: 'alerts' }));
    expect(first.TopicArn).toBe('arn:aws:sns:us-west-2:111122223333:alerts');
    expect(again.TopicArn).toBe(first.TopicArn);
    const listed = await client.send(new ListTopicsCommand({}));
    expect(listed.Topics?.map((t) => t.TopicArn)).toEqual([TOPIC, first.TopicArn]);
    expect(listed.NextToken).toBeUndefined();
    await client.send(new PublishCommand({ TopicArn: first.TopicArn, Message: 'now it exists' }));
    expect(sns.messages(first.TopicArn)).toHaveLength(1);
    expect(await rejectionOf(client.send(new CreateTopicCommand({ Name: 'has space' })))).toBeInstanceOf(InvalidParameterException);
    expect(sns.callLog.actions()).toEqual(['sns:CreateTopic', 'sns:ListTopics', 'sns:Publish']);
  });

  it('tells listeners about each accepted message', async () => {
    const seen: string[] = [];
    const stop = sns.onMessage((m) => seen.push(m.message));
    await publish({ Message: 'one' });
    stop();
    await publish({ Message: 'two' });
    expect(seen).toEqual(['one']);
  });
});

describe('LocalSns rules (pure)', () => {
  const params = (entries: Record<string, string>) => new URLSearchParams(entries);

  it('reads the flattened MessageAttributes map the SDK sends', () => {
    const read = readMessageAttributes(
      params({
        'MessageAttributes.entry.1.Name': 'a',
        'MessageAttributes.entry.1.Value.DataType': 'String',
        'MessageAttributes.entry.1.Value.StringValue': 'x',
        'MessageAttributes.entry.2.Name': 'b',
        'MessageAttributes.entry.2.Value.DataType': 'Binary',
        'MessageAttributes.entry.2.Value.BinaryValue': 'AQI=',
      }),
    );
    expect(read.map((a) => [a.name, a.dataType, a.stringValue])).toEqual([
      ['a', 'String', 'x'],
      ['b', 'Binary', undefined],
    ]);
    expect(read[1].binaryValue).toEqual(Buffer.from([1, 2]));
  });

  it('counts attributes against the 256 KiB limit', () => {
    const attributes = { k: { dataType: 'String', stringValue: 'v'.repeat(10) } };
    expect(publishedSize('abc', attributes)).toBe(3 + 1 + 6 + 10);
    const body = 'm'.repeat(SNS_MAX_MESSAGE_BYTES - 5);
    expect(() => checkPublishRequest(params({ TopicArn: TOPIC, Message: body }))).not.toThrow();
    expect(() =>
      checkPublishRequest(params({ TopicArn: TOPIC, Message: body, 'MessageAttributes.entry.1.Name': 'k', 'MessageAttributes.entry.1.Value.DataType': 'String', 'MessageAttributes.entry.1.Value.StringValue': 'v' })),
    ).toThrow('Invalid parameter: Message too long');
  });

  it('accepts a json MessageStructure with a default entry', () => {
    expect(checkPublishRequest(params({ TopicArn: TOPIC, MessageStructure: 'json', Message: '{"default":"hi","email":"hello"}' })).messageStructure).toBe('json');
  });

  it('parses topic ARNs', () => {
    expect(parseTopicArn(TOPIC)).toEqual({ region: 'us-west-2', accountId: '111122223333', name: 'run-outcomes' });
    expect(parseTopicArn('arn:aws:sqs:us-west-2:111122223333:queue')).toBeUndefined();
  });

  it('pages ListTopics 100 at a time', async () => {
    const sns = await LocalSns.start({ accountId: '444455556666', region: 'eu-west-1' });
    const client = new SNSClient({ region: 'eu-west-1', endpoint: sns.endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'test' }, maxAttempts: 1 });
    try {
      const created = Array.from({ length: 101 }, (_, i) => sns.createTopic(`topic-${i}`));
      const first = await client.send(new ListTopicsCommand({}));
      expect(first.Topics).toHaveLength(100);
      expect(first.NextToken).toBeTruthy();
      const second = await client.send(new ListTopicsCommand({ NextToken: first.NextToken }));
      expect(second.NextToken).toBeUndefined();
      expect([...first.Topics!, ...second.Topics!].map((t) => t.TopicArn)).toEqual(created);
      expect(created[0]).toBe('arn:aws:sns:eu-west-1:444455556666:topic-0');
    } finally {
      client.destroy();
      await sns.stop();
    }
  });

  it('refuses to declare a topic outside its account and region', async () => {
    const sns = await LocalSns.start();
    try {
      expect(() => sns.createTopic('arn:aws:sns:eu-west-1:111122223333:t')).toThrow(/eu-west-1/);
      expect(() => sns.createTopic('bad name')).toThrow(/not a valid topic name/);
      expect(sns.createTopic('arn:aws:sns:us-west-2:111122223333:t')).toBe('arn:aws:sns:us-west-2:111122223333:t');
      expect(sns.topics()).toEqual(['arn:aws:sns:us-west-2:111122223333:t']);
    } finally {
      await sns.stop();
    }
  });
});
