/**
 * OPT-IN integration test: a REAL, minimal Amazon Bedrock fine-tuning job. IT COSTS MONEY.
 * Never deployed by CI (CI only compares its snapshot, offline); refuses to synthesize for a
 * deployment unless LLAMA_FINETUNE_INTEG_REAL_JOB=1.
 *
 * What it does: deploys a LlamaFinetuning stack (evaluation off, so no Provisioned
 * Throughput; everything removed on destroy), uploads 100 tiny text records (the minimum
 * Bedrock accepts) and a run request for llama3.2-1b with epochCount 1, waits (CloudFormation
 * wait condition, up to 8.5 hours) until the execution ends, then asserts that it SUCCEEDED and
 * that the custom model it produced exists and is based on Llama 3.2 1B, and deletes that
 * custom model (a custom model bills storage every month while it exists).
 *
 * Cost, roughly: the training tokens of one epoch over 100 records of a few dozen tokens
 * (a few thousand tokens at the Bedrock customization price of Llama 3.2 1B, typically well
 * under a dollar; check https://aws.amazon.com/bedrock/pricing/), plus cents of Step
 * Functions, Lambda, S3, KMS and CloudWatch while the stacks exist. If the test fails after
 * the job completed, delete the custom model named integ-real-finetune-... yourself
 * (Bedrock console > Custom models), or it keeps billing storage.
 *
 * Prerequisites: credentials for the account (lasting as long as the run: the deployment
 * waits for the job), the CDK bootstrapped in us-west-2, Bedrock model access to Llama 3.2 1B
 * Instruct there, and a free slot in the account's concurrent customization job quota.
 *
 *   LLAMA_FINETUNE_INTEG_REAL_JOB=1 npx integ-runner --force integ.real-finetuning.ts
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { LlamaFinetuning } from '../../lib';
import { ExecutionEndWait } from './support/execution-end-wait';
import { REAL_FINETUNING_BASE_MODEL_PATTERN, REAL_FINETUNING_CASE, REAL_RUN_TIMEOUT } from './support/integ-cases';
import { integEnvironment, requireRealJobOptIn } from './support/integ-environment';
import { expectExecutionField, newestExecution, uploadRun } from './support/run-assertions';

requireRealJobOptIn('test/integ/integ.real-finetuning.ts');

// No construct stack traces: they would put this machine's paths into the committed snapshots.
const app = new App({ stackTraces: false, context: { [cxapi.DISABLE_CREATION_STACK_TRACES]: true } });
const env = integEnvironment();

const stack = new Stack(app, 'LlamaFinetuneIntegRealFinetuning', {
  env,
  description: 'llama-finetune-cdk integration test (opt-in, paid): a real minimal fine-tuning run succeeds',
});
const finetuning = new LlamaFinetuning(stack, 'Finetuning', REAL_FINETUNING_CASE.props);

const assertionStack = new Stack(app, 'LlamaFinetuneIntegRealFinetuningAssertions', {
  env,
  description: 'llama-finetune-cdk integration test assertions (opt-in, paid): a real minimal fine-tuning run succeeds',
});
const integ = new IntegTest(app, 'RealFinetuning', {
  testCases: [stack],
  assertionStack,
  // Deploying the previous snapshot first would run nothing useful and take longer.
  stackUpdateWorkflow: false,
});

const runEnd = new ExecutionEndWait(assertionStack, 'RunEnd', {
  stateMachineArn: finetuning.stateMachine.stateMachineArn,
  timeout: REAL_RUN_TIMEOUT.plus(Duration.minutes(30)),
});
const upload = uploadRun(integ.assertions, { bucketName: finetuning.datasetBucket.bucketName, ...REAL_FINETUNING_CASE.upload });
// The end of the execution must not go unheard, and the wait starts once the run did.
upload.training.node.addDependency(runEnd.listening);
runEnd.condition.node.addDependency(upload.request);

const execution = newestExecution(integ.assertions, finetuning.stateMachine.stateMachineArn);
execution.node.addDependency(runEnd.condition);
const executionArn = execution.getAttString('executions.0.executionArn');

const succeeded = expectExecutionField(integ.assertions, executionArn, 'status', ExpectedResult.exact('SUCCEEDED'));
execution.next(succeeded);
// The state machine's output carries the job, with the ARN of the custom model it made.
const modelArn = succeeded.getAttString('output.job.outputModelArn');
const model = integ.assertions
  .awsApiCall('Bedrock', 'getCustomModel', { modelIdentifier: modelArn }, ['baseModelArn'])
  .assertAtPath('baseModelArn', ExpectedResult.stringLikeRegexp(REAL_FINETUNING_BASE_MODEL_PATTERN));
succeeded.next(model);
model.next(integ.assertions.awsApiCall('Bedrock', 'deleteCustomModel', { modelIdentifier: modelArn }));

app.synth();
