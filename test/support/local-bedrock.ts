/**
 * LocalBedrock: the Amazon Bedrock control plane (REST-JSON) on 127.0.0.1, for the real
 * `@aws-sdk/client-bedrock`. It covers model customization jobs, custom models (get, list,
 * delete), Provisioned Throughput (create, get, list, update of the model it serves, delete)
 * and their tags (TagResource, ListTagsForResource; at most 50 per
 * resource), with Bedrock's input rules, idempotency tokens, a scripted job lifecycle and
 * injected faults.
 *
 * Jobs behave like Bedrock's: while InProgress nothing is visible; when a job completes the
 * stand-in (acting as the job's service role, through LocalS3 and the call log) checks the
 * training data, writes the metrics CSVs into the output location and creates the custom
 * model. How and when a job ends is set per test through {@link LocalBedrock.scenario}.
 *
 * Wire details were taken from the SDK's own schemas (paths, methods, member names,
 * timestamps as ISO-8601 strings, errors as `x-amzn-errortype` + JSON `{message}`).
 */
import { AwsCallLog } from './aws-call-log';
import { Authorizer, LocalS3 } from './local-s3';
import { DATASET_LIMITS, LLAMA_MODELS } from '../../lambda/shared/models/llama-models';
import {
  AwsScope,
  customizationJobArn,
  customModelArn,
  foundationModelArn,
  foundationModelIdOf,
  newResourceId,
  provisionedModelArn,
  resourceIdOf,
} from './stand-ins/bedrock-arns';
import { checkCustomizationJobRequest, checkProvisionedThroughputRequest, JsonObject, RequestRuleError, splitS3Uri } from './stand-ins/bedrock-request-rules';
import { FaultLength, FaultPlan } from './stand-ins/fault-plan';
import { newRequestId, principalOf, readBody, RunningServer, sendJson, sleep, StandInRequest, StandInResponse, startServer } from './stand-ins/http-server';
import { simulateTraining } from './stand-ins/training-metrics';

/** Bedrock control-plane operations LocalBedrock answers. */
export type BedrockOperation =
  | 'CreateModelCustomizationJob'
  | 'GetModelCustomizationJob'
  | 'StopModelCustomizationJob'
  | 'ListModelCustomizationJobs'
  | 'GetCustomModel'
  | 'ListCustomModels'
  | 'DeleteCustomModel'
  | 'CreateProvisionedModelThroughput'
  | 'GetProvisionedModelThroughput'
  | 'DeleteProvisionedModelThroughput'
  | 'UpdateProvisionedModelThroughput'
  | 'ListProvisionedModelThroughputs'
  | 'ListTagsForResource'
  | 'TagResource';

/** Most tags one Bedrock resource may carry (TooManyTagsException: "50 tags per resource", existing and new together). */
export const MAX_TAGS_PER_RESOURCE = 50;

/** How the next customization jobs end. Every field is optional; defaults in brackets. */
export interface JobScenario {
  /** Terminal status the job reaches by itself [Completed]. */
  outcome?: 'Completed' | 'Failed';
  /**
   * Number of GetModelCustomizationJob calls that still see InProgress; the next one sees the
   * outcome [2]. `'manual'` keeps the job running until completeJob/failJob/stop.
   */
  afterPolls?: number | 'manual';
  /** failureMessage of a Failed job [a generic internal-error message]. */
  failureMessage?: string;
  /** Epochs in the simulated metrics [the job's epochCount]. */
  epochs?: number;
  /** Steps per epoch when LocalS3 cannot count the training records [10]. */
  stepsPerEpoch?: number;
  /** Get calls that see Stopping after StopModelCustomizationJob, before Stopped [1]. */
  stopAfterPolls?: number;
  /**
   * Whether completing the job first checks the data as Bedrock does (files exist and are
   * readable by the role, JSON lines, referenced images exist, 100..10,000 records) and
   * fails the job otherwise [true when LocalS3 is attached].
   */
  checkData?: boolean;
}

/** How the next Provisioned Throughputs come up. */
export interface ProvisionedThroughputScenario {
  /** Status reached after creation [InService]. */
  outcome?: 'InService' | 'Failed';
  /** Get calls that still see Creating [1]; `'manual'` waits for markInService/failProvisionedThroughput. */
  afterPolls?: number | 'manual';
  failureMessage?: string;
}

/**
 * How the next UpdateProvisionedModelThroughput calls that change the model play out. While it
 * updates, the Provisioned Throughput is `Updating` and keeps serving its previous model
 * (`modelArn`; the new one is `desiredModelArn`), as Bedrock documents ("you might receive
 * output from the old model until the update is fully deployed").
 */
export interface ModelUpdateScenario {
  /** Status reached after the update [InService, now serving the new model]. Failed keeps the previous model. */
  outcome?: 'InService' | 'Failed';
  /** Get calls that still see Updating [1]; `'manual'` waits for finishModelUpdate. */
  afterPolls?: number | 'manual';
  failureMessage?: string;
}

/** Per-test behaviour of LocalBedrock; mutate it or assign new objects at any time. */
export interface BedrockScenario {
  job: JobScenario;
  /** Overrides for jobs with a given jobName (merged over `job`). */
  jobsByName?: Record<string, JobScenario>;
  provisionedThroughput?: ProvisionedThroughputScenario;
  /** How updates of the model a Provisioned Throughput serves end. */
  modelUpdate?: ModelUpdateScenario;
  /** Most jobs InProgress or Stopping at once before CreateModelCustomizationJob answers ServiceQuotaExceededException. */
  maxConcurrentJobs?: number;
}

/** Options of {@link LocalBedrock.start}. */
export interface LocalBedrockOptions {
  readonly port?: number;
  /** Log to write to (share one with LocalS3 so both appear in order). */
  readonly callLog?: AwsCallLog;
  /** Where jobs read training data and write output; without it no S3 access is simulated. */
  readonly s3?: LocalS3;
  /** Default 111122223333. */
  readonly accountId?: string;
  /** Default us-west-2. */
  readonly region?: string;
  /**
   * Error for a jobName that is already used. Bedrock answers ValidationException ("The
   * provided job name is currently in use."), which is the default; ConflictException lets
   * code prove it handles both.
   */
  readonly duplicateJobNameError?: 'ValidationException' | 'ConflictException';
  /** Clock that fault windows (`{ forMs }`) are measured by; default Date.now. */
  readonly faultClock?: () => number;
}

/** A job as tests see it. */
export interface CustomizationJobView {
  readonly jobArn: string;
  /** The id at the end of the ARN; the output folder is `model-customization-job-<jobId>`. */
  readonly jobId: string;
  readonly jobName: string;
  readonly customModelName: string;
  readonly status: JobStatus;
  readonly roleArn: string;
  readonly baseModelIdentifier: string;
  readonly hyperParameters: Readonly<Record<string, string>>;
  readonly trainingDataUri: string;
  readonly validationDataUris: readonly string[];
  readonly outputDataUri: string;
  /** `s3://.../model-customization-job-<jobId>/`, where the metrics CSVs are written. */
  readonly outputFolderUri: string;
  readonly clientRequestToken?: string;
  readonly outputModelArn?: string;
  readonly failureMessage?: string;
  /** GetModelCustomizationJob calls seen for this job. */
  readonly polls: number;
  readonly creationTime: Date;
  readonly endTime?: Date;
}

/** A Provisioned Throughput as tests see it. */
export interface ProvisionedThroughputView {
  readonly provisionedModelArn: string;
  readonly provisionedModelName: string;
  readonly modelArn: string;
  readonly modelUnits: number;
  readonly status: ProvisionedStatus;
  readonly commitmentDuration?: string;
  readonly creationTime: Date;
  /** Set once DeleteProvisionedModelThroughput removed it. */
  readonly deletedTime?: Date;
}

/** The EventBridge event Bedrock sends when a job changes status. */
export interface JobStateChangeEvent {
  readonly source: 'aws.bedrock';
  readonly 'detail-type': 'Model Customization Job State Change';
  readonly account: string;
  readonly region: string;
  readonly time: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly jobArn: string;
    readonly jobName: string;
    readonly jobStatus: JobStatus;
    readonly outputModelArn?: string;
    readonly outputModelName?: string;
    readonly failureMessage?: string;
  };
}

type JobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';
type ProvisionedStatus = 'Creating' | 'InService' | 'Updating' | 'Failed';

interface JobRecord {
  readonly jobId: string;
  readonly jobArn: string;
  /** ARN the custom model gets when the job completes. */
  readonly plannedModelArn: string;
  readonly request: JsonObject;
  readonly jobName: string;
  readonly customModelName: string;
  readonly roleArn: string;
  readonly baseModelIdentifier: string;
  readonly baseModelArn: string;
  readonly hyperParameters: Record<string, string>;
  readonly validatorUris: readonly string[];
  readonly clientRequestToken?: string;
  readonly creationTime: Date;
  status: JobStatus;
  lastModifiedTime: Date;
  endTime?: Date;
  failureMessage?: string;
  failedPhase?: 'validation' | 'training';
  outputModelArn?: string;
  trainingLoss?: number;
  validationLosses?: number[];
  polls: number;
  stopPolls: number;
}

interface CustomModelRecord {
  readonly modelArn: string;
  readonly modelName: string;
  readonly job: JobRecord;
  creationTime: Date;
  deletedTime?: Date;
}

interface ProvisionedRecord {
  readonly id: string;
  readonly arn: string;
  readonly name: string;
  /** The model it serves; changes when an update completes. */
  modelArn: string;
  /** The model an update in progress moves it to (equal to modelArn otherwise). */
  desiredModelArn: string;
  updatePolls: number;
  readonly foundationModelArn: string;
  readonly modelUnits: number;
  readonly commitmentDuration?: string;
  readonly commitmentExpirationTime?: Date;
  readonly clientRequestToken?: string;
  readonly fingerprint: string;
  readonly creationTime: Date;
  status: ProvisionedStatus;
  lastModifiedTime: Date;
  failureMessage?: string;
  polls: number;
  deletedTime?: Date;
  /** Tags given at creation. */
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
}

interface Authorization {
  readonly action: string;
  readonly resources: string[];
}

const ERROR_STATUS: Record<string, number> = {
  ValidationException: 400,
  ConflictException: 400,
  ServiceQuotaExceededException: 400,
  TooManyTagsException: 400,
  SerializationException: 400,
  AccessDeniedException: 403,
  ResourceNotFoundException: 404,
  UnknownOperationException: 404,
  ThrottlingException: 429,
  InternalServerException: 500,
  ServiceUnavailableException: 503,
};

const DEFAULT_ERROR_MESSAGES: Record<string, string> = {
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ServiceQuotaExceededException: 'The request exceeds the service quota for your account. Request a quota increase or retry later.',
  InternalServerException: 'An internal server error occurred. Retry your request.',
  ServiceUnavailableException: 'Service unavailable. Retry your request.',
};

const DEFAULT_FAILURE_MESSAGE = 'Internal Error: an internal error occurred during training. Retry the job; contact AWS Support if it persists.';

/** A Bedrock error response. */
class BedrockError extends Error {
  readonly status: number;
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.status = ERROR_STATUS[type] ?? 400;
  }
}

/** JSON with sorted keys, so equal requests compare equal regardless of member order. */
function fingerprint(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(fingerprint).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value as JsonObject)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${fingerprint((value as JsonObject)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function iso(date: Date | undefined): string | undefined {
  return date?.toISOString();
}

function joinS3(uri: string, ...parts: string[]): string {
  return [uri.replace(/\/+$/, ''), ...parts].join('/');
}

/** Every `s3Location.uri` inside a training record (images), in order of appearance. */
function referencedS3Uris(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => referencedS3Uris(v, found));
  else if (value !== null && typeof value === 'object') {
    const obj = value as JsonObject;
    const location = obj.s3Location as JsonObject | undefined;
    if (location && typeof location.uri === 'string') found.push(location.uri);
    Object.values(obj).forEach((v) => referencedS3Uris(v, found));
  }
  return found;
}

/**
 * An in-memory Bedrock control plane. Start with {@link LocalBedrock.start} and point the SDK
 * at {@link LocalBedrock.endpoint} (or use local-aws.ts).
 */
export class LocalBedrock {
  /** Starts LocalBedrock on 127.0.0.1. */
  static async start(options: LocalBedrockOptions = {}): Promise<LocalBedrock> {
    const bedrock = new LocalBedrock(options);
    bedrock.server = await startServer((req, res) => bedrock.handle(req, res), options.port ?? 0, 'LocalBedrock');
    return bedrock;
  }

  /** The log every request (and every S3 access a job makes as its role) is written to. */
  readonly callLog: AwsCallLog;
  /** Account and region in ARNs. */
  readonly scope: AwsScope;
  /** Per-test behaviour; see {@link BedrockScenario}. */
  scenario: BedrockScenario = { job: {}, jobsByName: {}, provisionedThroughput: {} };

  private server: RunningServer;
  private readonly s3?: LocalS3;
  private readonly duplicateJobNameError: 'ValidationException' | 'ConflictException';
  private readonly jobRecords = new Map<string, JobRecord>();
  private readonly customModelRecords = new Map<string, CustomModelRecord>();
  private readonly deletedCustomModelRecords: CustomModelRecord[] = [];
  private readonly provisionedRecords = new Map<string, ProvisionedRecord>();
  /** Tags by resource ARN (jobs, custom models, Provisioned Throughputs), in the order they were set. */
  private readonly tagsByArn = new Map<string, Map<string, string>>();
  private readonly jobTokens = new Map<string, { fingerprint: string; jobId: string }>();
  private readonly faults: FaultPlan;
  private readonly listeners = new Set<(event: JobStateChangeEvent) => void>();
  private latencyMs = 0;
  private authorizer?: Authorizer;
  /** Ids fixed before a create request is authorised, so the call log shows the ARNs the resources get. */
  private nextJobId?: string;
  private nextCustomModelId?: string;
  private nextProvisionedId?: string;

  private constructor(options: LocalBedrockOptions) {
    this.callLog = options.callLog ?? options.s3?.callLog ?? new AwsCallLog();
    this.s3 = options.s3;
    this.scope = { accountId: options.accountId ?? '111122223333', region: options.region ?? 'us-west-2' };
    this.duplicateJobNameError = options.duplicateJobNameError ?? 'ValidationException';
    this.faults = new FaultPlan(options.faultClock);
  }

  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_BEDROCK`. */
  get endpoint(): string {
    return this.server.endpoint;
  }

  /** Stops the server. */
  async stop(): Promise<void> {
    await this.server.close();
  }

  // ---- scenario and inspection -----------------------------------------------------------

  /** Merges `scenario` into the job scenario (of every job, or of jobs named `jobName`). */
  setJobScenario(scenario: JobScenario, options: { jobName?: string } = {}): void {
    if (options.jobName) this.scenario.jobsByName = { ...this.scenario.jobsByName, [options.jobName]: { ...this.scenario.jobsByName?.[options.jobName], ...scenario } };
    else this.scenario.job = { ...this.scenario.job, ...scenario };
  }

  /** Merges `scenario` into the Provisioned Throughput scenario. */
  setProvisionedThroughputScenario(scenario: ProvisionedThroughputScenario): void {
    this.scenario.provisionedThroughput = { ...this.scenario.provisionedThroughput, ...scenario };
  }

  /** Every job created, oldest first. */
  jobs(): CustomizationJobView[] {
    return [...this.jobRecords.values()].map((job) => this.viewOf(job));
  }

  /** One job by ARN, id or name; undefined when unknown. */
  job(identifier: string): CustomizationJobView | undefined {
    const job = this.findJob(identifier);
    return job && this.viewOf(job);
  }

  /** Custom models created by completed jobs that exist (not deleted). These bill monthly storage in real AWS. */
  customModels(): Array<{ modelArn: string; modelName: string; jobArn: string; creationTime: Date }> {
    return [...this.customModelRecords.values()].map((m) => ({ modelArn: m.modelArn, modelName: m.modelName, jobArn: m.job.jobArn, creationTime: m.creationTime }));
  }

  /** Custom models deleted with DeleteCustomModel, oldest deletion first. */
  deletedCustomModels(): Array<{ modelArn: string; modelName: string; deletedTime: Date }> {
    return this.deletedCustomModelRecords.map((m) => ({ modelArn: m.modelArn, modelName: m.modelName, deletedTime: m.deletedTime! }));
  }

  /** Moves a custom model's creation time `ageMs` into the past (for retention by age). */
  backdateCustomModel(arnOrName: string, ageMs: number): void {
    const model = this.findCustomModel(arnOrName);
    if (!model) throw new Error(`LocalBedrock.backdateCustomModel: no custom model '${arnOrName}'.`);
    model.creationTime = new Date(Date.now() - ageMs);
  }

  /** Ends an update of the model a Provisioned Throughput serves now (see {@link ModelUpdateScenario}). */
  finishModelUpdate(arnOrName: string, outcome: 'InService' | 'Failed' = 'InService', failureMessage = 'The update of the Provisioned Throughput failed.'): void {
    const record = this.findProvisioned(arnOrName);
    if (!record || record.status !== 'Updating') throw new Error(`LocalBedrock.finishModelUpdate: no Provisioned Throughput '${arnOrName}' is Updating.`);
    this.endModelUpdate(record, outcome, failureMessage);
  }

  /** Provisioned Throughputs that exist (not deleted). These bill by the hour in real AWS. */
  provisionedThroughputs(): ProvisionedThroughputView[] {
    return this.allProvisionedThroughputs().filter((p) => !p.deletedTime);
  }

  /** Every Provisioned Throughput ever created, including deleted ones. */
  allProvisionedThroughputs(): ProvisionedThroughputView[] {
    return [...this.provisionedRecords.values()].map((p) => ({
      provisionedModelArn: p.arn,
      provisionedModelName: p.name,
      modelArn: p.modelArn,
      modelUnits: p.modelUnits,
      status: p.status,
      commitmentDuration: p.commitmentDuration,
      creationTime: p.creationTime,
      deletedTime: p.deletedTime,
    }));
  }

  /**
   * Moves the creation time of a live Provisioned Throughput `age` milliseconds into the past,
   * as if it had been created then (for checks of how long one has existed).
   */
  backdateProvisionedThroughput(arnOrName: string, ageMs: number): ProvisionedThroughputView {
    const record = this.findProvisioned(arnOrName);
    if (!record) throw new Error(`LocalBedrock.backdateProvisionedThroughput: no live Provisioned Throughput '${arnOrName}'.`);
    const backdated: ProvisionedRecord = { ...record, creationTime: new Date(Date.now() - ageMs) };
    this.provisionedRecords.set(record.id, backdated);
    return this.allProvisionedThroughputs().find((p) => p.provisionedModelArn === record.arn)!;
  }

  /** Status and models of a live Provisioned Throughput (for the runtime stand-in); undefined when unknown or deleted. */
  provisionedThroughputStatus(arnOrName: string): { status: ProvisionedStatus; modelArn: string; foundationModelArn: string; customModelName?: string; commitmentDuration?: string } | undefined {
    const record = this.findProvisioned(arnOrName);
    if (!record) return undefined;
    return { status: record.status, modelArn: record.modelArn, foundationModelArn: record.foundationModelArn, customModelName: this.customModelRecords.get(record.modelArn)?.modelName, commitmentDuration: record.commitmentDuration };
  }

  /** Subscribes to job status changes (what Bedrock sends to EventBridge); returns an unsubscribe function. */
  onJobStateChange(listener: (event: JobStateChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Completes a running job now (checks data, writes metrics, creates the custom model unless checks fail). */
  completeJob(identifier: string, options: { epochs?: number } = {}): CustomizationJobView {
    const job = this.requireJob(identifier, 'completeJob');
    if (job.status !== 'InProgress') throw new Error(`LocalBedrock.completeJob: job ${job.jobName} is ${job.status}; only InProgress jobs can complete.`);
    this.complete(job, { ...this.effectiveJobScenario(job), ...(options.epochs !== undefined ? { epochs: options.epochs } : {}) });
    return this.viewOf(job);
  }

  /** Fails a running job now with `failureMessage`. */
  failJob(identifier: string, failureMessage = DEFAULT_FAILURE_MESSAGE): CustomizationJobView {
    const job = this.requireJob(identifier, 'failJob');
    if (job.status !== 'InProgress' && job.status !== 'Stopping') throw new Error(`LocalBedrock.failJob: job ${job.jobName} is ${job.status}; only running jobs can fail.`);
    this.fail(job, failureMessage, 'training');
    return this.viewOf(job);
  }

  /** Puts a Creating Provisioned Throughput in service now. */
  markInService(arnOrName: string): void {
    const record = this.findProvisioned(arnOrName);
    if (!record) throw new Error(`LocalBedrock.markInService: no Provisioned Throughput '${arnOrName}'.`);
    this.setProvisionedStatus(record, 'InService');
  }

  /** Fails a Provisioned Throughput now. */
  failProvisionedThroughput(arnOrName: string, failureMessage = 'Provisioning failed: insufficient capacity.'): void {
    const record = this.findProvisioned(arnOrName);
    if (!record) throw new Error(`LocalBedrock.failProvisionedThroughput: no Provisioned Throughput '${arnOrName}'.`);
    record.failureMessage = failureMessage;
    this.setProvisionedStatus(record, 'Failed');
  }

  // ---- fault injection -------------------------------------------------------------------

  /** Answers the next `times` matching requests with ThrottlingException (429). */
  throttleNext(times: FaultLength, options: { operation?: BedrockOperation; message?: string } = {}): void {
    this.injectError(times, 'ThrottlingException', options);
  }

  /**
   * A throttling storm: answers matching requests with Bedrock's throttling error, 429
   * ThrottlingException (restJson: `x-amzn-errortype` and `{"message"}`), which the SDK retries
   * as throttling, for `length`: a count, `'forever'`, or a wall-clock window `{ forMs }`.
   */
  throttle(length: FaultLength, options: { operation?: BedrockOperation; message?: string } = {}): void {
    this.injectError(length, 'ThrottlingException', options);
  }

  /** Answers matching requests with ServiceQuotaExceededException (default: CreateModelCustomizationJob, once). */
  quotaExceeded(options: { operation?: BedrockOperation; times?: FaultLength; message?: string } = {}): void {
    this.injectError(options.times ?? 1, 'ServiceQuotaExceededException', { operation: options.operation ?? 'CreateModelCustomizationJob', message: options.message });
  }

  /** Answers the next `times` matching requests with InternalServerException (500). */
  internalErrorNext(times: FaultLength, options: { operation?: BedrockOperation; message?: string } = {}): void {
    this.injectError(times, 'InternalServerException', options);
  }

  /** Answers matching requests with any Bedrock error type for `times`: a count, `'forever'` or `{ forMs }`. */
  injectError(times: FaultLength, type: string, options: { operation?: BedrockOperation; message?: string } = {}): void {
    this.faults.add(times, { status: ERROR_STATUS[type] ?? 400, code: type, message: options.message ?? DEFAULT_ERROR_MESSAGES[type] ?? type }, { operation: options.operation });
  }

  /** Removes every planned fault. */
  clearFaults(): void {
    this.faults.clear();
  }

  /** Delays every request by `ms` (benchmarks only). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Installs (or removes) an access check; a denied authorisation answers AccessDeniedException. */
  setAuthorizer(authorizer: Authorizer | undefined): void {
    this.authorizer = authorizer;
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private route(method: string, segments: string[]): { operation: BedrockOperation; id?: string } | undefined {
    const [collection, id, action] = segments;
    if (collection === 'model-customization-jobs') {
      if (segments.length === 1) return method === 'POST' ? { operation: 'CreateModelCustomizationJob' } : method === 'GET' ? { operation: 'ListModelCustomizationJobs' } : undefined;
      if (segments.length === 2 && method === 'GET') return { operation: 'GetModelCustomizationJob', id };
      if (segments.length === 3 && action === 'stop' && method === 'POST') return { operation: 'StopModelCustomizationJob', id };
    }
    if (collection === 'custom-models' && segments.length === 1 && method === 'GET') return { operation: 'ListCustomModels' };
    if (collection === 'custom-models' && segments.length === 2 && method === 'GET') return { operation: 'GetCustomModel', id };
    if (collection === 'custom-models' && segments.length === 2 && method === 'DELETE') return { operation: 'DeleteCustomModel', id };
    if (collection === 'provisioned-model-throughput') {
      if (segments.length === 1 && method === 'POST') return { operation: 'CreateProvisionedModelThroughput' };
      if (segments.length === 2 && method === 'GET') return { operation: 'GetProvisionedModelThroughput', id };
      if (segments.length === 2 && method === 'DELETE') return { operation: 'DeleteProvisionedModelThroughput', id };
      if (segments.length === 2 && method === 'PATCH') return { operation: 'UpdateProvisionedModelThroughput', id };
    }
    if (collection === 'provisioned-model-throughputs' && segments.length === 1 && method === 'GET') return { operation: 'ListProvisionedModelThroughputs' };
    if (collection === 'listTagsForResource' && segments.length === 1 && method === 'POST') return { operation: 'ListTagsForResource' };
    if (collection === 'tagResource' && segments.length === 1 && method === 'POST') return { operation: 'TagResource' };
    return undefined;
  }

  private async handle(req: StandInRequest, res: StandInResponse): Promise<void> {
    const requestId = newRequestId();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const principal = principalOf(req, url.searchParams);
    // Split before decoding: identifiers are ARNs whose '/' the SDK sends as %2F.
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const raw = await readBody(req);
    const route = this.route(req.method ?? 'GET', segments);

    let status = 200;
    let payload: unknown = {};
    let errorType: string | undefined;
    let authorizations: Authorization[] = [];
    try {
      if (!route) throw new BedrockError('UnknownOperationException', `LocalBedrock does not implement ${req.method} ${url.pathname}; add the operation to test/support/local-bedrock.ts.`);
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      let body: JsonObject = {};
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8')) as JsonObject;
        } catch {
          throw new BedrockError('SerializationException', 'The request body is not valid JSON.');
        }
      }
      authorizations = this.authorizationsFor(route.operation, route.id, body);
      const fault = this.faults.take(route.operation);
      if (fault) throw new BedrockError(fault.code, fault.message ?? fault.code);
      for (const auth of authorizations) this.authorize(principal, auth);
      [status, payload] = this.dispatch(route.operation, route.id, body, url.searchParams);
    } catch (err) {
      if (!(err instanceof BedrockError)) throw err;
      status = err.status;
      errorType = err.type;
      payload = { message: err.message };
    }

    const operation = route?.operation ?? 'Unknown';
    const logged = authorizations.length > 0 ? authorizations : [{ action: `bedrock:${operation}`, resources: ['*'] }];
    for (const auth of logged) {
      const service = auth.action.split(':')[0];
      this.callLog.record({ requestId, service, operation, action: auth.action, resources: auth.resources, status, errorCode: errorType, principal });
    }
    sendJson(res, { status, payload, requestId, contentType: 'application/json', errorType: errorType ? `${errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/` : undefined });
  }

  private authorize(principal: string, auth: Authorization): void {
    if (!this.authorizer || this.authorizer({ principal, action: auth.action, resources: auth.resources })) return;
    throw new BedrockError(
      'AccessDeniedException',
      `User: ${principal} is not authorized to perform: ${auth.action} on resource: ${auth.resources.join(', ')} because no identity-based policy allows the ${auth.action} action`,
    );
  }

  /**
   * The IAM authorisations each operation needs. Resource types follow the Service
   * Authorization Reference for Amazon Bedrock (and what aws-cdk-lib's Step Functions task
   * grants for CreateModelCustomizationJob: the foundation model, custom-model and
   * model-customization-job); Create also needs iam:PassRole on the service role.
   */
  private authorizationsFor(operation: BedrockOperation, id: string | undefined, body: JsonObject): Authorization[] {
    const action = `bedrock:${operation}`;
    switch (operation) {
      case 'CreateModelCustomizationJob': {
        const base = typeof body.baseModelIdentifier === 'string' ? foundationModelIdOf(body.baseModelIdentifier) : '*';
        const replay = typeof body.clientRequestToken === 'string' ? this.jobTokens.get(body.clientRequestToken) : undefined;
        const replayed = replay && this.jobRecords.get(replay.jobId);
        const jobArn = replayed?.jobArn ?? customizationJobArn(this.scope, base, this.pendingJobId());
        const modelArn = replayed?.plannedModelArn ?? customModelArn(this.scope, base, this.pendingCustomModelId());
        const auths: Authorization[] = [{ action, resources: [foundationModelArn(this.scope, base), modelArn, jobArn] }];
        if (typeof body.roleArn === 'string') auths.push({ action: 'iam:PassRole', resources: [body.roleArn] });
        const tagged = [Array.isArray(body.jobTags) && body.jobTags.length > 0 ? jobArn : undefined, Array.isArray(body.customModelTags) && body.customModelTags.length > 0 ? modelArn : undefined];
        const tagResources = tagged.filter((r): r is string => r !== undefined);
        if (tagResources.length > 0) auths.push({ action: 'bedrock:TagResource', resources: tagResources });
        return auths;
      }
      case 'GetModelCustomizationJob':
      case 'StopModelCustomizationJob': {
        const job = this.findJob(id ?? '');
        return [{ action, resources: [job?.jobArn ?? (id?.startsWith('arn:') ? id : `arn:aws:bedrock:${this.scope.region}:${this.scope.accountId}:model-customization-job/${id}`)] }];
      }
      case 'GetCustomModel':
      case 'DeleteCustomModel': {
        const model = this.findCustomModel(id ?? '');
        return [{ action, resources: [model?.modelArn ?? (id?.startsWith('arn:') ? id : `arn:aws:bedrock:${this.scope.region}:${this.scope.accountId}:custom-model/${id}`)] }];
      }
      case 'CreateProvisionedModelThroughput': {
        const target = typeof body.modelId === 'string' ? this.resolveModelForThroughput(body.modelId) : undefined;
        const auths: Authorization[] = [{ action, resources: [target?.modelArn ?? String(body.modelId ?? '*')] }];
        if (Array.isArray(body.tags) && body.tags.length > 0) auths.push({ action: 'bedrock:TagResource', resources: [provisionedModelArn(this.scope, this.pendingProvisionedId())] });
        return auths;
      }
      case 'GetProvisionedModelThroughput':
      case 'DeleteProvisionedModelThroughput': {
        const record = this.findProvisioned(id ?? '');
        return [{ action, resources: [record?.arn ?? (id?.startsWith('arn:') ? id : provisionedModelArn(this.scope, id ?? ''))] }];
      }
      case 'UpdateProvisionedModelThroughput': {
        // The Provisioned Throughput, and the model it is pointed at (custom-model is a resource of this action).
        const record = this.findProvisioned(id ?? '');
        const resources = [record?.arn ?? (id?.startsWith('arn:') ? id : provisionedModelArn(this.scope, id ?? ''))];
        if (typeof body.desiredModelId === 'string') resources.push(this.findCustomModel(body.desiredModelId)?.modelArn ?? body.desiredModelId);
        return [{ action, resources }];
      }
      case 'ListModelCustomizationJobs':
      case 'ListProvisionedModelThroughputs':
      case 'ListCustomModels':
        return [{ action, resources: ['*'] }];
      case 'ListTagsForResource':
      case 'TagResource':
        return [{ action, resources: [String(body.resourceARN ?? '*')] }];
    }
  }

  /** The id the next job will get. */
  private pendingJobId(): string {
    this.nextJobId ??= newResourceId();
    return this.nextJobId;
  }

  private pendingCustomModelId(): string {
    this.nextCustomModelId ??= newResourceId();
    return this.nextCustomModelId;
  }

  private pendingProvisionedId(): string {
    this.nextProvisionedId ??= newResourceId();
    return this.nextProvisionedId;
  }

  private dispatch(operation: BedrockOperation, id: string | undefined, body: JsonObject, query: URLSearchParams): [number, unknown] {
    switch (operation) {
      case 'CreateModelCustomizationJob':
        return this.createJob(body);
      case 'GetModelCustomizationJob':
        return [200, this.getJob(id!)];
      case 'StopModelCustomizationJob':
        return [200, this.stopJob(id!)];
      case 'ListModelCustomizationJobs':
        return [200, this.listJobs(query)];
      case 'GetCustomModel':
        return [200, this.getCustomModel(id!)];
      case 'ListCustomModels':
        return [200, this.listCustomModels(query)];
      case 'DeleteCustomModel':
        return [200, this.deleteCustomModel(id!)];
      case 'UpdateProvisionedModelThroughput':
        return [200, this.updateProvisioned(id!, body)];
      case 'CreateProvisionedModelThroughput':
        return this.createProvisioned(body);
      case 'GetProvisionedModelThroughput':
        return [200, this.getProvisioned(id!)];
      case 'DeleteProvisionedModelThroughput':
        return [200, this.deleteProvisioned(id!)];
      case 'ListProvisionedModelThroughputs':
        return [200, this.listProvisioned(query)];
      case 'ListTagsForResource':
        return [200, this.listTags(body)];
      case 'TagResource':
        return [200, this.tagResource(body)];
    }
  }

  // ---- customization jobs ----------------------------------------------------------------

  private findJob(identifier: string): JobRecord | undefined {
    const id = resourceIdOf(identifier);
    return this.jobRecords.get(id) ?? [...this.jobRecords.values()].find((j) => j.jobName === identifier || j.jobArn === identifier);
  }

  private requireJob(identifier: string, method: string): JobRecord {
    const job = this.findJob(identifier);
    if (!job) throw new Error(`LocalBedrock.${method}: no job '${identifier}'. Known jobs: ${[...this.jobRecords.values()].map((j) => j.jobName).join(', ') || 'none'}.`);
    return job;
  }

  private effectiveJobScenario(job: JobRecord): Required<Omit<JobScenario, 'epochs' | 'failureMessage'>> & Pick<JobScenario, 'epochs' | 'failureMessage'> {
    const merged = { ...this.scenario.job, ...this.scenario.jobsByName?.[job.jobName] };
    return {
      outcome: merged.outcome ?? 'Completed',
      afterPolls: merged.afterPolls ?? 2,
      failureMessage: merged.failureMessage,
      epochs: merged.epochs,
      stepsPerEpoch: merged.stepsPerEpoch ?? 10,
      stopAfterPolls: merged.stopAfterPolls ?? 1,
      checkData: merged.checkData ?? this.s3 !== undefined,
    };
  }

  private createJob(body: JsonObject): [number, unknown] {
    let accepted;
    try {
      accepted = checkCustomizationJobRequest(body);
    } catch (err) {
      if (err instanceof RequestRuleError) throw new BedrockError('ValidationException', err.message);
      throw err;
    }
    const token = body.clientRequestToken as string | undefined;
    const print = fingerprint(body);
    if (token !== undefined) {
      const previous = this.jobTokens.get(token);
      if (previous && previous.fingerprint === print) return [201, { jobArn: this.jobRecords.get(previous.jobId)!.jobArn }];
      if (previous) throw new BedrockError('ConflictException', `The clientRequestToken ${token} was already used for a different CreateModelCustomizationJob request. Use a new token for a new request.`);
    }
    const jobName = body.jobName as string;
    const customModelName = body.customModelName as string;
    if ([...this.jobRecords.values()].some((j) => j.jobName === jobName)) {
      throw new BedrockError(this.duplicateJobNameError, `The provided job name is currently in use: a model customization job named '${jobName}' already exists. Choose a unique jobName.`);
    }
    const modelNameTaken =
      [...this.customModelRecords.values()].some((m) => m.modelName === customModelName) ||
      [...this.jobRecords.values()].some((j) => j.customModelName === customModelName && (j.status === 'InProgress' || j.status === 'Stopping'));
    if (modelNameTaken) throw new BedrockError('ValidationException', `The provided custom model name is currently in use: '${customModelName}'. Choose a unique customModelName.`);
    const running = [...this.jobRecords.values()].filter((j) => j.status === 'InProgress' || j.status === 'Stopping').length;
    if (this.scenario.maxConcurrentJobs !== undefined && running >= this.scenario.maxConcurrentJobs) {
      throw new BedrockError('ServiceQuotaExceededException', `The number of concurrent model customization jobs (${running}) has reached the account quota of ${this.scenario.maxConcurrentJobs}. Wait for a job to finish or request a quota increase.`);
    }

    const jobId = this.pendingJobId();
    const modelId = this.pendingCustomModelId();
    this.nextJobId = undefined;
    this.nextCustomModelId = undefined;
    const now = new Date();
    const job: JobRecord = {
      jobId,
      jobArn: customizationJobArn(this.scope, accepted.model.baseModelIdentifier, jobId),
      plannedModelArn: customModelArn(this.scope, accepted.model.baseModelIdentifier, modelId),
      request: body,
      jobName,
      customModelName,
      roleArn: body.roleArn as string,
      baseModelIdentifier: accepted.model.baseModelIdentifier,
      baseModelArn: foundationModelArn(this.scope, accepted.model.baseModelIdentifier),
      hyperParameters: accepted.hyperParameters,
      validatorUris: accepted.validatorUris,
      clientRequestToken: token,
      creationTime: now,
      status: 'InProgress',
      lastModifiedTime: now,
      polls: 0,
      stopPolls: 0,
    };
    this.jobRecords.set(jobId, job);
    // The custom model's tags wait under its planned ARN until the job creates it.
    this.addTags(job.jobArn, body.jobTags);
    this.addTags(job.plannedModelArn, body.customModelTags);
    if (token !== undefined) this.jobTokens.set(token, { fingerprint: print, jobId });
    this.emit(job);
    return [201, { jobArn: job.jobArn }];
  }

  private getJob(identifier: string): unknown {
    const job = this.findJob(identifier);
    if (!job) throw new BedrockError('ResourceNotFoundException', `Could not find model customization job ${identifier}.`);
    job.polls += 1;
    const scenario = this.effectiveJobScenario(job);
    if (job.status === 'InProgress' && scenario.afterPolls !== 'manual' && job.polls > scenario.afterPolls) {
      if (scenario.outcome === 'Completed') this.complete(job, scenario);
      else this.fail(job, scenario.failureMessage ?? DEFAULT_FAILURE_MESSAGE, 'training');
    } else if (job.status === 'Stopping') {
      job.stopPolls += 1;
      if (job.stopPolls > scenario.stopAfterPolls) this.setJobStatus(job, 'Stopped');
    }
    return this.describeJob(job);
  }

  private stopJob(identifier: string): unknown {
    const job = this.findJob(identifier);
    if (!job) throw new BedrockError('ResourceNotFoundException', `Could not find model customization job ${identifier}.`);
    if (job.status !== 'InProgress') {
      throw new BedrockError('ConflictException', `Model customization job ${job.jobName} is ${job.status} and cannot be stopped; only InProgress jobs can be stopped.`);
    }
    this.setJobStatus(job, 'Stopping');
    return {};
  }

  private listJobs(query: URLSearchParams): unknown {
    const statusEquals = query.get('statusEquals');
    const nameContains = query.get('nameContains');
    const after = query.get('creationTimeAfter');
    const before = query.get('creationTimeBefore');
    let jobs = [...this.jobRecords.values()].filter(
      (j) =>
        (!statusEquals || j.status === statusEquals) &&
        (!nameContains || j.jobName.includes(nameContains)) &&
        (!after || j.creationTime > new Date(after)) &&
        (!before || j.creationTime < new Date(before)),
    );
    jobs = jobs.sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime() || a.jobName.localeCompare(b.jobName));
    if ((query.get('sortOrder') ?? 'Descending') === 'Descending') jobs.reverse();
    const { page, nextToken } = this.paginate(jobs, query);
    return {
      nextToken,
      modelCustomizationJobSummaries: page.map((j) => ({
        jobArn: j.jobArn,
        baseModelArn: j.baseModelArn,
        jobName: j.jobName,
        status: j.status,
        statusDetails: this.statusDetails(j),
        lastModifiedTime: iso(j.lastModifiedTime),
        creationTime: iso(j.creationTime),
        endTime: iso(j.endTime),
        customModelArn: j.outputModelArn,
        customModelName: j.customModelName,
        customizationType: 'FINE_TUNING',
      })),
    };
  }

  private paginate<T>(items: T[], query: URLSearchParams): { page: T[]; nextToken?: string } {
    const maxResults = Math.min(Math.max(Number(query.get('maxResults') ?? 100) || 100, 1), 1000);
    const token = query.get('nextToken');
    const offset = token ? Number(Buffer.from(token, 'base64').toString('utf8').replace(/^offset:/, '')) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new BedrockError('ValidationException', `Invalid nextToken '${token}'.`);
    const page = items.slice(offset, offset + maxResults);
    const next = offset + page.length;
    return { page, nextToken: next < items.length ? Buffer.from(`offset:${next}`, 'utf8').toString('base64') : undefined };
  }

  private statusDetails(job: JobRecord): unknown {
    const at = { creationTime: iso(job.creationTime), lastModifiedTime: iso(job.lastModifiedTime) };
    const training: Record<JobStatus, string> = { InProgress: 'InProgress', Completed: 'Completed', Failed: 'Failed', Stopping: 'Stopping', Stopped: 'Stopped' };
    if (job.status === 'Failed' && job.failedPhase === 'validation') {
      return { validationDetails: { status: 'Failed', ...at }, dataProcessingDetails: { status: 'NotStarted', ...at }, trainingDetails: { status: 'NotStarted', ...at } };
    }
    return {
      validationDetails: { status: 'Completed', ...at },
      dataProcessingDetails: { status: 'Completed', ...at },
      trainingDetails: { status: training[job.status], ...at },
    };
  }

  private describeJob(job: JobRecord): unknown {
    const request = job.request;
    return {
      jobArn: job.jobArn,
      jobName: job.jobName,
      outputModelName: job.customModelName,
      outputModelArn: job.outputModelArn,
      clientRequestToken: job.clientRequestToken,
      roleArn: job.roleArn,
      status: job.status,
      statusDetails: this.statusDetails(job),
      failureMessage: job.failureMessage,
      creationTime: iso(job.creationTime),
      lastModifiedTime: iso(job.lastModifiedTime),
      endTime: iso(job.endTime),
      baseModelArn: job.baseModelArn,
      hyperParameters: job.hyperParameters,
      trainingDataConfig: request.trainingDataConfig,
      validationDataConfig: request.validationDataConfig,
      outputDataConfig: request.outputDataConfig,
      customizationType: 'FINE_TUNING',
      outputModelKmsKeyArn: request.customModelKmsKeyId,
      trainingMetrics: job.trainingLoss !== undefined ? { trainingLoss: job.trainingLoss } : undefined,
      validationMetrics: job.validationLosses?.map((validationLoss) => ({ validationLoss })),
      vpcConfig: request.vpcConfig,
    };
  }

  private viewOf(job: JobRecord): CustomizationJobView {
    const output = (job.request.outputDataConfig as JsonObject).s3Uri as string;
    return {
      jobArn: job.jobArn,
      jobId: job.jobId,
      jobName: job.jobName,
      customModelName: job.customModelName,
      status: job.status,
      roleArn: job.roleArn,
      baseModelIdentifier: job.baseModelIdentifier,
      hyperParameters: { ...job.hyperParameters },
      trainingDataUri: (job.request.trainingDataConfig as JsonObject).s3Uri as string,
      validationDataUris: [...job.validatorUris],
      outputDataUri: output,
      outputFolderUri: `${joinS3(output, `model-customization-job-${job.jobId}`)}/`,
      clientRequestToken: job.clientRequestToken,
      outputModelArn: job.outputModelArn,
      failureMessage: job.failureMessage,
      polls: job.polls,
      creationTime: job.creationTime,
      endTime: job.endTime,
    };
  }

  private setJobStatus(job: JobRecord, status: JobStatus): void {
    job.status = status;
    job.lastModifiedTime = new Date();
    if (status === 'Completed' || status === 'Failed' || status === 'Stopped') job.endTime = job.lastModifiedTime;
    this.emit(job);
  }

  private emit(job: JobRecord): void {
    const event: JobStateChangeEvent = {
      source: 'aws.bedrock',
      'detail-type': 'Model Customization Job State Change',
      account: this.scope.accountId,
      region: this.scope.region,
      time: new Date().toISOString(),
      resources: [job.jobArn],
      detail: {
        jobArn: job.jobArn,
        jobName: job.jobName,
        jobStatus: job.status,
        outputModelArn: job.outputModelArn,
        outputModelName: job.status === 'Completed' ? job.customModelName : undefined,
        failureMessage: job.failureMessage,
      },
    };
    for (const listener of this.listeners) listener(event);
  }

  private fail(job: JobRecord, message: string, phase: 'validation' | 'training'): void {
    job.failureMessage = message;
    job.failedPhase = phase;
    this.setJobStatus(job, 'Failed');
  }

  /** Counts records of a JSONL dataset and checks what Bedrock checks; returns a failure message or the count. */
  private inspectDataset(job: JobRecord, uri: string, role: string): { records: number } | { failure: string } {
    const s3 = this.s3!;
    const { bucket, key } = splitS3Uri(uri);
    const listing = s3.listAsPrincipal(role, bucket, key);
    if (listing.outcome === 'denied') return { failure: `Amazon Bedrock could not access ${uri}: the service role ${role} is not allowed s3:ListBucket on arn:aws:s3:::${bucket}. Grant it and retry.` };
    if (listing.outcome === 'no-bucket') return { failure: `The S3 bucket ${bucket} given in ${uri} does not exist.` };
    const files = key === '' || key.endsWith('/') ? (listing.outcome === 'ok' ? listing.value.filter((k) => k.endsWith('.jsonl')) : []) : [key];
    if (files.length === 0) return { failure: `No .jsonl files found under ${uri}.` };
    let records = 0;
    for (const file of files) {
      const read = s3.readAsPrincipal(role, bucket, file);
      if (read.outcome === 'denied') return { failure: `Amazon Bedrock could not read s3://${bucket}/${file}: the service role ${role} is not allowed s3:GetObject on it.` };
      if (read.outcome !== 'ok') return { failure: `The data file s3://${bucket}/${file} does not exist. Upload it or fix the S3 URI of job ${job.jobName}.` };
      const lines = read.value.toString('utf8').split('\n');
      for (let index = 0; index < lines.length; index++) {
        if (lines[index].trim() === '') continue;
        let record: unknown;
        try {
          record = JSON.parse(lines[index]);
        } catch {
          return { failure: `Malformed JSON on line ${index + 1} of s3://${bucket}/${file}. Each line must be one JSON record.` };
        }
        records += 1;
        for (const imageUri of referencedS3Uris(record)) {
          let image;
          try {
            image = splitS3Uri(imageUri);
          } catch {
            return { failure: `Line ${index + 1} of s3://${bucket}/${file} references '${imageUri}', which is not an S3 URI.` };
          }
          const imageRead = s3.readAsPrincipal(role, image.bucket, image.key);
          if (imageRead.outcome === 'denied') return { failure: `Amazon Bedrock could not read image ${imageUri} (line ${index + 1} of s3://${bucket}/${file}): the service role is not allowed s3:GetObject on it.` };
          if (imageRead.outcome !== 'ok') return { failure: `Image ${imageUri} referenced on line ${index + 1} of s3://${bucket}/${file} does not exist.` };
        }
      }
    }
    return { records };
  }

  private complete(job: JobRecord, scenario: ReturnType<LocalBedrock['effectiveJobScenario']>): void {
    const outputUri = (job.request.outputDataConfig as JsonObject).s3Uri as string;
    const trainingUri = (job.request.trainingDataConfig as JsonObject).s3Uri as string;
    let stepsPerEpoch = scenario.stepsPerEpoch;

    if (this.s3 && scenario.checkData) {
      const training = this.inspectDataset(job, trainingUri, job.roleArn);
      if ('failure' in training) return this.fail(job, training.failure, 'validation');
      let validationRecords = 0;
      for (const uri of job.validatorUris) {
        const validation = this.inspectDataset(job, uri, job.roleArn);
        if ('failure' in validation) return this.fail(job, validation.failure, 'validation');
        validationRecords += validation.records;
      }
      const total = training.records + validationRecords;
      if (total < DATASET_LIMITS.minRecords || total > DATASET_LIMITS.maxRecords) {
        return this.fail(
          job,
          `The training and validation data together have ${total} records; ${job.baseModelIdentifier} needs between ${DATASET_LIMITS.minRecords} and ${DATASET_LIMITS.maxRecords}.`,
          'validation',
        );
      }
      const { bucket } = splitS3Uri(outputUri);
      const outputAccess = this.s3.listAsPrincipal(job.roleArn, bucket);
      if (outputAccess.outcome !== 'ok') {
        return this.fail(job, `Amazon Bedrock could not access the output location ${outputUri} (${outputAccess.outcome === 'denied' ? `the service role ${job.roleArn} is not allowed s3:ListBucket` : 'the bucket does not exist'}).`, 'validation');
      }
      stepsPerEpoch = Math.max(1, training.records / Number(job.hyperParameters.batchSize ?? '1'));
    }

    const epochs = scenario.epochs ?? Number(job.hyperParameters.epochCount);
    const metrics = simulateTraining({ seed: job.jobId, epochs, stepsPerEpoch: Math.ceil(stepsPerEpoch), withValidation: job.validatorUris.length > 0 });
    if (this.s3) {
      const folder = splitS3Uri(joinS3(outputUri, `model-customization-job-${job.jobId}`));
      const files: Array<[string, string]> = [[`${folder.key}/training_artifacts/step_wise_training_metrics.csv`, metrics.trainingCsv]];
      if (metrics.validationCsv) files.push([`${folder.key}/validation_artifacts/post_fine_tuning_validation/validation_metrics.csv`, metrics.validationCsv]);
      for (const [key, csv] of files) {
        const written = this.s3.writeAsPrincipal(job.roleArn, folder.bucket, key, csv, 'text/csv');
        if (written.outcome !== 'ok') {
          return this.fail(job, `Amazon Bedrock could not write s3://${folder.bucket}/${key} (${written.outcome === 'denied' ? `the service role ${job.roleArn} is not allowed s3:PutObject` : 'the bucket does not exist'}).`, 'training');
        }
      }
    }

    const modelArn = job.plannedModelArn;
    job.outputModelArn = modelArn;
    job.trainingLoss = metrics.finalTrainingLoss;
    job.validationLosses = metrics.finalValidationLoss !== undefined ? job.validatorUris.map(() => metrics.finalValidationLoss!) : undefined;
    this.customModelRecords.set(modelArn, { modelArn, modelName: job.customModelName, job, creationTime: new Date() });
    this.setJobStatus(job, 'Completed');
  }

  // ---- custom models ---------------------------------------------------------------------

  private findCustomModel(identifier: string): CustomModelRecord | undefined {
    return this.customModelRecords.get(identifier) ?? [...this.customModelRecords.values()].find((m) => m.modelName === identifier || resourceIdOf(m.modelArn) === identifier);
  }

  private getCustomModel(identifier: string): unknown {
    const model = this.findCustomModel(identifier);
    if (!model) throw new BedrockError('ResourceNotFoundException', `Could not find custom model ${identifier}.`);
    const job = model.job;
    return {
      modelArn: model.modelArn,
      modelName: model.modelName,
      jobName: job.jobName,
      jobArn: job.jobArn,
      baseModelArn: job.baseModelArn,
      customizationType: 'FINE_TUNING',
      modelKmsKeyArn: job.request.customModelKmsKeyId,
      hyperParameters: job.hyperParameters,
      trainingDataConfig: job.request.trainingDataConfig,
      validationDataConfig: job.request.validationDataConfig,
      outputDataConfig: job.request.outputDataConfig,
      trainingMetrics: job.trainingLoss !== undefined ? { trainingLoss: job.trainingLoss } : undefined,
      validationMetrics: job.validationLosses?.map((validationLoss) => ({ validationLoss })),
      creationTime: iso(model.creationTime),
      modelStatus: 'Active',
    };
  }

  // ---- Provisioned Throughput ------------------------------------------------------------

  private resolveModelForThroughput(modelId: string): { modelArn: string; foundationModelArn: string } | undefined {
    const custom = this.findCustomModel(modelId);
    if (custom) return { modelArn: custom.modelArn, foundationModelArn: custom.job.baseModelArn };
    const wanted = foundationModelIdOf(modelId);
    const base = LLAMA_MODELS.find((m) => m.foundationModelId === wanted || m.baseModelIdentifier === wanted);
    if (base) {
      const arn = foundationModelArn(this.scope, wanted);
      return { modelArn: arn, foundationModelArn: arn };
    }
    return undefined;
  }

  private findProvisioned(identifier: string): ProvisionedRecord | undefined {
    const live = [...this.provisionedRecords.values()].filter((p) => !p.deletedTime);
    return live.find((p) => p.arn === identifier || p.id === identifier || p.name === identifier);
  }

  private setProvisionedStatus(record: ProvisionedRecord, status: ProvisionedStatus): void {
    record.status = status;
    record.lastModifiedTime = new Date();
  }

  private createProvisioned(body: JsonObject): [number, unknown] {
    try {
      checkProvisionedThroughputRequest(body);
    } catch (err) {
      if (err instanceof RequestRuleError) throw new BedrockError('ValidationException', err.message);
      throw err;
    }
    const token = body.clientRequestToken as string | undefined;
    const print = fingerprint(body);
    const replay = token !== undefined ? [...this.provisionedRecords.values()].find((p) => p.clientRequestToken === token) : undefined;
    if (replay && replay.fingerprint === print) return [201, { provisionedModelArn: replay.arn }];
    if (replay) throw new BedrockError('ValidationException', `The clientRequestToken ${token} was already used for a different CreateProvisionedModelThroughput request.`);
    const name = body.provisionedModelName as string;
    if (this.findProvisioned(name)) throw new BedrockError('ValidationException', `A Provisioned Throughput named '${name}' already exists. Choose a unique provisionedModelName.`);
    const target = this.resolveModelForThroughput(body.modelId as string);
    if (!target) throw new BedrockError('ResourceNotFoundException', `The model ${String(body.modelId)} was not found. Use the ARN or name of a custom model, or a Llama 3.2 foundation model id.`);

    const id = this.pendingProvisionedId();
    this.nextProvisionedId = undefined;
    const now = new Date();
    const commitment = body.commitmentDuration as string | undefined;
    const months = commitment === 'OneMonth' ? 1 : commitment === 'SixMonths' ? 6 : 0;
    const record: ProvisionedRecord = {
      id,
      arn: provisionedModelArn(this.scope, id),
      name,
      modelArn: target.modelArn,
      desiredModelArn: target.modelArn,
      updatePolls: 0,
      foundationModelArn: target.foundationModelArn,
      modelUnits: body.modelUnits as number,
      commitmentDuration: commitment,
      commitmentExpirationTime: months > 0 ? new Date(now.getTime() + months * 30 * 24 * 3600 * 1000) : undefined,
      clientRequestToken: token,
      fingerprint: print,
      creationTime: now,
      status: 'Creating',
      lastModifiedTime: now,
      polls: 0,
      tags: Array.isArray(body.tags) ? (body.tags as Array<{ key: string; value: string }>).map(({ key, value }) => ({ key, value })) : [],
    };
    this.provisionedRecords.set(id, record);
    this.addTags(record.arn, record.tags);
    return [201, { provisionedModelArn: record.arn }];
  }

  private getProvisioned(identifier: string): unknown {
    const record = this.findProvisioned(identifier);
    if (!record) throw new BedrockError('ResourceNotFoundException', `Could not find Provisioned Throughput ${identifier}.`);
    record.polls += 1;
    if (record.status === 'Updating') {
      record.updatePolls += 1;
      const update = this.scenario.modelUpdate ?? {};
      const afterPolls = update.afterPolls ?? 1;
      if (afterPolls !== 'manual' && record.updatePolls > afterPolls) this.endModelUpdate(record, update.outcome ?? 'InService', update.failureMessage ?? 'The update of the Provisioned Throughput failed.');
      return this.describeProvisioned(record);
    }
    const scenario = this.scenario.provisionedThroughput ?? {};
    const afterPolls = scenario.afterPolls ?? 1;
    if (record.status === 'Creating' && afterPolls !== 'manual' && record.polls > afterPolls) {
      if ((scenario.outcome ?? 'InService') === 'InService') this.setProvisionedStatus(record, 'InService');
      else {
        record.failureMessage = scenario.failureMessage ?? 'Provisioning failed: insufficient capacity for the requested model units.';
        this.setProvisionedStatus(record, 'Failed');
      }
    }
    return this.describeProvisioned(record);
  }

  private describeProvisioned(record: ProvisionedRecord): JsonObject {
    return {
      modelUnits: record.modelUnits,
      desiredModelUnits: record.modelUnits,
      provisionedModelName: record.name,
      provisionedModelArn: record.arn,
      modelArn: record.modelArn,
      desiredModelArn: record.desiredModelArn,
      foundationModelArn: record.foundationModelArn,
      status: record.status,
      creationTime: iso(record.creationTime),
      lastModifiedTime: iso(record.lastModifiedTime),
      failureMessage: record.failureMessage,
      commitmentDuration: record.commitmentDuration,
      commitmentExpirationTime: iso(record.commitmentExpirationTime),
    };
  }

  private deleteProvisioned(identifier: string): unknown {
    const record = this.findProvisioned(identifier);
    if (!record) throw new BedrockError('ResourceNotFoundException', `Could not find Provisioned Throughput ${identifier}.`);
    record.deletedTime = new Date();
    return {};
  }

  private listProvisioned(query: URLSearchParams): unknown {
    const statusEquals = query.get('statusEquals');
    const nameContains = query.get('nameContains');
    const modelArnEquals = query.get('modelArnEquals');
    let records = [...this.provisionedRecords.values()].filter(
      (p) => !p.deletedTime && (!statusEquals || p.status === statusEquals) && (!nameContains || p.name.includes(nameContains)) && (!modelArnEquals || p.modelArn === modelArnEquals),
    );
    records = records.sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime() || a.name.localeCompare(b.name));
    if ((query.get('sortOrder') ?? 'Descending') === 'Descending') records.reverse();
    const { page, nextToken } = this.paginate(records, query);
    return {
      nextToken,
      provisionedModelSummaries: page.map((p) => this.describeProvisioned(p)),
    };
  }

  /**
   * UpdateProvisionedModelThroughput: a new name and/or a new model. Bedrock's rules on the model
   * (API reference, desiredModelId): not for a Provisioned Throughput of a base model; for one
   * of a custom model, the base model it was customized from or another custom model of the
   * same base model. The update runs while it keeps serving the previous model (Updating).
   */
  private updateProvisioned(identifier: string, body: JsonObject): unknown {
    const record = this.findProvisioned(identifier);
    if (!record) throw new BedrockError('ResourceNotFoundException', `Could not find Provisioned Throughput ${identifier}.`);
    if (record.status !== 'InService') throw new BedrockError('ConflictException', `Provisioned Throughput ${record.name} is ${record.status}; only an InService Provisioned Throughput can be updated.`);
    const name = body.desiredProvisionedModelName;
    if (name !== undefined) {
      if (typeof name !== 'string' || !/^([0-9a-zA-Z][_-]?)+$/.test(name) || name.length > 63) throw new BedrockError('ValidationException', `desiredProvisionedModelName '${String(name)}' does not match ([0-9a-zA-Z][_-]?)+ (1-63).`);
      if (this.findProvisioned(name) && this.findProvisioned(name) !== record) throw new BedrockError('ValidationException', `A Provisioned Throughput named '${name}' already exists.`);
      (record as { name: string }).name = name;
    }
    const desired = body.desiredModelId;
    if (desired === undefined) return {};
    if (typeof desired !== 'string' || desired.length < 1 || desired.length > 2048) throw new BedrockError('ValidationException', 'desiredModelId must be 1-2048 characters.');
    if (record.modelArn === record.foundationModelArn) {
      throw new BedrockError('ValidationException', `Provisioned Throughput ${record.name} is associated with a base model; its model cannot be changed.`);
    }
    const target = this.resolveModelForThroughput(desired);
    if (!target) throw new BedrockError('ResourceNotFoundException', `The model ${desired} was not found.`);
    if (target.foundationModelArn !== record.foundationModelArn) {
      throw new BedrockError(
        'ValidationException',
        `The model ${desired} was not customized from ${record.foundationModelArn}, the base model of Provisioned Throughput ${record.name}; it can only be pointed at that base model or at a custom model of it.`,
      );
    }
    record.desiredModelArn = target.modelArn;
    record.updatePolls = 0;
    this.setProvisionedStatus(record, 'Updating');
    return {};
  }

  /** Ends an update: InService serving the desired model, or Failed still serving the previous one. */
  private endModelUpdate(record: ProvisionedRecord, outcome: 'InService' | 'Failed', failureMessage: string): void {
    if (outcome === 'InService') {
      record.modelArn = record.desiredModelArn;
      record.failureMessage = undefined;
    } else {
      record.desiredModelArn = record.modelArn;
      record.failureMessage = failureMessage;
    }
    this.setProvisionedStatus(record, outcome);
  }

  /** ListCustomModels: the account's custom models (filters, sort by creation time, pagination). */
  private listCustomModels(query: URLSearchParams): unknown {
    const nameContains = query.get('nameContains');
    const baseModelArnEquals = query.get('baseModelArnEquals');
    const after = query.get('creationTimeAfter');
    const before = query.get('creationTimeBefore');
    let models = [...this.customModelRecords.values()].filter(
      (m) =>
        (!nameContains || m.modelName.includes(nameContains)) &&
        (!baseModelArnEquals || m.job.baseModelArn === baseModelArnEquals) &&
        (!after || m.creationTime > new Date(after)) &&
        (!before || m.creationTime < new Date(before)),
    );
    models = models.sort((a, b) => a.creationTime.getTime() - b.creationTime.getTime() || a.modelName.localeCompare(b.modelName));
    if ((query.get('sortOrder') ?? 'Descending') === 'Descending') models.reverse();
    const { page, nextToken } = this.paginate(models, query);
    return {
      nextToken,
      modelSummaries: page.map((m) => ({
        modelArn: m.modelArn,
        modelName: m.modelName,
        creationTime: iso(m.creationTime),
        baseModelArn: m.job.baseModelArn,
        baseModelName: foundationModelIdOf(m.job.baseModelIdentifier),
        customizationType: 'FINE_TUNING',
        ownerAccountId: this.scope.accountId,
        modelStatus: 'Active',
      })),
    };
  }

  /**
   * DeleteCustomModel. A model a live Provisioned Throughput serves (or is being moved to) is
   * refused with ConflictException: Bedrock documents this for distilled models; the stand-in
   * applies it to every custom model, the stricter reading.
   */
  private deleteCustomModel(identifier: string): unknown {
    const model = this.findCustomModel(identifier);
    if (!model) throw new BedrockError('ResourceNotFoundException', `Could not find custom model ${identifier}.`);
    const serving = [...this.provisionedRecords.values()].find((p) => !p.deletedTime && (p.modelArn === model.modelArn || p.desiredModelArn === model.modelArn));
    if (serving) throw new BedrockError('ConflictException', `Custom model ${model.modelName} is used by Provisioned Throughput ${serving.name}; delete or update that first.`);
    this.customModelRecords.delete(model.modelArn);
    this.tagsByArn.delete(model.modelArn);
    model.deletedTime = new Date();
    this.deletedCustomModelRecords.push(model);
    return {};
  }

  /** The ARN of a taggable resource that exists now (job, custom model, live Provisioned Throughput), or ResourceNotFoundException. */
  private requireTaggable(body: JsonObject): string {
    const arn = body.resourceARN;
    if (typeof arn !== 'string' || arn.length === 0) throw new BedrockError('ValidationException', 'resourceARN is required.');
    const exists =
      [...this.jobRecords.values()].some((j) => j.jobArn === arn) ||
      this.customModelRecords.has(arn) ||
      [...this.provisionedRecords.values()].some((p) => p.arn === arn && !p.deletedTime);
    if (!exists) throw new BedrockError('ResourceNotFoundException', `The resource ${arn} was not found.`);
    return arn;
  }

  private addTags(arn: string, tags: unknown): void {
    if (!Array.isArray(tags) || tags.length === 0) return;
    const current = this.tagsByArn.get(arn) ?? new Map<string, string>();
    for (const tag of tags as Array<{ key: string; value: string }>) current.set(tag.key, tag.value);
    this.tagsByArn.set(arn, current);
  }

  /** Tags of a job, custom model or Provisioned Throughput. */
  private listTags(body: JsonObject): unknown {
    const arn = this.requireTaggable(body);
    return { tags: [...(this.tagsByArn.get(arn) ?? new Map<string, string>())].map(([key, value]) => ({ key, value })) };
  }

  /** TagResource: adds or replaces tags, at most 50 per resource counting the existing ones. */
  private tagResource(body: JsonObject): unknown {
    const arn = this.requireTaggable(body);
    const tags = body.tags;
    if (!Array.isArray(tags)) throw new BedrockError('ValidationException', "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null");
    tags.forEach((tag: unknown, index) => {
      const { key, value } = (tag ?? {}) as { key?: unknown; value?: unknown };
      if (typeof key !== 'string' || key.length < 1 || key.length > 128) throw new BedrockError('ValidationException', `1 validation error detected: Value at 'tags.${index + 1}.member.key' failed to satisfy constraint: Member must have length between 1 and 128`);
      if (typeof value !== 'string' || value.length > 256) throw new BedrockError('ValidationException', `1 validation error detected: Value at 'tags.${index + 1}.member.value' failed to satisfy constraint: Member must have length less than or equal to 256`);
    });
    const keys = new Set([...(this.tagsByArn.get(arn)?.keys() ?? []), ...(tags as Array<{ key: string }>).map((t) => t.key)]);
    if (keys.size > MAX_TAGS_PER_RESOURCE) {
      throw new BedrockError('TooManyTagsException', `The request contains more tags than can be associated with a resource (${MAX_TAGS_PER_RESOURCE} tags per resource); ${arn} would have ${keys.size}.`);
    }
    this.addTags(arn, tags);
    return {};
  }
}
