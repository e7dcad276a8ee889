import { Duration, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { grantS3KeyUse } from '../core/kms-grants';
import { InvalidPropsError } from '../core/props-validation';
import { allow, baseModelInvokeResources } from './grants';
import { checkShardSettings, shardInferenceMap } from './shard-inference-map';
import { WorkflowFunction, WorkflowFunctionProps } from './workflow-function';

/** What the baseline piece needs from the state machine it is chained into. */
export interface BaselineEvaluationProps {
  readonly datasetBucket: s3.IBucket;
  /** Prefix of the dataset bucket the requests' data (images included) is confined to; '' for the whole bucket. */
  readonly dataPrefix: string;
  readonly artifactsBucket: s3.IBucket;
  /** The runs prefix; the baseline is written under `<runs prefix><run id>/baseline/`. */
  readonly runsPrefix: string;
  readonly bucketEncryptionKey?: kms.IKey;
  readonly functionDefaults: Pick<WorkflowFunctionProps, 'logRetention' | 'logEncryptionKey' | 'logRemovalPolicy'>;
  /** Scope for the states (state names are construct ids). */
  readonly statesScope: Construct;
  /** Retries for Lambda service errors and transient AWS errors, applied to every task. */
  readonly addTransientRetry: (task: tasks.LambdaInvoke) => void;
  /**
   * Where errors go (caught with States.ALL, the error at `<resultPath>Error`).
   * @default - errors fail the execution
   */
  readonly failure?: sfn.IChainable;
  /**
   * JSONPath of the run context the baseline is computed for: its artifacts prefix (where the
   * baseline is written), its pinned test copy (`<prefix>data/test.jsonl`), its data versions,
   * model and evaluation settings (maxTokens, maxRecords).
   * @default '$.run'
   */
  readonly runPath?: string;
  /**
   * JSONPath of a list of model names (catalogue names) whose base models answer; each distinct
   * base model gets its own baseline.
   * @default - the run context's model only
   */
  readonly modelsPath?: string;
  /**
   * Where the result goes: `{ baselines: BaselineReference[] }`, one per distinct base model, in
   * the order of the models (prepare's output is kept there while the baseline is computed).
   * @default '$.baseline'
   */
  readonly resultPath?: string;
  /**
   * Model id of the base model, as the evaluation stage's `evaluation.baseModelId`: it must be
   * the same, or the variants' evaluations refuse the baseline.
   * @default - the US cross-region inference profile of each model
   */
  readonly baseModelId?: string;
  /** @default 20 */
  readonly shardSize?: number;
  /** @default 10 */
  readonly maxConcurrency?: number;
  /** @default 4 */
  readonly recordConcurrency?: number;
  /** Smallest share of records the base model must answer. @default 0.95 */
  readonly minAnsweredShare?: number;
}

const CONSTRUCT = 'BaselineEvaluation';

/**
 * The shared baseline of an experiment, as a piece of a state machine: cuts the pinned test
 * records into shards once, asks only the base model(s) through their on-demand inference
 * profiles (no Provisioned Throughput) in a Distributed Map, and records a manifest per base
 * model (lambda/shared/evaluation/baseline.ts). Variants whose run context carries one of the
 * resulting references as `evaluation.baseline` send only fine-tuned calls.
 *
 * Chain `startState` in, and continue from `endState`.
 */
export class BaselineEvaluation extends Construct {
  /** First state of the piece. */
  public readonly startState: sfn.State;
  /** Last state; chain the next state onto it. */
  public readonly endState: tasks.LambdaInvoke;
  /** The piece's functions by step name. */
  public readonly functions: Readonly<Record<string, WorkflowFunction>>;
  /** Objects the state machine's role reads and writes for the Distributed Map. */
  public readonly stateMachineResources: string[];

  constructor(scope: Construct, id: string, props: BaselineEvaluationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const shardSize = props.shardSize ?? 20;
    const maxConcurrency = props.maxConcurrency ?? 10;
    const recordConcurrency = props.recordConcurrency ?? 4;
    const minAnsweredShare = props.minAnsweredShare ?? 0.95;
    const runPath = props.runPath ?? '$.run';
    const resultPath = props.resultPath ?? '$.baseline';
    checkShardSettings(CONSTRUCT, '', { shardSize, maxConcurrency, recordConcurrency });
    if (!(minAnsweredShare > 0 && minAnsweredShare <= 1)) throw new InvalidPropsError(CONSTRUCT, 'minAnsweredShare', `${minAnsweredShare} is not a share`, 'Use a number above 0 and at most 1, e.g. 0.95.');

    const fn = (fid: string, handler: string, description: string, environment: Record<string, string>, extra: Partial<WorkflowFunctionProps> = {}) =>
      new WorkflowFunction(this, fid, { ...props.functionDefaults, handler, description, environment, ...extra });
    const runObjects = (suffix: string) => props.artifactsBucket.arnForObjects(`${props.runsPrefix}*/${suffix}`);
    const reason = 'Confined to the baseline folder of a run under the runs prefix; run ids are made per request.';

    const prepare = fn('PrepareBaseline', 'prepare-evaluation', 'Cuts the pinned test set into shards for the shared baseline', {
      SHARD_SIZE: String(shardSize),
      ...(props.baseModelId ? { BASE_MODEL_ID: props.baseModelId } : {}),
    });
    allow(prepare, 'ReadPinnedTestData', ['s3:GetObject'], [runObjects('data/*')], 'The run\'s copies of its validated test file and sidecar; run ids are made per request.');
    allow(prepare, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(prepare, 'WriteShards', ['s3:PutObject'], [runObjects('baseline/shards/*')], reason);
    grantS3KeyUse(props.bucketEncryptionKey, prepare.role, 'read-write');

    const infer = fn('InferBaselineShard', 'infer-shard', 'Runs one shard of test records through the base model for the shared baseline', { RECORD_CONCURRENCY: String(recordConcurrency) }, {
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    // Only the base model: no Provisioned Throughput is involved.
    const baseModelResources = baseModelInvokeResources(stack, props.baseModelId);
    allow(infer, 'InvokeBaseModel', ['bedrock:InvokeModel'], baseModelResources, 'The base model is a Llama 3.2 foundation model reached through an inference profile, which may route to several regions.');
    allow(infer, 'ReadShardsAndImages', ['s3:GetObject'], [runObjects('baseline/shards/*'), props.datasetBucket.arnForObjects(`${props.dataPrefix}*`)], 'Reads its shard and the images the test records name, wherever the user keeps them under the data prefix.');
    allow(infer, 'WritePredictions', ['s3:PutObject'], [runObjects('baseline/*/predictions/*')], reason);
    grantS3KeyUse(props.bucketEncryptionKey, infer.role, 'read-write');

    const record = fn('RecordBaseline', 'record-baseline', 'Checks the shared baseline\'s answers and writes its manifest', { MIN_ANSWERED_SHARE: String(minAnsweredShare) }, { timeout: Duration.minutes(5), memorySize: 1024 });
    allow(record, 'ReadPredictions', ['s3:GetObject'], [runObjects('baseline/*/predictions/*')], reason);
    allow(record, 'ListPredictions', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    allow(record, 'WriteManifest', ['s3:PutObject'], [runObjects('baseline/*/manifest.json')], reason);
    grantS3KeyUse(props.bucketEncryptionKey, record.role, 'read-write');

    this.functions = { 'prepare-baseline': prepare, 'infer-baseline-shard': infer, 'record-baseline': record };

    // ---- States ----
    const s = props.statesScope;
    const run = sfn.JsonPath.objectAt(runPath);
    const invoke = (stateId: string, f: WorkflowFunction, payload: Record<string, unknown>) => {
      const task = new tasks.LambdaInvoke(s, stateId, { lambdaFunction: f.function, payload: sfn.TaskInput.fromObject(payload), payloadResponseOnly: true, resultPath, retryOnServiceExceptions: false });
      props.addTransientRetry(task);
      return task;
    };
    const onFailure = (task: sfn.TaskStateBase | sfn.DistributedMap) => {
      if (props.failure) task.addCatch(props.failure, { errors: ['States.ALL'], resultPath: `${resultPath}Error` });
    };

    const prepareStep = invoke('PrepareBaseline', prepare, { run, baseline: props.modelsPath ? { models: sfn.JsonPath.listAt(props.modelsPath) } : {} });
    onFailure(prepareStep);

    // As in the evaluation stage: the shard list is read from S3, results go to S3, so neither
    // the state nor the history grows with the test set or the number of base models.
    const fanOut = shardInferenceMap({
      statesScope: s,
      taskName: 'InferBaselineShard',
      mapName: 'RunBaselineInference',
      inferFunction: infer,
      addTransientRetry: props.addTransientRetry,
      preparedPath: resultPath,
      itemSelector: { 'run.$': runPath, 'shard.$': '$$.Map.Item.Value', purpose: 'baseline' },
      maxConcurrency,
      manifestObjects: runObjects('baseline/shards/manifest.json'),
      mapRunObjects: runObjects('baseline/map-runs/*'),
    });
    onFailure(fanOut);
    this.stateMachineResources = [runObjects('baseline/shards/manifest.json'), runObjects('baseline/map-runs/*')];

    const recordStep = invoke('RecordBaseline', record, { run, prepared: sfn.JsonPath.objectAt(resultPath) });
    onFailure(recordStep);

    prepareStep.next(fanOut);
    fanOut.next(recordStep);
    this.startState = prepareStep;
    this.endState = recordStep;
  }
}
