/**
 * How a Lambda function's failure looks to the caller and to Step Functions. The Node.js
 * runtime reports a thrown error as `{errorType: error.name, errorMessage, trace}`; the
 * Step Functions Lambda integration turns that into Error = errorType and
 * Cause = that object as a JSON string, which Retry/Catch and Fail states then see. Pure.
 */

/** A function error as the Lambda runtime reports it. */
export interface LambdaErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}

/**
 * The error a Task state fails with when its function fails: `name` is the Step Functions
 * Error and `message` the Cause. It deliberately has no `cause` property, because the
 * interpreter would report that instead of the message.
 */
export class LambdaTaskFailure extends Error {
  constructor(readonly payload: LambdaErrorPayload) {
    super(JSON.stringify(payload.trace === undefined ? { errorMessage: payload.errorMessage, errorType: payload.errorType } : { errorMessage: payload.errorMessage, errorType: payload.errorType, trace: payload.trace }));
    this.name = payload.errorType;
  }
}

/** A service-side failure of a Task state (e.g. `States.DataLimitExceeded`, `SNS.NotFoundException`). */
export class TaskServiceFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** What the runtime reports when the function runs past its timeout. */
export function sandboxTimeout(requestId: string, timeoutMs: number): LambdaErrorPayload {
  return { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds` };
}

/** What the runtime reports when the function's process dies (process.exit, out of memory). */
export function runtimeExit(requestId: string, detail: string, errorType = 'Runtime.ExitError'): LambdaErrorPayload {
  return { errorType, errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${detail}` };
}
