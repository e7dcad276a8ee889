/**
 * The fan-out both evaluation pieces share (the run's EvaluationStage and an experiment's
 * BaselineEvaluation): a Distributed Map that reads the shard list from the manifest the
 * prepare step wrote, runs infer-shard on each shard in a child execution, and writes the Map
 * Run's results to S3. So neither the state (256 KiB) nor the execution's history (25,000
 * events) grows with the test set.
 */
import { Duration, cx_api as cxapi } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { InvalidPropsError } from '../core/props-validation';
import { WorkflowFunction } from './workflow-function';

/** Errors of the Bedrock runtime that mean "later", retried on a whole shard. */
const INFERENCE_RETRY_ERRORS = ['ThrottlingException', 'ServiceUnavailableException', 'ModelNotReadyException', 'ModelTimeoutException', 'InternalServerException'];

/** How the test records are cut and asked; the same limits for every evaluation piece. */
export interface ShardSettings {
  readonly shardSize: number;
  readonly maxConcurrency: number;
  readonly recordConcurrency: number;
}

/**
 * Checks the shard settings of a construct, naming its props as the user wrote them
 * (`propPrefix`: e.g. 'evaluation.' for LlamaFinetuning's evaluation props).
 */
export function checkShardSettings(constructName: string, propPrefix: string, settings: ShardSettings, scope?: Construct): void {
  const { shardSize, maxConcurrency, recordConcurrency } = settings;
  // A shard must finish well inside Lambda's 15 minutes even with slow, long answers:
  // 50 records at 4 at a time is ~13 rounds of two parallel calls.
  if (!Number.isInteger(shardSize) || shardSize < 1 || shardSize > 50) throw new InvalidPropsError(constructName, `${propPrefix}shardSize`, `${shardSize} is out of range`, 'Use 1 to 50 records; each shard must finish well inside 15 minutes.', scope);
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 1 || maxConcurrency > 40) throw new InvalidPropsError(constructName, `${propPrefix}maxConcurrency`, `${maxConcurrency} is out of range`, 'Use 1 to 40.', scope);
  if (!Number.isInteger(recordConcurrency) || recordConcurrency < 1 || recordConcurrency > 16) throw new InvalidPropsError(constructName, `${propPrefix}recordConcurrency`, `${recordConcurrency} is out of range`, 'Use 1 to 16.', scope);
}

/** What one shard fan-out is made of. */
export interface ShardInferenceMapProps {
  /** Scope of the states (state names are construct ids). */
  readonly statesScope: Construct;
  /** State name of the per-shard task; the Map's is `mapName`. */
  readonly taskName: string;
  readonly mapName: string;
  /** The infer-shard function. */
  readonly inferFunction: WorkflowFunction;
  /** Retries for Lambda service errors and transient AWS errors. */
  readonly addTransientRetry: (task: tasks.LambdaInvoke) => void;
  /** JSON path of the prepare step's output: its `manifest.bucket`, `manifest.key` and `resultsPrefix`. */
  readonly preparedPath: string;
  /** Each child execution's input. */
  readonly itemSelector: Record<string, unknown>;
  readonly maxConcurrency: number;
  /** ARN of the manifest object(s) the state machine reads. */
  readonly manifestObjects: string;
  /** ARN of the objects the Map Run's results are written to. */
  readonly mapRunObjects: string;
}

/** The Distributed Map over a prepared manifest's shards, each shard retried whole on throttling. */
export function shardInferenceMap(props: ShardInferenceMapProps): sfn.DistributedMap {
  const inferShard = new tasks.LambdaInvoke(props.statesScope, props.taskName, { lambdaFunction: props.inferFunction.function, payloadResponseOnly: true, retryOnServiceExceptions: false });
  inferShard.addRetry({ errors: INFERENCE_RETRY_ERRORS, interval: Duration.seconds(10), maxAttempts: 8, backoffRate: 2, maxDelay: Duration.minutes(5), jitterStrategy: sfn.JitterType.FULL });
  props.addTransientRetry(inferShard);
  const prepared = (field: string) => sfn.JsonPath.stringAt(`${props.preparedPath}.${field}`);
  // ResultWriterV2 (a bucket from the state) takes effect only under its feature flag, set here
  // for this state alone so the library does not depend on the app's cdk.json.
  const fanOutScope = new Construct(props.statesScope, `${props.mapName}Scope`);
  fanOutScope.node.setContext(cxapi.STEPFUNCTIONS_USE_DISTRIBUTED_MAP_RESULT_WRITER_V2, true);
  const fanOut = new sfn.DistributedMap(fanOutScope, props.mapName, {
    itemReader: new ScopedS3JsonItemReader(
      { bucketNamePath: prepared('manifest.bucket'), key: prepared('manifest.key') },
      new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [props.manifestObjects] }),
    ),
    itemSelector: props.itemSelector,
    maxConcurrency: props.maxConcurrency,
    mapExecutionType: sfn.StateMachineType.STANDARD,
    label: props.mapName,
    resultWriterV2: new ScopedResultWriter(
      { bucketNamePath: prepared('manifest.bucket'), prefix: prepared('resultsPrefix') },
      // What Step Functions needs to write Map Run results (AWS docs, "IAM policies for ResultWriter").
      new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [props.mapRunObjects] }),
    ),
    resultPath: sfn.JsonPath.DISCARD,
  });
  fanOut.itemProcessor(inferShard);
  return fanOut;
}

/**
 * An S3 JSON ItemReader whose bucket comes from the state, granting exactly `statement`:
 * CDK's own grants either nothing (bucket from a path) or s3:GetObject on the whole bucket.
 */
export class ScopedS3JsonItemReader extends sfn.S3JsonItemReader {
  constructor(props: sfn.S3FileItemReaderProps, private readonly statement: iam.PolicyStatement) {
    super(props);
  }
  public providePolicyStatements(): iam.PolicyStatement[] {
    return [this.statement];
  }
}

/**
 * A ResultWriter whose bucket comes from the state, granting exactly `statement`: CDK grants
 * the result actions on Resource '*' when the bucket is a path.
 */
export class ScopedResultWriter extends sfn.ResultWriterV2 {
  constructor(props: sfn.ResultWriterV2Props, private readonly statement: iam.PolicyStatement) {
    super(props);
  }
  public providePolicyStatements(): iam.PolicyStatement[] {
    return [this.statement];
  }
}
