import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../core/nag';
import { InvalidPropsError, normalizePrefix } from '../core/props-validation';
import { ResolvedHyperParameters, resolveHyperParameters, resolveModel } from '../models/llama-models';
import { WorkflowFunction } from './workflow-function';

/** Props of {@link FinetuningWorkflow}. */
export interface FinetuningWorkflowProps {
  /** Bucket with datasets, images and run requests (read only). */
  readonly datasetBucket: s3.IBucket;
  /** Bucket for run records, reports and Bedrock output. */
  readonly artifactsBucket: s3.IBucket;
  /** Topic that receives run outcomes. */
  readonly notificationTopic: sns.ITopic;
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
   * Model used when a run request names none (short name such as `llama3.2-11b`, or a
   * Bedrock model identifier). Checked at synth time.
   * @default - every request must name its model
   */
  readonly defaultModel?: string;
  /**
   * Hyperparameters used unless a request sets them. Checked at synth time against the
   * default model (or every model, when there is no default).
   * @default - Bedrock's defaults
   */
  readonly defaultHyperParameters?: Record<string, number>;
  /**
   * Longest time one run may take, from upload to report, including waiting for quota.
   * @default Duration.days(7)
   */
  readonly executionTimeout?: Duration;
  /**
   * How long the state machine's and functions' logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
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

/**
 * The Step Functions state machine of one fine-tuning run: read the request, then the later
 * stages; every failure ends in a notification and a Failed execution whose error says what
 * to fix. Standard workflow, logging at level ALL, X-Ray tracing and an overall timeout.
 */
export class FinetuningWorkflow extends Construct {
  /** The state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** The state machine's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The function that reads and checks run requests. */
  public readonly readRequestFunction: lambda.IFunction;
  /** Resolved request prefix (ends in '/'). */
  public readonly requestPrefix: string;
  /** Resolved runs prefix (ends in '/'). */
  public readonly runsPrefix: string;

  constructor(scope: Construct, id: string, props: FinetuningWorkflowProps) {
    super(scope, id);
    this.requestPrefix = normalizePrefix(CONSTRUCT, 'requestPrefix', props.requestPrefix ?? 'requests/');
    this.runsPrefix = normalizePrefix(CONSTRUCT, 'runsPrefix', props.runsPrefix ?? 'runs/');
    const defaults = checkDefaults(props.defaultModel, props.defaultHyperParameters);
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    props.logEncryptionKey?.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${Stack.of(this).region}.amazonaws.com`));

    const functionDefaults = { logRetention, logEncryptionKey: props.logEncryptionKey, logRemovalPolicy: removalPolicy };

    // Step 1: read and check the run request.
    const readRequest = new WorkflowFunction(this, 'ReadRequest', {
      ...functionDefaults,
      handler: 'read-request',
      description: 'Reads an uploaded run request and checks it against the model catalogue and the dataset bucket',
      environment: {
        DATASET_BUCKET: props.datasetBucket.bucketName,
        ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        RUNS_PREFIX: this.runsPrefix,
        ...(defaults.model ? { DEFAULT_MODEL: defaults.model } : {}),
        ...(props.defaultHyperParameters ? { DEFAULT_HYPERPARAMETERS: JSON.stringify(props.defaultHyperParameters) } : {}),
      },
    });
    // The request object, possibly by version (GetObjectVersion), under the request prefix only.
    readRequest.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRunRequests',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [props.datasetBucket.arnForObjects(`${this.requestPrefix}*`)],
      }),
    );
    // HeadObject on the data files the request names: they may be anywhere in the dataset bucket.
    readRequest.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CheckDataFilesExist',
        actions: ['s3:GetObject'],
        resources: [props.datasetBucket.arnForObjects('*')],
      }),
    );
    // Without ListBucket, S3 answers 403 instead of 404 for a missing file, and the user
    // would be told "access denied" instead of "file missing".
    readRequest.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'TellMissingFromDenied', actions: ['s3:ListBucket'], resources: [props.datasetBucket.bucketArn] }),
    );
    props.bucketEncryptionKey?.grantDecrypt(readRequest.role);
    acknowledgeWildcardResource(
      readRequest.role,
      props.datasetBucket.arnForObjects('*'),
      'Read-only HeadObject on the dataset files a run request names; users choose their keys freely inside the dedicated dataset bucket.',
    );
    acknowledgeWildcardResource(
      readRequest.role,
      props.datasetBucket.arnForObjects(`${this.requestPrefix}*`),
      'Reads run requests: any object under the request prefix may be a request.',
    );
    this.readRequestFunction = readRequest.function;

    // Failure path shared by every step: notify, then fail with the step's error and cause.
    const notifyFailure = new tasks.SnsPublish(this, 'NotifyFailure', {
      topic: props.notificationTopic,
      subject: 'Llama fine-tuning run failed',
      message: sfn.TaskInput.fromJsonPathAt(sfn.JsonPath.format('Run failed ({}).\n\n{}', sfn.JsonPath.stringAt('$.error.Error'), sfn.JsonPath.stringAt('$.error.Cause'))),
      messageAttributes: { outcome: { value: 'FAILED' } },
      resultPath: sfn.JsonPath.DISCARD,
    });
    const runFailed = new sfn.Fail(this, 'RunFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const failureChain = notifyFailure.next(runFailed);
    notifyFailure.addCatch(runFailed, { resultPath: sfn.JsonPath.DISCARD });

    const readRequestStep = new tasks.LambdaInvoke(this, 'ReadRunRequest', {
      lambdaFunction: readRequest.function,
      payloadResponseOnly: true,
      resultPath: '$.run',
      retryOnServiceExceptions: true,
    });
    readRequestStep.addCatch(failureChain, { errors: ['States.ALL'], resultPath: '$.error' });

    const accepted = new sfn.Succeed(this, 'RunAccepted', { comment: 'The request is valid; later stages plug in here.' });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(readRequestStep.next(accepted)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: props.executionTimeout ?? Duration.days(7),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      comment: 'Fine-tunes a Llama 3.2 model on Amazon Bedrock for one uploaded run request',
    });
    acknowledgeStateMachineRole(this.stateMachine, [readRequest.function]);
  }
}

/** Checks the default model and hyperparameters at synth time. */
function checkDefaults(model?: string, hyperParameters?: Record<string, number>): { model?: string; hyperParameters?: ResolvedHyperParameters } {
  let resolvedModel;
  if (model !== undefined) {
    try {
      resolvedModel = resolveModel(model);
    } catch (err) {
      throw new InvalidPropsError(CONSTRUCT, 'defaultModel', (err as Error).message.replace(/\.$/, ''), 'Fix the model name in your props or cdk.json.');
    }
  }
  if (hyperParameters === undefined) return { model: resolvedModel?.name };
  try {
    // Without a default model every model may be requested; all Llama 3.2 models share ranges.
    return { model: resolvedModel?.name, hyperParameters: resolveHyperParameters(resolvedModel ?? resolveModel('llama3.2-11b'), hyperParameters) };
  } catch (err) {
    throw new InvalidPropsError(CONSTRUCT, 'defaultHyperParameters', (err as Error).message.replace(/\.$/, ''), 'Fix the values in your props or cdk.json.');
  }
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
