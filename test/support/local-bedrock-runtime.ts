/**
 * LocalBedrockRuntime: Bedrock Runtime's Converse operation (POST /model/{modelId}/converse)
 * on 127.0.0.1 for the real `@aws-sdk/client-bedrock-runtime`. Answers come from a
 * deterministic, per-test responder function, with token usage, optional latency and
 * injected throttling.
 *
 * Model ids are checked as Bedrock does for Llama 3.2: base models are invoked through a
 * cross-region inference profile (`us.meta.llama3-2-11b-instruct-v1:0`); the bare foundation
 * model id is rejected for on-demand use; a fine-tuned model is invoked through its
 * Provisioned Throughput ARN, which must be InService in the attached LocalBedrock.
 */
import { AwsCallLog } from './aws-call-log';
import { Authorizer } from './local-s3';
import { LocalBedrock } from './local-bedrock';
import { LlamaModelSpec, LLAMA_MODELS, estimateImageTokens } from '../../lambda/shared/models/llama-models';
import { AwsScope, foundationModelArn, inferenceProfileArn } from './stand-ins/bedrock-arns';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { newRequestId, principalOf, readBody, RunningServer, sendJson, sleep, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';

/** Regions a `us.` inference profile routes to (IAM evaluates the foundation model in each). */
const US_PROFILE_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2'];

/** What a Converse call was aimed at. */
export type ConverseTarget =
  | { readonly kind: 'inference-profile'; readonly model: LlamaModelSpec; readonly profileId: string }
  | { readonly kind: 'provisioned-model'; readonly model: LlamaModelSpec; readonly provisionedModelArn: string; readonly customModelArn: string; readonly customModelName?: string };

/** One content block as the responder sees it (image bytes decoded). */
export type ConverseContent = { readonly text: string } | { readonly image: { readonly format: string; readonly bytes: Buffer } } | Record<string, unknown>;

/** A Converse request as the responder sees it. */
export interface ConverseInvocation {
  readonly modelId: string;
  readonly target: ConverseTarget;
  readonly system: readonly string[];
  readonly messages: ReadonlyArray<{ readonly role: 'user' | 'assistant'; readonly content: readonly ConverseContent[] }>;
  /** Text of the last user message, the usual thing to answer. */
  readonly lastUserText: string;
  /** Number of images in the request. */
  readonly imageCount: number;
  readonly inferenceConfig: { readonly maxTokens?: number; readonly temperature?: number; readonly topP?: number; readonly stopSequences?: readonly string[] };
}

/** What a responder returns: the answer text, optionally with a stop reason. */
export type ConverseReply = string | { readonly text: string; readonly stopReason?: 'end_turn' | 'max_tokens' | 'stop_sequence' };

/** Decides the model's answer. Must be deterministic so tests can predict scores. */
export type ConverseResponder = (invocation: ConverseInvocation) => ConverseReply;

/** Options of {@link LocalBedrockRuntime.start}. */
export interface LocalBedrockRuntimeOptions {
  readonly port?: number;
  readonly callLog?: AwsCallLog;
  /** Needed to invoke Provisioned Throughput ARNs. */
  readonly bedrock?: LocalBedrock;
  readonly accountId?: string;
  readonly region?: string;
  /** Initial responder; see {@link LocalBedrockRuntime.respond}. */
  readonly respond?: ConverseResponder;
  /** Clock that fault windows (`{ forMs }`) are measured by; default Date.now. */
  readonly faultClock?: () => number;
}

/** A recorded Converse call. */
export interface RecordedInvocation {
  readonly modelId: string;
  readonly targetKind: ConverseTarget['kind'];
  readonly lastUserText: string;
  readonly answer: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

const ERROR_STATUS: Record<string, number> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ThrottlingException: 429,
  ModelNotReadyException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
  ModelTimeoutException: 408,
};

class RuntimeError extends Error {
  readonly status: number;
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.status = ERROR_STATUS[type] ?? 400;
  }
}

/** A rough token estimate: about four characters of English per token. */
export function estimateTextTokens(text: string): number {
  return text.length === 0 ? 0 : Math.ceil(text.length / 4);
}

/** The default responder: says which model answered and echoes the question. */
export const echoResponder: ConverseResponder = (invocation) =>
  `${invocation.target.kind === 'provisioned-model' ? 'fine-tuned' : 'base'} ${invocation.target.model.name} answer to: ${invocation.lastUserText}`;

/** An in-memory Bedrock Runtime (Converse only). */
export class LocalBedrockRuntime {
  /** Starts LocalBedrockRuntime on 127.0.0.1. */
  static async start(options: LocalBedrockRuntimeOptions = {}): Promise<LocalBedrockRuntime> {
    const runtime = new LocalBedrockRuntime(options);
    runtime.server = await startServer((req, res) => runtime.handle(req, res), options.port ?? 0, 'LocalBedrockRuntime');
    return runtime;
  }

  readonly callLog: AwsCallLog;
  readonly scope: AwsScope;
  /** The responder answering Converse calls; replace it per test. */
  respond: ConverseResponder;
  private server: RunningServer;
  private readonly bedrock?: LocalBedrock;
  private readonly faults: FaultPlan;
  private readonly recorded: RecordedInvocation[] = [];
  private latencyMs = 0;
  private held?: { readonly promise: Promise<void>; readonly release: () => void; count: number };
  private authorizer?: Authorizer;

  private constructor(options: LocalBedrockRuntimeOptions) {
    this.callLog = options.callLog ?? options.bedrock?.callLog ?? new AwsCallLog();
    this.bedrock = options.bedrock;
    this.scope = { accountId: options.accountId ?? options.bedrock?.scope.accountId ?? '111122223333', region: options.region ?? options.bedrock?.scope.region ?? 'us-west-2' };
    this.respond = options.respond ?? echoResponder;
    this.faults = new FaultPlan(options.faultClock);
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  async stop(): Promise<void> {
    await this.server.close();
  }

  /** Successful Converse calls, oldest first. */
  invocations(): RecordedInvocation[] {
    return [...this.recorded];
  }

  /** Delays every Converse call by `ms` (reported as metrics.latencyMs; benchmarks only). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /**
   * Holds every Converse call from now on (received, but not answered) until the returned
   * function is called, which answers the held calls and lets later ones through. For tests
   * that must act while calls are in flight, on a condition (`heldCalls()`) rather than a clock.
   */
  hold(): () => void {
    if (!this.held) {
      let release!: () => void;
      this.held = { promise: new Promise<void>((resolve) => (release = resolve)), release, count: 0 };
    }
    const held = this.held;
    return () => {
      if (this.held === held) this.held = undefined;
      held.release();
    };
  }

  /** Converse calls being held now (see {@link hold}). */
  heldCalls(): number {
    return this.held?.count ?? 0;
  }

  /** Answers the next `times` calls with ThrottlingException (429). */
  throttleNext(times: FaultLength, message = 'Too many requests, please wait before trying again.'): void {
    this.throttle(times, { message });
  }

  /**
   * A throttling storm: answers Converse calls with Bedrock Runtime's throttling error, 429
   * ThrottlingException (restJson: `x-amzn-errortype` and `{"message"}`), which the SDK retries
   * as throttling, for `length`: a count, `'forever'`, or a wall-clock window `{ forMs }`.
   */
  throttle(length: FaultLength, options: { operation?: 'Converse'; message?: string } = {}): void {
    this.faults.add(length, { status: 429, code: 'ThrottlingException', message: options.message ?? 'Too many requests, please wait before trying again.' }, { operation: options.operation });
  }

  /** Answers calls with any runtime error type (e.g. ModelNotReadyException) for `times`: a count, `'forever'` or `{ forMs }`. */
  injectError(times: FaultLength, type: string, message = type): void {
    this.faults.add(times, { status: ERROR_STATUS[type] ?? 400, code: type, message });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Installs (or removes) an access check for bedrock:InvokeModel. */
  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  private async handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const principal = principalOf(req, url.searchParams);
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const raw = await readBody(req);
    const isConverse = req.method === 'POST' && segments.length === 3 && segments[0] === 'model' && segments[2] === 'converse';
    const modelId = isConverse ? segments[1] : '';

    let status = 200;
    let payload: unknown;
    let errorType: string | undefined;
    let resources: string[] = ['*'];
    try {
      if (!isConverse) throw new RuntimeError('UnknownOperationException', `LocalBedrockRuntime implements only Converse; ${req.method} ${url.pathname} is not available. Add it to test/support/local-bedrock-runtime.ts.`);
      const started = Date.now();
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      const held = this.held;
      if (held) {
        held.count += 1;
        await held.promise;
        held.count -= 1;
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        throw new RuntimeError('ValidationException', 'The request body is not valid JSON.');
      }
      // An ARN is what IAM evaluates even when the model behind it is gone (e.g. deleted).
      if (modelId.startsWith('arn:')) resources = [modelId];
      const target = this.resolveTarget(modelId);
      resources = this.resourcesOf(modelId, target);
      const fault = this.faults.take('Converse');
      if (fault) throw new RuntimeError(fault.code, fault.message ?? fault.code);
      if (this.authorizer && !this.authorizer({ principal, action: 'bedrock:InvokeModel', resources })) {
        throw new RuntimeError('AccessDeniedException', `User: ${principal} is not authorized to perform: bedrock:InvokeModel on resource: ${resources.join(', ')}`);
      }
      payload = this.converse(modelId, target, body, Date.now() - started);
    } catch (err) {
      if (!(err instanceof RuntimeError)) throw err;
      status = err.status;
      errorType = err.type;
      payload = { message: err.message };
    }
    this.callLog.record({ requestId, service: 'bedrock', operation: isConverse ? 'Converse' : 'Unknown', action: 'bedrock:InvokeModel', resources, status, errorCode: errorType, principal });
    sendJson(res, { status, payload, requestId, contentType: 'application/json', errorType: errorType ? `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/` : undefined });
  }

  private resolveTarget(modelId: string): ConverseTarget {
    const profile = LLAMA_MODELS.find((m) => m.inferenceProfileId === modelId || modelId.endsWith(`:inference-profile/${m.inferenceProfileId}`));
    if (profile) return { kind: 'inference-profile', model: profile, profileId: profile.inferenceProfileId };
    const onDemand = LLAMA_MODELS.find((m) => m.foundationModelId === modelId || m.baseModelIdentifier === modelId || modelId.endsWith(`:foundation-model/${m.foundationModelId}`));
    if (onDemand) {
      throw new RuntimeError(
        'ValidationException',
        `Invocation of model ID ${modelId} with on-demand throughput isn't supported. Retry your request with the ID or ARN of an inference profile that contains this model (e.g. ${onDemand.inferenceProfileId}).`,
      );
    }
    if (/:provisioned-model\//.test(modelId)) {
      const provisioned = this.bedrock?.provisionedThroughputStatus(modelId);
      if (!provisioned) throw new RuntimeError('ResourceNotFoundException', `Provisioned Throughput ${modelId} was not found (it may have been deleted).`);
      // While an update moves it to another model it keeps serving the previous one (Bedrock: "without disrupting the on-going traffic").
      if (provisioned.status !== 'InService' && provisioned.status !== 'Updating') throw new RuntimeError('ValidationException', `Provisioned Throughput ${modelId} is ${provisioned.status}; wait until it is InService.`);
      const base = LLAMA_MODELS.find((m) => provisioned.foundationModelArn.endsWith(`/${m.baseModelIdentifier}`) || provisioned.foundationModelArn.endsWith(`/${m.foundationModelId}`));
      if (!base) throw new RuntimeError('ValidationException', `Provisioned Throughput ${modelId} is not for a Llama 3.2 model.`);
      return { kind: 'provisioned-model', model: base, provisionedModelArn: modelId, customModelArn: provisioned.modelArn, customModelName: provisioned.customModelName };
    }
    if (/:custom-model\//.test(modelId)) {
      throw new RuntimeError('ValidationException', `Custom model ${modelId} cannot be invoked on demand; purchase Provisioned Throughput for it and invoke the provisioned model ARN.`);
    }
    throw new RuntimeError('ValidationException', `The provided model identifier is invalid: '${modelId}'. Use a Llama 3.2 inference profile id (e.g. ${LLAMA_MODELS[2].inferenceProfileId}) or a Provisioned Throughput ARN.`);
  }

  /** ARNs IAM evaluates for bedrock:InvokeModel through this model id. */
  private resourcesOf(modelId: string, target: ConverseTarget): string[] {
    if (target.kind === 'provisioned-model') return [target.provisionedModelArn];
    const profileArn = modelId.startsWith('arn:') ? modelId : inferenceProfileArn(this.scope, target.profileId);
    return [profileArn, ...US_PROFILE_REGIONS.map((region) => foundationModelArn({ region }, target.model.foundationModelId))];
  }

  private converse(modelId: string, target: ConverseTarget, body: Record<string, unknown>, elapsedMs: number): unknown {
    const rawMessages = body.messages;
    if (!Array.isArray(rawMessages) || rawMessages.length === 0) throw new RuntimeError('ValidationException', 'The messages field is required and must contain at least one message.');
    const messages = rawMessages.map((m, index) => {
      const message = m as { role?: string; content?: unknown[] };
      if (message.role !== 'user' && message.role !== 'assistant') throw new RuntimeError('ValidationException', `messages.${index}.role must be user or assistant.`);
      if (!Array.isArray(message.content) || message.content.length === 0) throw new RuntimeError('ValidationException', `messages.${index}.content must contain at least one content block.`);
      const content = message.content.map((block): ConverseContent => {
        const b = block as { image?: { format?: string; source?: { bytes?: string } } };
        if (b.image) {
          if (typeof b.image.source?.bytes !== 'string') throw new RuntimeError('ValidationException', `messages.${index}: an image block needs source.bytes.`);
          return { image: { format: String(b.image.format), bytes: Buffer.from(b.image.source.bytes, 'base64') } };
        }
        return block as ConverseContent;
      });
      return { role: message.role, content };
    });
    if (messages[0].role !== 'user') throw new RuntimeError('ValidationException', 'A conversation must start with a user message. Try again with a conversation that starts with a user message.');
    if (messages.some((m, i) => i > 0 && m.role === messages[i - 1].role)) throw new RuntimeError('ValidationException', 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.');
    const imageCount = messages.reduce((n, m) => n + m.content.filter((c) => 'image' in c).length, 0);
    if (imageCount > 0 && !target.model.supportsImages) throw new RuntimeError('ValidationException', `${target.model.displayName} does not accept images; use Llama 3.2 11B or 90B for image input.`);

    const texts = (blocks: readonly ConverseContent[]) => blocks.filter((c): c is { text: string } => typeof (c as { text?: unknown }).text === 'string').map((c) => c.text);
    const system = Array.isArray(body.system) ? texts(body.system as ConverseContent[]) : [];
    const userMessages = messages.filter((m) => m.role === 'user');
    const lastUserText = texts(userMessages[userMessages.length - 1].content).join('\n');
    const inferenceConfig = (body.inferenceConfig ?? {}) as ConverseInvocation['inferenceConfig'];
    const reply = this.respond({ modelId, target, system, messages: messages as ConverseInvocation['messages'], lastUserText, imageCount, inferenceConfig });
    let text = typeof reply === 'string' ? reply : reply.text;
    let stopReason = typeof reply === 'string' ? 'end_turn' : (reply.stopReason ?? 'end_turn');
    if (inferenceConfig.maxTokens !== undefined && estimateTextTokens(text) > inferenceConfig.maxTokens) {
      text = text.slice(0, inferenceConfig.maxTokens * 4);
      stopReason = 'max_tokens';
    }
    // Image cost as Bedrock estimates it for Llama 3.2; the stand-in does not decode images, so it uses the smallest tile count.
    const inputTokens = estimateTextTokens([...system, ...messages.flatMap((m) => texts(m.content))].join(' ')) + imageCount * estimateImageTokens(560, 560);
    const outputTokens = estimateTextTokens(text);
    this.recorded.push({ modelId, targetKind: target.kind, lastUserText, answer: text, inputTokens, outputTokens });
    return {
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason,
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      metrics: { latencyMs: Math.max(elapsedMs, this.latencyMs) },
    };
  }
}
