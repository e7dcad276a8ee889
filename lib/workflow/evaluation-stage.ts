import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { grantS3KeyUse } from '../core/kms-grants';
import { InvalidPropsError } from '../core/props-validation';
import { allow, baseModelInvokeResources, bedrockArn } from './grants';
import { checkShardSettings, shardInferenceMap } from './shard-inference-map';
import { WorkflowFunction, WorkflowFunctionProps } from './workflow-function';

/** Quality thresholds a fine-tuned model must meet; the outcome says whether it did. */
export interface QualityGate {
  /**
   * Lowest acceptable SQuAD F1 (0-100) of the fine-tuned model.
   * @default - no minimum
   */
  readonly minF1?: number;
  /**
   * Lowest acceptable relative improvement of F1 over the base model, in percent.
   * @default - no minimum
   */
  readonly minImprovementPercent?: number;
}

/** How a run evaluates its fine-tuned model against the base model. */
export interface EvaluationOptions {
  /**
   * Whether runs with test data evaluate. A request can still opt out with
   * `"evaluation": {"enabled": false}`.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Serve the fine-tuned model on this existing Provisioned Throughput instead of creating one
   * per run. Never deleted by a run.
   * @default - each run creates a no-commitment Provisioned Throughput and deletes it
   */
  readonly provisionedModelArn?: string;
  /**
   * Model units of the Provisioned Throughput a run creates.
   * @default 1
   */
  readonly modelUnits?: number;
  /**
   * Model id for the base-model baseline (an inference profile id).
   * @default - the US cross-region inference profile of the run's model, e.g. us.meta.llama3-2-11b-instruct-v1:0
   */
  readonly baseModelId?: string;
  /**
   * Test records per inference Lambda invocation.
   * @default 20
   */
  readonly shardSize?: number;
  /**
   * Shards inferred at once.
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Records one inference invocation works on at once (each asks both models in parallel).
   * Total concurrency is `maxConcurrency` x `recordConcurrency`.
   * @default 4
   */
  readonly recordConcurrency?: number;
  /**
   * Smallest share (0-1) of test records each model must answer; below it the evaluation fails
   * (EvaluationIncomplete) instead of scoring refused records as wrong answers.
   * @default 0.95
   */
  readonly minAnsweredShare?: number;
  /**
   * How often the Provisioned Throughput's status is checked while it is being created.
   * @default Duration.minutes(1)
   */
  readonly provisioningPollInterval?: Duration;
  /**
   * How long creating the Provisioned Throughput may take before evaluation fails.
   * @default Duration.hours(2)
   */
  readonly provisioningTimeout?: Duration;
  /**
   * Thresholds; the outcome records whether the fine-tuned model passed them.
   * @default - no gate
   */
  readonly qualityGate?: QualityGate;
}

/** What the evaluation stage needs from the workflow. */
export interface EvaluationStageProps extends EvaluationOptions {
  readonly datasetBucket: s3.IBucket;
  /** Prefix of the dataset bucket the requests' data (images included) is confined to; '' for the whole bucket. */
  readonly dataPrefix: string;
  readonly artifactsBucket: s3.IBucket;
  readonly runsPrefix: string;
  readonly environmentName: string;
  readonly bucketEncryptionKey?: kms.IKey;
  /** Key of the custom models, when they are encrypted with one. */
  readonly customModelEncryptionKey?: kms.IKey;
  readonly functionDefaults: Pick<WorkflowFunctionProps, 'logRetention' | 'logEncryptionKey' | 'logRemovalPolicy'>;
  /** Scope for the states (state names are construct ids). */
  readonly statesScope: Construct;
  /** Where a failure goes after the Provisioned Throughput is released. */
  readonly recordFailure: sfn.IChainable;
  /** Retries for Lambda service errors and transient AWS errors, applied to every task. */
  readonly addTransientRetry: (task: tasks.LambdaInvoke) => void;
}

const CONSTRUCT = 'EvaluationStage';

/**
 * How the release steps retry a deletion Bedrock refused: the function makes one deletion call
 * per try (lambda/provisioned-throughput, `action: 'delete'`), so these tries, 10 s apart and
 * doubling, are the whole of its retrying; no function sleeps between them.
 */
const RELEASE_RETRY: sfn.RetryProps = { errors: ['States.ALL'], interval: Duration.seconds(10), maxAttempts: 5, backoffRate: 2 };

/**
 * The evaluation stage: serve the fine-tuned model (a no-commitment Provisioned Throughput,
 * created and always deleted, or an existing one), run the held-out test records through it
 * and through the base model with a bounded Distributed Map fan-out, score both with SQuAD F1, and write
 * the report. Every error inside releases the Provisioned Throughput before the run fails. A
 * release Bedrock keeps refusing after a good evaluation does not fail the run: it is recorded,
 * reported and alarmed (UndeletedProvisionedThroughputs), and the watch deletes the throughput.
 */
export class EvaluationStage extends Construct {
  /** First state of the stage. */
  public readonly startState: sfn.State;
  /** The stage's functions by step name. */
  public readonly functions: Readonly<Record<string, WorkflowFunction>>;
  /**
   * Last state of the success path (the model released, or its refused deletion recorded);
   * chain the next state onto it.
   */
  public readonly endState: sfn.Pass;
  /**
   * Objects the state machine's role reads and writes for the Distributed Map (the shard
   * manifest, the Map Run results), for the acknowledgement of their wildcards.
   */
  public readonly stateMachineResources: readonly string[];

  constructor(scope: Construct, id: string, props: EvaluationStageProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const modelUnits = props.modelUnits ?? 1;
    const shardSize = props.shardSize ?? 20;
    const maxConcurrency = props.maxConcurrency ?? 10;
    const recordConcurrency = props.recordConcurrency ?? 4;
    const minAnsweredShare = props.minAnsweredShare ?? 0.95;
    const provisioningTimeout = props.provisioningTimeout ?? Duration.hours(2);
    checkShardSettings(CONSTRUCT, 'evaluation.', { shardSize, maxConcurrency, recordConcurrency }, this);
    if (!(minAnsweredShare > 0 && minAnsweredShare <= 1)) throw new InvalidPropsError(CONSTRUCT, 'evaluation.minAnsweredShare', `${minAnsweredShare} is not a share`, 'Use a number above 0 and at most 1, e.g. 0.95.', this);
    if (provisioningTimeout.toSeconds() < 60 || provisioningTimeout.toSeconds() % 60 !== 0) throw new InvalidPropsError(CONSTRUCT, 'evaluation.provisioningTimeout', 'is not a whole number of minutes (at least one)', 'Use e.g. Duration.hours(2).', this);
    if (!Number.isInteger(modelUnits) || modelUnits < 1) throw new InvalidPropsError(CONSTRUCT, 'evaluation.modelUnits', `${modelUnits} is not a positive whole number`, 'Use 1 or more model units.', this);
    const gate = props.qualityGate ?? {};
    if (gate.minF1 !== undefined && (gate.minF1 < 0 || gate.minF1 > 100)) throw new InvalidPropsError(CONSTRUCT, 'evaluation.qualityGate.minF1', `${gate.minF1} is outside 0..100`, 'F1 is reported from 0 to 100.', this);
    if (props.provisionedModelArn !== undefined && !/^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:provisioned-model\/[a-z0-9]+$/.test(props.provisionedModelArn)) {
      throw new InvalidPropsError(CONSTRUCT, 'evaluation.provisionedModelArn', `'${props.provisionedModelArn}' is not a provisioned model ARN`, 'Copy the ARN from the Bedrock console (Provisioned Throughput).', this);
    }

    const fn = (fid: string, handler: string, description: string, environment: Record<string, string>, extra: Partial<WorkflowFunctionProps> = {}) =>
      new WorkflowFunction(this, fid, { ...props.functionDefaults, handler, description, environment, ...extra });
    const runObjects = (suffix: string) => props.artifactsBucket.arnForObjects(`${props.runsPrefix}*/${suffix}`);
    const runIdReason = 'Confined to the run\'s own folder under the runs prefix; run ids are made per request.';

    const prepare = fn('PrepareEvaluation', 'prepare-evaluation', 'Cuts the test set into shards of evaluation items', {
      SHARD_SIZE: String(shardSize),
      // A shared baseline must have been made with the base model this stage asks (BaselineMismatch otherwise).
      ...(props.baseModelId ? { BASE_MODEL_ID: props.baseModelId } : {}),
    });
    // The run's copies of the validated test file and its sidecar (written by the validation step), never the user's keys.
    allow(prepare, 'ReadPinnedTestData', ['s3:GetObject'], [runObjects('data/*')], runIdReason);
    // An experiment's variant checks the shared baseline it was given (lambda/shared/evaluation/baseline.ts) before anything bills.
    allow(prepare, 'ReadSharedBaseline', ['s3:GetObject'], [runObjects('baseline/*/manifest.json')], 'The experiment\'s baseline lives under the experiment\'s run folder; run ids are made per request.');
    allow(prepare, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(prepare, 'WriteShards', ['s3:PutObject'], [runObjects('evaluation/shards/*')], runIdReason);
    grantS3KeyUse(props.bucketEncryptionKey, prepare.role, 'read-write');

    const provisioned = fn('ProvisionedThroughput', 'provisioned-throughput', 'Creates, checks and deletes the Provisioned Throughput that serves the fine-tuned model', {
      MODEL_UNITS: String(modelUnits),
      ENVIRONMENT_NAME: props.environmentName,
      PROVISIONING_TIMEOUT_MINUTES: String(provisioningTimeout.toMinutes()),
      ...(props.provisionedModelArn ? { EXISTING_PROVISIONED_MODEL_ARN: props.provisionedModelArn } : {}),
    });
    allow(
      provisioned,
      'ManageProvisionedThroughput',
      ['bedrock:CreateProvisionedModelThroughput', 'bedrock:GetProvisionedModelThroughput', 'bedrock:DeleteProvisionedModelThroughput', 'bedrock:TagResource'],
      [bedrockArn(stack, 'custom-model', '*'), bedrockArn(stack, 'provisioned-model', '*')],
      'Custom model and Provisioned Throughput ARNs carry ids Bedrock assigns at creation; the function only touches the ones of its run.',
    );
    allow(provisioned, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runObjects('run.json')], runIdReason);
    // A deletion Bedrock kept refusing is told at the top of the report already written.
    allow(provisioned, 'AddReportNotice', ['s3:GetObject', 's3:PutObject'], [runObjects('report.md'), runObjects('report.html')], runIdReason);
    allow(provisioned, 'TellMissingReportFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantCustomModelKey(props.customModelEncryptionKey, provisioned);
    grantS3KeyUse(props.bucketEncryptionKey, provisioned.role, 'read-write');

    const infer = fn('InferShard', 'infer-shard', 'Runs one shard of test records through the base and the fine-tuned model', { RECORD_CONCURRENCY: String(recordConcurrency) }, {
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    const baseModelResources = baseModelInvokeResources(stack, props.baseModelId);
    allow(
      infer,
      'InvokeModels',
      ['bedrock:InvokeModel'],
      [bedrockArn(stack, 'provisioned-model', '*'), ...baseModelResources],
      'Provisioned Throughput ARNs are created per run; the base model is a Llama 3.2 foundation model reached through an inference profile, which may route to several regions.',
    );
    grantCustomModelKey(props.customModelEncryptionKey, infer);
    allow(infer, 'ReadShardsAndImages', ['s3:GetObject'], [runObjects('evaluation/shards/*'), props.datasetBucket.arnForObjects(`${props.dataPrefix}*`)], 'Reads its shard and the images the test records name, wherever the user keeps them under the data prefix.');
    allow(infer, 'WritePredictions', ['s3:PutObject'], [runObjects('evaluation/predictions/*')], runIdReason);
    grantS3KeyUse(props.bucketEncryptionKey, infer.role, 'read-write');

    const score = fn('ScoreEvaluation', 'score-evaluation', 'Scores base and fine-tuned predictions with SQuAD F1 and writes the report', {
      QUALITY_GATE: JSON.stringify(gate),
      MIN_ANSWERED_SHARE: String(minAnsweredShare),
      ENVIRONMENT_NAME: props.environmentName,
    }, { timeout: Duration.minutes(5), memorySize: 1024 });
    allow(score, 'ReadPredictions', ['s3:GetObject'], [runObjects('evaluation/predictions/*'), runObjects('run.json')], runIdReason);
    // A variant of an experiment scores the base side from the shared baseline's answers.
    allow(score, 'ReadSharedBaseline', ['s3:GetObject'], [runObjects('baseline/*/manifest.json'), runObjects('baseline/*/predictions/*')], 'The experiment\'s baseline lives under the experiment\'s run folder; run ids are made per request.');
    allow(score, 'ListPredictions', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(score, 'WriteReport', ['s3:PutObject'], [runObjects('report.*'), runObjects('run.json')], runIdReason);
    // The report shows the images of its lowest-scoring examples (each read once, size-bounded).
    allow(score, 'ReadExampleImages', ['s3:GetObject'], [props.datasetBucket.arnForObjects(`${props.dataPrefix}*`)], 'Reads the images the test records name, wherever the user keeps them under the data prefix.');
    allow(score, 'TellMissingImagesFromDenied', ['s3:ListBucket'], [props.datasetBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, score.role, 'read-write');

    this.functions = { 'prepare-evaluation': prepare, 'provisioned-throughput': provisioned, 'infer-shard': infer, 'score-evaluation': score };

    // ---- States ----
    const s = props.statesScope;
    const run = sfn.JsonPath.objectAt('$.run');
    const invoke = (stateId: string, f: WorkflowFunction, payload: Record<string, unknown>, resultPath: string) => {
      const task = new tasks.LambdaInvoke(s, stateId, { lambdaFunction: f.function, payload: sfn.TaskInput.fromObject(payload), payloadResponseOnly: true, resultPath, retryOnServiceExceptions: false });
      props.addTransientRetry(task);
      return task;
    };

    // Errors before anything bills go straight to the failure record; after, the model is released first.
    const releaseAfterFailure = invoke('ReleaseModelAfterFailure', provisioned, { action: 'delete', run, provisioned: sfn.JsonPath.objectAt('$.provisioned') }, '$.released');
    releaseAfterFailure.addRetry(RELEASE_RETRY);
    releaseAfterFailure.addCatch(props.recordFailure, { resultPath: '$.releaseError' });
    releaseAfterFailure.next(props.recordFailure);
    const failBeforeModel = (task: sfn.TaskStateBase) => task.addCatch(props.recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    const failAfterModel = (task: sfn.TaskStateBase | sfn.DistributedMap) => task.addCatch(releaseAfterFailure, { errors: ['States.ALL'], resultPath: '$.error' });

    const prepareStep = invoke('PrepareEvaluation', prepare, { run }, '$.evaluation');
    failBeforeModel(prepareStep);
    const createModel = invoke('ProvisionModel', provisioned, { action: 'create', run, job: sfn.JsonPath.objectAt('$.job') }, '$.provisioned');
    failBeforeModel(createModel);
    const waitForModel = new sfn.Wait(s, 'WaitForModel', { time: sfn.WaitTime.duration(props.provisioningPollInterval ?? Duration.minutes(1)) });
    const describeModel = invoke('CheckModel', provisioned, { action: 'describe', run, provisioned: sfn.JsonPath.objectAt('$.provisioned') }, '$.provisioned');
    failAfterModel(describeModel);
    const modelFailed = new sfn.Pass(s, 'ModelFailed', {
      parameters: { Error: 'ProvisionedThroughputFailed', 'Cause.$': "States.Format('The Provisioned Throughput {} failed: {}', $.provisioned.provisionedModelArn, $.provisioned.failureMessage)" },
      resultPath: '$.error',
    }).next(releaseAfterFailure);

    // The shard list is read from the manifest PrepareEvaluation wrote (never carried in the
    // state), each shard runs in a child execution with its own history, results go to S3.
    const fanOut = shardInferenceMap({
      statesScope: s,
      taskName: 'InferShard',
      mapName: 'RunInference',
      inferFunction: infer,
      addTransientRetry: props.addTransientRetry,
      preparedPath: '$.evaluation',
      itemSelector: {
        'run.$': '$.run',
        'shard.$': '$$.Map.Item.Value',
        'fineTunedModelId.$': '$.provisioned.provisionedModelArn',
        ...(props.baseModelId ? { baseModelId: props.baseModelId } : { 'baseModelId.$': '$.run.model.inferenceProfileId' }),
      },
      maxConcurrency,
      manifestObjects: runObjects('evaluation/shards/manifest.json'),
      mapRunObjects: runObjects('evaluation/map-runs/*'),
    });
    this.stateMachineResources = [runObjects('evaluation/shards/manifest.json'), runObjects('evaluation/map-runs/*')];
    failAfterModel(fanOut);

    const scoreStep = invoke('ScoreEvaluation', score, { run, provisioned: sfn.JsonPath.objectAt('$.provisioned') }, '$.scores');
    failAfterModel(scoreStep);
    const releaseModel = invoke('ReleaseModel', provisioned, { action: 'delete', run, provisioned: sfn.JsonPath.objectAt('$.provisioned') }, '$.released');
    releaseModel.addRetry(RELEASE_RETRY);
    // Still refused after the retries: the run is trained and scored, so it goes on; the
    // refusal is recorded and alarmed, and the watch deletes the throughput once the run ended.
    const recordNotReleased = invoke('RecordModelNotReleased', provisioned, { action: 'record-undeleted', run, provisioned: sfn.JsonPath.objectAt('$.provisioned') }, '$.released');
    releaseModel.addCatch(recordNotReleased, { errors: ['States.ALL'], resultPath: '$.releaseError' });
    // Not even recorded: the run fails, and the cleanup of a failed run deletes (or alarms) as ever.
    recordNotReleased.addCatch(props.recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    this.endState = new sfn.Pass(s, 'EvaluationEnded', { comment: 'The model released, or the deletion Bedrock refused recorded in the run record.' });
    releaseModel.next(this.endState);
    recordNotReleased.next(this.endState);

    prepareStep.next(createModel);
    const isInService = new sfn.Choice(s, 'IsModelInService')
      .when(sfn.Condition.stringEquals('$.provisioned.status', 'InService'), fanOut)
      .when(sfn.Condition.stringEquals('$.provisioned.status', 'Failed'), modelFailed)
      .otherwise(waitForModel);
    createModel.next(isInService);
    waitForModel.next(describeModel);
    describeModel.next(isInService);
    fanOut.next(scoreStep);
    scoreStep.next(releaseModel);
    this.startState = prepareStep;
  }
}

/** Lets a function use the key that encrypts custom models, only through Bedrock. */
export function grantCustomModelKey(key: kms.IKey | undefined, fn: WorkflowFunction): void {
  if (!key) return;
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'UseCustomModelKey',
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:CreateGrant', 'kms:GenerateDataKey'],
      resources: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `bedrock.${Stack.of(fn).region}.amazonaws.com` } },
    }),
  );
}
