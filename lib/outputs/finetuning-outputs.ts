import { CfnOutput, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { InvalidPropsError } from '../core/props-validation';

/** How the stack outputs of a fine-tuning deployment are named. */
export interface FinetuningOutputsOptions {
  /**
   * Put before every output key (the output's logical id), so that several instances in one
   * stack have their own outputs: letters and digits only, e.g. `TeamA`.
   * @default - no prefix: `DatasetBucketName`, `ArtifactsBucketName`, ...
   */
  readonly keyPrefix?: string;
  /**
   * Exports every output as `<exportPrefix><key>` (e.g. `LlamaFinetuning-prod-DatasetBucketName`)
   * for `Fn::ImportValue` in other stacks of the account and region: letters, digits, `-` and
   * `:`. Export names are unique per account and region, and an exported value cannot change
   * or go while a stack imports it, so export only what another stack imports.
   * @default - nothing is exported
   */
  readonly exportPrefix?: string;
}

/** Props of {@link FinetuningOutputs}: what to publish, and how to name it. */
export interface FinetuningOutputsProps extends FinetuningOutputsOptions {
  /** Where datasets and run requests are uploaded. */
  readonly datasetBucket: s3.IBucket;
  /** Where runs write records, reports and Bedrock's output. */
  readonly artifactsBucket: s3.IBucket;
  /** Key prefix in the dataset bucket under which an uploaded `.json` request starts a run. */
  readonly requestPrefix: string;
  /** Key prefix in the artifacts bucket under which each run has its folder. */
  readonly runsPrefix: string;
  /**
   * Key prefix in the dataset bucket that requests may name data under.
   * @default - no such output (data may be anywhere in the dataset bucket)
   */
  readonly dataPrefix?: string;
  /** The state machine of one run. */
  readonly stateMachine: sfn.IStateMachine;
  /** The topic that receives run outcomes (and, by default, the alarms). */
  readonly notificationTopic: sns.ITopic;
  /**
   * The operations dashboard.
   * @default - no dashboard output
   */
  readonly dashboard?: cloudwatch.Dashboard;
  /**
   * SSM parameter path of the model registry (the current model of request name N is `<path>N`).
   * @default - no registry output (promotion off)
   */
  readonly modelRegistryPrefix?: string;
  /**
   * The function that promotes a run by hand (rollback: invoke it with `{"promoteRun": "<run id>"}`).
   * @default - no such output (promotion off)
   */
  readonly promoteFunction?: lambda.IFunction;
}

/** Output keys (without a prefix) and what each holds. */
const DESCRIPTIONS = {
  DatasetBucketName: 'Bucket for datasets, images and run requests (upload here)',
  ArtifactsBucketName: 'Bucket where each run writes its record, report and Bedrock output',
  RequestPrefix: 'Key prefix in the dataset bucket: a .json run request uploaded under it starts a run',
  RunsPrefix: 'Key prefix in the artifacts bucket: each run writes <RunsPrefix><run id>/run.json and report.html',
  DataPrefix: 'Key prefix in the dataset bucket under which run requests may name training, validation and test files and images',
  StateMachineArn: 'State machine of one run: one execution per uploaded request',
  OutcomeTopicArn: 'SNS topic of run outcomes (and alarms): subscribe to be told when a run ends',
  DashboardName: 'CloudWatch dashboard of runs, F1 scores and health',
  UploadCommand: 'Starts a run: uploads request.json (from the current folder) under the request prefix',
  ModelRegistryPrefix: 'SSM parameter path of the model registry: the current model of request name N is <ModelRegistryPrefix>N',
  PromoteFunctionName: 'Function that promotes a run by hand, e.g. a rollback: invoke it with {"promoteRun": "<run id>"}',
} as const;

/** Export names are at most 255 characters. */
const MAX_EXPORT_NAME = 255;
const LONGEST_KEY = Math.max(...Object.keys(DESCRIPTIONS).map((key) => key.length));

/** Key prefixes already used by FinetuningOutputs in each stack. */
const usedKeyPrefixes = new WeakMap<Stack, Map<string, string>>();

const CONSTRUCT = 'FinetuningOutputs';

/**
 * CloudFormation outputs of a fine-tuning deployment: what a user needs after `cdk deploy` (the
 * bucket to upload to, the request prefix, an upload command, the dashboard) and what another
 * stack or a script needs (bucket names, the state machine and outcome topic ARNs), readable with
 * `aws cloudformation describe-stacks`. Nothing is exported unless `exportPrefix` asks for it.
 * Created by {@link LlamaFinetuning.addOutputs}.
 */
export class FinetuningOutputs extends Construct {
  /** The outputs by key without the prefix (`DatasetBucketName`, ...); `DataPrefix` and `DashboardName` only when there is one. */
  public readonly outputs: Readonly<Record<string, CfnOutput>>;

  constructor(scope: Construct, id: string, props: FinetuningOutputsProps) {
    super(scope, id);
    const where = `${CONSTRUCT} ${this.node.path}`;
    const keyPrefix = props.keyPrefix ?? '';
    if (!/^[A-Za-z0-9]*$/.test(keyPrefix)) {
      throw new InvalidPropsError(where, 'keyPrefix', `'${keyPrefix}' is not letters and digits`, 'Output keys are CloudFormation logical ids: use letters and digits only, e.g. TeamA.', this);
    }
    const exportPrefix = props.exportPrefix;
    if (exportPrefix !== undefined && !Token.isUnresolved(exportPrefix)) {
      if (!/^[A-Za-z0-9:-]+$/.test(exportPrefix)) {
        throw new InvalidPropsError(where, 'exportPrefix', `'${exportPrefix}' is empty or has characters other than letters, digits, '-' and ':'`, 'Use e.g. LlamaFinetuning-prod-.', this);
      }
      if (exportPrefix.length + keyPrefix.length + LONGEST_KEY > MAX_EXPORT_NAME) {
        throw new InvalidPropsError(where, 'exportPrefix', `'${exportPrefix}' makes export names longer than ${MAX_EXPORT_NAME} characters`, 'Shorten it.', this);
      }
    }
    const stack = Stack.of(this);
    const used = usedKeyPrefixes.get(stack) ?? new Map<string, string>();
    usedKeyPrefixes.set(stack, used);
    const other = used.get(keyPrefix);
    if (other !== undefined) {
      throw new InvalidPropsError(
        where,
        'keyPrefix',
        `the outputs of ${other} already use the key prefix '${keyPrefix}' in stack ${stack.stackName}`,
        'Give each LlamaFinetuning in one stack its own keyPrefix, e.g. addOutputs({ keyPrefix: \'TeamA\' }).',
        this,
      );
    }
    used.set(keyPrefix, this.node.path);

    const values: Partial<Record<keyof typeof DESCRIPTIONS, string>> = {
      DatasetBucketName: props.datasetBucket.bucketName,
      ArtifactsBucketName: props.artifactsBucket.bucketName,
      RequestPrefix: props.requestPrefix,
      RunsPrefix: props.runsPrefix,
      DataPrefix: props.dataPrefix,
      StateMachineArn: props.stateMachine.stateMachineArn,
      OutcomeTopicArn: props.notificationTopic.topicArn,
      DashboardName: props.dashboard?.dashboardName,
      // The trigger starts runs for `<request prefix>*.json` only.
      ModelRegistryPrefix: props.modelRegistryPrefix,
      PromoteFunctionName: props.promoteFunction?.functionName,
      UploadCommand: `aws s3 cp request.json s3://${props.datasetBucket.bucketName}/${props.requestPrefix}request.json`,
    };
    const outputs: Record<string, CfnOutput> = {};
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) continue;
      const output = new CfnOutput(this, key, {
        value,
        description: DESCRIPTIONS[key as keyof typeof DESCRIPTIONS],
        exportName: exportPrefix === undefined ? undefined : `${exportPrefix}${keyPrefix}${key}`,
      });
      // The key people read in the console and in describe-stacks, rather than a path with a hash.
      output.overrideLogicalId(`${keyPrefix}${key}`);
      outputs[key] = output;
    }
    this.outputs = outputs;
  }
}
