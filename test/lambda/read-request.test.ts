import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LlamaFinetuning } from '../../lib';
import { resetClients } from '../../lambda/shared/aws-clients';
import { InvalidRunRequestError } from '../../lambda/shared/run-request';
import { handler } from '../../lambda/read-request';
import { LocalAws, startLocalAws } from '../support/local-aws';
import { RolePolicy, bucketResource } from '../support/iam-policy';
import { testStack } from '../support/cdk';

const DATASETS = 'datasets-bucket';
const ARTIFACTS = 'artifacts-bucket';
const EXECUTION_ARN = 'arn:aws:states:us-west-2:111122223333:execution:Workflow:e-1';

/** The read-request handler against the local S3 stand-in, with the real S3 client. */
describe('read-request handler', () => {
  let aws: LocalAws;
  let policy: RolePolicy;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    aws = await startLocalAws({ buckets: [{ name: DATASETS, versioned: true }, { name: ARTIFACTS, versioned: true }] });
    resetClients();
    // The environment and the IAM policy come from the synthesized construct.
    const stack: Stack = testStack();
    const construct = new LlamaFinetuning(stack, 'Finetuning');
    const template = Template.fromStack(stack);
    const id = (c: { node: { defaultChild?: unknown } }) => stack.resolve((c.node.defaultChild as { logicalId: string }).logicalId) as string;
    const physical = { [id(construct.datasetBucket as never)]: bucketResource(DATASETS), [id(construct.artifactsBucket as never)]: bucketResource(ARTIFACTS) };
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) => f.Properties.Description?.startsWith('Reads an uploaded run request'))!;
    for (const [name, value] of Object.entries(fn.Properties.Environment.Variables as Record<string, unknown>)) {
      process.env[name] = typeof value === 'string' ? value : (physical[(value as { Ref: string }).Ref]?.ref ?? '');
    }
    policy = RolePolicy.fromTemplate(template, id(construct.workflow.node.findChild('ReadRequest').node.findChild('Role') as never), physical);
    aws.s3.putObject(DATASETS, 'data/train.jsonl', '{"schemaVersion":"bedrock-conversation-2024"}\n');
    aws.s3.putObject(DATASETS, 'data/validation.jsonl', '{"schemaVersion":"bedrock-conversation-2024"}\n');
  });

  afterAll(async () => {
    resetClients();
    await aws.stop();
    process.env = savedEnv;
  });

  beforeEach(() => aws.callLog.clear());

  /** Uploads a request and returns the event detail EventBridge would pass. */
  function upload(key: string, body: unknown) {
    const { etag, versionId } = aws.s3.putObject(DATASETS, key, typeof body === 'string' ? body : JSON.stringify(body));
    return { bucket: { name: DATASETS }, object: { key, etag: etag.replace(/"/g, ''), 'version-id': versionId }, executionArn: EXECUTION_ARN };
  }

  async function rejection(event: unknown): Promise<InvalidRunRequestError> {
    try {
      await handler(event as never);
    } catch (err) {
      if (err instanceof InvalidRunRequestError) return err;
      throw err;
    }
    throw new Error('expected the request to be rejected');
  }

  test('a valid request becomes the run context, read by version; every call is allowed by the role and none writes', async () => {
    const event = upload('requests/chartqa.json', { name: 'chartqa', model: 'llama3.2-11b', trainingData: 'data/train.jsonl', validationData: 'data/validation.jsonl' });
    const run = await handler(event);
    expect(run.runId).toMatch(/^chartqa-[0-9a-f]{12}$/);
    expect(run.request).toEqual({ bucket: DATASETS, key: 'requests/chartqa.json', versionId: event.object['version-id'], etag: event.object.etag });
    // The exact versions the run will validate, train and evaluate on are pinned now.
    const version = (key: string) => ({ key, versionId: aws.s3.headObject(DATASETS, key)!.versionId, etag: aws.s3.headObject(DATASETS, key)!.etag, size: aws.s3.headObject(DATASETS, key)!.size });
    expect(run.data).toEqual({
      bucket: DATASETS,
      trainingKey: 'data/train.jsonl',
      validationKey: 'data/validation.jsonl',
      testKey: undefined,
      versions: { training: version('data/train.jsonl'), validation: version('data/validation.jsonl') },
    });
    expect(run.artifacts).toEqual({ bucket: ARTIFACTS, prefix: `runs/${run.runId}/` });
    expect(run.executionArn).toBe(EXECUTION_ARN);

    const calls = aws.callLog.entries();
    expect(calls.map((c) => c.action).sort()).toEqual(['s3:GetObject', 's3:GetObject', 's3:GetObjectVersion']);
    for (const call of calls) {
      for (const resource of call.resources) expect({ action: call.action, resource, allowed: policy.allows(call.action, resource) }).toMatchObject({ allowed: true });
    }
    // The role could not write even if the code tried.
    expect(policy.allows('s3:PutObject', `arn:aws:s3:::${DATASETS}/requests/chartqa.json`)).toBe(false);
    expect(policy.allows('s3:GetObject', `arn:aws:s3:::${ARTIFACTS}/runs/x/run.json`)).toBe(false);
  });

  test('the version in the event is read, not a later upload to the same key', async () => {
    const first = upload('requests/versioned.json', { name: 'first', model: 'llama3.2-11b', trainingData: 'data/train.jsonl' });
    upload('requests/versioned.json', { name: 'second', model: 'llama3.2-11b', trainingData: 'data/train.jsonl' });
    expect((await handler(first)).requestName).toBe('first');
  });

  test('a request naming a missing file is rejected with the file and what to do', async () => {
    const error = await rejection(upload('requests/missing.json', { name: 'missing', model: 'llama3.2-11b', trainingData: 'data/train.jsonl', testData: 'data/nope.jsonl' }));
    expect(error.problems).toEqual([
      { field: 'testData', rule: 'data-missing', message: `s3://${DATASETS}/data/nope.jsonl does not exist; upload the file first, then upload the request again` },
    ]);
    expect(error.message).toContain(`Run request s3://${DATASETS}/requests/missing.json is invalid`);
  });

  test('an empty data file is rejected', async () => {
    aws.s3.putObject(DATASETS, 'data/empty.jsonl', '');
    const error = await rejection(upload('requests/empty.json', { name: 'empty', model: 'llama3.2-11b', trainingData: 'data/empty.jsonl' }));
    expect(error.problems.map((p) => p.rule)).toEqual(['data-empty']);
  });

  test('malformed JSON and bad fields are rejected before any data file is looked at', async () => {
    const error = await rejection(upload('requests/bad.json', '{"name": "x", "model": '));
    expect(error.problems[0]).toMatchObject({ rule: 'json' });
    expect(aws.callLog.entries({ operation: 'HeadObject' })).toHaveLength(0);
  });

  test('a URL-encoded key from the event is decoded when the literal key does not exist', async () => {
    const event = upload('requests/my run.json', { name: 'spaces', model: 'llama3.2-3b', trainingData: 'data/train.jsonl' });
    const run = await handler({ ...event, object: { ...event.object, key: 'requests/my+run.json' } });
    expect(run.request.key).toBe('requests/my run.json');
  });

  test('an event for another bucket or without a key is refused', async () => {
    expect((await rejection({ bucket: { name: 'someone-else' }, object: { key: 'requests/x.json' } })).problems[0].rule).toBe('request-bucket');
    expect((await rejection({ detail: {} })).problems[0].rule).toBe('event-shape');
  });

  test('a request deleted after upload is reported as missing', async () => {
    const event = upload('requests/gone.json', { name: 'gone', model: 'llama3.2-11b', trainingData: 'data/train.jsonl' });
    const { 'version-id': _v, ...withoutVersion } = event.object;
    aws.s3.deleteObject(DATASETS, 'requests/gone.json');
    expect((await rejection({ ...event, object: withoutVersion })).problems[0].rule).toBe('request-missing');
  });

  test('a request over 1 MiB is refused by its size (Content-Length) with a short message', async () => {
    // 8 MB in the name: echoed whole (several times over, through the error, its log line and the state's cause), such requests made messages of hundreds of MB.
    const huge = JSON.stringify({ name: 'x'.repeat(8 * 1024 * 1024), model: 'llama3.2-11b', trainingData: 'data/train.jsonl' });
    const error = await rejection(upload('requests/huge.json', huge));
    expect(error.problems.map((p) => [p.field, p.rule])).toEqual([['(file)', 'request-too-large']]);
    expect(error.message).toContain(`has ${Buffer.byteLength(huge).toLocaleString('en-US')} bytes; a run request may have at most 1,048,576 (1 MiB)`);
    expect(error.message.length).toBeLessThan(1000);
    expect(aws.callLog.entries({ operation: 'HeadObject' })).toHaveLength(0);
  });

  test('values echoed in problems are bounded and escaped, whatever the request holds', async () => {
    const longKey = `data/${'\u001b[2J'.repeat(2000)}.jsonl`;
    const error = await rejection(upload('requests/echo.json', { name: `run\u001b]0;owned\u0007${'n'.repeat(100_000)}`, model: 'llama3.2-11b', trainingData: longKey, extra: 1 }));
    expect(error.message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(error.message).toContain('run\\u001b]0;owned\\u0007');
    expect(error.message.length).toBeLessThan(3000);
  });
});
