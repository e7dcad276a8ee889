/**
 * startLocalAws: SDK clients built with no endpoint configuration reach the stand-ins, the
 * call log is shared, and the environment is restored afterwards.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BedrockClient, ListModelCustomizationJobsCommand } from '@aws-sdk/client-bedrock';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { SNSClient, PublishCommand } from '@aws-sdk/client-sns';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startLocalAws } from '../support/local-aws';

const WATCHED = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_BEDROCK', 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', 'AWS_ENDPOINT_URL_SNS', 'AWS_ENDPOINT_URL_EVENTBRIDGE', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];

describe('startLocalAws', () => {
  const saved = new Map(WATCHED.map((name) => [name, process.env[name]]));

  afterAll(() => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('points default-configured SDK clients at the stand-ins and shares one call log', async () => {
    const aws = await startLocalAws({ buckets: ['demo-data', { name: 'demo-output', versioned: true }], accessKeyId: 'AKIDDEMO' });
    const s3 = new S3Client({});
    const bedrock = new BedrockClient({});
    const runtime = new BedrockRuntimeClient({});
    try {
      expect(process.env.AWS_ENDPOINT_URL_S3).toBe(aws.s3.endpoint);
      expect(process.env.AWS_REGION).toBe('us-west-2');

      const put = await s3.send(new PutObjectCommand({ Bucket: 'demo-output', Key: 'hello.txt', Body: 'hello' }));
      expect(put.VersionId).toBeTruthy();
      expect(await (await s3.send(new GetObjectCommand({ Bucket: 'demo-output', Key: 'hello.txt' }))).Body!.transformToString()).toBe('hello');
      await bedrock.send(new ListModelCustomizationJobsCommand({}));
      aws.runtime.respond = () => 'pong';
      const answer = await runtime.send(new ConverseCommand({ modelId: 'us.meta.llama3-2-3b-instruct-v1:0', messages: [{ role: 'user', content: [{ text: 'ping' }] }] }));
      expect(answer.output?.message?.content?.[0].text).toBe('pong');

      expect(aws.callLog.operations()).toEqual(['Converse', 'GetObject', 'ListModelCustomizationJobs', 'PutObject']);
      expect(aws.callLog.entries().every((e) => e.principal === 'AKIDDEMO')).toBe(true);
      expect(aws.s3.bucketNames()).toEqual(['demo-data', 'demo-output']);
      expect(aws.bedrock.callLog).toBe(aws.callLog);
      expect(aws.runtime.callLog).toBe(aws.callLog);
    } finally {
      s3.destroy();
      bedrock.destroy();
      runtime.destroy();
      await aws.stop();
    }
  });

  it('wires SNS and EventBridge: declared topics and buses, endpoints in the environment, the shared call log', async () => {
    delete process.env.AWS_ENDPOINT_URL_SNS;
    delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
    const aws = await startLocalAws({ accountId: '444455556666', topics: ['outcomes'], eventBuses: ['runs'], accessKeyId: 'AKIDNOTIFY' });
    const sns = new SNSClient({});
    const events = new EventBridgeClient({});
    try {
      expect(process.env.AWS_ENDPOINT_URL_SNS).toBe(aws.sns.endpoint);
      expect(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(aws.events.endpoint);
      const topicArn = 'arn:aws:sns:us-west-2:444455556666:outcomes';
      expect(aws.sns.topics()).toEqual([topicArn]);

      await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'done', Message: 'run finished' }));
      const put = await events.send(new PutEventsCommand({ Entries: [{ Source: 'llama.finetuning', DetailType: 'Run Outcome', Detail: '{"ok":true}', EventBusName: 'runs' }] }));
      expect(put.FailedEntryCount).toBe(0);

      expect(aws.sns.messages(topicArn).map((m) => m.message)).toEqual(['run finished']);
      expect(aws.events.events({ eventBusName: 'runs' }).map((e) => e.detail)).toEqual([{ ok: true }]);
      expect(aws.sns.callLog).toBe(aws.callLog);
      expect(aws.events.callLog).toBe(aws.callLog);
      expect(aws.callLog.entries().map((e) => [e.action, e.resources, e.principal])).toEqual([
        ['sns:Publish', [topicArn], 'AKIDNOTIFY'],
        ['events:PutEvents', ['arn:aws:events:us-west-2:444455556666:event-bus/runs'], 'AKIDNOTIFY'],
      ]);
    } finally {
      sns.destroy();
      events.destroy();
      await aws.stop();
    }
    expect(process.env.AWS_ENDPOINT_URL_SNS).toBeUndefined();
    expect(process.env.AWS_ENDPOINT_URL_EVENTBRIDGE).toBeUndefined();
  });

  it('clears credentials that would reach a real account and restores everything on stop', async () => {
    process.env.AWS_REGION = 'eu-central-1';
    process.env.AWS_SESSION_TOKEN = 'a-real-looking-session-token';
    delete process.env.AWS_ENDPOINT_URL_S3;
    const aws = await startLocalAws();
    expect(process.env.AWS_SESSION_TOKEN).toBeUndefined();
    expect(process.env.AWS_REGION).toBe('us-west-2');
    expect(process.env.AWS_ENDPOINT_URL_BEDROCK).toBe(aws.bedrock.endpoint);
    await aws.stop();
    expect(process.env.AWS_REGION).toBe('eu-central-1');
    expect(process.env.AWS_SESSION_TOKEN).toBe('a-real-looking-session-token');
    expect(process.env.AWS_ENDPOINT_URL_S3).toBeUndefined();
    await expect(aws.stop()).resolves.toBeUndefined();
  });
});
