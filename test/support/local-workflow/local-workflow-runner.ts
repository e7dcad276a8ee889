/**
 * Runs the synthesized Step Functions state machine offline: the definition from the
 * template (tokens resolved to the stand-ins' names) in aws-local-stepfunctions, every
 * Lambda task running the function's real bundled code in a worker thread against the
 * local AWS stand-ins, the template's EventBridge rules reacting to S3 uploads and to the
 * execution's status changes, and an IAM check of every call made. See index.ts for usage.
 */
import { randomUUID } from 'node:crypto';
import { StateMachine } from 'aws-local-stepfunctions';
import { validatedStateMachine } from './asl-validation';
import { LocalAws } from '../local-aws';
import { AwsEvent, ExecutionStatus, executionStatusChangeEvent, s3ObjectCreatedEvent } from './aws-events';
import { CfnTemplateJson, TemplateSource, resourcesOfType, templateJsonOf } from './cfn-template';
import { CfnResolver } from './cfn-resolver';
import { EventRule, RuleTarget, eventRulesOf } from './event-rules';
import { matchesEventPattern } from './eventbridge-pattern';
import { targetInputOf } from './eventbridge-target-input';
import { ChildExecution, ChildOutcome, mapRunArnOf, runDistributedMap } from './distributed-map';
import { InterpreterEvent, RunnerEnding, WorkflowEvent, transitionsOf, workflowEventOf } from './execution-events';
import { MAX_HISTORY_EVENTS, historyEventsOf, historyKindsOf, isDistributedMap } from './history-count';
import { TaskServiceFailure } from './lambda-errors';
import { DataLimitExceeded, MAX_PAYLOAD_BYTES, namesDataLimitExceeded, payloadBytes, recordedCause, recordedError } from './service-limits';
import { DeniedCall, EventDelivery, IamCheckResult, checkIam, isDeliveryPermitted, unpermittedDeliveries } from './iam-check';
import { FunctionLogLine, LambdaFunctionPool, LambdaInvocation } from './lambda-function-pool';
import { AwsScope, PhysicalResource, executionArnOf, isVersionedBucket, physicalResourcesOf } from './physical-resources';
import { installPromiseWithResolvers } from './promise-with-resolvers';
import { AslState, StateEntry, StateMachineSpec, StatesDefinition, loadStateMachine, walkStates } from './state-machine-definition';
import { PublishedNotification, TASK_TOKEN_PLACEHOLDER, TaskIntegrationContext, taskHandlersFor, unsupportedTaskStates } from './task-integrations';
import { isTokenWait } from '../../../lib/workflow/history-budget';
import { TemplateFunction, templateFunctionsOf } from './template-functions';

installPromiseWithResolvers();

/** Options of {@link LocalWorkflowRunner.create}. */
export interface LocalWorkflowRunnerOptions {
  /** The synthesized stack (`Template.fromStack(stack)` or the template JSON). */
  readonly template: TemplateSource;
  /** The running stand-ins (startLocalAws()); buckets of the template are created in its LocalS3. */
  readonly aws: LocalAws;
  /** Logical id (or its prefix) of the state machine, when the template has several. */
  readonly stateMachine?: string;
  /** How long every Wait state waits, in ms (the definition keeps its own Seconds); default 0. */
  readonly waitMs?: number;
  /** Wait time in ms per Wait state name, over `waitMs`. */
  readonly waitOverrides?: Readonly<Record<string, number>>;
  /**
   * How long every `.waitForTaskToken` state waits for its token before it fails with
   * States.Timeout, in ms (the definition keeps its TimeoutSeconds); default `waitMs`, so a
   * token wait used as a paced poll runs like a Wait state.
   */
  readonly tokenWaitMs?: number;
  /** Token wait timeout in ms per state name, over `tokenWaitMs`. */
  readonly tokenWaitOverrides?: Readonly<Record<string, number>>;
  /** Interval before every retry, in ms (the definition keeps its IntervalSeconds); default 0. */
  readonly retryMs?: number;
  /** Retry interval in ms (or one per retrier) per state name, over `retryMs`. */
  readonly retryOverrides?: Readonly<Record<string, number | number[]>>;
  /**
   * Execution timeout in ms, replacing the definition's TimeoutSeconds (which is enforced
   * when this is not given); the execution then ends TIMED_OUT.
   */
  readonly executionTimeoutMs?: number;
  /** Function timeout in ms per function logical id or handler name, replacing the template's Timeout. */
  readonly functionTimeoutMs?: Readonly<Record<string, number>>;
  /** Entry file per handler name (metadata), replacing lambda/<name>/index.ts; for test stacks. */
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /**
   * Variables added to every function's environment, as a deployment would set them (the
   * template's own variables win on a clash), e.g. the offline demo's REPORT_MADE_WITH_STAND_INS.
   */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Copy the functions' output to this process's stdout (it is always kept in `functionLogs()`). */
  readonly printLogs?: boolean;
  /**
   * How the functions draw the random part of their retry waits. The handlers and the SDK back
   * off with full jitter (a wait drawn between zero and a cap that doubles per attempt); `'zero'`
   * draws every one as zero, a value full jitter can draw, so a test of retries that outlast
   * their budget makes the same calls without seconds of real sleeping. It replaces `Math.random`
   * inside the functions: in the shipped bundles every other draw is a backoff's, but one the SDK
   * makes to space warnings about expiring static credentials. Steps that Step Functions retries
   * wait `retryMs` either way.
   * @default 'random'
   */
  readonly backoffJitter?: 'random' | 'zero';
}

/** Options of one execution. */
export interface StartExecutionOptions {
  /** Execution name; default a random UUID (as EventBridge starts them). */
  readonly executionName?: string;
  /** Execution timeout in ms for this execution. */
  readonly executionTimeoutMs?: number;
  /** Wait time in ms per Wait state name for this execution. */
  readonly waitOverrides?: Readonly<Record<string, number>>;
  /** Token wait timeout in ms per `.waitForTaskToken` state name for this execution. */
  readonly tokenWaitOverrides?: Readonly<Record<string, number>>;
}

/** How an execution ended. */
export type FinalExecutionStatus = Exclude<ExecutionStatus, 'RUNNING'>;

/** A rule target that received an event. */
export interface RuleDelivery {
  /** Logical id of the rule. */
  readonly rule: string;
  readonly targetId: string;
  readonly target: RuleTarget['destination'];
  readonly event: AwsEvent;
  /** What the target received (after InputPath / InputTransformer). */
  readonly input: unknown;
  /** For function targets: how the invocation ended. */
  readonly invocation?: LambdaInvocation;
  /** Why EventBridge could not deliver (e.g. the function's resource policy does not allow it). */
  readonly refused?: string;
  /** For state machine targets: the execution it started. */
  readonly execution?: WorkflowExecution;
}

/** The outcome of an execution. */
export interface ExecutionOutcome {
  readonly status: FinalExecutionStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** States entered, in order (nested states included). */
  readonly transitions: string[];
  readonly events: WorkflowEvent[];
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  readonly startDate: Date;
  readonly stopDate: Date;
  /** What the template's rules did with this execution's status change events. */
  readonly ruleDeliveries: RuleDelivery[];
  /**
   * Events this execution's history holds, counted as Step Functions records them
   * (history-count.ts); at most 25,000, beyond which the execution fails. Child executions
   * of Distributed Maps have their own (`childExecutions`).
   */
  readonly historyEventCount: number;
  /** The child executions Distributed Map states started, in the order they ended. */
  readonly childExecutions: ChildOutcome[];
}

/** A started execution. */
export interface WorkflowExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  /** The history so far (grows while the execution runs). */
  readonly events: WorkflowEvent[];
  /** Settles when the execution has ended and the rules have handled its final status change. */
  readonly result: Promise<ExecutionOutcome>;
  /** Stops the execution (StopExecution): it ends ABORTED. */
  abort(details?: { readonly error?: string; readonly cause?: string }): void;
  /**
   * Ends the execution now as its timeout would (TIMED_OUT with States.Timeout), for tests that
   * decide when the time is up by a condition rather than by the wall clock.
   */
  timeOut(): void;
}

/** What an event put on a bus led to. */
export interface EventDispatch {
  readonly event: AwsEvent;
  /** False when the bucket does not send events to EventBridge (S3 events only). */
  readonly sent: boolean;
  readonly deliveries: RuleDelivery[];
  /** Executions the event started. */
  readonly executions: WorkflowExecution[];
}

/** Longest delay setTimeout supports (~24.8 days); longer timeouts are capped to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Step Functions' default Task timeout is practically unlimited; the interpreter's is 60 s. */
const UNLIMITED_TASK_TIMEOUT_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

/** The offline workflow runner; see the module comment and index.ts. */
export class LocalWorkflowRunner {
  /** Builds the runner: resolves the template, creates its buckets, bundles its functions. */
  static async create(options: LocalWorkflowRunnerOptions): Promise<LocalWorkflowRunner> {
    const runner = new LocalWorkflowRunner(options);
    try {
      await runner.pool.prepare();
    } catch (err) {
      await runner.stop();
      throw err;
    }
    return runner;
  }

  /** The state machine's definition as synthesized, tokens resolved (Wait Seconds etc. unchanged). */
  readonly definition: StatesDefinition;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  /** Messages Task states published to SNS, oldest first (functions' messages are in `aws.sns.messages()`). */
  readonly notifications: PublishedNotification[] = [];
  /** Events Task states put on EventBridge buses (functions' events are in `aws.events.events()`). */
  readonly putEvents: AwsEvent[] = [];

  private readonly aws: LocalAws;
  private readonly json: CfnTemplateJson;
  private readonly scope: AwsScope;
  private readonly physical: Record<string, PhysicalResource>;
  private readonly resolver: CfnResolver;
  private readonly machine: StateMachineSpec;
  private readonly states: StateEntry[];
  private readonly interpreter: StateMachine;
  private readonly functions: TemplateFunction[];
  private readonly pool: LambdaFunctionPool;
  private readonly rules: EventRule[];
  private readonly logs: FunctionLogLine[] = [];
  private readonly executions = new Map<string, { execution: WorkflowExecution; settled: boolean; startDate: Date; ended?: { status: ExecutionOutcome['status']; stopDate: Date } }>();
  /** Detaches DescribeExecution/StopExecution of LocalStepFunctions from these executions. */
  private readonly detachExecutions: () => void;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly eventDeliveries: EventDelivery[] = [];
  private readonly unsubscribe: () => void;
  private stopped = false;
  /** Interpreters of the Distributed Maps' item processors, by state name. */
  private readonly childInterpreters = new Map<string, StateMachine>();
  /** Errors routing events from LocalEventBridge to the rules (they surface in idle()). */
  private readonly routingErrors: Error[] = [];

  private constructor(private readonly options: LocalWorkflowRunnerOptions) {
    this.aws = options.aws;
    this.json = templateJsonOf(options.template);
    this.scope = { accountId: options.aws.accountId, region: options.aws.region, partition: 'aws' };
    this.physical = physicalResourcesOf(this.json, this.scope);
    this.resolver = new CfnResolver(this.json, this.physical, this.scope);

    // The template's buckets, topics and buses exist in the stand-ins, as after a deployment.
    for (const [logicalId, bucket] of resourcesOfType(this.json, 'AWS::S3::Bucket')) {
      this.aws.s3.createBucket(this.physical[logicalId].ref, { versioned: isVersionedBucket(bucket) });
    }
    for (const [logicalId] of resourcesOfType(this.json, 'AWS::SNS::Topic')) this.aws.sns.createTopic(this.physical[logicalId].ref);
    for (const [logicalId] of resourcesOfType(this.json, 'AWS::Events::EventBus')) this.aws.events.createEventBus(this.physical[logicalId].ref);

    this.machine = loadStateMachine(this.json, this.resolver, this.physical, options.stateMachine);
    this.definition = this.machine.definition;
    this.stateMachineArn = this.machine.arn;
    this.stateMachineName = this.machine.name;
    this.states = walkStates(this.definition);
    const unsupported = unsupportedTaskStates(this.states);
    if (unsupported.length > 0) {
      throw new Error(
        `The local workflow runner has no integration for ${unsupported.map((u) => `Task state '${u.state}' (Resource ${u.resource})`).join(', ')}. ` +
          'Supported: Lambda invoke (also .waitForTaskToken), SNS publish, EventBridge putEvents, Step Functions startExecution.sync:2 (of this state machine); add the integration in test/support/local-workflow/task-integrations.ts.',
      );
    }
    this.interpreter = validatedStateMachine(interpreterDefinitionOf(this.definition));

    this.functions = templateFunctionsOf(this.json, this.resolver, this.physical, {
      handlerEntries: options.handlerEntries,
      timeoutMs: options.functionTimeoutMs,
      baseEnvironment: { ...options.aws.env, ...options.functionEnvironment },
      region: options.aws.region,
    });
    this.pool = new LambdaFunctionPool(
      this.functions.flatMap((f) => (f.spec ? [f.spec] : [])),
      (line) => {
        this.logs.push(line);
        if (options.printLogs) process.stdout.write(`[${line.functionLogicalId}] ${line.line}\n`);
      },
      { zeroJitter: options.backoffJitter === 'zero' },
    );
    this.rules = eventRulesOf(this.json, this.resolver, this.physical);
    // The functions' DescribeExecution and StopExecution calls (e.g. the cleanup of an aborted experiment) reach these executions.
    this.detachExecutions = this.aws.stepFunctions.attachExecutions({
      describe: (executionArn) => {
        const entry = [...this.executions.values()].find((e) => e.execution.executionArn === executionArn);
        if (!entry) return undefined;
        return { executionArn, stateMachineArn: this.stateMachineArn, name: entry.execution.name, status: entry.ended?.status ?? 'RUNNING', startDate: entry.startDate, stopDate: entry.ended?.stopDate };
      },
      stop: (executionArn, error, cause) => {
        const entry = [...this.executions.values()].find((e) => e.execution.executionArn === executionArn);
        if (entry && !entry.settled) entry.execution.abort({ ...(error !== undefined ? { error } : {}), ...(cause !== undefined ? { cause } : {}) });
      },
    });
    // Events the functions put on LocalEventBridge reach the template's rules, as in AWS.
    this.unsubscribe = this.aws.events.onEvent((recorded) => {
      const event: AwsEvent = {
        version: '0',
        id: recorded.eventId,
        'detail-type': recorded.detailType,
        source: recorded.source,
        account: this.scope.accountId,
        time: recorded.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.scope.region,
        resources: [...recorded.resources],
        detail: recorded.detail,
      };
      if (this.stopped) return;
      this.track(this.sendEvent(event, recorded.eventBusName)).catch((err: unknown) => this.routingErrors.push(err as Error));
    });
  }

  // ---- executions ---------------------------------------------------------------------------

  /** Starts an execution with `input` (StartExecution). */
  start(input: unknown, options: StartExecutionOptions = {}): WorkflowExecution {
    if (this.stopped) throw new Error('The local workflow runner was stopped; create a new one.');
    const name = options.executionName ?? randomUUID();
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(name)) throw new Error(`Execution name '${name}' is invalid: 1-80 letters, digits, '-' or '_'.`);
    if (this.executions.has(name)) {
      const error = new Error(`Execution Already Exists: '${executionArnOf(this.scope, this.stateMachineName, name)}'`);
      error.name = 'ExecutionAlreadyExists';
      throw error;
    }
    const executionArn = executionArnOf(this.scope, this.stateMachineName, name);
    const startDate = new Date();
    const childExecutions: ChildOutcome[] = [];
    const interpreterRun = this.runInterpreter(this.interpreter, this.definition, input, {
      executionArn,
      name,
      waitOverrides: options.waitOverrides,
      tokenWaitOverrides: options.tokenWaitOverrides,
      childExecutions,
    });
    const events = interpreterRun.events;

    const timeoutMs = options.executionTimeoutMs ?? this.options.executionTimeoutMs ?? (this.definition.TimeoutSeconds === undefined ? undefined : this.definition.TimeoutSeconds * 1000);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => interpreterRun.end({ reason: 'timeout' }), Math.min(timeoutMs, MAX_TIMER_MS));
    timer?.unref();

    const statusEvent = (status: ExecutionStatus, end?: { stopDate: Date; output?: unknown; error?: string; cause?: string }) =>
      executionStatusChangeEvent(
        { executionArn, stateMachineArn: this.stateMachineArn, name, status, startDate, input, stopDate: end?.stopDate, output: end?.output, error: end?.error, cause: end?.cause },
        { accountId: this.scope.accountId, region: this.scope.region },
      );
    const runningDeliveries = this.track(this.sendEvent(statusEvent('RUNNING')));

    const result = (async (): Promise<ExecutionOutcome> => {
      let end: InterpreterOutcome;
      try {
        end = await interpreterRun.result;
      } finally {
        if (timer) clearTimeout(timer);
      }
      if (end.status === 'TIMED_OUT') end = { ...end, error: 'States.Timeout', cause: `The execution ran longer than its timeout (${timeoutMs} ms).` };
      const { historyEventCount, ...ending } = end;
      const stopDate = new Date();
      const final = await this.sendEvent(statusEvent(ending.status, { stopDate, ...ending }));
      const running = await runningDeliveries;
      return {
        ...ending,
        transitions: transitionsOf(events),
        events,
        executionArn,
        name,
        input,
        startDate,
        stopDate,
        ruleDeliveries: [...running.deliveries, ...final.deliveries],
        historyEventCount,
        childExecutions,
      };
    })();
    const execution: WorkflowExecution = {
      executionArn,
      name,
      input,
      events,
      result,
      abort: (details = {}) => interpreterRun.end({ reason: 'abort', ...details }),
      timeOut: () => interpreterRun.end({ reason: 'timeout' }),
    };
    const entry: { execution: WorkflowExecution; settled: boolean; startDate: Date; ended?: { status: ExecutionOutcome['status']; stopDate: Date } } = { execution, settled: false, startDate };
    this.executions.set(name, entry);
    void this.track(result)
      .then((outcome) => (entry.ended = { status: outcome.status, stopDate: outcome.stopDate }))
      .finally(() => (entry.settled = true));
    return execution;
  }

  /**
   * Runs one execution (or a Distributed Map's child execution) in the interpreter, enforcing
   * what Step Functions enforces and the interpreter does not: the 256 KiB payload limit on
   * state inputs, task results and state outputs (States.DataLimitExceeded, which States.ALL
   * does not catch), the 25,000-event history (the execution fails with States.Runtime), and
   * the length of error names and causes.
   */
  private runInterpreter(
    interpreter: StateMachine,
    definition: StatesDefinition,
    input: unknown,
    execution: {
      readonly executionArn: string;
      readonly name: string;
      readonly waitOverrides?: Readonly<Record<string, number>>;
      readonly tokenWaitOverrides?: Readonly<Record<string, number>>;
      readonly childExecutions: ChildOutcome[];
      readonly mirrorTo?: WorkflowEvent[];
    },
  ): InterpreterRun {
    const events: WorkflowEvent[] = [];
    const kinds = historyKindsOf(definition);
    const states = walkStates(definition);
    let ending: (RunnerEnding & { error?: string; cause?: string }) | undefined;
    let historyEventCount = 0;
    const parentEndListeners: Array<() => void> = [];
    // Set from here on: the execution is over, whatever the interpreter still reports.
    const end = (how: RunnerEnding & { error?: string; cause?: string }) => {
      if (ending) return;
      ending = how;
      run.abort();
      for (const listener of parentEndListeners.splice(0)) listener();
    };
    const failExecution = (error: string, cause: string) => end({ reason: 'failure', error, cause });

    const integration: TaskIntegrationContext = {
      executionArn: execution.executionArn,
      accountId: this.scope.accountId,
      region: this.scope.region,
      partition: this.scope.partition,
      principal: this.machine.roleArn ?? 'states.amazonaws.com',
      callLog: this.aws.callLog,
      functions: this.functions,
      invokeFunction: (logicalId, event) => this.track(this.pool.invoke(logicalId, event)),
      topics: this.topics(),
      notifications: this.notifications,
      putEvents: async (putEvents, busName) => {
        this.putEvents.push(...putEvents);
        await Promise.all(putEvents.map((event) => this.sendEvent(event, busName)));
      },
      issueTaskToken: (stateName) => this.aws.stepFunctions.issueTaskToken({ stateMachineArn: this.stateMachineArn, executionArn: execution.executionArn, stateName }),
      tokenWaitTimeoutMs: (stateName) => execution.tokenWaitOverrides?.[stateName] ?? this.options.tokenWaitOverrides?.[stateName] ?? this.options.tokenWaitMs ?? this.options.waitMs ?? 0,
      onExecutionEnd: (listener) => (ending ? listener() : parentEndListeners.push(listener)),
      startExecutionSync: (stateName, parameters) => this.startExecutionSync(stateName, parameters),
    };
    const handlers: Record<string, (taskInput: unknown) => Promise<unknown>> = taskHandlersFor(states, integration);
    for (const { name, state } of states) {
      if (isDistributedMap(state)) handlers[name] = (taskInput) => this.runMapRun(name, state, taskInput, execution, parentEndListeners);
    }
    const enforcedHandlers: Record<string, (taskInput: unknown) => Promise<unknown>> = {};
    // A task of an execution that has ended settles at once, with an error nothing records (the
    // interpreter was aborted and its events after the end are dropped): a task left pending kept
    // the interpreter's timer for the state's TimeoutSeconds alive, and with it the test process.
    const ended = (stateName: string) => {
      const error = new Error(`The execution ended while its state '${stateName}' ran; the task's outcome is not recorded.`);
      error.name = 'LocalRunner.ExecutionEnded';
      return error;
    };
    for (const [stateName, handler] of Object.entries(handlers)) {
      const state = states.find((s) => s.name === stateName)!.state;
      const handling = { explicitRetry: namesDataLimitExceeded(state.Retry), explicitCatch: namesDataLimitExceeded(state.Catch) };
      enforcedHandlers[stateName] = async (taskInput) => {
        // Let the event consumer see what came before (a state output over the limit ends the execution first).
        await new Promise((resolve) => setImmediate(resolve));
        if (ending) throw ended(stateName);
        const inputBytes = payloadBytes(taskInput);
        if (inputBytes > MAX_PAYLOAD_BYTES) throw new DataLimitExceeded(stateName, 'input', inputBytes, handling);
        let taskResult: unknown;
        try {
          taskResult = await handler(taskInput);
        } catch (err) {
          if (ending) throw ended(stateName);
          throw withRecordedLengths(err as Error);
        }
        if (ending) throw ended(stateName);
        const resultBytes = payloadBytes(taskResult);
        if (resultBytes > MAX_PAYLOAD_BYTES) throw new DataLimitExceeded(stateName, 'result', resultBytes, handling);
        return taskResult;
      };
    }

    const run = interpreter.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: enforcedHandlers as never,
        waitTimeOverrides: this.waitOverridesFor(states, execution.waitOverrides),
        retryIntervalOverrides: this.retryOverrides(states),
      },
      context: {
        Execution: { Id: execution.executionArn, Name: execution.name, RoleArn: this.machine.roleArn, RedriveCount: 0 },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
      },
    });

    const collecting = (async () => {
      let ended = false;
      for await (const raw of run.eventLogs) {
        if (ended) continue;
        let event = workflowEventOf(raw as unknown as InterpreterEvent, ending);
        const isEnd = /^Execution(Succeeded|Failed|Aborted|TimedOut)$/.test(event.type);
        if (ending?.reason === 'failure') {
          // A limit failed the execution: what the interpreter did after it is not history.
          if (!isEnd) continue;
          event = { type: 'ExecutionFailed', timestamp: event.timestamp, error: ending.error, cause: ending.cause };
        }
        ended = isEnd;
        const cost = historyEventsOf(event, kinds);
        if (!isEnd && historyEventCount + cost > MAX_HISTORY_EVENTS - 1) {
          // Event 25,000 can only be ExecutionSucceeded; anything else fails the execution.
          historyEventCount = MAX_HISTORY_EVENTS - 1;
          failExecution('States.Runtime', `The execution reached the maximum number of history events (${MAX_HISTORY_EVENTS}).`);
          continue;
        }
        events.push(event);
        if (execution.mirrorTo) execution.mirrorTo.push({ ...event, childExecution: execution.executionArn });
        historyEventCount += cost;
        if (ending) continue;
        const payload = event.type === 'StateExited' ? { kind: 'output' as const, value: event.output } : event.type === 'MapIterationStarted' ? { kind: 'item' as const, value: event.input } : undefined;
        if (payload && event.state) {
          const bytes = payloadBytes(payload.value);
          if (bytes > MAX_PAYLOAD_BYTES) failExecution('States.DataLimitExceeded', new DataLimitExceeded(event.state, payload.kind, bytes).message);
        }
      }
    })();

    const result = (async (): Promise<InterpreterOutcome> => {
      let outcome: Omit<InterpreterOutcome, 'historyEventCount'>;
      try {
        outcome = { status: 'SUCCEEDED', output: await run.result };
      } catch (err) {
        const failure = err as Error & { cause?: Error };
        if (failure.name === 'ExecutionAbortedError' && ending) {
          outcome = { status: ending.reason === 'timeout' ? 'TIMED_OUT' : 'ABORTED', error: ending.error, cause: ending.cause };
        } else if (failure.name === 'ExecutionError' && failure.cause) {
          outcome = { status: 'FAILED', error: failure.cause.name, cause: failure.cause.message };
        } else {
          outcome = { status: 'FAILED', error: 'States.Runtime', cause: failure.message };
        }
      }
      await collecting;
      // A limit reached on the way fails the execution, even when the interpreter went on to the end.
      if (ending?.reason === 'failure') outcome = { status: 'FAILED', error: ending.error, cause: ending.cause };
      ending ??= { reason: 'abort' };
      for (const listener of parentEndListeners.splice(0)) listener();
      return {
        ...outcome,
        ...(outcome.error === undefined ? {} : { error: recordedError(outcome.error) }),
        ...(outcome.cause === undefined ? {} : { cause: recordedCause(outcome.cause) }),
        historyEventCount,
      };
    })();
    return { events, result, end };
  }

  /** A Distributed Map state's Map Run (distributed-map.ts), its children run by this runner. */
  private runMapRun(
    stateName: string,
    state: AslState,
    taskInput: unknown,
    parent: { readonly executionArn: string; readonly name: string; readonly childExecutions: ChildOutcome[]; readonly mirrorTo?: WorkflowEvent[] },
    parentEndListeners: Array<() => void>,
  ): Promise<unknown> {
    const processor = state.ItemProcessor as StatesDefinition;
    const childDefinition: StatesDefinition = { StartAt: processor.StartAt, States: processor.States };
    let childInterpreter = this.childInterpreters.get(stateName);
    if (!childInterpreter) {
      childInterpreter = validatedStateMachine(interpreterDefinitionOf(childDefinition));
      this.childInterpreters.set(stateName, childInterpreter);
    }
    const interpreter = childInterpreter;
    const label = String(state.Label ?? stateName.replace(/[^A-Za-z0-9_-]/g, '-')).slice(0, 40);
    const mapRunArn = mapRunArnOf(this.stateMachineArn, label);
    const principal = this.machine.roleArn ?? 'states.amazonaws.com';
    const logCall = (operation: string, action: string, resources: string[]) =>
      this.aws.callLog.record({ requestId: randomUUID(), service: action.split(':')[0], operation, action, resources, status: 200, principal });
    const parentEvents = parent.mirrorTo ?? this.executions.get(parent.name)?.execution.events;
    return runDistributedMap(taskInput, {
      stateName,
      state,
      mapRunArn,
      context: { Execution: { Id: parent.executionArn, Name: parent.name, RoleArn: this.machine.roleArn }, StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName } },
      startChild: (childInput): ChildExecution => {
        const childName = randomUUID();
        const childArn = `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}/${label}:${childName}`;
        logCall('StartExecution', 'states:StartExecution', [this.stateMachineArn]);
        const child = this.runInterpreter(interpreter, childDefinition, childInput, { executionArn: childArn, name: childName, childExecutions: parent.childExecutions, mirrorTo: parentEvents });
        const result = child.result.then((outcome): ChildOutcome => {
          const done: ChildOutcome = { executionArn: childArn, ...outcome };
          parent.childExecutions.push(done);
          return done;
        });
        return { result, abort: () => child.end({ reason: 'abort' }) };
      },
      // How the Map Run watches and stops its children inside the service is not documented as
      // calls of the role, so only StartExecution (documented as needed) is logged.
      stopChild: (child) => child.abort(),
      readObject: (bucket, key) => {
        const read = this.aws.s3.readAsPrincipal(principal, bucket, key);
        if (read.outcome === 'ok') return read.value;
        const error = read.outcome === 'denied' ? 'S3.AccessDeniedException' : 'S3.NoSuchKeyException';
        throw new TaskServiceFailure('States.ItemReaderFailed', `Reading items from s3://${bucket}/${key} failed: ${error}.`);
      },
      writeObject: (bucket, key, body) => {
        const written = this.aws.s3.writeAsPrincipal(principal, bucket, key, body, 'application/json');
        if (written.outcome !== 'ok') throw new TaskServiceFailure('States.ResultWriterFailed', `Writing results to s3://${bucket}/${key} failed: ${written.outcome}.`);
      },
      onParentEnd: (listener) => parentEndListeners.push(listener),
    });
  }

  /**
   * A `states:startExecution.sync:2` Task state, as AWS documents it ("Start a new AWS Step
   * Functions state machine from a running execution", "IAM policies for ... Step Functions"):
   * - StartExecution of the state machine named by StateMachineArn with Input (an object, or a
   *   JSON text) and Name (default: a UUID); the child is an execution of its own (own history,
   *   own 25,000-event and payload limits, own status change events reaching the rules). A name
   *   already used fails the state with StepFunctions.ExecutionAlreadyExistsException.
   * - The role needs states:StartExecution on the state machine, states:DescribeExecution and
   *   states:StopExecution on its executions, and events:PutTargets/PutRule/DescribeRule on the
   *   managed rule StepFunctionsGetEventsForStepFunctionsExecutionRule (through which the
   *   service learns the child ended); the calls are logged as the role's, for the IAM check.
   * - The result is DescribeExecution's answer with Input and Output as JSON (`:2`); its size is
   *   held to 256 KiB like every task result. A child that ends FAILED, ABORTED or TIMED_OUT
   *   fails the state with States.TaskFailed, the cause being that answer (with Error and Cause)
   *   as JSON.
   * - Ending the parent (StopExecution, timeout, failure) does NOT stop the child here: the
   *   documentation found says nothing of the parent's end reaching the child, so the runner
   *   takes the reading a design must survive; a workflow stops its children itself.
   * Only executions of this runner's own state machine can be started (a state machine that
   * starts itself); another state machine fails the state with a message saying so.
   */
  private async startExecutionSync(stateName: string, parameters: Readonly<Record<string, unknown>>): Promise<unknown> {
    const principal = this.machine.roleArn ?? 'states.amazonaws.com';
    const { accountId, region, partition } = this.scope;
    const log = (operation: string, action: string, resources: string[], failure?: { status: number; errorCode: string }) =>
      this.aws.callLog.record({ requestId: randomUUID(), service: action.split(':')[0], operation, action, resources, status: failure?.status ?? 200, errorCode: failure?.errorCode, principal });
    const stateMachineArn = typeof parameters.StateMachineArn === 'string' ? parameters.StateMachineArn : '';
    if (stateMachineArn !== this.stateMachineArn) {
      const inTemplate = resourcesOfType(this.json, 'AWS::StepFunctions::StateMachine').some(([id]) => this.physical[id].arn === stateMachineArn || this.physical[id].ref === stateMachineArn);
      if (inTemplate) {
        throw new TaskServiceFailure('LocalRunner.Unsupported', `Task state '${stateName}' starts ${stateMachineArn}; the local runner runs only its own state machine (${this.stateMachineArn}), so it can start executions of that one alone.`);
      }
      log('StartExecution', 'states:StartExecution', [stateMachineArn], { status: 400, errorCode: 'StateMachineDoesNotExist' });
      throw new TaskServiceFailure('StepFunctions.StateMachineDoesNotExistException', `State Machine Does Not Exist: '${stateMachineArn}' (Service: Sfn, Status Code: 400)`);
    }
    let input: unknown = parameters.Input ?? {};
    if (typeof input === 'string') {
      try {
        input = JSON.parse(input);
      } catch {
        log('StartExecution', 'states:StartExecution', [stateMachineArn], { status: 400, errorCode: 'InvalidExecutionInput' });
        throw new TaskServiceFailure('StepFunctions.InvalidExecutionInputException', `Task state '${stateName}': Input is not valid JSON.`);
      }
    }
    const name = parameters.Name === undefined ? randomUUID() : String(parameters.Name);
    let child: WorkflowExecution;
    try {
      child = this.start(input, { executionName: name });
    } catch (err) {
      const error = err as Error;
      const code = error.name === 'ExecutionAlreadyExists' ? 'ExecutionAlreadyExists' : 'InvalidName';
      log('StartExecution', 'states:StartExecution', [stateMachineArn], { status: 400, errorCode: code });
      throw new TaskServiceFailure(`StepFunctions.${code}Exception`, `${error.message} (Service: Sfn, Status Code: 400)`);
    }
    log('StartExecution', 'states:StartExecution', [stateMachineArn]);
    const managedRule = `arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
    for (const operation of ['PutTargets', 'PutRule', 'DescribeRule']) log(operation, `events:${operation}`, [managedRule]);
    const outcome = await child.result;
    log('DescribeExecution', 'states:DescribeExecution', [outcome.executionArn]);
    const description: Record<string, unknown> = {
      ExecutionArn: outcome.executionArn,
      Input: outcome.input,
      InputDetails: { Included: true },
      Name: outcome.name,
      ...(outcome.status === 'SUCCEEDED' ? { Output: outcome.output, OutputDetails: { Included: true } } : {}),
      RedriveCount: 0,
      RedriveStatus: 'NOT_REDRIVABLE',
      StartDate: outcome.startDate.getTime(),
      StateMachineArn: stateMachineArn,
      Status: outcome.status,
      StopDate: outcome.stopDate.getTime(),
      ...(outcome.error === undefined ? {} : { Error: outcome.error }),
      ...(outcome.cause === undefined ? {} : { Cause: outcome.cause }),
    };
    if (outcome.status !== 'SUCCEEDED') throw new TaskServiceFailure('States.TaskFailed', JSON.stringify(description));
    return description;
  }

  /** The execution of this state machine with this name (started by a test, a rule or a Task state), if any. */
  executionNamed(name: string): WorkflowExecution | undefined {
    return this.executions.get(name)?.execution;
  }

  /** Starts an execution and waits for its outcome. */
  run(input: unknown, options: StartExecutionOptions = {}): Promise<ExecutionOutcome> {
    return this.start(input, options).result;
  }

  // ---- events -------------------------------------------------------------------------------

  /**
   * Delivers the S3 "Object Created" event for an object already in LocalS3 (put it first
   * with `aws.s3.putObject`) to the template's rules: matching rules start executions and
   * invoke functions. Calling it twice delivers the event twice, as EventBridge may.
   */
  async putS3ObjectCreated(bucket: string, key: string, options: { readonly reason?: 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload' } = {}): Promise<EventDispatch> {
    const head = this.aws.s3.headObject(bucket, key);
    if (!head) throw new Error(`s3://${bucket}/${key} is not in LocalS3; store it first (aws.s3.putObject('${bucket}', '${key}', body)), then deliver its event.`);
    const event = s3ObjectCreatedEvent(
      { bucket, key, size: head.size, etag: head.etag, versionId: head.versionId, sequencer: head.sequencer, reason: options.reason },
      { accountId: this.scope.accountId, region: this.scope.region },
    );
    // Only buckets with EventBridge notifications on send events; buckets outside the template are assumed to.
    const bucketResource = resourcesOfType(this.json, 'AWS::S3::Bucket').find(([id]) => this.physical[id].ref === bucket)?.[1];
    const notifications = bucketResource?.Properties?.NotificationConfiguration as { EventBridgeConfiguration?: { EventBridgeEnabled?: unknown } } | undefined;
    if (bucketResource && notifications?.EventBridgeConfiguration?.EventBridgeEnabled !== true) return { event, sent: false, deliveries: [], executions: [] };
    return this.sendEvent(event);
  }

  /** Puts an event on a bus (default: the default bus) and delivers it to every matching rule's targets. */
  async sendEvent(event: AwsEvent, busName = 'default'): Promise<EventDispatch> {
    const matching = this.rules.filter((rule) => rule.enabled && rule.busName === busName && matchesEventPattern(rule.pattern, event));
    const deliveries = await Promise.all(matching.flatMap((rule) => rule.targets.map((target) => this.deliver(rule, target, event))));
    return { event, sent: true, deliveries, executions: deliveries.flatMap((d) => (d.execution ? [d.execution] : [])) };
  }

  private async deliver(rule: EventRule, target: RuleTarget, event: AwsEvent): Promise<RuleDelivery> {
    const input = targetInputOf(target, event, rule);
    const base = { rule: rule.logicalId, targetId: target.id, target: target.destination, event, input };
    const destination = target.destination;
    if (destination.kind === 'function') {
      const fn = this.functions.find((f) => f.logicalId === destination.logicalId)!;
      const delivery: EventDelivery = { ruleArn: rule.arn, functionLogicalId: fn.logicalId, functionName: fn.functionName, functionArn: fn.functionArn };
      this.eventDeliveries.push(delivery);
      // As in AWS, EventBridge invokes a function only when its resource policy allows it (checkIam reports it).
      if (!isDeliveryPermitted(this.json, this.resolver, delivery)) {
        return { ...base, refused: `No AWS::Lambda::Permission lets events.amazonaws.com invoke ${fn.logicalId} from rule ${rule.logicalId}.` };
      }
      if (!fn.spec) return { ...base, refused: `Function ${fn.logicalId} has no 'llama-finetune:handler' metadata, so the local workflow runner cannot run it.` };
      return { ...base, invocation: await this.track(this.pool.invoke(fn.logicalId, input)) };
    }
    if (destination.kind === 'state-machine' && destination.logicalId === this.machine.logicalId && !this.stopped) {
      this.aws.callLog.record({
        requestId: randomUUID(),
        service: 'states',
        operation: 'StartExecution',
        action: 'states:StartExecution',
        resources: [this.stateMachineArn],
        status: 200,
        principal: target.roleArn ?? 'events.amazonaws.com',
      });
      return { ...base, execution: this.start(input) };
    }
    return base;
  }

  // ---- functions ----------------------------------------------------------------------------

  /** Invokes a template function directly (by logical id or handler name), as `aws lambda invoke` would. */
  invoke(functionIdOrHandler: string, event: unknown): Promise<LambdaInvocation> {
    return this.track(this.pool.invoke(this.functionLogicalId(functionIdOrHandler), event));
  }

  /**
   * Logical id of the function with this logical id, handler name (metadata) or logical-id
   * prefix (e.g. `FinetuningWorkflowEvaluationInferShard`, when two functions run one handler).
   */
  functionLogicalId(functionIdOrHandler: string): string {
    const exact = this.functions.filter((f) => f.logicalId === functionIdOrHandler);
    const byHandler = this.functions.filter((f) => f.spec?.handlerName === functionIdOrHandler);
    const byPrefix = this.functions.filter((f) => f.logicalId.startsWith(functionIdOrHandler));
    const matches = exact.length > 0 ? exact : byHandler.length > 0 ? byHandler : byPrefix;
    if (matches.length !== 1) {
      const known = this.functions.map((f) => `${f.logicalId}${f.spec ? ` (${f.spec.handlerName})` : ''}`).join(', ');
      throw new Error(`Expected one function with logical id, handler or logical-id prefix '${functionIdOrHandler}', found ${matches.length}${matches.length > 1 ? ` (${matches.map((f) => f.logicalId).join(', ')}: name one by its logical id or a prefix of it)` : ''}; the template has ${known}.`);
    }
    return matches[0].logicalId;
  }

  /** Finished invocations (all, or of one function by logical id or handler name), oldest first. */
  invocations(functionIdOrHandler?: string): LambdaInvocation[] {
    return this.pool.invocations(functionIdOrHandler === undefined ? undefined : this.functionLogicalId(functionIdOrHandler));
  }

  /** Number of live execution environments (worker threads) of a function. */
  liveEnvironments(functionIdOrHandler: string): number {
    return this.pool.liveEnvironments(this.functionLogicalId(functionIdOrHandler));
  }

  /** Lines the functions wrote (all, or of one function by logical id or handler name). */
  functionLogs(functionIdOrHandler?: string): FunctionLogLine[] {
    const id = functionIdOrHandler === undefined ? undefined : this.functionLogicalId(functionIdOrHandler);
    return this.logs.filter((l) => id === undefined || l.functionLogicalId === id);
  }

  /** The LocalS3 name of the template bucket whose logical id starts with `logicalIdPrefix`. */
  bucketName(logicalIdPrefix: string): string {
    const ids = resourcesOfType(this.json, 'AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith(logicalIdPrefix));
    if (ids.length !== 1) throw new Error(`Expected one bucket whose logical id starts with '${logicalIdPrefix}', found ${ids.join(', ') || 'none'}.`);
    return this.physical[ids[0]].ref;
  }

  /**
   * The template's outputs by key, resolved to the stand-ins' names: what
   * `aws cloudformation describe-stacks` would show once the stack is deployed.
   */
  stackOutputs(): Record<string, string> {
    return Object.fromEntries(Object.entries(this.json.Outputs ?? {}).map(([key, output]) => [key, this.resolver.resolveString(output.Value, `Outputs.${key}.Value`)]));
  }

  /** What `Ref` / `Fn::GetAtt` of a template resource resolve to here. */
  physicalResource(logicalId: string): PhysicalResource {
    const resource = this.physical[logicalId];
    if (!resource) throw new Error(`The template has no resource '${logicalId}'.`);
    return resource;
  }

  // ---- IAM ----------------------------------------------------------------------------------

  /**
   * Checks every call in the shared call log made by a function of the template (principal =
   * its logical id) or by a role of the template (principal = its ARN: the customization role
   * through LocalBedrock, the state machine and events roles through this runner) against that
   * role's synthesized policy; lists granted actions no call used for the roles of functions
   * that ran and of roles that made calls; and reports rule deliveries to functions whose
   * resource policy does not let EventBridge invoke them.
   */
  checkIam(options: { readonly ignoreUnused?: readonly string[] } = {}): IamCheckResult {
    const principalRoles = new Map<string, string>();
    for (const fn of this.functions) if (fn.roleLogicalId) principalRoles.set(fn.logicalId, fn.roleLogicalId);
    for (const [roleId] of resourcesOfType(this.json, 'AWS::IAM::Role')) principalRoles.set(this.physical[roleId].arn!, roleId);
    const invoked = new Set(this.pool.invocations().map((i) => i.functionLogicalId));
    const rolesToReport = this.functions.filter((f) => invoked.has(f.logicalId) && f.roleLogicalId).map((f) => f.roleLogicalId!);
    const extraDenied: DeniedCall[] = unpermittedDeliveries(this.json, this.resolver, this.eventDeliveries);
    // Lambda itself sends failed asynchronous events to a function's dead-letter queue, with the function's role.
    const platformActionsByRole = new Map<string, string[]>();
    for (const fn of this.functions) {
      const target = (this.json.Resources?.[fn.logicalId]?.Properties?.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn;
      if (!fn.roleLogicalId || target === undefined) continue;
      const arn = this.resolver.resolveString(target, `${fn.logicalId}.Properties.DeadLetterConfig.TargetArn`);
      platformActionsByRole.set(fn.roleLogicalId, [arn.startsWith('arn:aws:sns:') ? 'sns:Publish' : 'sqs:SendMessage']);
    }
    return checkIam({
      template: this.json,
      resolver: this.resolver,
      physical: this.physical,
      scope: this.scope,
      calls: this.aws.callLog.entries(),
      principalRoles,
      rolesToReport,
      ignoreUnused: options.ignoreUnused,
      platformActionsByRole,
      extraDenied,
    });
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Waits until no execution, rule delivery or invocation is in progress; throws when an
   * event the functions put on LocalEventBridge could not be routed to the rules.
   */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    const errors = this.routingErrors.splice(0);
    if (errors.length > 0) throw new Error(`Routing events from LocalEventBridge to the template's rules failed: ${errors.map((e) => e.message).join('; ')}`);
  }

  /** Aborts running executions, waits for them to settle, and ends every function worker. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unsubscribe();
    this.detachExecutions();
    for (const { execution, settled } of this.executions.values()) if (!settled) execution.abort({ error: 'LocalRunner.Stopped', cause: 'The local workflow runner was stopped.' });
    await this.pool.stop();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  // ---- helpers ------------------------------------------------------------------------------

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  private waitOverridesFor(states: readonly StateEntry[], perExecution: Readonly<Record<string, number>> = {}): Record<string, number> {
    const out: Record<string, number> = {};
    for (const { name, state } of states) {
      if (state.Type === 'Wait') out[name] = perExecution[name] ?? this.options.waitOverrides?.[name] ?? this.options.waitMs ?? 0;
    }
    return out;
  }

  private retryOverrides(states: readonly StateEntry[]): Record<string, number | number[]> {
    const out: Record<string, number | number[]> = {};
    for (const { name, state } of states) {
      if (Array.isArray(state.Retry) && state.Retry.length > 0) out[name] = this.options.retryOverrides?.[name] ?? this.options.retryMs ?? 0;
    }
    return out;
  }

  /** Topic ARNs of the template, with the customer managed key of each encrypted one. */
  private topics(): Map<string, { kmsKeyArn?: string }> {
    const keys = new Map<string, string>();
    for (const [id] of resourcesOfType(this.json, 'AWS::KMS::Key')) {
      keys.set(this.physical[id].ref, this.physical[id].arn!);
      keys.set(this.physical[id].arn!, this.physical[id].arn!);
    }
    const out = new Map<string, { kmsKeyArn?: string }>();
    for (const [id, topic] of resourcesOfType(this.json, 'AWS::SNS::Topic')) {
      const key = topic.Properties?.KmsMasterKeyId === undefined ? undefined : this.resolver.resolveString(topic.Properties.KmsMasterKeyId, `${id}.Properties.KmsMasterKeyId`);
      out.set(this.physical[id].ref, { kmsKeyArn: key === undefined ? undefined : keys.get(key) });
    }
    return out;
  }
}

/**
 * The copy of the definition the interpreter runs: without the top-level TimeoutSeconds (the
 * runner enforces it, so it can be scaled and reported as TIMED_OUT), and with Step Functions'
 * unlimited default Task timeout made explicit (the interpreter would use 60 s).
 */
function interpreterDefinitionOf(definition: StatesDefinition): StatesDefinition {
  const copy = JSON.parse(JSON.stringify(definition)) as { TimeoutSeconds?: number } & StatesDefinition;
  delete copy.TimeoutSeconds;
  replaceDistributedMaps(copy);
  for (const { name, state } of walkStates(copy)) {
    if (isTokenWait(state)) {
      // The token wait's handler enforces its TimeoutSeconds (scaled) and gets a real token per attempt.
      if (state.HeartbeatSeconds !== undefined || state.HeartbeatSecondsPath !== undefined || state.TimeoutSecondsPath !== undefined) {
        throw new Error(`Task state '${name}': the local runner supports a fixed TimeoutSeconds on .waitForTaskToken states, not heartbeats or TimeoutSecondsPath; add them in test/support/local-workflow.`);
      }
      (state as { Parameters?: unknown }).Parameters = withTokenPlaceholder(state.Parameters);
      (state as { TimeoutSeconds?: number }).TimeoutSeconds = UNLIMITED_TASK_TIMEOUT_SECONDS;
    } else if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      (state as { TimeoutSeconds?: number }).TimeoutSeconds = UNLIMITED_TASK_TIMEOUT_SECONDS;
    }
  }
  return copy;
}

/** Parameters with every `"<key>.$": "$$.Task.Token"` made `"<key>": TASK_TOKEN_PLACEHOLDER` (the interpreter has no task token). */
function withTokenPlaceholder(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withTokenPlaceholder);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => (key.endsWith('.$') && v === '$$.Task.Token' ? [key.slice(0, -2), TASK_TOKEN_PLACEHOLDER] : [key, withTokenPlaceholder(v)])),
  );
}

/** Fields a Distributed Map shares with a Task state; the runner's Map Run handles the rest. */
const MAP_FIELDS_KEPT = ['Comment', 'InputPath', 'ResultPath', 'ResultSelector', 'OutputPath', 'Retry', 'Catch', 'Next', 'End'];

/**
 * Replaces each Distributed Map (which the interpreter cannot run) by a Task state of the
 * same name whose local handler runs the Map Run; its processor runs in child executions.
 */
function replaceDistributedMaps(definition: StatesDefinition): void {
  const states = definition.States as Record<string, AslState>;
  for (const [name, state] of Object.entries(states)) {
    if (isDistributedMap(state)) {
      const task: Record<string, unknown> = { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke' };
      for (const field of MAP_FIELDS_KEPT) if (state[field] !== undefined) task[field] = state[field];
      states[name] = task as unknown as AslState;
      continue;
    }
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) replaceDistributedMaps(processor);
    for (const branch of state.Branches ?? []) replaceDistributedMaps(branch);
  }
}

/** A Task failure with its error name and cause cut to what Step Functions records. */
function withRecordedLengths(err: Error): Error {
  if (err.name.length > 256) err.name = recordedError(err.name);
  if (err.message.length > 32_768) err.message = recordedCause(err.message);
  return err;
}

/** How an execution run by the interpreter ended. */
interface InterpreterOutcome {
  readonly status: FinalExecutionStatus;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly historyEventCount: number;
}

/** An execution running in the interpreter. */
interface InterpreterRun {
  /** Its events so far. */
  readonly events: WorkflowEvent[];
  readonly result: Promise<InterpreterOutcome>;
  /** Ends it early: timeout, abort (StopExecution) or failure. */
  end(how: RunnerEnding & { readonly error?: string; readonly cause?: string }): void;
}
