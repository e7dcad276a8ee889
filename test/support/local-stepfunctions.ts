/**
 * LocalStepFunctions: the task-token half of AWS Step Functions on 127.0.0.1, for the real
 * `@aws-sdk/client-sfn` (awsJson1_0, through stand-ins/aws-json.ts).
 *
 * The offline workflow runner issues a token when a `.waitForTaskToken` state starts
 * ({@link LocalStepFunctions.issueTaskToken}) and closes it when the state times out or the
 * execution ends; code under test resumes the state with SendTaskSuccess / SendTaskFailure,
 * or keeps it alive with SendTaskHeartbeat, as in AWS (API Reference):
 * - a token this service never issued: InvalidToken (400);
 * - a token whose task is closed (resumed already, timed out, its execution ended):
 *   TaskTimedOut (400), so a second resume never moves an execution twice;
 * - a task token of 0 or over 2048 characters: ValidationException (400);
 * - SendTaskSuccess output that is not JSON or is over 262,144 UTF-8 bytes: InvalidOutput
 *   (400; the API Reference documents the limit, not the error an oversized output gets);
 *   SendTaskFailure error over 256 or cause over 32,768 characters: ValidationException (400).
 * Every call goes to the {@link AwsCallLog} as `states:<Operation>` on the ARN of the token's
 * state machine (the resource Step Functions authorizes task responses on), `*` for an
 * unknown token.
 */
import { randomBytes } from 'node:crypto';
import { AwsCallLog } from './aws-call-log';
import { answerAwsJson, AwsJsonError } from './stand-ins/aws-json';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { RunningServer, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';

/** The operations LocalStepFunctions answers. */
export type StepFunctionsOperation = 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat' | 'DescribeExecution' | 'StopExecution';
const OPERATIONS: readonly StepFunctionsOperation[] = ['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat', 'DescribeExecution', 'StopExecution'];
const EXECUTION_OPERATIONS: ReadonlySet<StepFunctionsOperation> = new Set(['DescribeExecution', 'StopExecution']);

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

/** Step Functions' payload limit (SendTaskSuccess output), in UTF-8 bytes. */
export const MAX_TASK_OUTPUT_BYTES = 262_144;
/** Longest execution ARN DescribeExecution and StopExecution take (API Reference: executionArn, 1 to 256). */
export const MAX_EXECUTION_ARN_LENGTH = 256;
/** Longest task token the API takes (API Reference: taskToken, 1 to 2048). */
export const MAX_TASK_TOKEN_LENGTH = 2048;
/** Longest SendTaskFailure error and cause. */
export const MAX_TASK_ERROR_LENGTH = 256;
export const MAX_TASK_CAUSE_LENGTH = 32_768;

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

  private handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    return answerAwsJson(
      req,
      res,
      { standIn: 'LocalStepFunctions', sourceFile: 'test/support/local-stepfunctions.ts', targetPrefix: 'AWSStepFunctions', jsonVersion: '1.0', iamPrefix: 'states', operations: OPERATIONS, callLog: this.callLog },
      {
        resourcesOf: (operation, body) => {
          if (EXECUTION_OPERATIONS.has(operation)) {
            const arn = body.executionArn;
            // API Reference (DescribeExecution, StopExecution): executionArn is 1 to 256 characters.
            if (typeof arn !== 'string' || arn.length < 1 || arn.length > MAX_EXECUTION_ARN_LENGTH) {
              throw new AwsJsonError('ValidationException', `1 validation error detected: Value at 'executionArn' failed to satisfy constraint: Member must have length between 1 and ${MAX_EXECUTION_ARN_LENGTH}`);
            }
            if (!/^arn:[^:]+:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) throw new AwsJsonError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${arn}'`);
            return [arn];
          }
          const token = body.taskToken;
          if (typeof token !== 'string' || token.length < 1 || token.length > MAX_TASK_TOKEN_LENGTH) {
            throw new AwsJsonError('ValidationException', `1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and ${MAX_TASK_TOKEN_LENGTH}`);
          }
          // Authorized on the token's state machine; `*` for a token this service never issued.
          const entry = this.tokens.get(token);
          return entry ? [entry.owner.stateMachineArn] : ['*'];
        },
        faults: this.faults,
        answer: (operation, body) => this.answer(operation, body),
      },
    );
  }

  private answer(operation: StepFunctionsOperation, body: Record<string, unknown>): unknown {
    if (EXECUTION_OPERATIONS.has(operation)) return this.executionCall(operation, body);
    const entry = this.tokens.get(body.taskToken as string);
    if (!entry) throw new AwsJsonError('InvalidToken', 'Invalid Token');
    if (!entry.open) throw new AwsJsonError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    if (operation === 'SendTaskSuccess') {
      const output = body.output;
      if (typeof output !== 'string') throw new AwsJsonError('ValidationException', "1 validation error detected: Value null at 'output' failed to satisfy constraint: Member must not be null");
      if (Buffer.byteLength(output, 'utf8') > MAX_TASK_OUTPUT_BYTES) throw new AwsJsonError('InvalidOutput', `The output exceeds the maximum size of ${MAX_TASK_OUTPUT_BYTES} bytes (UTF-8).`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(output);
      } catch {
        throw new AwsJsonError('InvalidOutput', 'Invalid State Machine Execution Output: the output is not valid JSON.');
      }
      entry.open = false;
      entry.resolve({ kind: 'success', output: parsed });
    } else if (operation === 'SendTaskFailure') {
      const error = optionalString(body.error, 'error', MAX_TASK_ERROR_LENGTH);
      const cause = optionalString(body.cause, 'cause', MAX_TASK_CAUSE_LENGTH);
      entry.open = false;
      entry.resolve({ kind: 'failure', error, cause });
    }
    return {};
  }

  /**
   * DescribeExecution and StopExecution (API Reference): an ARN that is not an execution ARN is
   * InvalidArn; one of no execution, ExecutionDoesNotExist. Stopping an execution that already
   * ended changes nothing and answers its stop date.
   */
  private executionCall(operation: StepFunctionsOperation, body: Record<string, unknown>): unknown {
    const arn = body.executionArn as string;
    const seconds = (d: Date | undefined) => (d === undefined ? undefined : d.getTime() / 1000);
    const execution = this.executionControl?.describe(arn);
    if (!execution) throw new AwsJsonError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    if (operation === 'DescribeExecution') {
      return { executionArn: execution.executionArn, stateMachineArn: execution.stateMachineArn, name: execution.name, status: execution.status, startDate: seconds(execution.startDate), stopDate: seconds(execution.stopDate) };
    }
    const error = optionalString(body.error, 'error', MAX_TASK_ERROR_LENGTH);
    const cause = optionalString(body.cause, 'cause', MAX_TASK_CAUSE_LENGTH);
    if (execution.status === 'RUNNING') this.executionControl!.stop(arn, error, cause);
    return { stopDate: seconds(execution.stopDate ?? new Date()) };
  }
}

/** SendTaskFailure's optional error and cause: strings of at most `max` characters. */
function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AwsJsonError('SerializationException', `'${field}' must be a string.`);
  if (value.length > max) throw new AwsJsonError('ValidationException', `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
  return value;
}
