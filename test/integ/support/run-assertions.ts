/**
 * The integ-tests steps the integration tests share: start a run the way a user does (upload
 * the data, then the run request), find the execution it started, and check one field of that
 * execution. Every call asks for only the fields it needs, since CloudFormation accepts at
 * most 4 KB back from a custom resource and a failed execution's cause alone may take 2 KB.
 */
import { ExpectedResult, IApiCall, IDeployAssert } from '@aws-cdk/integ-tests-alpha';
import { Duration } from 'aws-cdk-lib';

/** Statuses of an execution that has ended. */
export const ENDED_EXECUTION_STATUS = /^(SUCCEEDED|FAILED|TIMED_OUT|ABORTED)$/;

/** What {@link uploadRun} puts into the dataset bucket. */
export interface RunUpload {
  /** The dataset bucket. */
  readonly bucketName: string;
  /** Key and JSONL text of the training file. */
  readonly trainingKey: string;
  readonly trainingJsonl: string;
  /** Key (under the request prefix) and JSON text of the run request. */
  readonly requestKey: string;
  readonly requestJson: string;
}

/** The two uploads; the second one starts the run. */
export interface RunUploadCalls {
  readonly training: IApiCall;
  readonly request: IApiCall;
}

/** Uploads the training file, then the run request, in that order (the request's upload starts the run). */
export function uploadRun(assertions: IDeployAssert, upload: RunUpload): RunUploadCalls {
  const training = assertions.awsApiCall('S3', 'putObject', { Bucket: upload.bucketName, Key: upload.trainingKey, Body: upload.trainingJsonl }, ['ETag']);
  const request = assertions.awsApiCall('S3', 'putObject', { Bucket: upload.bucketName, Key: upload.requestKey, Body: upload.requestJson }, ['ETag']);
  training.next(request);
  return { training, request };
}

/**
 * Lists the newest execution of the state machine (the test stack is fresh, so it is the one
 * the upload started) and, with `waitUpTo`, polls until it has ended. Read its ARN with
 * `getAttString('executions.0.executionArn')`.
 */
export function newestExecution(assertions: IDeployAssert, stateMachineArn: string, waitUpTo?: Duration): IApiCall {
  const call = assertions
    .awsApiCall('SFN', 'listExecutions', { stateMachineArn, maxResults: 1 }, ['executions.0.executionArn'])
    .assertAtPath('executions.0.status', ExpectedResult.stringLikeRegexp(ENDED_EXECUTION_STATUS.source));
  // Polling well inside the one hour CloudFormation allows a custom resource.
  return waitUpTo ? call.waitForAssertions({ totalTimeout: waitUpTo, interval: Duration.seconds(15) }) : call;
}

/** Fields of DescribeExecution the tests check. */
export type ExecutionField = 'status' | 'error' | 'cause';

/** Asserts one field of an execution (DescribeExecution returning only that field). */
export function expectExecutionField(assertions: IDeployAssert, executionArn: string, field: ExecutionField, expected: ExpectedResult): IApiCall {
  return assertions.awsApiCall('SFN', 'describeExecution', { executionArn }).assertAtPath(field, expected);
}
