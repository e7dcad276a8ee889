/**
 * What each Task state of the definition does locally, in place of the AWS service it names,
 * behaving as the Step Functions integration does:
 * - Lambda (`arn:aws:states:::lambda:invoke`, or the function ARN for payloadResponseOnly):
 *   runs the function's real code; the result is `{ExecutedVersion, Payload, SdkHttpMetadata,
 *   SdkResponseMetadata, StatusCode}` or the bare payload; a function error fails the state
 *   with Error = errorType and Cause = the runtime's JSON report.
 * - SNS publish: records the message (topic, subject, attributes) for tests to read.
 * - EventBridge putEvents: hands the events to the runner's rule router.
 * - Lambda with a task token (`lambda:invoke.waitForTaskToken`): LocalStepFunctions issues a
 *   real token, which replaces `$$.Task.Token` in the parameters; the function is invoked as
 *   above (its failure fails the state; its result is ignored), then the state waits until the
 *   token is resumed with SendTaskSuccess (the output is the state's result) or
 *   SendTaskFailure (the state fails with its error and cause), or until its TimeoutSeconds
 *   (scaled by the runner) has passed since it started: States.Timeout. A resume that came
 *   while the function still ran counts. The token is closed when the state ends either way
 *   or the execution ends, after which SendTaskSuccess answers TaskTimedOut.
 * - Step Functions StartExecution, `.sync:2` (`states:startExecution.sync:2`): the runner starts
 *   the execution (its own history, status change events and rules) and the state waits for it
 *   to end; see LocalWorkflowRunner's startExecutionSync for what AWS documents and how it is
 *   followed.
 * Every call is written to the shared call log as the state machine role's authorisation,
 * so the IAM check covers the state machine role too. Payload and error length limits are
 * the runner's (service-limits.ts), for every Task state alike.
 */
import { randomUUID } from 'node:crypto';
import { AwsCallLog } from '../aws-call-log';
import { IssuedTaskToken } from '../local-stepfunctions';
import { AwsEvent } from './aws-events';
import { LambdaInvocation } from './lambda-function-pool';
import { LambdaTaskFailure, TaskServiceFailure } from './lambda-errors';
import { StateEntry, TaskIntegration, functionNameOf, taskIntegrationOf } from './state-machine-definition';
import { TemplateFunction } from './template-functions';

/** A message a Task state published to SNS. */
export interface PublishedNotification {
  readonly executionArn: string;
  readonly state: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageAttributes: Readonly<Record<string, unknown>>;
}

/** What the integrations need from the runner. */
export interface TaskIntegrationContext {
  readonly executionArn: string;
  readonly accountId: string;
  readonly region: string;
  readonly partition: string;
  /** Principal of the calls the state machine makes (its role ARN). */
  readonly principal: string;
  readonly callLog: AwsCallLog;
  readonly functions: readonly TemplateFunction[];
  invokeFunction(logicalId: string, event: unknown): Promise<LambdaInvocation>;
  /** Topic ARNs the template defines, with the customer managed key that encrypts each (if any). */
  readonly topics: ReadonlyMap<string, { readonly kmsKeyArn?: string }>;
  readonly notifications: PublishedNotification[];
  /** Routes events put on a bus to the template's rules. */
  putEvents(events: AwsEvent[], busName: string): Promise<void>;
  /** Issues the task token of a `.waitForTaskToken` state (LocalStepFunctions). */
  issueTaskToken(stateName: string): IssuedTaskToken;
  /** How long a `.waitForTaskToken` state may wait, in ms (its TimeoutSeconds, as the runner scales it). */
  tokenWaitTimeoutMs(stateName: string): number;
  /** Calls `listener` when the execution ends (at once when it has ended). */
  onExecutionEnd(listener: () => void): void;
  /** Runs a `states:startExecution.sync:2` Task state: starts the execution its parameters name and waits for its end. */
  startExecutionSync(stateName: string, parameters: Readonly<Record<string, unknown>>): Promise<unknown>;
}

/** What stands for `$$.Task.Token` in the definition the interpreter runs; replaced by a real token per attempt. */
export const TASK_TOKEN_PLACEHOLDER = '__LOCAL_RUNNER_TASK_TOKEN__';

type TaskHandler = (input: unknown) => Promise<unknown>;

/** Task states whose Resource has no local integration. */
export function unsupportedTaskStates(states: readonly StateEntry[]): Array<{ readonly state: string; readonly resource: string }> {
  return states
    .filter((s) => s.state.Type === 'Task')
    .map((s) => ({ name: s.name, integration: taskIntegrationOf(s.state) }))
    .filter((s): s is { name: string; integration: Extract<TaskIntegration, { kind: 'unsupported' }> } => s.integration.kind === 'unsupported')
    .map((s) => ({ state: s.name, resource: s.integration.resource }));
}

/** A local handler per Task state name, for the interpreter's taskResourceLocalHandlers. */
export function taskHandlersFor(states: readonly StateEntry[], context: TaskIntegrationContext): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = {};
  for (const entry of states) {
    if (entry.state.Type !== 'Task') continue;
    const integration = taskIntegrationOf(entry.state);
    switch (integration.kind) {
      case 'lambda':
        handlers[entry.name] = (input) => invokeLambda(entry.name, integration, input, context);
        break;
      case 'lambda-wait-for-token':
        handlers[entry.name] = (input) => invokeLambdaWithToken(entry.name, integration.functionName, input, context);
        break;
      case 'sns-publish':
        handlers[entry.name] = async (input) => publishToSns(entry.name, input, context);
        break;
      case 'events-put-events':
        handlers[entry.name] = (input) => putEvents(input, context);
        break;
      case 'states-start-execution-sync':
        handlers[entry.name] = (input) => context.startExecutionSync(entry.name, (input ?? {}) as Record<string, unknown>);
        break;
      case 'unsupported':
        break;
    }
  }
  return handlers;
}

function sdkMetadata(requestId: string, extraHeaders: Record<string, string> = {}): Record<string, unknown> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Date: new Date().toUTCString(), 'x-amzn-RequestId': requestId, ...extraHeaders };
  return {
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

async function invokeLambda(state: string, integration: Extract<TaskIntegration, { kind: 'lambda' }>, input: unknown, context: TaskIntegrationContext): Promise<unknown> {
  const parameters = (integration.payloadResponseOnly ? {} : input ?? {}) as Record<string, unknown>;
  const nameOrArn = integration.functionName ?? (typeof parameters.FunctionName === 'string' ? parameters.FunctionName : undefined);
  if (!nameOrArn) throw new TaskServiceFailure('States.Runtime', `Task state '${state}' names no FunctionName.`);
  const name = functionNameOf(nameOrArn);
  const fn = context.functions.find((f) => f.functionName === name);
  const requestId = randomUUID();
  context.callLog.record({
    requestId,
    service: 'lambda',
    operation: 'Invoke',
    action: 'lambda:InvokeFunction',
    resources: [fn && !nameOrArn.startsWith('arn:') ? fn.functionArn : nameOrArn],
    status: fn ? 200 : 404,
    errorCode: fn ? undefined : 'ResourceNotFoundException',
    principal: context.principal,
  });
  if (!fn) throw new TaskServiceFailure('Lambda.ResourceNotFoundException', `Function not found: ${nameOrArn} (Service: Lambda, Status Code: 404, Request ID: ${requestId})`);
  if (!fn.spec) {
    throw new TaskServiceFailure(
      'LocalRunner.NoHandlerCode',
      `Function ${fn.logicalId} has no 'llama-finetune:handler' metadata, so the local workflow runner cannot find its code. Create it with WorkflowFunction (which adds the metadata) or pass handlerEntries.`,
    );
  }
  const event = integration.payloadResponseOnly ? input : parameters.Payload === undefined ? {} : parameters.Payload;

  if (!integration.payloadResponseOnly && parameters.InvocationType === 'Event') {
    // Asynchronous invocation: Lambda accepts the event and the state goes on at once.
    void context.invokeFunction(fn.logicalId, event);
    return { Payload: '', StatusCode: 202, ...sdkMetadata(requestId) };
  }
  const invocation = await context.invokeFunction(fn.logicalId, event);
  if (invocation.error) throw new LambdaTaskFailure(invocation.error);
  // The runner checks every task result against the payload limit (service-limits.ts).
  if (integration.payloadResponseOnly) return invocation.payload;
  return { ExecutedVersion: '$LATEST', Payload: invocation.payload, ...sdkMetadata(invocation.requestId, { 'X-Amz-Executed-Version': '$LATEST' }), StatusCode: 200 };
}

async function invokeLambdaWithToken(state: string, functionName: string | undefined, input: unknown, context: TaskIntegrationContext): Promise<unknown> {
  const startedAt = Date.now();
  const issued = context.issueTaskToken(state);
  let resumed: { readonly outcome: Awaited<IssuedTaskToken['outcome']> } | undefined;
  void issued.outcome.then((outcome) => (resumed = { outcome }));
  let executionEnded!: () => void;
  const ended = new Promise<'ended'>((resolve) => (executionEnded = () => resolve('ended')));
  context.onExecutionEnd(() => {
    issued.close();
    executionEnded();
  });
  const parameters = withTaskToken(input, issued.token);
  try {
    await invokeLambda(state, { kind: 'lambda', functionName, payloadResponseOnly: false }, parameters, context);
  } catch (err) {
    issued.close();
    throw err;
  }
  // TaskSubmitted: from here on the state waits for its token.
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, context.tokenWaitTimeoutMs(state) - (Date.now() - startedAt)));
    timer.unref();
  });
  // A token resumed while the function ran wins over a timeout that passed meanwhile.
  await new Promise((resolve) => setImmediate(resolve));
  const first = resumed ? 'resumed' : await Promise.race([issued.outcome.then(() => 'resumed' as const), timedOut, ended]);
  clearTimeout(timer);
  issued.close();
  // The execution ended (aborted, timed out): settle, so the interpreter's timeout timer of this
  // task is cleared (a task left pending kept it, and with it the test process, alive); nothing records the outcome.
  if (first === 'ended') throw new TaskServiceFailure('LocalRunner.ExecutionEnded', `The execution ended while '${state}' waited for its task token.`);
  if (first === 'timeout') throw new TaskServiceFailure('States.Timeout', `Task '${state}' was not resumed within its TimeoutSeconds.`);
  const outcome = (await issued.outcome) as Awaited<IssuedTaskToken['outcome']>;
  if (outcome.kind === 'failure') throw new TaskServiceFailure(outcome.error ?? '', outcome.cause ?? '');
  return outcome.output;
}

/** `value` with every TASK_TOKEN_PLACEHOLDER string replaced by `token`. */
function withTaskToken(value: unknown, token: string): unknown {
  if (value === TASK_TOKEN_PLACEHOLDER) return token;
  if (Array.isArray(value)) return value.map((v) => withTaskToken(v, token));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withTaskToken(v, token)]));
  return value;
}

function publishToSns(state: string, input: unknown, context: TaskIntegrationContext): unknown {
  const parameters = (input ?? {}) as Record<string, unknown>;
  const topicArn = String(parameters.TopicArn ?? parameters.TargetArn ?? '');
  const topic = context.topics.get(topicArn);
  const requestId = randomUUID();
  const log = (action: string, resource: string, status: number, errorCode?: string) =>
    context.callLog.record({ requestId, service: action.split(':')[0], operation: action === 'sns:Publish' ? 'Publish' : action.split(':')[1], action, resources: [resource], status, errorCode, principal: context.principal });
  if (!topic) {
    log('sns:Publish', topicArn, 404, 'NotFound');
    throw new TaskServiceFailure('SNS.NotFoundException', `Topic does not exist: ${topicArn} (Service: Sns, Status Code: 404, Request ID: ${requestId})`);
  }
  // Publishing to a topic encrypted with a customer managed key needs that key too.
  if (topic.kmsKeyArn) {
    log('kms:GenerateDataKey', topic.kmsKeyArn, 200);
    log('kms:Decrypt', topic.kmsKeyArn, 200);
  }
  log('sns:Publish', topicArn, 200);
  const message = parameters.Message;
  if (message === undefined) throw new TaskServiceFailure('SNS.InvalidParameterException', `Task state '${state}': Message is required.`);
  context.notifications.push({
    executionArn: context.executionArn,
    state,
    topicArn,
    subject: parameters.Subject === undefined ? undefined : String(parameters.Subject),
    message: typeof message === 'string' ? message : JSON.stringify(message),
    messageAttributes: (parameters.MessageAttributes ?? {}) as Record<string, unknown>,
  });
  return { MessageId: randomUUID(), ...sdkMetadata(requestId) };
}

async function putEvents(input: unknown, context: TaskIntegrationContext): Promise<unknown> {
  const entries = ((input as { Entries?: unknown[] } | undefined)?.Entries ?? []) as Array<Record<string, unknown>>;
  const requestId = randomUUID();
  const byBus = new Map<string, AwsEvent[]>();
  const results: Array<{ EventId: string }> = [];
  for (const entry of entries) {
    const busName = String(entry.EventBusName ?? 'default').split('/').pop()!;
    const busArn = `arn:${context.partition}:events:${context.region}:${context.accountId}:event-bus/${busName}`;
    context.callLog.record({ requestId, service: 'events', operation: 'PutEvents', action: 'events:PutEvents', resources: [busArn], status: 200, principal: context.principal });
    const id = randomUUID();
    const detail = typeof entry.Detail === 'string' ? (JSON.parse(entry.Detail) as Record<string, unknown>) : ((entry.Detail ?? {}) as Record<string, unknown>);
    const event: AwsEvent = {
      version: '0',
      id,
      'detail-type': String(entry.DetailType ?? ''),
      source: String(entry.Source ?? ''),
      account: context.accountId,
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: context.region,
      resources: ((entry.Resources ?? []) as unknown[]).map(String),
      detail,
    };
    byBus.set(busName, [...(byBus.get(busName) ?? []), event]);
    results.push({ EventId: id });
  }
  for (const [busName, events] of byBus) await context.putEvents(events, busName);
  return { Entries: results, FailedEntryCount: 0, ...sdkMetadata(requestId) };
}
