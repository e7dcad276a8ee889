/**
 * Offline rehearsal of the integration tests: the same LlamaFinetuning props and the same
 * uploaded files (support/integ-cases.ts) run through the synthesized state machine with the
 * real handlers and local stand-ins for S3 and Bedrock (test/workflow/harness.ts). What each
 * deployed test asserts (status, error, cause; the job's custom model and its base model) is
 * checked here on the execution the upload starts, so a deployment holds no surprise.
 */
import { BedrockClient, GetCustomModelCommand } from '@aws-sdk/client-bedrock';
import { IntegCase, REAL_FINETUNING_BASE_MODEL_PATTERN, REAL_FINETUNING_CASE, VALIDATION_FAILURE_CASE } from './support/integ-cases';
import { TOO_FEW_RECORDS_RULE } from './support/tiny-text-dataset';
import { startHarness, WorkflowHarness } from '../workflow/harness';

/** Stores the case's files as the assertions do, then delivers the request's S3 event. */
async function uploadCase(h: WorkflowHarness, integCase: IntegCase) {
  const { trainingKey, trainingJsonl, requestKey, requestJson } = integCase.upload;
  h.aws.s3.putObject(h.datasets, trainingKey, trainingJsonl);
  h.aws.s3.putObject(h.datasets, requestKey, requestJson);
  const { executions } = await h.runner.putS3ObjectCreated(h.datasets, requestKey);
  expect(executions).toHaveLength(1);
  return executions[0].result;
}

describe('integ.validation-failure.ts, rehearsed offline', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await startHarness(VALIDATION_FAILURE_CASE.props);
  });
  afterAll(async () => h?.stop());

  test('the execution fails in validation with InvalidDataset, the cause names the rule, and no job is created', async () => {
    const outcome = await uploadCase(h, VALIDATION_FAILURE_CASE);
    expect({ status: outcome.status, error: outcome.error }).toEqual({ status: 'FAILED', error: 'InvalidDataset' });
    expect(outcome.cause).toMatch(new RegExp(TOO_FEW_RECORDS_RULE));
    expect(outcome.transitions).toContain('ValidateDataset');
    expect(outcome.transitions).not.toContain('LaunchJob');
    expect(h.aws.bedrock.jobs()).toEqual([]);
  });
});

describe('integ.real-finetuning.ts, rehearsed offline', () => {
  let h: WorkflowHarness;
  beforeAll(async () => {
    h = await startHarness(REAL_FINETUNING_CASE.props);
  });
  afterAll(async () => h?.stop());

  test("the execution succeeds; its output names the job's custom model, which is based on Llama 3.2 1B", async () => {
    const outcome = await uploadCase(h, REAL_FINETUNING_CASE);
    expect(outcome.status).toBe('SUCCEEDED');
    const [job] = h.aws.bedrock.jobs();
    expect(h.aws.bedrock.jobs()).toHaveLength(1);
    expect(job.hyperParameters).toMatchObject({ epochCount: '1' });

    // The deployed test reads output.job.outputModelArn and calls GetCustomModel with it.
    const modelArn = (outcome.output as { job?: { outputModelArn?: string } }).job?.outputModelArn;
    expect(modelArn).toBe(h.aws.bedrock.customModels()[0].modelArn);
    const bedrock = new BedrockClient({ region: 'us-west-2', endpoint: h.aws.bedrock.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const model = await bedrock.send(new GetCustomModelCommand({ modelIdentifier: modelArn }));
      expect(model.baseModelArn).toMatch(new RegExp(REAL_FINETUNING_BASE_MODEL_PATTERN));
    } finally {
      bedrock.destroy();
    }
  });
});
