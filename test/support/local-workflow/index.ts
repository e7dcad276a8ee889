/**
 * The offline workflow runner. `LocalWorkflowRunner.create({ template, aws })` takes a
 * synthesized stack (`Template.fromStack(stack)` of a stack built with `testApp()`) and the
 * running stand-ins (`startLocalAws()`), creates the template's buckets in LocalS3 under
 * deterministic lowercase names (`runner.bucketName('FinetuningStorageDataset')`), resolves the
 * state machine's definition exactly as synthesized, and bundles each function's real code
 * from lambda/<handler>/ (named by the function's `llama-finetune:handler` metadata) to run it
 * in warm worker threads with the function's own environment; the call log's principal of
 * each call is the calling function's logical id. Start runs the way production does, by
 * upload: `aws.s3.putObject(bucket, 'requests/x.json', body)` then
 * `const { executions } = await runner.putS3ObjectCreated(bucket, 'requests/x.json')` and
 * `await executions[0].result`, or directly with `await runner.run(input)`; both give
 * `{ status, output, error, cause, transitions, events, ruleDeliveries, historyEventCount,
 * childExecutions }`. As Step Functions does, the runner fails an execution on a state payload
 * over 256 KiB (States.DataLimitExceeded, not caught by States.ALL) and past 25,000 history
 * events (States.Runtime), cuts error names and causes to 256 and 32,768 characters, and runs
 * Distributed Maps (ItemReader from LocalS3, child executions). Wait states wait
 * `waitMs` (default 0) and retries `retryMs`, while the definition keeps its own Seconds;
 * `.waitForTaskToken` Lambda states get a real task token from LocalStepFunctions (`$$.Task.Token`),
 * wait until code resumes them with SendTaskSuccess/SendTaskFailure over loopback, and time out
 * (States.Timeout) after `tokenWaitMs` (default `waitMs`; per state `tokenWaitOverrides`);
 * `executionTimeoutMs` scales the execution timeout. Rules on "Step Functions Execution Status
 * Change" events invoke their functions when a run ends, and events the functions put on
 * LocalEventBridge reach the template's rules; the functions' SNS messages are in
 * `aws.sns.messages()`. After the runs, `runner.checkIam()` returns `{ denied, unused }`: every
 * call in the call log checked against the caller's synthesized role policy. Prefer one runner
 * per LocalAws (each routes every LocalEventBridge event to its own rules), and always
 * `await runner.stop()` (before `aws.stop()`) to end the workers.
 */
export { LocalWorkflowRunner } from './local-workflow-runner';
export type {
  EventDispatch,
  ExecutionOutcome,
  FinalExecutionStatus,
  LocalWorkflowRunnerOptions,
  RuleDelivery,
  StartExecutionOptions,
  WorkflowExecution,
} from './local-workflow-runner';
export type { AwsEvent, ExecutionStatus } from './aws-events';
export { executionStatusChangeEvent, s3ObjectCreatedEvent } from './aws-events';
export { matchesEventPattern, EventPatternError } from './eventbridge-pattern';
export { jsonPathValue, targetInputOf, transformInput } from './eventbridge-target-input';
export type { WorkflowEvent } from './execution-events';
export type { ChildOutcome } from './distributed-map';
export { MAX_PAYLOAD_BYTES, MAX_ERROR_CHARS, MAX_CAUSE_CHARS } from './service-limits';
export { MAX_HISTORY_EVENTS } from './history-count';
export type { DeniedCall, IamCheckResult, UnusedGrants } from './iam-check';
export { PLATFORM_ACTIONS } from './iam-check';
export type { FunctionLogLine, LambdaInvocation } from './lambda-function-pool';
export type { LambdaErrorPayload } from './lambda-errors';
export { localBucketName } from './physical-resources';
export type { PhysicalResource } from './physical-resources';
export type { PublishedNotification } from './task-integrations';
export { HANDLER_METADATA } from './template-functions';
