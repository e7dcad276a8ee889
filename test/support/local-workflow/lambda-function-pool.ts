/**
 * Runs the template's Lambda functions locally: each function's bundled handler in
 * worker threads (its execution environments) with that function's own environment
 * variables, one invocation at a time per worker. Workers stay warm between invocations and
 * are added when invocations overlap, as Lambda does; an invocation that runs past the
 * function's timeout ends its worker and fails with `Sandbox.Timedout`.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { bundleHandler } from './lambda-bundler';
import { LambdaErrorPayload, runtimeExit, sandboxTimeout } from './lambda-errors';
import { InvokeMessage, ResultMessage, WORKER_BOOTSTRAP_SOURCE, WorkerBootData } from './lambda-worker-bootstrap';

/** Everything needed to run one function. */
export interface LambdaFunctionSpec {
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** The handler folder under lambda/ (template metadata). */
  readonly handlerName: string;
  /** Source file that is bundled. */
  readonly entry: string;
  /** Exported function called (from the template's Handler, e.g. check-job.handler -> handler). */
  readonly exportName: string;
  /** process.env inside the function. */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly memorySizeMb: number;
  /** Node options the worker honours (from NODE_OPTIONS). */
  readonly execArgv: readonly string[];
  readonly logGroupName: string;
}

/** One finished invocation. */
export interface LambdaInvocation {
  readonly requestId: string;
  readonly functionLogicalId: string;
  readonly event: unknown;
  /** Whether a new execution environment was started for it. */
  readonly coldStart: boolean;
  /** The handler's result, JSON round-tripped as Lambda does (set when it succeeded). */
  readonly payload?: unknown;
  /** The runtime's error report (set when it failed). */
  readonly error?: LambdaErrorPayload;
}

/** A line a function wrote to stdout or stderr. */
export interface FunctionLogLine {
  readonly functionLogicalId: string;
  readonly requestId?: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

interface ExecutionEnvironment {
  readonly functionLogicalId: string;
  readonly worker: Worker;
  /** Settles when the handler module is loaded (the init phase, which the timeout does not cover). */
  readonly ready: Promise<void>;
  current?: { readonly requestId: string; finish(outcome: { payload?: unknown; error?: LambdaErrorPayload }): void };
  retired: boolean;
}

/** How the pool runs its functions. */
export interface LambdaFunctionPoolOptions {
  /**
   * Every `Math.random()` in the functions returns 0, so each full-jitter backoff (theirs and
   * the SDK's) is its shortest possible draw (LocalWorkflowRunnerOptions.backoffJitter).
   * @default false
   */
  readonly zeroJitter?: boolean;
}

/** The functions' execution environments. */
export class LambdaFunctionPool {
  private readonly specs = new Map<string, LambdaFunctionSpec>();
  private readonly bundles = new Map<string, Promise<string>>();
  private readonly idle = new Map<string, ExecutionEnvironment[]>();
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly history: LambdaInvocation[] = [];
  private stopped = false;

  constructor(
    specs: readonly LambdaFunctionSpec[],
    private readonly onLog: (line: FunctionLogLine) => void = () => undefined,
    private readonly options: LambdaFunctionPoolOptions = {},
  ) {
    for (const spec of specs) this.specs.set(spec.logicalId, spec);
  }

  /** Bundles every function's code now (errors surface here instead of at the first invocation). */
  async prepare(): Promise<void> {
    await Promise.all([...this.specs.values()].map((spec) => this.bundleOf(spec)));
  }

  /** The specs, by logical id. */
  spec(logicalId: string): LambdaFunctionSpec | undefined {
    return this.specs.get(logicalId);
  }

  /** Invokes a function synchronously (RequestResponse) and reports how it ended. */
  async invoke(logicalId: string, event: unknown): Promise<LambdaInvocation> {
    const spec = this.specs.get(logicalId);
    if (!spec) throw new Error(`No function '${logicalId}' in the template; known: ${[...this.specs.keys()].join(', ')}.`);
    if (this.stopped) throw new Error(`The local workflow runner was stopped; function ${logicalId} cannot be invoked.`);
    const bundlePath = await this.bundleOf(spec);
    const requestId = randomUUID();
    const eventJson = JSON.stringify(event ?? null);
    const reused = this.idle.get(logicalId)?.pop();
    const environment = reused ?? this.startEnvironment(spec, bundlePath);
    const initFailure = await environment.ready.then(
      () => undefined,
      (err: Error) => runtimeExit(requestId, `init failed: ${err.message}`),
    );

    const outcome = initFailure ? { error: initFailure } : await new Promise<{ payload?: unknown; error?: LambdaErrorPayload }>((resolve) => {
      const timer = setTimeout(() => {
        // The environment is destroyed, as Lambda does after a timeout.
        environment.current = undefined;
        this.retire(environment);
        resolve({ error: sandboxTimeout(requestId, spec.timeoutMs) });
      }, spec.timeoutMs);
      environment.current = {
        requestId,
        finish: (result) => {
          clearTimeout(timer);
          environment.current = undefined;
          resolve(result);
        },
      };
      const message: InvokeMessage = {
        requestId,
        eventJson,
        deadline: Date.now() + spec.timeoutMs,
        context: {
          functionName: spec.functionName,
          functionVersion: '$LATEST',
          invokedFunctionArn: spec.functionArn,
          memoryLimitInMB: String(spec.memorySizeMb),
          logGroupName: spec.logGroupName,
          logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
        },
      };
      environment.worker.postMessage(message);
    });
    if (!environment.retired && !this.stopped) this.idleList(logicalId).push(environment);
    const invocation: LambdaInvocation = { requestId, functionLogicalId: logicalId, event: JSON.parse(eventJson), coldStart: !reused, ...outcome };
    this.history.push(invocation);
    return invocation;
  }

  /** Finished invocations, oldest first, optionally of one function. */
  invocations(logicalId?: string): LambdaInvocation[] {
    return this.history.filter((i) => logicalId === undefined || i.functionLogicalId === logicalId);
  }

  /** Number of live execution environments (warm or busy) of a function. */
  liveEnvironments(logicalId: string): number {
    return [...this.all].filter((e) => e.functionLogicalId === logicalId).length;
  }

  /** Ends every execution environment; invocations still running fail. */
  async stop(): Promise<void> {
    this.stopped = true;
    const environments = [...this.all];
    for (const environment of environments) environment.current?.finish({ error: runtimeExit(environment.current.requestId, 'the local workflow runner was stopped') });
    await Promise.all(environments.map((environment) => environment.worker.terminate()));
    this.all.clear();
    this.idle.clear();
  }

  private bundleOf(spec: LambdaFunctionSpec): Promise<string> {
    let bundle = this.bundles.get(spec.entry);
    if (!bundle) {
      bundle = bundleHandler(spec.entry);
      this.bundles.set(spec.entry, bundle);
    }
    return bundle;
  }

  private idleList(logicalId: string): ExecutionEnvironment[] {
    let list = this.idle.get(logicalId);
    if (!list) this.idle.set(logicalId, (list = []));
    return list;
  }

  private startEnvironment(spec: LambdaFunctionSpec, bundlePath: string): ExecutionEnvironment {
    const workerData: WorkerBootData = { bundlePath, exportName: spec.exportName, zeroJitter: this.options.zeroJitter === true };
    const worker = new Worker(WORKER_BOOTSTRAP_SOURCE, {
      eval: true,
      workerData,
      env: { ...spec.environment },
      execArgv: [...spec.execArgv],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: spec.memorySizeMb },
    });
    // A runner someone forgot to stop must not keep the test process alive.
    worker.unref();
    let initDone!: () => void;
    let initFailed!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      initDone = resolve;
      initFailed = reject;
    });
    ready.catch(() => undefined); // observed by invoke(); never an unhandled rejection
    const environment: ExecutionEnvironment = { functionLogicalId: spec.logicalId, worker, ready, retired: false };
    this.all.add(environment);
    worker.on('message', (message: ResultMessage) => {
      if ('ready' in message) return initDone();
      if (!environment.current || environment.current.requestId !== message.requestId) return;
      if ('error' in message) environment.current.finish({ error: message.error });
      else environment.current.finish({ payload: JSON.parse(message.resultJson) });
    });
    worker.on('error', (err: Error & { code?: string }) => {
      // Uncaught exceptions and unhandled rejections outside the handler's promise end the environment.
      const current = environment.current;
      this.retire(environment);
      initFailed(err);
      if (!current) return;
      const outOfMemory = err.code === 'ERR_WORKER_OUT_OF_MEMORY';
      current.finish({
        error: outOfMemory
          ? runtimeExit(current.requestId, `out of memory (MemorySize ${spec.memorySizeMb} MB)`, 'Runtime.OutOfMemory')
          : { errorType: String(err.name || 'Error'), errorMessage: String(err.message), trace: String(err.stack ?? '').split('\n') },
      });
    });
    worker.on('exit', (code) => {
      const current = environment.current;
      this.retire(environment);
      initFailed(new Error(`the worker exited with status ${code}`));
      current?.finish({ error: runtimeExit(current.requestId, `exit status ${code}`) });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      let buffered = '';
      worker[stream].setEncoding('utf-8');
      worker[stream].on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) this.onLog({ functionLogicalId: spec.logicalId, requestId: environment.current?.requestId, stream, line });
      });
    }
    return environment;
  }

  /** Takes an environment out of service and ends its thread. */
  private retire(environment: ExecutionEnvironment): void {
    if (environment.retired) return;
    environment.retired = true;
    this.all.delete(environment);
    for (const list of this.idle.values()) {
      const index = list.indexOf(environment);
      if (index >= 0) list.splice(index, 1);
    }
    void environment.worker.terminate();
  }
}
