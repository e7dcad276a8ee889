/**
 * Integration test: a run whose data fails validation stops in the validation step, before
 * any training is paid for.
 *
 * Deploys a small LlamaFinetuning stack (evaluation off, everything removed on destroy) and,
 * through integ-tests assertions: uploads a training file of 5 well-formed records (Bedrock
 * needs at least 100) and a run request under requests/, waits up to 15 minutes for the
 * execution that upload started to end, then asserts that it FAILED with error
 * InvalidDataset and that the cause names the rule record-count-too-low.
 *
 * Cost: no Bedrock charge (no job is created); cents of Step Functions, Lambda, S3, KMS and
 * CloudWatch while the stacks exist (about 15 minutes).
 *
 * CI never deploys it: it runs integ-runner's snapshot comparison (`npm run integ:snapshot`,
 * offline) and integ-rehearsal.test.ts, which runs the same upload through the synthesized
 * workflow offline. To run it in an account (credentials for it, the CDK bootstrapped in
 * us-west-2; integ.config.json holds the runner's settings), which deploys, asserts, destroys
 * and refreshes the snapshot:
 *
 *   npx integ-runner --force integ.validation-failure.ts
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { LlamaFinetuning } from '../../lib';
import { VALIDATION_FAILURE_CASE } from './support/integ-cases';
import { integEnvironment } from './support/integ-environment';
import { expectExecutionField, newestExecution, uploadRun } from './support/run-assertions';
import { TOO_FEW_RECORDS_RULE } from './support/tiny-text-dataset';

// No construct stack traces: they would put this machine's paths into the committed snapshots.
const app = new App({ stackTraces: false, context: { [cxapi.DISABLE_CREATION_STACK_TRACES]: true } });
const env = integEnvironment();

const stack = new Stack(app, 'LlamaFinetuneIntegValidationFailure', {
  env,
  description: 'llama-finetune-cdk integration test: a run with invalid data fails in validation',
});
const finetuning = new LlamaFinetuning(stack, 'Finetuning', VALIDATION_FAILURE_CASE.props);

const assertionStack = new Stack(app, 'LlamaFinetuneIntegValidationFailureAssertions', {
  env,
  description: 'llama-finetune-cdk integration test assertions: a run with invalid data fails in validation',
});
const integ = new IntegTest(app, 'ValidationFailure', {
  testCases: [stack],
  assertionStack,
  // Deploying the previous snapshot first would only double the time; these stacks hold no state worth upgrading.
  stackUpdateWorkflow: false,
});

const upload = uploadRun(integ.assertions, { bucketName: finetuning.datasetBucket.bucketName, ...VALIDATION_FAILURE_CASE.upload });
const execution = newestExecution(integ.assertions, finetuning.stateMachine.stateMachineArn, Duration.minutes(15));
upload.request.next(execution);
const executionArn = execution.getAttString('executions.0.executionArn');

execution
  .next(expectExecutionField(integ.assertions, executionArn, 'status', ExpectedResult.exact('FAILED')))
  .next(expectExecutionField(integ.assertions, executionArn, 'error', ExpectedResult.exact('InvalidDataset')))
  .next(expectExecutionField(integ.assertions, executionArn, 'cause', ExpectedResult.stringLikeRegexp(TOO_FEW_RECORDS_RULE)));

app.synth();
