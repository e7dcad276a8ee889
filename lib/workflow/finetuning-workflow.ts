import { Arn, ArnFormat, Aws, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Validations } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { checkTrustsBedrock, grantPassToBedrock } from '../iam/bedrock-customization-role';
import { grantPublishExactly, grantS3KeyUse } from '../core/kms-grants';
import { acknowledgeWildcardResource } from '../core/nag';
import { InvalidPropsError, normalizePrefix } from '../core/props-validation';
import { LLAMA_MODELS, ResolvedHyperParameters, resolveHyperParameters, resolveModel } from '../../lambda/shared/models/llama-models';
import { EvaluationOptions, EvaluationStage } from './evaluation-stage';
import { checkCostSettings, CostBudgetSettings, ModelPriceSettings } from './cost-settings';
import { allow, bedrockArn } from './grants';
import { JOB_STATE_CHANGE_DETAIL_TYPE, JOB_STATE_CHANGE_SOURCE, JOB_WAITS_PREFIX } from '../../lambda/shared/job-wait-location';
import { ModelPromotionOptions, PromotionStage } from './promotion-stage';
import { BudgetDefinition, HISTORY_EVENT_BUDGET, HistoryEstimate, childHistoryEvents, historyBudgetProblem, historyDesignOf, worstCaseHistoryEvents } from './history-budget';
import { WorkflowFunction, WorkflowFunctionProps } from './workflow-function';
import { DEFAULT_RUN_HISTORY_LENGTH, MAX_RUN_HISTORY_LENGTH } from '../../lambda/shared/leaderboard/run-history-settings';
import { MAX_EXPERIMENT_VARIANTS } from '../../lambda/shared/experiment-plan';
import { BaselineEvaluation } from './baseline-evaluation';
import { EVENT_SOURCE, OUTCOME_DETAIL_TYPE, PROMOTED_DETAIL_TYPE } from '../../lambda/shared/event-names';

/**
 * Settings of the runs: names, defaults, timing, evaluation. Shared by {@link FinetuningWorkflow}
 * and LlamaFinetuning, so each is declared and documented once.
 */
export interface FinetuningRunOptions {
  /**
   * Name of the environment (dev, prod, ...), in job tags, messages and events.
   * @default 'default'
   */
  readonly environmentName?: string;
  /**
   * Key prefix of run requests in the dataset bucket.
   * @default 'requests/'
   */
  readonly requestPrefix?: string;
  /**
   * Key prefix in the artifacts bucket under which each run writes `<prefix><run id>/`.
   * @default 'runs/'
   */
  readonly runsPrefix?: string;
  /**
   * Key prefix in the dataset bucket that confines the data this deployment's run requests
   * may name: training, validation and test files and the images they reference. A request
   * naming a file outside it fails with InvalidRunRequest, an image outside it fails
   * validation, and the functions and the Bedrock customization role may read dataset
   * objects only under it. Give each team sharing a dataset bucket its own deployment and
   * data prefix.
   * @default - requests may name data anywhere in the dataset bucket
   */
  readonly dataPrefix?: string;
  /**
   * Model used when a run request names none (short name such as `llama3.2-11b`, or a
   * Bedrock model identifier). Checked at synth time.
   * @default - every request must name its model
   */
  readonly defaultModel?: string;
  /**
   * Hyperparameters used unless a request sets them. Checked at synth time against the
   * default model (or every model, when there is no default).
   * @default - the recommendation from the data, else Bedrock's defaults
   */
  readonly defaultHyperParameters?: Record<string, number>;
  /**
   * The safety poll of a training job. A run learns that its job ended from Bedrock's
   * "Model Customization Job State Change" event within seconds; as EventBridge delivers on a
   * best-effort basis, the run also checks the job itself after waiting this long without an
   * event (and again every interval after that), so a missed event costs at most one interval.
   * Each round is one Lambda invocation (which checks the job), one state transition and six
   * history events.
   * (Before events, this was the polling interval; cdk.json's `pollIntervalMinutes` sets it.)
   * @default Duration.hours(1)
   */
  readonly pollInterval?: Duration;
  /**
   * How long checks of a training job (each safety poll's, and CheckJob's) may keep failing with throttling or server errors
   * (ThrottlingException, InternalServerException, ServiceUnavailableException, other 5xx) before
   * the run fails. Checking is idempotent and the job trains on regardless, so each failed check
   * keeps the last known status and the run waits one poll interval and checks again; a good
   * check resets the count. Past the budget the run fails with JobWatchErrorBudgetExceeded and the
   * cleanup stops the job. Six hours rides out a regional Bedrock incident (jobs train for hours)
   * yet stops paying for a job nobody can watch within a working day. Errors that are the
   * caller's (AccessDeniedException, ValidationException) fail the run at once.
   * At least one poll interval, and shorter than executionTimeout.
   * @default Duration.hours(6), or half of executionTimeout when that is shorter
   */
  readonly jobWatchErrorBudget?: Duration;
  /**
   * When Bedrock's concurrent-job quota is exceeded, how long to wait between attempts.
   * @default Duration.minutes(15)
   */
  readonly quotaRetryInterval?: Duration;
  /**
   * How long a run keeps waiting for the concurrent-job quota before it fails.
   * @default Duration.hours(6)
   */
  readonly quotaWaitTimeout?: Duration;
  /**
   * Longest time one run may take, from upload to report, including waiting for quota.
   * @default Duration.days(7)
   */
  readonly executionTimeout?: Duration;
  /**
   * Event bus that receives the run outcome events.
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
  /**
   * How long the state machine's and functions' logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Key that encrypts the custom models the jobs create.
   * @default - Bedrock encrypts custom models with an AWS owned key
   */
  readonly customModelEncryptionKey?: kms.IKey;
  /**
   * How runs evaluate the fine-tuned model against the base model.
   * @default - evaluate runs that have test data, on a Provisioned Throughput created per run
   */
  readonly evaluation?: EvaluationOptions;
  /**
   * Prices per model (catalogue name, e.g. `llama3.2-11b`) in US dollars, for the cost estimate
   * every run gets before its job is created. Dollar estimates appear only where prices are set.
   * @default - estimates in tokens only
   */
  readonly modelPrices?: Readonly<Record<string, ModelPriceSettings>>;
  /**
   * The most one run may cost by its estimate (tokens; dollars where prices are set). A run over
   * it is refused at validation, before its job is created; a request's own `budget` may only
   * tighten it.
   * @default - no budget
   */
  readonly costBudget?: CostBudgetSettings;
  /**
   * Promotion of evaluated runs to the current model of their name (model registry), and the
   * optional serving swap. Needs evaluation.
   * @default - runs whose quality gate passed are promoted; no serving swap
   */
  readonly promotion?: ModelPromotionOptions;
  /**
   * How many of a request name's latest runs (by start) the name's history leaderboard shows:
   * `<runs prefix>history/<name>/leaderboard.json`, `.md` and `.html`, rewritten whenever a run
   * of the name ends. 1 to 1,000.
   * @default 20
   */
  readonly runHistoryLength?: number;
  /**
   * How many variants of an experiment (a run request with `experiment`) train at once; the
   * rest wait and start in request order as earlier ones end. Keep it within Bedrock's quota of
   * concurrent model customization jobs in the account and region (Service Quotas > Amazon
   * Bedrock), less what other runs use: a variant that still meets the quota waits in its
   * LaunchJob step (quotaRetryInterval, quotaWaitTimeout) like any run. 1 to 8.
   * @default 2
   */
  readonly maxConcurrentJobs?: number;
}

/** Where customization jobs run in a VPC: the ids CreateModelCustomizationJob's vpcConfig takes. */
export interface CustomizationJobNetwork {
  /** Subnet ids (BedrockCustomizationRole.subnetIds when it configured the VPC). */
  readonly subnetIds: string[];
  /** Security group ids (BedrockCustomizationRole.securityGroupIds). */
  readonly securityGroupIds: string[];
}

/** Props of {@link FinetuningWorkflow}. */
export interface FinetuningWorkflowProps extends FinetuningRunOptions {
  /** Bucket with datasets, images and run requests (read only). */
  readonly datasetBucket: s3.IBucket;
  /** Bucket for run records, reports and Bedrock output. */
  readonly artifactsBucket: s3.IBucket;
  /** Topic that receives run outcomes. */
  readonly notificationTopic: sns.ITopic;
  /**
   * The service role Bedrock assumes to run the customization jobs; the launch function may pass
   * it to Bedrock only. `BedrockCustomizationRole` makes one (pass its `role`). A role of your
   * own must trust `bedrock.amazonaws.com` (sts:AssumeRole, best confined with aws:SourceAccount
   * and aws:SourceArn to this account's model-customization-job ARNs) and allow reading the run
   * data (the dataset bucket under the data prefix, and each run's `data/` folder under the runs
   * prefix of the artifacts bucket), writing each run's `bedrock-output/` folder, the buckets'
   * key, and, with a VPC, the
   * EC2 network-interface permissions. A role created in this app is checked at synth to trust
   * Bedrock; an imported role cannot be checked (a job then fails at CreateModelCustomizationJob).
   */
  readonly customizationRole: iam.IRole;
  /**
   * The VPC subnets and security groups the customization jobs run in.
   *
   * @default - the jobs run without a VPC configuration
   */
  readonly customizationJobNetwork?: CustomizationJobNetwork;
  /**
   * Images read at once while validating a dataset.
   * @default 32
   */
  readonly imageConcurrency?: number;
  /**
   * Key that encrypts the log groups. Its key policy must allow the CloudWatch Logs service
   * principal; for a key created in the same app this is added automatically.
   * @default - CloudWatch Logs service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Customer managed key of the buckets, when they use SSE-KMS: the functions get decrypt
   * (and, where they write, encrypt) permissions on it.
   * @default - buckets use SSE-S3
   */
  readonly bucketEncryptionKey?: kms.IKey;
  /**
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

const CONSTRUCT = 'FinetuningWorkflow';

/** Errors Bedrock and the AWS SDK raise for load, retried with backoff and jitter. */
export const TRANSIENT_ERRORS = ['ThrottlingException', 'TooManyRequestsException', 'InternalServerException', 'ServiceUnavailableException', 'SlowDown', 'RequestTimeout'];
/** Errors of the Lambda service itself, retried like CDK's LambdaInvoke does. */
const LAMBDA_SERVICE_ERRORS = ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];

/**
 * The Step Functions state machine of one fine-tuning run:
 * read request -> begin run -> validate data -> launch job -> wait/check until the job ends ->
 * record the outcome and notify. Every failure records the outcome, notifies, and ends the
 * execution as Failed with an error that says what to fix. A separate rule stops the job of
 * any execution that fails, times out or is aborted.
 */
export class FinetuningWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The workflow's functions by step name (read-request, begin-run, validate-dataset, launch-job, wait-for-job-end, check-job, job-event, record-outcome, cleanup-run). */
  public readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The rule that resumes the run waiting for a customization job when Bedrock announces that the job ended. */
  public readonly jobEventRule: events.Rule;
  /** The rule that cleans up after executions that fail, time out or are aborted. */
  public readonly cleanupRule: events.Rule;
  /** Where cleanup events that could not be handled are kept. */
  public readonly cleanupDeadLetterQueue: sqs.Queue;
  /** @internal The evaluation stage, unless evaluation is disabled (an internal construct). */
  public readonly _evaluation?: EvaluationStage;
  /** @internal The promotion stage, unless evaluation or promotion is disabled (an internal construct). */
  public readonly _promotion?: PromotionStage;
  /**
   * The function that promotes a run's model (the manual promotion described in README
   * "Promotion"), unless evaluation or promotion is disabled.
   */
  public readonly promoteFunction?: lambda.IFunction;
  /**
   * The model registry's SSM parameter prefix (ends in '/'), unless evaluation or promotion is
   * disabled.
   */
  public readonly modelRegistryPrefix?: string;
  /**
   * Identifies this deployment (unique in the app, stable across deployments): the
   * `llama-finetune:deployment` tag of its jobs and custom models, and part of the default
   * registry prefix.
   */
  public readonly deploymentId: string;
  /** The bucket run requests and datasets are read from. */
  public readonly datasetBucket: s3.IBucket;
  /** The bucket of run records, reports and Bedrock output. */
  public readonly artifactsBucket: s3.IBucket;
  /** The buckets' customer managed key, when they use SSE-KMS. */
  public readonly bucketEncryptionKey?: kms.IKey;
  /** Resolved request prefix (ends in '/'). */
  public readonly requestPrefix: string;
  /** Resolved runs prefix (ends in '/'). */
  public readonly runsPrefix: string;
  /** Resolved data prefix (ends in '/'), or undefined when requests may name data anywhere in the dataset bucket. */
  public readonly dataPrefix?: string;
  /**
   * The most history events one execution can record with these settings (checked at synth
   * against Step Functions' 25,000, less a margin); Distributed Map children count apart.
   */
  public readonly worstCaseHistoryEvents: number;
  /** @internal The estimate behind worstCaseHistoryEvents, loop by loop. */
  public readonly _historyEstimate: HistoryEstimate;

  /** The environment name runs report in their events and metrics. */
  public readonly environmentName: string;
  /** The event bus the run outcome and promotion events are sent to. */
  public readonly eventBus: events.IEventBus;

  private readonly functionDefaults: Pick<WorkflowFunctionProps, 'logRetention' | 'logEncryptionKey' | 'logRemovalPolicy'>;

  constructor(scope: Construct, id: string, props: FinetuningWorkflowProps) {
    super(scope, id);
    this.datasetBucket = props.datasetBucket;
    this.artifactsBucket = props.artifactsBucket;
    this.bucketEncryptionKey = props.bucketEncryptionKey;
    this.requestPrefix = normalizePrefix(CONSTRUCT, 'requestPrefix', props.requestPrefix ?? 'requests/', this);
    this.runsPrefix = normalizePrefix(CONSTRUCT, 'runsPrefix', props.runsPrefix ?? 'runs/', this);
    this.dataPrefix = props.dataPrefix === undefined ? undefined : normalizePrefix(CONSTRUCT, 'dataPrefix', props.dataPrefix, this);
    this.deploymentId = Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    // Dataset objects the functions may read: the data prefix, or the whole bucket.
    const datasetObjects = props.datasetBucket.arnForObjects(`${this.dataPrefix ?? ''}*`);
    const dataScope = this.dataPrefix ? `under the data prefix ${this.dataPrefix}` : 'inside the dedicated dataset bucket';
    const defaults = checkDefaults(props.defaultModel, props.defaultHyperParameters, this);
    const pollInterval = props.pollInterval ?? Duration.hours(1);
    const quotaRetryInterval = props.quotaRetryInterval ?? Duration.minutes(15);
    const quotaWaitTimeout = props.quotaWaitTimeout ?? Duration.hours(6);
    checkDurations(pollInterval, quotaRetryInterval, quotaWaitTimeout, this);
    const executionTimeout = props.executionTimeout ?? Duration.days(7);
    if (quotaWaitTimeout.toSeconds() >= executionTimeout.toSeconds()) {
      throw new InvalidPropsError(CONSTRUCT, 'quotaWaitTimeout', `${quotaWaitTimeout.toHumanString()} is not shorter than executionTimeout (${executionTimeout.toHumanString()})`, 'Let runs wait for quota for less time than a run may take.', this);
    }
    if (props.jobWatchErrorBudget) checkJobWatchErrorBudget(props.jobWatchErrorBudget, pollInterval, executionTimeout, this);
    const jobWatchErrorBudget = props.jobWatchErrorBudget ?? Duration.seconds(Math.min(6 * 3600, Math.floor(executionTimeout.toSeconds() / 2)));
    const environmentName = props.environmentName ?? 'default';
    this.environmentName = environmentName;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    allowLogsToUseKey(this, props.logEncryptionKey);
    this.functionDefaults = { logRetention, logEncryptionKey: props.logEncryptionKey, logRemovalPolicy: removalPolicy };
    const eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.eventBus = eventBus;
    const runHistoryLength = props.runHistoryLength ?? DEFAULT_RUN_HISTORY_LENGTH;
    if (!Number.isInteger(runHistoryLength) || runHistoryLength < 1 || runHistoryLength > MAX_RUN_HISTORY_LENGTH) {
      throw new InvalidPropsError(CONSTRUCT, 'runHistoryLength', `${runHistoryLength} is not a whole number of runs from 1 to ${MAX_RUN_HISTORY_LENGTH}`, 'Set how many of a request name\'s latest runs its history shows, e.g. 20.');
    }
    const maxConcurrentJobs = props.maxConcurrentJobs ?? 2;
    if (!Number.isInteger(maxConcurrentJobs) || maxConcurrentJobs < 1 || maxConcurrentJobs > MAX_EXPERIMENT_VARIANTS) {
      throw new InvalidPropsError(CONSTRUCT, 'maxConcurrentJobs', `${maxConcurrentJobs} is not a whole number from 1 to ${MAX_EXPERIMENT_VARIANTS}`, 'Set how many variants of an experiment may train at once, within Bedrock\'s concurrent-job quota, e.g. 2.', this);
    }
    const outcomeEnvironment = { ENVIRONMENT_NAME: environmentName, TOPIC_ARN: props.notificationTopic.topicArn, EVENT_BUS_NAME: eventBus.eventBusName, RUN_HISTORY_LENGTH: String(runHistoryLength) };
    // Each request name's history (an entry per ended run, and the leaderboard across its last runs), written by record-outcome and cleanup-run.
    const runHistory = props.artifactsBucket.arnForObjects(`${this.runsPrefix}history/*`);
    const runRecords = props.artifactsBucket.arnForObjects(`${this.runsPrefix}*/run.json`);

    // ---- Functions, each with exactly the access it uses ----
    const readRequest = this.fn('ReadRequest', 'read-request', 'Reads an uploaded run request and checks it against the model catalogue and the dataset bucket', {
      DATASET_BUCKET: props.datasetBucket.bucketName,
      ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
      RUNS_PREFIX: this.runsPrefix,
      ...(this.dataPrefix ? { DATA_PREFIX: this.dataPrefix } : {}),
      ...(defaults.model ? { DEFAULT_MODEL: defaults.model } : {}),
      ...(props.defaultHyperParameters ? { DEFAULT_HYPERPARAMETERS: JSON.stringify(props.defaultHyperParameters) } : {}),
    });
    allow(readRequest, 'ReadRunRequests', ['s3:GetObject', 's3:GetObjectVersion'], [props.datasetBucket.arnForObjects(`${this.requestPrefix}*`)], 'Reads run requests: any object under the request prefix may be a request.');
    allow(readRequest, 'CheckDataFilesExist', ['s3:GetObject'], [datasetObjects], `Read-only HeadObject on the dataset files a run request names; users choose their keys freely ${dataScope}.`);
    // Without ListBucket, S3 answers 403 instead of 404 for a missing file, and the user would
    // be told "access denied" instead of "file missing".
    allow(readRequest, 'TellMissingFromDenied', ['s3:ListBucket'], [props.datasetBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, readRequest.role, 'read');

    const beginRun = this.fn('BeginRun', 'begin-run', 'Creates the run record (never overwriting one) and the execution pointer', { RUNS_PREFIX: this.runsPrefix });
    allow(beginRun, 'CreateRunRecord', ['s3:PutObject'], [runRecords, props.artifactsBucket.arnForObjects(`${this.runsPrefix}executions/*`)], 'Run records live at <runs prefix>/<run id>/run.json; run ids are made per request.');
    // A record that already exists is read to tell this execution's retry from a duplicate trigger.
    allow(beginRun, 'ReadExistingRunRecord', ['s3:GetObject'], [runRecords], 'Run records live at <runs prefix>/<run id>/run.json; run ids are made per request.');
    grantS3KeyUse(props.bucketEncryptionKey, beginRun.role, 'read-write');

    const validate = this.fn(
      'ValidateDataset',
      'validate-dataset',
      'Validates the training, validation and test files and writes the validation report',
      {
        EXPECTED_ACCOUNT_ID: Stack.of(this).account,
        IMAGE_CONCURRENCY: String(props.imageConcurrency ?? 32),
        ALLOWED_IMAGE_LOCATIONS: `s3://${props.datasetBucket.bucketName}/${this.dataPrefix ?? ''}`,
        ENVIRONMENT_NAME: environmentName,
        ...costEnvironment(props, this),
      },
      { timeout: Duration.minutes(15), memorySize: 1024 },
    );
    // GetObjectVersion: the files are read (and copied) at the exact version the request was accepted with.
    allow(validate, 'ReadDataset', ['s3:GetObject', 's3:GetObjectVersion'], [datasetObjects], `Reads every training, validation and test file and the headers of every image they name; the keys are the user's, ${dataScope}.`);
    allow(validate, 'PinValidatedData', ['s3:PutObject'], [props.artifactsBucket.arnForObjects(`${this.runsPrefix}*/data/*`)], 'Copies the validated files under the run\'s own prefix (CopyObject); run ids are made per request.');
    allow(validate, 'TellMissingFromDenied', ['s3:ListBucket'], [props.datasetBucket.bucketArn]);
    allow(validate, 'WriteValidationReport', ['s3:PutObject'], [props.artifactsBucket.arnForObjects(`${this.runsPrefix}*/validation/*`)], 'Writes the validation report under the run\'s own prefix; run ids are made per request.');
    allow(validate, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the run\'s own record; run ids are made per request.');
    allow(validate, 'TellMissingRecordFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, validate.role, 'read-write');

    const launch = this.fn('LaunchJob', 'launch-job', 'Creates the Bedrock model customization job of a run', {
      CUSTOMIZATION_ROLE_ARN: props.customizationRole.roleArn,
      ENVIRONMENT_NAME: environmentName,
      DEPLOYMENT_ID: this.deploymentId,
      ...(props.customModelEncryptionKey ? { CUSTOM_MODEL_KMS_KEY_ARN: props.customModelEncryptionKey.keyArn } : {}),
      ...(props.customizationJobNetwork
        ? { VPC_CONFIG: JSON.stringify({ subnetIds: props.customizationJobNetwork.subnetIds, securityGroupIds: props.customizationJobNetwork.securityGroupIds }) }
        : {}),
    });
    const stack = Stack.of(this);
    allow(
      launch,
      'CreateCustomizationJob',
      ['bedrock:CreateModelCustomizationJob', 'bedrock:TagResource'],
      [...LLAMA_MODELS.map((m) => bedrockArn(stack, 'foundation-model', m.baseModelIdentifier, '')), bedrockArn(stack, 'custom-model', '*'), bedrockArn(stack, 'model-customization-job', '*')],
      'Job and custom model ARNs carry ids Bedrock assigns at creation, so they cannot be named beforehand; the base models are listed exactly.',
    );
    // A launch that finds its run already ended (aborted meanwhile) stops the job it just created.
    allow(launch, 'StopOwnJobAfterRunEnded', ['bedrock:StopModelCustomizationJob'], [bedrockArn(stack, 'model-customization-job', '*')], 'Job ARNs carry ids Bedrock assigns at creation.');
    grantPassToBedrock(props.customizationRole, launch.role);
    checkTrustsBedrock(this, props.customizationRole);
    allow(launch, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the run\'s own record; run ids are made per request.');
    grantS3KeyUse(props.bucketEncryptionKey, launch.role, 'read-write');
    if (props.customModelEncryptionKey) {
      launch.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'EncryptCustomModel',
          actions: ['kms:DescribeKey', 'kms:CreateGrant', 'kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [props.customModelEncryptionKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `bedrock.${stack.region}.amazonaws.com` } },
        }),
      );
    }

    // Job waits' task tokens: job-waits/<job id>.json (WaitForJobEnd writes, JobEvent reads, CheckJob and CleanupRun delete).
    const jobWaits = props.artifactsBucket.arnForObjects(`${JOB_WAITS_PREFIX}*`);
    const check = this.fn('CheckJob', 'check-job', 'Checks a customization job and, when it completed, reads its training metrics', {
      ENVIRONMENT_NAME: environmentName,
      JOB_WAITS_BUCKET: props.artifactsBucket.bucketName,
      JOB_WATCH_ERROR_BUDGET_SECONDS: String(jobWatchErrorBudget.toSeconds()),
    });
    allow(check, 'GetCustomizationJob', ['bedrock:GetModelCustomizationJob'], [bedrockArn(stack, 'model-customization-job', '*')], 'Job ARNs carry ids Bedrock assigns at creation.');
    allow(check, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the run\'s own record; run ids are made per request.');
    allow(check, 'ReadTrainingMetrics', ['s3:GetObject'], [props.artifactsBucket.arnForObjects(`${this.runsPrefix}*/bedrock-output/*`)], 'Reads the metrics CSVs Bedrock writes under a folder named after the job id.');
    allow(check, 'EndJobWait', ['s3:GetObject', 's3:DeleteObject'], [jobWaits], 'Deletes the task token of the job that ended (job-waits/<job id>.json); job ids are assigned by Bedrock at creation.');
    allow(check, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, check.role, 'read-write');

    // Event-driven job tracking: WaitForJobEnd keeps the task token under job-waits/ (outside the
    // runs prefix that result readers may read) and JobEvent resumes the run from Bedrock's event.
    const waitForJobEnd = this.fn('WaitForJobEnd', 'wait-for-job-end', 'Keeps the task token of a run waiting for its customization job, and resumes the run if the job already ended', {
      JOB_WAITS_BUCKET: props.artifactsBucket.bucketName,
      JOB_WATCH_ERROR_BUDGET_SECONDS: String(jobWatchErrorBudget.toSeconds()),
    });
    // GetObject: the previous round's record carries the streak of failed job checks.
    allow(waitForJobEnd, 'KeepTaskToken', ['s3:PutObject', 's3:GetObject'], [jobWaits], 'Tokens are kept under job-waits/<job id>.json; job ids are assigned by Bedrock at creation.');
    allow(waitForJobEnd, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(waitForJobEnd, 'GetCustomizationJob', ['bedrock:GetModelCustomizationJob'], [bedrockArn(stack, 'model-customization-job', '*')], 'Job ARNs carry ids Bedrock assigns at creation.');
    grantS3KeyUse(props.bucketEncryptionKey, waitForJobEnd.role, 'read-write');
    const jobEvent = this.fn('JobEvent', 'job-event', 'Resumes the run waiting for a customization job when Bedrock announces that the job ended', {
      JOB_WAITS_BUCKET: props.artifactsBucket.bucketName,
    });
    allow(jobEvent, 'ReadTaskToken', ['s3:GetObject'], [jobWaits], 'Tokens are kept under job-waits/<job id>.json; job ids are assigned by Bedrock at creation.');
    // Without ListBucket, S3 answers 403 instead of 404 for a job no run waits for.
    allow(jobEvent, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, jobEvent.role, 'read');

    const recordOutcome = this.fn('RecordOutcome', 'record-outcome', 'Records how a run ended and notifies the topic and the event bus', outcomeEnvironment);
    allow(recordOutcome, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the run\'s own record; run ids are made per request.');
    allow(recordOutcome, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(recordOutcome, 'KeepRunHistory', ['s3:GetObject', 's3:PutObject'], [runHistory], 'Request names are chosen per request: history/<name>/ holds one entry per run and the name\'s leaderboard.');
    grantPublishExactly(props.notificationTopic, recordOutcome.role);
    eventBus.grantPutEventsTo(recordOutcome.role);
    grantS3KeyUse(props.bucketEncryptionKey, recordOutcome.role, 'read-write');

    // Experiments: the variants' runs are planned once the data is validated, and ranked once they end.
    const planVariants = this.fn('PlanVariants', 'plan-variants', 'Plans the variants of an experiment as runs of their own and lists them in its record', { MAX_CONCURRENT_JOBS: String(maxConcurrentJobs) });
    allow(planVariants, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the experiment\'s own record; run ids are made per request.');
    allow(planVariants, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, planVariants.role, 'read-write');
    const buildLeaderboard = this.fn('BuildLeaderboard', 'build-leaderboard', 'Ranks the variants of an experiment and writes its leaderboard', {});
    allow(buildLeaderboard, 'ReadVariantRecords', ['s3:GetObject'], [runRecords], 'Reads the run records of the experiment\'s variants; run ids are made per request.');
    allow(buildLeaderboard, 'WriteLeaderboard', ['s3:PutObject'], [props.artifactsBucket.arnForObjects(`${this.runsPrefix}*/leaderboard.*`)], 'Writes leaderboard.json, .md and .html under the experiment\'s own folder; run ids are made per request.');
    allow(buildLeaderboard, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, buildLeaderboard.role, 'read-write');

    this.cleanupDeadLetterQueue = new sqs.Queue(this, 'CleanupDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.cleanupDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the cleanup rule and function; a dead-letter queue of a dead-letter queue adds nothing.',
    });
    const cleanup = this.fn('CleanupRun', 'cleanup-run', 'Stops the job of an execution that failed, timed out or was aborted, and records the outcome', {
      ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
      RUNS_PREFIX: this.runsPrefix,
      JOB_WAITS_BUCKET: props.artifactsBucket.bucketName,
      ...outcomeEnvironment,
    }, { deadLetterQueue: this.cleanupDeadLetterQueue });
    allow(cleanup, 'EndJobWait', ['s3:GetObject', 's3:DeleteObject'], [jobWaits], 'Deletes the task token of the ended execution\'s job wait (job-waits/<job id>.json); job ids are assigned by Bedrock at creation.');
    allow(cleanup, 'ReadExecutionPointers', ['s3:GetObject'], [props.artifactsBucket.arnForObjects(`${this.runsPrefix}executions/*`)], 'Execution pointers are named after executions, which are created at run time.');
    allow(cleanup, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the run\'s own record; run ids are made per request.');
    allow(cleanup, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(cleanup, 'KeepRunHistory', ['s3:GetObject', 's3:PutObject'], [runHistory], 'Request names are chosen per request: history/<name>/ holds one entry per run and the name\'s leaderboard.');
    allow(cleanup, 'StopCustomizationJob', ['bedrock:GetModelCustomizationJob', 'bedrock:StopModelCustomizationJob'], [bedrockArn(stack, 'model-customization-job', '*')], 'Job ARNs carry ids Bedrock assigns at creation.');
    allow(cleanup, 'DeleteRunProvisionedThroughput', ['bedrock:DeleteProvisionedModelThroughput'], [bedrockArn(stack, 'provisioned-model', '*')], 'Provisioned Throughput ARNs carry ids Bedrock assigns at creation; the function deletes only those named after its run.');
    // ListProvisionedModelThroughputs supports no resource-level permissions: AWS offers no narrower form.
    cleanup.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'FindRunProvisionedThroughput', actions: ['bedrock:ListProvisionedModelThroughputs'], resources: ['*'] }));
    Validations.of(cleanup.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing and bedrock:ListProvisionedModelThroughputs support no resource-level permissions; AWS offers no narrower form.',
    });
    grantPublishExactly(props.notificationTopic, cleanup.role);
    eventBus.grantPutEventsTo(cleanup.role);
    grantS3KeyUse(props.bucketEncryptionKey, cleanup.role, 'read-write');

    const functions: Record<string, lambda.IFunction> = {
      'read-request': readRequest.function,
      'begin-run': beginRun.function,
      'validate-dataset': validate.function,
      'launch-job': launch.function,
      'wait-for-job-end': waitForJobEnd.function,
      'check-job': check.function,
      'job-event': jobEvent.function,
      'record-outcome': recordOutcome.function,
      'cleanup-run': cleanup.function,
      'plan-variants': planVariants.function,
      'build-leaderboard': buildLeaderboard.function,
    };

    // ---- States (in their own scope: state names are construct ids, and may equal a function's) ----
    const states = new Construct(this, 'States');
    const invoke = (stateId: string, fn: WorkflowFunction, payload: Record<string, unknown>, resultPath: string) => {
      const task = new tasks.LambdaInvoke(states, stateId, {
        lambdaFunction: fn.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: false,
      });
      task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const withLambdaServiceRetry = (task: tasks.LambdaInvoke) => {
      task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const withTransientRetry = (task: tasks.LambdaInvoke) => {
      task.addRetry({ errors: TRANSIENT_ERRORS, interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.minutes(2), jitterStrategy: sfn.JitterType.FULL });
      return task;
    };
    const run = sfn.JsonPath.objectAt('$.run');

    // Failure ends: record, notify, fail with the original error.
    const runFailed = new sfn.Fail(states, 'RunFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const recordFailure = withTransientRetry(invoke('RecordFailure', recordOutcome, { status: 'FAILED', run, error: sfn.JsonPath.objectAt('$.error') }, '$.outcome'));
    recordFailure.addCatch(runFailed, { resultPath: '$.outcomeError' });
    recordFailure.next(runFailed);
    const recordRequestFailure = withTransientRetry(
      invoke('RecordRequestFailure', recordOutcome, { status: 'FAILED', error: sfn.JsonPath.objectAt('$.error'), request: { 'bucket.$': '$.bucket', 'object.$': '$.object' } }, '$.outcome'),
    );
    recordRequestFailure.addCatch(runFailed, { resultPath: '$.outcomeError' });
    recordRequestFailure.next(runFailed);
    const failOn = (task: sfn.TaskStateBase | sfn.Map, target: sfn.IChainable = recordFailure) => task.addCatch(target, { errors: ['States.ALL'], resultPath: '$.error' });

    const readRequestStep = invoke('ReadRunRequest', readRequest, { 'bucket.$': '$.bucket', 'object.$': '$.object', executionArn: sfn.JsonPath.stringAt('$$.Execution.Id') }, '$.run');
    withTransientRetry(readRequestStep);
    failOn(readRequestStep, recordRequestFailure);

    const beginRunStep = withTransientRetry(
      invoke('BeginRun', beginRun, { run, executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'), executionName: sfn.JsonPath.stringAt('$$.Execution.Name') }, '$.begin'),
    );
    failOn(beginRunStep);
    const duplicate = new sfn.Succeed(states, 'DuplicateRequest', { comment: 'This request version already has a run; a duplicated event starts nothing.' });

    const validateStep = withTransientRetry(invoke('ValidateDataset', validate, { run }, '$.validation'));
    failOn(validateStep);
    const datasetInvalid = new sfn.Pass(states, 'DatasetInvalid', {
      parameters: { Error: 'InvalidDataset', 'Cause.$': '$.validation.summary' },
      resultPath: '$.error',
    }).next(recordFailure);

    const overBudget = new sfn.Pass(states, 'OverBudget', {
      comment: 'The cost estimate exceeds a budget: refused before the job is created.',
      parameters: { Error: 'OverBudget', 'Cause.$': '$.validation.budgetRefusal' },
      resultPath: '$.error',
    }).next(recordFailure);

    const launchStep = withTransientRetry(invoke('LaunchJob', launch, { run, hyperParameters: sfn.JsonPath.objectAt('$.validation.recommendedHyperParameters') }, '$.job'));
    const quotaAttempts = Math.max(1, Math.ceil(quotaWaitTimeout.toSeconds() / quotaRetryInterval.toSeconds()));
    launchStep.addRetry({ errors: ['ServiceQuotaExceededException'], interval: quotaRetryInterval, maxAttempts: quotaAttempts, backoffRate: 1 });
    const quotaNeverCleared = new sfn.Pass(states, 'QuotaNeverCleared', {
      parameters: {
        Error: 'QuotaExceeded',
        Cause: `Bedrock's quota of concurrent model customization jobs stayed exceeded for ${quotaWaitTimeout.toHumanString()} (${quotaAttempts} attempts). Wait for running jobs to finish or ask for a higher quota (Service Quotas > Amazon Bedrock), then upload the request again.`,
      },
      resultPath: '$.error',
    }).next(recordFailure);
    launchStep.addCatch(quotaNeverCleared, { errors: ['ServiceQuotaExceededException'], resultPath: '$.quotaError' });
    failOn(launchStep);

    // Waits on a task token until Bedrock's event resumes it, or for at most one safety-poll
    // interval: then (States.Timeout) it waits again, and its function's check of the job is the
    // safety poll (resuming at once when the job ended). CheckJob then reads the outcome from
    // Bedrock, so the wake-up's content is discarded.
    const waitForJobEndStep = new tasks.LambdaInvoke(states, 'WaitForJobEnd', {
      lambdaFunction: waitForJobEnd.function,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        runId: sfn.JsonPath.stringAt('$.run.runId'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        jobArn: sfn.JsonPath.stringAt('$.job.jobArn'),
        jobStatus: sfn.JsonPath.stringAt('$.job.status'),
        taskToken: sfn.JsonPath.taskToken,
      }),
      taskTimeout: sfn.Timeout.duration(pollInterval),
      resultPath: sfn.JsonPath.DISCARD,
      retryOnServiceExceptions: false,
      comment: 'Resumed by the JobEvent function when Bedrock announces the job ended; times out into a safety poll.',
    });
    withTransientRetry(withLambdaServiceRetry(waitForJobEndStep));
    const checkStep = withTransientRetry(invoke('CheckJob', check, { run, job: sfn.JsonPath.objectAt('$.job') }, '$.job'));
    failOn(checkStep);
    // The timeout catcher comes first: States.ALL matches States.Timeout too.
    waitForJobEndStep.addCatch(waitForJobEndStep, { errors: [sfn.Errors.TIMEOUT], resultPath: sfn.JsonPath.DISCARD });
    failOn(waitForJobEndStep);
    const jobDidNotComplete = new sfn.Pass(states, 'JobDidNotComplete', {
      parameters: {
        Error: 'JobFailed',
        'Cause.$': "States.Format('Bedrock customization job {} ended {}: {}', $.job.jobName, $.job.status, $.job.failureMessage)",
      },
      resultPath: '$.error',
    }).next(recordFailure);

    const recordSuccess = withTransientRetry(invoke('RecordSuccess', recordOutcome, { status: 'SUCCEEDED', run }, '$.outcome'));

    // Evaluation: only for runs with test data that did not opt out, unless disabled here.
    let afterTraining: sfn.IChainable = recordSuccess;
    if (props.evaluation?.enabled !== false) {
      this._evaluation = new EvaluationStage(this, 'Evaluation', {
        ...props.evaluation,
        datasetBucket: props.datasetBucket,
        dataPrefix: this.dataPrefix ?? '',
        artifactsBucket: props.artifactsBucket,
        runsPrefix: this.runsPrefix,
        environmentName,
        bucketEncryptionKey: props.bucketEncryptionKey,
        functionDefaults: this.functionDefaults,
        statesScope: states,
        recordFailure,
        customModelEncryptionKey: props.customModelEncryptionKey,
        addTransientRetry: (task) => void withTransientRetry(withLambdaServiceRetry(task)),
      });
      if (props.promotion?.enabled !== false) {
        // The promotion of an experiment's best variant runs these same states in an execution of
        // its own ($.promoteOnly): it ends there, and a failure leaves the variant's record as is.
        const afterPromotion = new sfn.Choice(states, 'AfterPromotion')
          .when(sfn.Condition.isPresent('$.promoteOnly'), new sfn.Succeed(states, 'VariantPromotionDone'))
          .otherwise(recordSuccess);
        const promotionFailed = new sfn.Choice(states, 'PromotionFailed')
          .when(sfn.Condition.isPresent('$.promoteOnly'), new sfn.Fail(states, 'VariantPromotionFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' }))
          .otherwise(recordFailure);
        this._promotion = new PromotionStage(this, 'Promotion', {
          ...props.promotion,
          environmentName,
          deploymentId: this.deploymentId,
          artifactsBucket: props.artifactsBucket,
          runsPrefix: this.runsPrefix,
          bucketEncryptionKey: props.bucketEncryptionKey,
          customModelEncryptionKey: props.customModelEncryptionKey,
          eventBus,
          functionDefaults: this.functionDefaults,
          statesScope: states,
          recordFailure: promotionFailed,
          next: afterPromotion,
          addTransientRetry: (task) => void withTransientRetry(withLambdaServiceRetry(task)),
        });
        // A variant of an experiment is not promoted by itself: the experiment promotes its best variant.
        this._evaluation.endState.next(
          new sfn.Choice(states, 'IsExperimentVariant').when(sfn.Condition.isPresent('$.run.experiment.experimentRunId'), recordSuccess).otherwise(this._promotion.startState),
        );
      } else {
        this._evaluation.endState.next(recordSuccess);
      }
      afterTraining = new sfn.Choice(states, 'ShouldEvaluate')
        .when(
          sfn.Condition.and(sfn.Condition.isPresent('$.run.data.testKey'), sfn.Condition.booleanEquals('$.run.evaluation.enabled', true)),
          this._evaluation.startState,
        )
        .otherwise(recordSuccess);
    }
    // A success that cannot be recorded still ends as failed, so the cleanup rule looks at it.
    failOn(recordSuccess, runFailed);
    recordSuccess.next(new sfn.Succeed(states, 'RunSucceeded'));

    readRequestStep
      .next(beginRunStep)
      .next(new sfn.Choice(states, 'IsDuplicate').when(sfn.Condition.booleanEquals('$.begin.duplicate', true), duplicate).otherwise(validateStep));

    // ---- Experiments: one upload, several variants, each its own run (an execution of this state machine) ----
    const experiment = this.experimentStates(states, {
      props,
      maxConcurrentJobs,
      invoke,
      withTransientRetry,
      withLambdaServiceRetry,
      failOn,
      runFailed,
      recordFailure,
      recordOutcome,
      planVariants,
      buildLeaderboard,
    });
    for (const [name, f] of Object.entries(experiment.baseline?.functions ?? {})) functions[`shared-${name}`] = f.function;
    validateStep.next(
      new sfn.Choice(states, 'IsDatasetValid')
        .when(sfn.Condition.booleanEquals('$.validation.valid', false), datasetInvalid)
        .when(sfn.Condition.booleanEquals('$.validation.withinBudget', false), overBudget)
        .when(sfn.Condition.isPresent('$.run.experiment.variants'), experiment.start)
        .otherwise(launchStep),
    );

    // A variant's execution starts from its experiment's validation: its record begins with it, and the job is launched.
    const adoptVariant = new sfn.Pass(states, 'AdoptVariant', {
      comment: 'A variant of an experiment: its run context, the validation it inherits and its record\'s seed come from the experiment.',
      parameters: { 'run.$': '$.variant.run', 'validation.$': '$.variant.validation', 'seed.$': '$.variant.seed' },
    });
    const beginVariantStep = withTransientRetry(
      invoke('BeginVariantRun', beginRun, { run, seed: sfn.JsonPath.objectAt('$.seed'), executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'), executionName: sfn.JsonPath.stringAt('$$.Execution.Name') }, '$.begin'),
    );
    failOn(beginVariantStep);
    adoptVariant.next(beginVariantStep).next(new sfn.Choice(states, 'IsVariantDuplicate').when(sfn.Condition.booleanEquals('$.begin.duplicate', true), duplicate).otherwise(launchStep));

    const entry = new sfn.Choice(states, 'RunKind', { comment: 'An upload (S3 event), a variant of an experiment, or the promotion of an experiment\'s best variant.' })
      .when(sfn.Condition.isPresent('$.variant'), adoptVariant);
    if (this._promotion) {
      entry.when(
        sfn.Condition.isPresent('$.promoteVariant'),
        new sfn.Pass(states, 'AdoptPromotedVariant', { parameters: { 'run.$': '$.promoteVariant.run', promoteOnly: true } }).next(this._promotion.startState),
      );
    }
    const definition = entry.otherwise(readRequestStep);
    launchStep.next(waitForJobEndStep);
    waitForJobEndStep.next(checkStep);
    checkStep.next(
      new sfn.Choice(states, 'JobStatus')
        .when(sfn.Condition.stringEquals('$.job.status', 'Completed'), afterTraining)
        .when(sfn.Condition.or(sfn.Condition.stringEquals('$.job.status', 'Failed'), sfn.Condition.stringEquals('$.job.status', 'Stopped')), jobDidNotComplete)
        .otherwise(waitForJobEndStep),
    );

    for (const [name, f] of Object.entries(this._evaluation?.functions ?? {})) functions[name] = f.function;
    if (this._promotion) functions['promote-model'] = this._promotion.function.function;
    this.promoteFunction = this._promotion?.function.function;
    this.modelRegistryPrefix = this._promotion?.registryPrefix;
    this.functions = functions;

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logRetention, encryptionKey: props.logEncryptionKey, removalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: executionTimeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'Fine-tunes a Llama 3.2 model on Amazon Bedrock for one uploaded run request',
    });
    acknowledgeStateMachineRole(this.stateMachine, Object.values(this.functions).filter((f) => f !== cleanup.function));
    this.grantVariantExecutions(experiment.baseline, cleanup);
    this._historyEstimate = checkHistoryBudget(this, this.stateMachine, executionTimeout, props.evaluation, this._promotion?.loopBounds);
    this.worstCaseHistoryEvents = this._historyEstimate.total;
    if (this._evaluation) {
      // The Distributed Map reads the shard manifest and writes its Map Run results as the state machine's role.
      grantS3KeyUse(props.bucketEncryptionKey, this.stateMachine.role, 'read-write');
      for (const resource of this._evaluation.stateMachineResources) {
        acknowledgeWildcardResource(this.stateMachine, resource, 'The shard manifest and Map Run results of a run live under its own folder; run ids are made per request.');
      }
      // The policy CDK gives a state machine with a Distributed Map: its child executions, whose names Step Functions makes.
      const machineName = Arn.split(this.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
      for (const executions of [`${machineName}:*`, `${machineName}/RunInference:*`]) {
        acknowledgeWildcardResource(
          this.stateMachine,
          Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: executions, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          'Executions of this state machine only (the Distributed Map\'s child executions, named by Step Functions at run time).',
        );
      }
    }

    // Resuming a wait: SendTaskSuccess takes no resource type (Service Authorization Reference,
    // "Actions defined by AWS Step Functions": its Resource types column is empty; the task token
    // names the task), so AWS only honours "*": a statement naming the state machine would deny.
    // Only these two functions hold the tokens (kept under job-waits/, which only they read).
    const sendTaskSuccessReason = 'states:SendTaskSuccess supports no resource-level permissions (Service Authorization Reference for Step Functions: no resource type); the task token identifies the task, and only the workflow\'s functions can read the tokens.';
    allow(jobEvent, 'ResumeWaitingRun', ['states:SendTaskSuccess'], ['*'], sendTaskSuccessReason);
    allow(waitForJobEnd, 'ResumeOwnRunIfJobEnded', ['states:SendTaskSuccess'], ['*'], sendTaskSuccessReason);
    this.jobEventRule = new events.Rule(this, 'JobEventRule', {
      description: 'Resumes the fine-tuning run waiting for a Bedrock customization job when the job ends',
      eventPattern: {
        source: [JOB_STATE_CHANGE_SOURCE],
        detailType: [JOB_STATE_CHANGE_DETAIL_TYPE],
        detail: { jobStatus: ['Completed', 'Failed', 'Stopped'] },
      },
    });
    // A lost event costs one safety-poll interval, so retries are brief and there is no dead-letter queue.
    this.jobEventRule.addTarget(new targets.LambdaFunction(jobEvent.function, { retryAttempts: 4, maxEventAge: Duration.hours(1) }));

    // Whatever ends an execution abnormally (a failure, the timeout, an abort), the job stops.
    this.cleanupRule = new events.Rule(this, 'CleanupRule', {
      description: 'Stops the customization job of a fine-tuning execution that failed, timed out or was aborted',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [this.stateMachine.stateMachineArn] },
      },
    });
    this.cleanupRule.addTarget(
      new targets.LambdaFunction(cleanup.function, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: this.cleanupDeadLetterQueue }),
    );
  }

  /**
   * The states of an experiment, entered once its data is valid and within budget: the shared
   * baseline (when the runs evaluate), the variants' plan, each variant as a child execution of
   * this state machine (at most maxConcurrentJobs at once, the rest in request order; a failed
   * variant does not stop the others), the leaderboard, the promotion of the best variant (its
   * own child execution), then the experiment's outcome.
   */
  private experimentStates(states: Construct, deps: ExperimentStateDeps): { start: sfn.IChainable; baseline?: BaselineEvaluation } {
    const { props, invoke, failOn } = deps;
    const run = sfn.JsonPath.objectAt('$.run');
    const lambdaRetry = (task: tasks.LambdaInvoke) => void deps.withTransientRetry(deps.withLambdaServiceRetry(task));

    const planStep = deps.withTransientRetry(
      invoke('PlanVariants', deps.planVariants, {
        run,
        validation: sfn.JsonPath.objectAt('$.validation'),
        baseline: sfn.JsonPath.objectAt('$.baseline'),
        stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      }, '$.plan'),
    );
    failOn(planStep);

    let start: sfn.IChainable = planStep;
    let baseline: BaselineEvaluation | undefined;
    const noBaseline = new sfn.Pass(states, 'NoSharedBaseline', { comment: 'The variants do not evaluate: there is no baseline to share.', result: sfn.Result.fromObject({ baselines: [] }), resultPath: '$.baseline' }).next(planStep);
    if (props.evaluation?.enabled !== false) {
      const baselineFailed = new sfn.Pass(states, 'SharedBaselineFailed', {
        parameters: { 'Error.$': '$.baselineError.Error', 'Cause.$': '$.baselineError.Cause' },
        resultPath: '$.error',
      }).next(deps.recordFailure);
      baseline = new BaselineEvaluation(this, 'SharedBaseline', {
        datasetBucket: props.datasetBucket,
        dataPrefix: this.dataPrefix ?? '',
        artifactsBucket: props.artifactsBucket,
        runsPrefix: this.runsPrefix,
        bucketEncryptionKey: props.bucketEncryptionKey,
        functionDefaults: this.functionDefaults,
        statesScope: states,
        addTransientRetry: lambdaRetry,
        failure: baselineFailed,
        modelsPath: '$.run.experiment.variants[*].model',
        baseModelId: props.evaluation?.baseModelId,
        ...(props.evaluation?.shardSize !== undefined ? { shardSize: props.evaluation.shardSize } : {}),
        ...(props.evaluation?.maxConcurrency !== undefined ? { maxConcurrency: props.evaluation.maxConcurrency } : {}),
        ...(props.evaluation?.minAnsweredShare !== undefined ? { minAnsweredShare: props.evaluation.minAnsweredShare } : {}),
      });
      baseline.endState.next(planStep);
      start = new sfn.Choice(states, 'ShouldShareBaseline')
        .when(sfn.Condition.and(sfn.Condition.isPresent('$.run.data.testKey'), sfn.Condition.booleanEquals('$.run.evaluation.enabled', true)), baseline.startState)
        .otherwise(noBaseline);
    } else {
      start = noBaseline;
    }

    // Each variant: a child execution of this state machine, waited for (.sync:2).
    const startVariant = startOwnExecution(states, 'RunVariant', {
      comment: 'Runs one variant as its own run: its own execution, record, job and cleanup.',
      name: '$.variant.executionName',
      input: '$.variant.input',
    });
    startVariant.addRetry({ errors: OWN_EXECUTION_START_ERRORS, interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.minutes(2), jitterStrategy: sfn.JitterType.FULL });
    const variantSucceeded = new sfn.Pass(states, 'VariantEnded', {
      parameters: { 'name.$': '$.variant.name', 'runId.$': '$.variant.runId', 'status.$': '$.child.status' },
    });
    const variantFailed = new sfn.Pass(states, 'VariantDidNotSucceed', {
      comment: 'A failed, timed-out or aborted variant does not stop the others; its own record says why.',
      parameters: { 'name.$': '$.variant.name', 'runId.$': '$.variant.runId', status: 'FAILED', 'error.$': '$.failure.Error' },
    });
    startVariant.addCatch(variantFailed, { errors: ['States.ALL'], resultPath: '$.failure' });
    startVariant.next(variantSucceeded);
    const runVariants = new sfn.Map(states, 'RunVariants', {
      comment: 'At most maxConcurrentJobs variants at once; the rest start in request order.',
      itemsPath: '$.plan.variants',
      maxConcurrency: deps.maxConcurrentJobs,
      itemSelector: { 'variant.$': '$$.Map.Item.Value' },
      resultPath: '$.variantOutcomes',
    });
    runVariants.itemProcessor(startVariant);
    failOn(runVariants);
    planStep.next(runVariants);

    const leaderboardStep = deps.withTransientRetry(
      invoke('BuildLeaderboard', deps.buildLeaderboard, {
        bucket: props.artifactsBucket.bucketName,
        experimentRunId: sfn.JsonPath.stringAt('$.run.runId'),
        requestName: sfn.JsonPath.stringAt('$.run.requestName'),
        outputPrefix: sfn.JsonPath.stringAt('$.run.artifacts.prefix'),
        variants: sfn.JsonPath.listAt('$.plan.leaderboardVariants'),
      }, '$.leaderboard'),
    );
    failOn(leaderboardStep);
    runVariants.next(leaderboardStep);

    const recordExperiment = deps.withTransientRetry(
      invoke('RecordExperimentOutcome', deps.recordOutcome, {
        status: 'SUCCEEDED',
        run,
        experiment: { leaderboard: sfn.JsonPath.objectAt('$.leaderboard'), variants: sfn.JsonPath.listAt('$.variantOutcomes'), promotion: sfn.JsonPath.objectAt('$.bestPromotion') },
      }, '$.outcome'),
    );
    failOn(recordExperiment, deps.runFailed);
    recordExperiment.next(
      new sfn.Choice(states, 'DidAnyVariantSucceed')
        .when(sfn.Condition.stringEquals('$.outcome.status', 'FAILED'), new sfn.Fail(states, 'ExperimentFailed', { error: 'AllVariantsFailed', cause: 'No variant of the experiment succeeded; the experiment\'s record and each variant\'s record say why.' }))
        .otherwise(new sfn.Succeed(states, 'ExperimentSucceeded')),
    );
    const noPromotion = new sfn.Pass(states, 'BestVariantNotPromoted', { result: sfn.Result.fromObject({ status: 'NOT_RUN' }), resultPath: '$.bestPromotion' }).next(recordExperiment);
    if (this._promotion) {
      // Only the best variant may become the current model, through the same promotion states as a single run.
      const pickBest = new sfn.Pass(states, 'PickBestVariant', {
        parameters: { 'run.$': 'States.ArrayGetItem($.plan.variants, $.leaderboard.best.index)' },
        resultPath: '$.bestVariant',
      });
      const promoteBest = startOwnExecution(states, 'PromoteBestVariant', {
        comment: 'Promotes the best variant (the gate and the better-model rule apply) in an execution of its own.',
        name: '$.plan.promotionExecutionName',
        inputObject: { promoteVariant: { 'run.$': '$.bestVariant.run.input.variant.run' } },
        resultSelector: { 'status.$': '$.Status' },
        resultPath: '$.bestPromotion',
      });
      promoteBest.addRetry({ errors: OWN_EXECUTION_START_ERRORS, interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.minutes(2), jitterStrategy: sfn.JitterType.FULL });
      const promotionFailed = new sfn.Pass(states, 'BestVariantPromotionFailed', {
        parameters: { status: 'FAILED', 'error.$': '$.bestPromotionFailure.Error' },
        resultPath: '$.bestPromotion',
      }).next(recordExperiment);
      promoteBest.addCatch(promotionFailed, { errors: ['States.ALL'], resultPath: '$.bestPromotionFailure' });
      pickBest.next(promoteBest).next(recordExperiment);
      leaderboardStep.next(new sfn.Choice(states, 'HasBestVariant').when(sfn.Condition.isPresent('$.leaderboard.best'), pickBest).otherwise(noPromotion));
    } else {
      leaderboardStep.next(noPromotion);
    }
    return { start, baseline };
  }

  /**
   * The state machine starts executions of itself (variants, the best variant's promotion) and
   * waits for them; the cleanup of an experiment stops them. A policy of its own, attached after
   * the state machine exists: in the role's default policy, the state machine's own ARN would be
   * a dependency cycle.
   */
  private grantVariantExecutions(baseline: BaselineEvaluation | undefined, cleanup: WorkflowFunction): void {
    const stack = Stack.of(this);
    const machineName = Arn.split(this.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName!;
    const ownExecutions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${machineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const policy = new iam.Policy(this, 'VariantExecutionsPolicy', {
      roles: [this.stateMachine.role],
      statements: [
        new iam.PolicyStatement({ sid: 'StartOwnExecutions', actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
        new iam.PolicyStatement({ sid: 'WaitForOwnExecutions', actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [ownExecutions] }),
        // The rule Step Functions manages for .sync waits on executions (Step Functions developer guide, IAM policies for nested executions).
        new iam.PolicyStatement({
          sid: 'ManagedRuleOfSyncWaits',
          actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule' })],
        }),
      ],
    });
    acknowledgeWildcardResource(policy, ownExecutions, 'Executions of this state machine only: the variants of an experiment, named after their run ids at run time.');
    allow(cleanup, 'StopExperimentVariants', ['states:DescribeExecution', 'states:StopExecution'], [ownExecutions], 'Executions of this state machine only: the variants of an aborted experiment, named after their run ids at run time.');
    if (baseline) {
      for (const resource of baseline.stateMachineResources) {
        acknowledgeWildcardResource(this.stateMachine, resource, 'The shared baseline\'s shard manifest and Map Run results live under the experiment\'s own folder; run ids are made per request.');
      }
      acknowledgeWildcardResource(
        this.stateMachine,
        stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${machineName}/RunBaselineInference:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        'Executions of this state machine only (the shared baseline\'s Distributed Map child executions, named by Step Functions at run time).',
      );
    }
  }

  private fn(id: string, handler: string, description: string, environment: Record<string, string> = {}, extra: Partial<WorkflowFunctionProps> = {}): WorkflowFunction {
    return new WorkflowFunction(this, id, { ...this.functionDefaults, handler, description, environment, ...extra });
  }

  /**
   * A rule on this workflow's event bus that matches the outcome event of every run of this
   * deployment (`Fine-tuning Run Finished`, sent when a run succeeds or fails; README "Run
   * outcome" shows the detail). Add targets with `options.target` or `rule.addTarget()`.
   */
  public onRunFinished(id: string, options: events.OnEventOptions = {}): events.Rule {
    const rule = new events.Rule(this, id, { ...options, eventBus: this.eventBus });
    rule.addEventPattern({
      source: [EVENT_SOURCE],
      detailType: [OUTCOME_DETAIL_TYPE],
      detail: {
        environment: [this.environmentName],
        runRecord: events.Match.prefix(`s3://${this.artifactsBucket.bucketName}/${this.runsPrefix}`),
      },
    });
    rule.addEventPattern(options.eventPattern);
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  /**
   * A rule on this workflow's event bus that matches the event sent when a run's model becomes
   * the current model of its request name (`Fine-tuned Model Promoted`).
   *
   * @throws when promotion (or evaluation) is disabled: no such event is ever sent.
   */
  public onModelPromoted(id: string, options: events.OnEventOptions = {}): events.Rule {
    if (!this.modelRegistryPrefix) {
      throw new InvalidPropsError(CONSTRUCT, 'promotion', 'promotion (or evaluation) is disabled, so no model is ever promoted', 'Enable evaluation and promotion before calling onModelPromoted.', this);
    }
    const rule = new events.Rule(this, id, { ...options, eventBus: this.eventBus });
    rule.addEventPattern({
      source: [EVENT_SOURCE],
      detailType: [PROMOTED_DETAIL_TYPE],
      detail: { parameterName: events.Match.prefix(this.modelRegistryPrefix) },
    });
    rule.addEventPattern(options.eventPattern);
    if (options.target) rule.addTarget(options.target);
    return rule;
  }
}

/** What the experiment's states need from the constructor. */
interface ExperimentStateDeps {
  readonly props: FinetuningWorkflowProps;
  readonly maxConcurrentJobs: number;
  readonly invoke: (stateId: string, fn: WorkflowFunction, payload: Record<string, unknown>, resultPath: string) => tasks.LambdaInvoke;
  readonly withTransientRetry: (task: tasks.LambdaInvoke) => tasks.LambdaInvoke;
  readonly withLambdaServiceRetry: (task: tasks.LambdaInvoke) => tasks.LambdaInvoke;
  readonly failOn: (task: sfn.TaskStateBase | sfn.Map, target?: sfn.IChainable) => unknown;
  readonly runFailed: sfn.IChainable;
  readonly recordFailure: sfn.IChainable;
  readonly recordOutcome: WorkflowFunction;
  readonly planVariants: WorkflowFunction;
  readonly buildLeaderboard: WorkflowFunction;
}

/** Errors of starting an execution that a retry may clear (throttling, the open-executions limit, service errors). */
const OWN_EXECUTION_START_ERRORS = ['StepFunctions.ExecutionLimitExceededException', 'StepFunctions.SdkClientException', 'StepFunctions.AWSStepFunctionsException', 'StepFunctions.ThrottlingException'];

/**
 * A `states:startExecution.sync:2` task that starts an execution of this very state machine
 * (`$$.StateMachine.Id`, so the definition needs no reference to its own ARN) and waits for it.
 * The result is the execution's description, trimmed to its status unless `resultSelector` says otherwise.
 */
function startOwnExecution(
  scope: Construct,
  id: string,
  options: { readonly comment: string; readonly name: string; readonly input?: string; readonly inputObject?: Record<string, unknown>; readonly resultSelector?: Record<string, string>; readonly resultPath?: string },
): sfn.CustomState {
  return new sfn.CustomState(scope, id, {
    stateJson: {
      Type: 'Task',
      Comment: options.comment,
      Resource: `arn:${Aws.PARTITION}:states:::states:startExecution.sync:2`,
      Parameters: {
        'StateMachineArn.$': '$$.StateMachine.Id',
        'Name.$': options.name,
        ...(options.input ? { 'Input.$': options.input } : { Input: options.inputObject }),
      },
      ResultSelector: options.resultSelector ?? { 'status.$': '$.Status' },
      ResultPath: options.resultPath ?? '$.child',
    },
  });
}

/**
 * Lets CloudWatch Logs encrypt this account's log groups in this region with the key, and
 * nothing else (the encryption context names the log group), since the same key may also
 * encrypt datasets. No-op for an imported key, whose policy its owner manages.
 */
function allowLogsToUseKey(scope: Construct, key: kms.IKey | undefined): void {
  if (!key) return;
  const stack = Stack.of(scope);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'], // in a key policy, '*' means this key
      conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
    }),
  );
}

/** Checks the default model and hyperparameters at synth time. */
function checkDefaults(model: string | undefined, hyperParameters: Record<string, number> | undefined, scope: IConstruct): { model?: string; hyperParameters?: ResolvedHyperParameters } {
  let resolvedModel;
  if (model !== undefined) {
    try {
      resolvedModel = resolveModel(model);
    } catch (err) {
      throw new InvalidPropsError(CONSTRUCT, 'defaultModel', (err as Error).message.replace(/\.$/, ''), 'Fix the model name in your props or cdk.json.', scope);
    }
  }
  if (hyperParameters === undefined) return { model: resolvedModel?.name };
  try {
    // Without a default model every model may be requested; all Llama 3.2 models share ranges.
    return { model: resolvedModel?.name, hyperParameters: resolveHyperParameters(resolvedModel ?? resolveModel('llama3.2-11b'), hyperParameters) };
  } catch (err) {
    throw new InvalidPropsError(CONSTRUCT, 'defaultHyperParameters', (err as Error).message.replace(/\.$/, ''), 'Fix the values in your props or cdk.json.', scope);
  }
}

function checkDurations(pollInterval: Duration, quotaRetryInterval: Duration, quotaWaitTimeout: Duration, scope: IConstruct): void {
  if (pollInterval.toSeconds() < 1) throw new InvalidPropsError(CONSTRUCT, 'pollInterval', 'is shorter than a second', 'Use at least Duration.seconds(1); minutes suit jobs that train for hours.', scope);
  if (quotaRetryInterval.toSeconds() < 1) throw new InvalidPropsError(CONSTRUCT, 'quotaRetryInterval', 'is shorter than a second', 'Use e.g. Duration.minutes(15).', scope);
  if (quotaWaitTimeout.toSeconds() < quotaRetryInterval.toSeconds()) {
    throw new InvalidPropsError(CONSTRUCT, 'quotaWaitTimeout', 'is shorter than quotaRetryInterval', 'Make it at least one retry interval long.', scope);
  }
}

function checkJobWatchErrorBudget(budget: Duration, pollInterval: Duration, executionTimeout: Duration, scope: IConstruct): void {
  const seconds = budget.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < pollInterval.toSeconds()) {
    throw new InvalidPropsError(CONSTRUCT, 'jobWatchErrorBudget', `${budget.toHumanString()} is not a whole number of seconds of at least one pollInterval (${pollInterval.toHumanString()})`, 'Allow at least one failed check to be retried, e.g. Duration.hours(6).', scope);
  }
  if (seconds >= executionTimeout.toSeconds()) {
    throw new InvalidPropsError(CONSTRUCT, 'jobWatchErrorBudget', `${budget.toHumanString()} is not shorter than executionTimeout (${executionTimeout.toHumanString()})`, 'Make it shorter than a run may take, e.g. Duration.hours(6).', scope);
  }
}

/**
 * Fails synth when some allowed run could record more history events than Step Functions keeps
 * (25,000, less a margin): the synthesized definition's states, each with all its retries, plus
 * its poll loops for as long as the execution may run (history-budget.ts).
 */
function checkHistoryBudget(scope: IConstruct, stateMachine: sfn.StateMachine, executionTimeout: Duration, evaluation: EvaluationOptions | undefined, extraLoops: PromotionStage['loopBounds'] = {}): HistoryEstimate {
  const definition = synthesizedDefinition(stateMachine);
  const provisioningPoll = evaluation?.provisioningPollInterval ?? Duration.minutes(1);
  const provisioningTimeout = evaluation?.provisioningTimeout ?? Duration.hours(2);
  const design = historyDesignOf(
    definition,
    {
      WaitForJobEnd: { what: 'safety polls of the job', settings: ['pollInterval', 'executionTimeout'] },
      WaitForModel: {
        what: 'Provisioned Throughput status checks',
        settings: ['evaluation.provisioningPollInterval', 'evaluation.provisioningTimeout'],
        maxRounds: Math.ceil(provisioningTimeout.toSeconds() / Math.max(1, provisioningPoll.toSeconds())) + 1,
      },
      ...extraLoops,
    },
    executionTimeout.toSeconds(),
    // An experiment runs at most MAX_EXPERIMENT_VARIANTS variants, each a child execution with a history of its own.
    { RunVariants: MAX_EXPERIMENT_VARIANTS },
  );
  const estimate = worstCaseHistoryEvents(design);
  const problem = historyBudgetProblem(estimate, executionTimeout.toSeconds());
  if (problem) throw new InvalidPropsError(CONSTRUCT, problem.prop, problem.problem, problem.fix, scope);
  for (const [state, events] of Object.entries(childHistoryEvents(definition))) {
    if (events > HISTORY_EVENT_BUDGET) throw new InvalidPropsError(CONSTRUCT, 'evaluation', `a child execution of ${state} could record ${events} history events`, 'Lower the retries of its states.', scope);
  }
  return estimate;
}

/** The state machine's definition as synthesized (tokens, which sit inside strings, replaced by a placeholder). */
function synthesizedDefinition(stateMachine: sfn.StateMachine): BudgetDefinition {
  const resolved = Stack.of(stateMachine).resolve((stateMachine.node.defaultChild as sfn.CfnStateMachine).definitionString) as unknown;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const text = typeof resolved === 'string' ? resolved : join![1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join(join![0]);
  return JSON.parse(text) as BudgetDefinition;
}

/**
 * The state machine role's findings that AWS offers no narrower form for: log delivery and
 * X-Ray (Resource: *), and invoking the exact functions including their versions (`arn:*`).
 */
function acknowledgeStateMachineRole(stateMachine: sfn.StateMachine, functions: lambda.IFunction[]): void {
  Validations.of(stateMachine).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'CloudWatch Logs vended log delivery (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments) support no resource-level permissions; AWS offers no narrower form.',
  });
  for (const fn of functions) {
    acknowledgeWildcardResource(
      stateMachine,
      `${fn.functionArn}:*`,
      'Step Functions invokes this one function; the :* suffix only covers its versions and aliases, as the LambdaInvoke task grants.',
    );
  }
}

/** The validation step's cost settings: prices, budget, and how evaluation is paid for. */
function costEnvironment(props: FinetuningWorkflowProps, scope: IConstruct): Record<string, string> {
  const prices = checkCostSettings(CONSTRUCT, props.modelPrices, props.costBudget, undefined, scope);
  const evaluation = props.evaluation;
  const mode = evaluation?.enabled === false ? 'off' : evaluation?.provisionedModelArn ? 'existing' : 'per-run';
  return {
    EVALUATION_MODE: mode,
    ...(mode === 'per-run' ? { EVALUATION_MODEL_UNITS: String(evaluation?.modelUnits ?? 1) } : {}),
    ...(prices && Object.keys(prices).length > 0 ? { COST_PRICES: JSON.stringify(prices) } : {}),
    ...(props.costBudget ? { COST_BUDGET: JSON.stringify(props.costBudget) } : {}),
  };
}
