/**
 * LocalStepFunctions: the task-token half of AWS Step Functions on 127.0.0.1, for the real
 * `@aws-sdk/client-sfn`, which speaks awsJson1_0: `POST /` with
 * `X-Amz-Target: AWSStepFunctions.<Operation>` and a JSON body; errors come back as
 * `x-amzn-errortype` plus `{"__type", "message"}`.
 *
 * The offline workflow runner issues a token when a `.waitForTaskToken` state starts
 * ({@link LocalStepFunctions.issueTaskToken}) and closes it when the state times out or the
 * execution ends; code under test resumes the state with SendTaskSuccess / SendTaskFailure,
 * or keeps it alive with SendTaskHeartbeat, as in AWS (API Reference):
 * - a token this service never issued: InvalidToken (400);
 * - a token whose task is closed (resumed already, timed out, its execution ended):
 *   TaskTimedOut (400), so a second resume never moves an execution twice;
 * - SendTaskSuccess output that is not JSON or is over 256 KiB: InvalidOutput (400); error
 *   over 256 or cause over 32,768 characters: ValidationException (400).
 * Every call goes to the {@link AwsCallLog} as `states:<Operation>` on the ARN of the token's
 * state machine (the resource Step Functions authorizes task responses on), `*` for an
 * unknown token.
 */
import { randomBytes } from 'node:crypto';
import { AwsCallLog } from './aws-call-log';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { newRequestId, principalOf, readBody, RunningServer, sendJson, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';

/** The operations LocalStepFunctions answers. */
export type StepFunctionsOperation = 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat' | 'DescribeExecution' | 'StopExecution';
const OPERATIONS: readonly string[] = ['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat', 'DescribeExecution', 'StopExecution'];
const EXECUTION_OPERATIONS = new Set(['DescribeExecution', 'StopExecution']);

/** An execution as DescribeExecution reports it. */
export interface ExecutionView {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly startDate: Date;
  readonly stopDate?: Date;
}

/** The executions behind DescribeExecution and StopExecution: the offline workflow runner's. */
export interface ExecutionControl {
  describe(executionArn: string): ExecutionView | undefined;
  /** Aborts a running execution with the error and cause StopExecution was given. */
  stop(executionArn: string, error?: string, cause?: string): void;
}

/** Step Functions' payload limit (SendTaskSuccess output). */
export const MAX_TASK_OUTPUT_BYTES = 262_144;

/** How a waiting task was resumed. */
export type TaskTokenOutcome = { readonly kind: 'success'; readonly output: unknown } | { readonly kind: 'failure'; readonly error?: string; readonly cause?: string };

/** The task a token belongs to. */
export interface TaskTokenOwner {
  readonly stateMachineArn: string;
  readonly executionArn: string;
  readonly stateName: string;
}

/** A token handed to a waiting task. */
export interface IssuedTaskToken {
  readonly token: string;
  readonly owner: TaskTokenOwner;
  /** Settles with the first SendTaskSuccess / SendTaskFailure; never, when the task is closed first. */
  readonly outcome: Promise<TaskTokenOutcome>;
  /** Closes the task (it timed out or its execution ended): later calls with the token answer TaskTimedOut. */
  close(): void;
}

/** Options of {@link LocalStepFunctions.start}. */
export interface LocalStepFunctionsOptions {
  readonly port?: number;
  readonly callLog?: AwsCallLog;
  /** Clock that fault windows are measured by; default Date.now. */
  readonly faultClock?: () => number;
}

class StepFunctionsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

interface TokenEntry {
  readonly owner: TaskTokenOwner;
  open: boolean;
  resolve(outcome: TaskTokenOutcome): void;
}

/** The task-token API of Step Functions; see the module comment. */
export class LocalStepFunctions {
  /** Starts LocalStepFunctions on 127.0.0.1. */
  static async start(options: LocalStepFunctionsOptions = {}): Promise<LocalStepFunctions> {
    const sfn = new LocalStepFunctions(options);
    sfn.server = await startServer((req, res) => sfn.handle(req, res), options.port ?? 0, 'LocalStepFunctions');
    return sfn;
  }

  readonly callLog: AwsCallLog;
  private server!: RunningServer;
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly faults: FaultPlan;
  private executionControl?: ExecutionControl;

  private constructor(options: LocalStepFunctionsOptions) {
    this.callLog = options.callLog ?? new AwsCallLog();
    this.faults = new FaultPlan(options.faultClock);
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SFN`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  /** Issues the token of a task that starts waiting (the runner calls this as Step Functions would). */
  issueTaskToken(owner: TaskTokenOwner): IssuedTaskToken {
    // Real tokens are long opaque strings; these are as opaque, and unguessable.
    const token = `AQ${randomBytes(96).toString('base64url')}`;
    let resolve!: (outcome: TaskTokenOutcome) => void;
    const outcome = new Promise<TaskTokenOutcome>((r) => (resolve = r));
    const entry: TokenEntry = { owner, open: true, resolve };
    this.tokens.set(token, entry);
    return { token, owner, outcome, close: () => void (entry.open = false) };
  }

  /** Serves DescribeExecution and StopExecution from `control` (the workflow runner attaches itself); returns the detach function. */
  attachExecutions(control: ExecutionControl): () => void {
    this.executionControl = control;
    return () => {
      if (this.executionControl === control) this.executionControl = undefined;
    };
  }

  /** Whether the task of `token` still waits. */
  isWaiting(token: string): boolean {
    return this.tokens.get(token)?.open === true;
  }

  /** Tokens whose task still waits, with their owners. */
  waitingTasks(): Array<{ readonly token: string } & TaskTokenOwner> {
    return [...this.tokens].filter(([, e]) => e.open).map(([token, e]) => ({ token, ...e.owner }));
  }

  /** Answers the next `times` calls with `type` (e.g. ThrottlingException, 400; ServiceUnavailable, 503). */
  failNext(times: FaultLength, options: { type?: string; status?: number; operation?: StepFunctionsOperation } = {}): void {
    this.faults.add(times, { code: options.type ?? 'ThrottlingException', status: options.status ?? 400 }, { operation: options.operation });
  }

  private async handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const principal = principalOf(req, url.searchParams);
    const raw = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    let status = 200;
    let errorType: string | undefined;
    let payload: unknown = {};
    let resources = ['*'];
    try {
      if (req.method !== 'POST' || !OPERATIONS.includes(operation)) {
        throw new StepFunctionsError('UnknownOperationException', `LocalStepFunctions implements ${OPERATIONS.join(', ')}; got ${req.method} with X-Amz-Target '${target}'. Add the operation to test/support/local-stepfunctions.ts.`);
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new StepFunctionsError('SerializationException', 'The request body is not valid JSON.');
      }
      if (EXECUTION_OPERATIONS.has(operation)) {
        const answer = this.executionCall(operation, body);
        resources = answer.resources;
        payload = answer.payload;
        return;
      }
      const token = body.taskToken;
      if (typeof token !== 'string' || token.length < 1 || token.length > 2048) {
        throw new StepFunctionsError('ValidationException', "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 2048");
      }
      const entry = this.tokens.get(token);
      if (entry) resources = [entry.owner.stateMachineArn];
      const fault = this.faults.take(operation);
      if (fault) throw new StepFunctionsError(fault.code, fault.message ?? fault.code, fault.status);
      if (!entry) throw new StepFunctionsError('InvalidToken', 'Invalid Token');
      if (!entry.open) throw new StepFunctionsError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
      if (operation === 'SendTaskSuccess') {
        const output = body.output;
        if (typeof output !== 'string') throw new StepFunctionsError('ValidationException', "1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null");
        if (Buffer.byteLength(output, 'utf8') > MAX_TASK_OUTPUT_BYTES) throw new StepFunctionsError('InvalidOutput', `The output exceeds the maximum size of ${MAX_TASK_OUTPUT_BYTES} bytes.`);
        let parsed: unknown;
        try {
          parsed = JSON.parse(output);
        } catch {
          throw new StepFunctionsError('InvalidOutput', 'Invalid State Machine Execution Output: the output is not valid JSON.');
        }
        entry.open = false;
        entry.resolve({ kind: 'success', output: parsed });
      } else if (operation === 'SendTaskFailure') {
        const error = body.error === undefined ? undefined : String(body.error);
        const cause = body.cause === undefined ? undefined : String(body.cause);
        if ((error?.length ?? 0) > 256 || (cause?.length ?? 0) > 32_768) throw new StepFunctionsError('ValidationException', 'error must be at most 256 and cause at most 32768 characters long.');
        entry.open = false;
        entry.resolve({ kind: 'failure', error, cause });
      }
    } catch (err) {
      if (!(err instanceof StepFunctionsError)) throw err;
      status = err.status;
      errorType = err.type;
      payload = { __type: err.type, message: err.message };
    } finally {
      this.callLog.record({ requestId, service: 'states', operation: operation || 'Unknown', action: `states:${operation || 'Unknown'}`, resources, status, errorCode: errorType, principal });
      sendJson(res, { status, payload, requestId, contentType: 'application/x-amz-json-1.0', errorType: errorType });
    }
  }

  /**
   * DescribeExecution and StopExecution (API Reference): an ARN that is not an execution ARN is
   * InvalidArn; one of no execution, ExecutionDoesNotExist. Stopping an execution that already
   * ended changes nothing and answers its stop date.
   */
  private executionCall(operation: string, body: Record<string, unknown>): { resources: string[]; payload: unknown } {
    const arn = body.executionArn;
    if (typeof arn !== 'string' || arn.length < 1 || arn.length > 2048) {
      throw new StepFunctionsError('ValidationException', "1 validation error detected: Value at 'executionArn' failed to satisfy constraint: Member must have length between 1 and 2048");
    }
    if (!/^arn:[^:]+:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) throw new StepFunctionsError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
    const fault = this.faults.take(operation);
    if (fault) throw new StepFunctionsError(fault.code, fault.message ?? fault.code, fault.status);
    const seconds = (d: Date | undefined) => (d === undefined ? undefined : d.getTime() / 1000);
    const execution = this.executionControl?.describe(arn);
    if (!execution) throw new StepFunctionsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    if (operation === 'DescribeExecution') {
      return {
        resources: [arn],
        payload: { executionArn: execution.executionArn, stateMachineArn: execution.stateMachineArn, name: execution.name, status: execution.status, startDate: seconds(execution.startDate), stopDate: seconds(execution.stopDate) },
      };
    }
    const error = body.error === undefined ? undefined : String(body.error);
    const cause = body.cause === undefined ? undefined : String(body.cause);
    if ((error?.length ?? 0) > 256 || (cause?.length ?? 0) > 32_768) throw new StepFunctionsError('ValidationException', 'error must be at most 256 and cause at most 32768 characters long.');
    if (execution.status === 'RUNNING') this.executionControl!.stop(arn, error, cause);
    return { resources: [arn], payload: { stopDate: seconds(execution.stopDate ?? new Date()) } };
  }
}
