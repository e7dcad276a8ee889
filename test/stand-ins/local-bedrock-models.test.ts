/**
 * LocalBedrock's custom model lifecycle and serving updates, driven by the real
 * @aws-sdk/client-bedrock: ListCustomModels (sorting, pagination), DeleteCustomModel (tags go
 * with it; refused while a Provisioned Throughput serves it), and UpdateProvisionedModelThroughput
 * (Bedrock's rules on the new model, Updating while the previous model keeps serving, success and
 * failure), with the IAM resources in the call log.
 */
import {
  BedrockClient,
  CreateModelCustomizationJobCommand,
  CreateProvisionedModelThroughputCommand,
  DeleteCustomModelCommand,
  GetProvisionedModelThroughputCommand,
  ListCustomModelsCommand,
  ListTagsForResourceCommand,
  UpdateProvisionedModelThroughputCommand,
} from '@aws-sdk/client-bedrock';
import { LocalBedrock } from '../support/local-bedrock';

describe('LocalBedrock custom models and serving updates', () => {
  let bedrock: LocalBedrock;
  let client: BedrockClient;
  let n = 0;
  beforeAll(async () => {
    bedrock = await LocalBedrock.start();
    bedrock.setJobScenario({ afterPolls: 'manual' });
    client = new BedrockClient({ endpoint: bedrock.endpoint, region: 'us-west-2', credentials: { accessKeyId: 'test', secretAccessKey: 'x' } });
  });
  afterAll(async () => {
    client.destroy();
    await bedrock.stop();
  });

  async function customModel(base = 'meta.llama3-2-1b-instruct-v1:0:128k'): Promise<string> {
    n += 1;
    const tags = [{ key: 'llama-finetune:run-id', value: `run-${n}` }];
    const { jobArn } = await client.send(
      new CreateModelCustomizationJobCommand({
        jobName: `models-${n}`,
        customModelName: `models-${n}`,
        roleArn: 'arn:aws:iam::111122223333:role/r',
        baseModelIdentifier: base,
        trainingDataConfig: { s3Uri: 's3://team-data/train.jsonl' },
        outputDataConfig: { s3Uri: 's3://team-data/out/' },
        customModelTags: tags,
      }),
    );
    return bedrock.completeJob(jobArn!).outputModelArn!;
  }

  test('ListCustomModels pages through the models newest first; DeleteCustomModel removes one and its tags', async () => {
    const arns = [await customModel(), await customModel(), await customModel()];
    const page = await client.send(new ListCustomModelsCommand({ maxResults: 2 }));
    expect(page.modelSummaries).toHaveLength(2);
    const rest = await client.send(new ListCustomModelsCommand({ maxResults: 2, nextToken: page.nextToken }));
    const listed = [...page.modelSummaries!, ...rest.modelSummaries!];
    expect(listed.map((m) => m.modelArn).filter((a) => arns.includes(a!))).toHaveLength(3);
    expect(listed[0]).toMatchObject({ modelStatus: 'Active', customizationType: 'FINE_TUNING', ownerAccountId: '111122223333', creationTime: expect.any(Date) });
    await client.send(new DeleteCustomModelCommand({ modelIdentifier: arns[0] }));
    expect(bedrock.customModels().map((m) => m.modelArn)).not.toContain(arns[0]);
    expect(bedrock.deletedCustomModels().map((m) => m.modelArn)).toContain(arns[0]);
    await expect(client.send(new ListTagsForResourceCommand({ resourceARN: arns[0] }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(client.send(new DeleteCustomModelCommand({ modelIdentifier: arns[0] }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(bedrock.callLog.entries({ operation: 'DeleteCustomModel' })[0]).toMatchObject({ action: 'bedrock:DeleteCustomModel', resources: [arns[0]] });
  });

  test('UpdateProvisionedModelThroughput: Updating (previous model still served), then InService on the new one; Bedrock\'s model rules; a served model cannot be deleted', async () => {
    const [first, second, otherBase] = [await customModel(), await customModel(), await customModel('meta.llama3-2-3b-instruct-v1:0:128k')];
    const { provisionedModelArn } = await client.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: 'serving', modelId: first, modelUnits: 1 }));
    const pt = provisionedModelArn!;
    // Only an InService one can be updated.
    await expect(client.send(new UpdateProvisionedModelThroughputCommand({ provisionedModelId: pt, desiredModelId: second }))).rejects.toMatchObject({ name: 'ConflictException' });
    bedrock.markInService(pt);
    await expect(client.send(new UpdateProvisionedModelThroughputCommand({ provisionedModelId: pt, desiredModelId: otherBase }))).rejects.toThrow(/was not customized from/);
    await expect(client.send(new DeleteCustomModelCommand({ modelIdentifier: first }))).rejects.toMatchObject({ name: 'ConflictException' });
    bedrock.scenario.modelUpdate = { afterPolls: 1 };
    await client.send(new UpdateProvisionedModelThroughputCommand({ provisionedModelId: pt, desiredModelId: second }));
    expect(bedrock.callLog.entries({ operation: 'UpdateProvisionedModelThroughput' }).at(-1)?.resources).toEqual([pt, second]);
    expect(await client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: pt }))).toMatchObject({ status: 'Updating', modelArn: first, desiredModelArn: second });
    expect(await client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: pt }))).toMatchObject({ status: 'InService', modelArn: second, desiredModelArn: second });
    // A failed update leaves the previous model.
    bedrock.scenario.modelUpdate = { afterPolls: 0, outcome: 'Failed', failureMessage: 'no capacity' };
    await client.send(new UpdateProvisionedModelThroughputCommand({ provisionedModelId: pt, desiredModelId: first }));
    expect(await client.send(new GetProvisionedModelThroughputCommand({ provisionedModelId: pt }))).toMatchObject({ status: 'Failed', modelArn: second, failureMessage: 'no capacity' });
    // One serving a base model cannot change model.
    const { provisionedModelArn: basePt } = await client.send(new CreateProvisionedModelThroughputCommand({ provisionedModelName: 'base', modelId: 'meta.llama3-2-1b-instruct-v1:0:128k', modelUnits: 1 }));
    bedrock.markInService(basePt!);
    await expect(client.send(new UpdateProvisionedModelThroughputCommand({ provisionedModelId: basePt!, desiredModelId: first }))).rejects.toThrow(/associated with a base model/);
  });
});
