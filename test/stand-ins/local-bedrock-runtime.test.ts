/**
 * LocalBedrockRuntime driven by the real @aws-sdk/client-bedrock-runtime (Converse).
 */
import { BedrockRuntimeClient, BedrockRuntimeServiceException, ConverseCommand, ResourceNotFoundException, ThrottlingException, ValidationException } from '@aws-sdk/client-bedrock-runtime';
import { BedrockClient, CreateModelCustomizationJobCommand, CreateProvisionedModelThroughputCommand, DeleteProvisionedModelThroughputCommand, GetModelCustomizationJobCommand } from '@aws-sdk/client-bedrock';
import { LocalBedrock } from '../support/local-bedrock';
import { ConverseInvocation, LocalBedrockRuntime } from '../support/local-bedrock-runtime';
import { fastRetries } from '../support/stand-ins/fast-retries';

const PROFILE_11B = 'us.meta.llama3-2-11b-instruct-v1:0';

async function rejectionOf(promise: Promise<unknown>): Promise<BedrockRuntimeServiceException> {
  try {
    await promise;
  } catch (err) {
    return err as BedrockRuntimeServiceException;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

describe('LocalBedrockRuntime with the AWS SDK', () => {
  let bedrock: LocalBedrock;
  let runtime: LocalBedrockRuntime;
  let client: BedrockRuntimeClient;
  let control: BedrockClient;
  const seen: ConverseInvocation[] = [];

  const ask = (modelId: string, text: string, extra: Partial<ConstructorParameters<typeof ConverseCommand>[0]> = {}) =>
    client.send(new ConverseCommand({ modelId, messages: [{ role: 'user', content: [{ text }] }], ...extra }));

  beforeAll(async () => {
    bedrock = await LocalBedrock.start();
    runtime = await LocalBedrockRuntime.start({ bedrock });
    const common = { region: 'us-west-2', credentials: { accessKeyId: 'AKIDEVAL', secretAccessKey: 'test' } };
    client = new BedrockRuntimeClient({ ...common, endpoint: runtime.endpoint, retryStrategy: fastRetries(2) });
    control = new BedrockClient({ ...common, endpoint: bedrock.endpoint, maxAttempts: 1 });
  });

  afterAll(async () => {
    client.destroy();
    control.destroy();
    await runtime.stop();
    await bedrock.stop();
  });

  beforeEach(() => {
    seen.length = 0;
    runtime.clearFaults();
    runtime.callLog.clear();
    runtime.respond = (invocation) => {
      seen.push(invocation);
      return invocation.lastUserText === 'What is 2+2?' ? '4' : 'I do not know.';
    };
  });

  it('answers from the responder with token usage', async () => {
    const out = await ask(PROFILE_11B, 'What is 2+2?', { system: [{ text: 'Answer with a number.' }] });
    expect(out.output?.message?.content?.[0].text).toBe('4');
    expect(out.stopReason).toBe('end_turn');
    expect(out.usage?.inputTokens).toBeGreaterThan(0);
    expect(out.usage?.outputTokens).toBe(1);
    expect(out.usage?.totalTokens).toBe(out.usage!.inputTokens! + out.usage!.outputTokens!);
    expect(seen[0]).toMatchObject({ modelId: PROFILE_11B, system: ['Answer with a number.'], target: { kind: 'inference-profile', model: { name: 'llama3.2-11b' } } });
    expect(runtime.invocations()).toEqual([expect.objectContaining({ modelId: PROFILE_11B, answer: '4', targetKind: 'inference-profile' })]);
  });

  it('hands image bytes to the responder decoded', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
    await client.send(new ConverseCommand({ modelId: PROFILE_11B, messages: [{ role: 'user', content: [{ text: 'Describe.' }, { image: { format: 'png', source: { bytes: png } } }] }] }));
    const image = seen[0].messages[0].content.find((c) => 'image' in c) as { image: { format: string; bytes: Buffer } };
    expect(image.image.format).toBe('png');
    expect(image.image.bytes.equals(png)).toBe(true);
    expect(seen[0].imageCount).toBe(1);
  });

  it.each([
    ['the bare foundation model id', 'meta.llama3-2-11b-instruct-v1:0', /inference profile/],
    ['an unknown model', 'amazon.nova-pro-v1:0', /model identifier is invalid/],
    ['a custom model ARN', 'arn:aws:bedrock:us-west-2:111122223333:custom-model/meta.llama3-2-11b-instruct-v1:0:128k/abcdefabcdef', /Provisioned Throughput/],
  ])('rejects %s with ValidationException', async (_label, modelId, message) => {
    const err = await rejectionOf(ask(modelId, 'hi'));
    expect(err).toBeInstanceOf(ValidationException);
    expect(err.message).toMatch(message);
  });

  it('rejects images for the text-only 1B model, and conversations that start with the assistant', async () => {
    const image = await rejectionOf(
      client.send(new ConverseCommand({ modelId: 'us.meta.llama3-2-1b-instruct-v1:0', messages: [{ role: 'user', content: [{ image: { format: 'png', source: { bytes: Buffer.from([1]) } } }] }] })),
    );
    expect(image).toBeInstanceOf(ValidationException);
    const order = await rejectionOf(client.send(new ConverseCommand({ modelId: PROFILE_11B, messages: [{ role: 'assistant', content: [{ text: 'hello' }] }] })));
    expect(order.message).toMatch(/start with a user message/);
  });

  it('cuts the answer at maxTokens and says so', async () => {
    runtime.respond = () => 'word '.repeat(100);
    const out = await ask(PROFILE_11B, 'Talk.', { inferenceConfig: { maxTokens: 10 } });
    expect(out.stopReason).toBe('max_tokens');
    expect(out.usage?.outputTokens).toBeLessThanOrEqual(10);
  });

  it('retries through throttling and raises ThrottlingException when attempts run out', async () => {
    runtime.throttleNext(1);
    expect((await ask(PROFILE_11B, 'What is 2+2?')).$metadata.attempts).toBe(2);
    runtime.throttleNext(2);
    const err = await rejectionOf(ask(PROFILE_11B, 'What is 2+2?'));
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err.$metadata.attempts).toBe(2);
  });

  it('logs bedrock:InvokeModel on the inference profile and the foundation model in each US region', async () => {
    await ask(PROFILE_11B, 'What is 2+2?');
    expect(runtime.callLog.entries()).toEqual([
      expect.objectContaining({
        operation: 'Converse',
        action: 'bedrock:InvokeModel',
        principal: 'AKIDEVAL',
        resources: [
          `arn:aws:bedrock:us-west-2:111122223333:inference-profile/${PROFILE_11B}`,
          'arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-2-11b-instruct-v1:0',
          'arn:aws:bedrock:us-east-2::foundation-model/meta.llama3-2-11b-instruct-v1:0',
          'arn:aws:bedrock:us-west-2::foundation-model/meta.llama3-2-11b-instruct-v1:0',
        ],
      }),
    ]);
  });

  it('invokes a fine-tuned model through its Provisioned Throughput only while it is InService', async () => {
    bedrock.scenario.job = { afterPolls: 0 };
    bedrock.scenario.provisionedThroughput = { afterPolls: 'manual' };
    const { jobArn } = await control.send(
      new CreateModelCustomizationJobCommand({
        jobName: 'runtime-job',
        customModelName: 'runtime-model',
        roleArn: 'arn:aws:iam::111122223333:role/ft',
        baseModelIdentifier: 'meta.llama3-2-11b-instruct-v1:0:128k',
        trainingDataConfig: { s3Uri: 's3://data/train.jsonl' },
        outputDataConfig: { s3Uri: 's3://out/' },
      }),
    );
    const { outputModelArn } = await control.send(new GetModelCustomizationJobCommand({ jobIdentifier: jobArn }));
    const { provisionedModelArn } = await control.send(new CreateProvisionedModelThroughputCommand({ modelUnits: 1, provisionedModelName: 'runtime-pt', modelId: outputModelArn }));

    expect(await rejectionOf(ask(provisionedModelArn!, 'What is 2+2?'))).toBeInstanceOf(ValidationException);
    bedrock.markInService(provisionedModelArn!);
    const out = await ask(provisionedModelArn!, 'What is 2+2?');
    expect(out.output?.message?.content?.[0].text).toBe('4');
    expect(seen.at(-1)?.target).toMatchObject({ kind: 'provisioned-model', customModelArn: outputModelArn, customModelName: 'runtime-model', model: { name: 'llama3.2-11b' } });
    expect(runtime.callLog.entries({ operation: 'Converse', succeeded: true }).at(-1)?.resources).toEqual([provisionedModelArn]);

    await control.send(new DeleteProvisionedModelThroughputCommand({ provisionedModelId: provisionedModelArn }));
    expect(await rejectionOf(ask(provisionedModelArn!, 'What is 2+2?'))).toBeInstanceOf(ResourceNotFoundException);
  });
});
