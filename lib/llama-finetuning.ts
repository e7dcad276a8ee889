import { Annotations, ArnFormat, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { normalizePrefix, requireAtMostOne } from './core/props-validation';
import { grantOnPrincipalOrResource } from './core/resource-grants';
import { BedrockCustomizationRole, CustomizationVpcConfig, grantPassToBedrock } from './iam/bedrock-customization-role';
import { CUSTOMIZATION_REGIONS, isCustomizationRegion } from '../lambda/shared/models/llama-models';
import { RunNotifications } from './notifications/run-notifications';
import { FinetuningStorage, FinetuningStorageProps } from './storage/finetuning-storage';
import { RunRequestTrigger } from './trigger/run-request-trigger';
import { FinetuningRunOptions, FinetuningWorkflow } from './workflow/finetuning-workflow';
import { allowCloudWatchAlarmsToPublish } from './operations/alarm-topic-access';
import { FinetuningOperations, FinetuningOperationsOptions } from './operations/finetuning-operations';
import { FinetuningOutputs, FinetuningOutputsOptions } from './outputs/finetuning-outputs';
import { CustomModelRetention, CustomModelRetentionPolicy } from './operations/custom-model-retention';

/** Props of {@link LlamaFinetuning}. */
export interface LlamaFinetuningProps extends FinetuningRunOptions {
  /**
   * Buckets and their encryption: pass existing buckets, or props for the ones created.
   * @default - secure buckets are created with SSE-S3
   */
  readonly storage?: FinetuningStorageProps;
  /**
   * An existing SNS topic for run outcomes.
   * @default - an encrypted, SSL-only topic is created
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * VPC for customization jobs; the service role then gets the network interface permissions.
   * @default - jobs run without a VPC
   */
  readonly customizationVpc?: CustomizationVpcConfig;
  /**
   * Your own service role for Bedrock's customization jobs, instead of the one created here. It
   * must trust `bedrock.amazonaws.com` and allow what FinetuningWorkflowProps.customizationRole
   * lists (run data read, `bedrock-output/` written, the buckets' key); a role created in your
   * app is checked at synth to trust Bedrock, an imported one cannot be. Not with
   * `customizationVpc` (compose FinetuningWorkflow with `customizationJobNetwork` for that).
   * @default - a BedrockCustomizationRole scoped to this deployment's buckets and prefixes
   */
  readonly customizationRole?: iam.IRole;
  /**
   * What happens to buckets, keys and logs created here when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Alarms (with their topic and thresholds) and the dashboard. When the alarms notify the
   * outcome topic created here, that topic is encrypted with a customer managed key that lets
   * CloudWatch alarms publish (they cannot use the AWS managed key alias/aws/sns).
   * @default - alarms notify the outcome topic; a dashboard is created
   */
  readonly operations?: FinetuningOperationsOptions;
  /**
   * Retention of the custom models runs create (each bills monthly storage): a daily sweep that
   * deletes this deployment's rejected models after 30 days and promoted ones beyond the 3 most
   * recent per name, never a current or serving one. Exists when promotion does (it needs the
   * registry to know the current models).
   * @default - on, with the defaults of CustomModelRetentionPolicy
   */
  readonly modelRetention?: CustomModelRetentionPolicy;
}

/**
 * Everything needed to fine-tune Llama 3.2 models on Amazon Bedrock from an S3 upload:
 * storage, the Bedrock customization service role, the workflow state machine, the upload
 * trigger and the outcome topic. Can be created several times in one stack, next to the
 * user's own resources.
 */
export class LlamaFinetuning extends Construct {
  /** Storage: dataset, artifacts and access log buckets. */
  public readonly storage: FinetuningStorage;
  /** Datasets, images and run requests. */
  public readonly datasetBucket: s3.IBucket;
  /** Run records, reports and Bedrock output. */
  public readonly artifactsBucket: s3.IBucket;
  /** The role construct created here for Bedrock's customization jobs (undefined when you passed `customizationRole`). */
  public readonly customizationRole?: BedrockCustomizationRole;
  /** The role Bedrock assumes to run customization jobs: yours, or the one created here. */
  public readonly customizationServiceRole: iam.IRole;
  /** The workflow. */
  public readonly workflow: FinetuningWorkflow;
  /** The state machine of one run. */
  public readonly stateMachine: sfn.StateMachine;
  /** The topic that receives run outcomes. */
  public readonly notificationTopic: sns.ITopic;
  /** The rule that starts a run on upload. */
  public readonly trigger: RunRequestTrigger;
  /** Alarms, the dashboard and the watch of Provisioned Throughputs created by runs. */
  public readonly operations: FinetuningOperations;
  /** The custom model retention sweep, unless disabled or there is no promotion. */
  public readonly modelRetention?: CustomModelRetention;

  constructor(scope: Construct, id: string, props: LlamaFinetuningProps = {}) {
    super(scope, id);
    warnOnUnsupportedRegion(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.storage = new FinetuningStorage(this, 'Storage', { removalPolicy, ...props.storage });
    this.datasetBucket = this.storage.datasetBucket;
    this.artifactsBucket = this.storage.artifactsBucket;
    // A key this construct created can be given the service permissions logs and SNS need; a
    // key passed in, or carried by a passed-in bucket, is the user's and stays as it is.
    const ownKey = this.storage.encryptionKey instanceof kms.Key && this.storage.encryptionKeyCreated ? this.storage.encryptionKey : undefined;

    // CloudWatch alarms cannot publish to a topic under the AWS managed key: a topic created
    // here that alarms notify gets a customer managed key (the storage key, or its own).
    const alarmsNotifyOwnTopic = props.operations?.alarmsEnabled !== false && !props.operations?.alarmTopic && !props.notificationTopic;
    const topicKey = props.notificationTopic ? undefined : (ownKey ?? (alarmsNotifyOwnTopic ? createTopicKey(this, removalPolicy) : undefined));
    this.notificationTopic = new RunNotifications(this, 'Notifications', {
      topic: props.notificationTopic,
      encryptionKey: topicKey,
    }).topic;
    if (alarmsNotifyOwnTopic) allowCloudWatchAlarmsToPublish(this.notificationTopic, topicKey);

    const runsPrefix = normalizePrefix('LlamaFinetuning', 'runsPrefix', props.runsPrefix ?? 'runs/', this);
    const dataPrefix = props.dataPrefix === undefined ? undefined : normalizePrefix('LlamaFinetuning', 'dataPrefix', props.dataPrefix, this);
    requireAtMostOne('LlamaFinetuning', 'customizationRole', props.customizationRole, 'customizationVpc', props.customizationVpc, this);
    if (!props.customizationRole) {
      this.customizationRole = new BedrockCustomizationRole(this, 'CustomizationRole', {
        dataLocations: [
          // The images the records reference stay where they are, under the data prefix when there is one.
          { bucket: this.datasetBucket, prefix: dataPrefix },
          // The run's copies of the validated training and validation files (see the workflow's validation step).
          { bucket: this.artifactsBucket, prefix: runsPrefix, keyPattern: `${runsPrefix}*/data/*` },
        ],
        // Bedrock writes only into each run's bedrock-output/ folder, never over run records or reports.
        outputLocation: { bucket: this.artifactsBucket, prefix: runsPrefix, keyPattern: `${runsPrefix}*/bedrock-output/*` },
        encryptionKeys: this.storage.encryptionKey ? [this.storage.encryptionKey] : [],
        vpc: props.customizationVpc,
      });
    }
    this.customizationServiceRole = props.customizationRole ?? this.customizationRole!.role;

    this.workflow = new FinetuningWorkflow(this, 'Workflow', {
      datasetBucket: this.datasetBucket,
      artifactsBucket: this.artifactsBucket,
      notificationTopic: this.notificationTopic,
      customizationRole: this.customizationServiceRole,
      customizationJobNetwork: this.customizationRole?.subnetIds && this.customizationRole.securityGroupIds
        ? { subnetIds: this.customizationRole.subnetIds, securityGroupIds: this.customizationRole.securityGroupIds }
        : undefined,
      environmentName: props.environmentName,
      requestPrefix: props.requestPrefix,
      runsPrefix,
      dataPrefix,
      defaultModel: props.defaultModel,
      defaultHyperParameters: props.defaultHyperParameters,
      pollInterval: props.pollInterval,
      jobWatchErrorBudget: props.jobWatchErrorBudget,
      quotaRetryInterval: props.quotaRetryInterval,
      quotaWaitTimeout: props.quotaWaitTimeout,
      executionTimeout: props.executionTimeout,
      eventBus: props.eventBus,
      logRetention: props.logRetention,
      logEncryptionKey: ownKey,
      bucketEncryptionKey: this.storage.encryptionKey,
      customModelEncryptionKey: props.customModelEncryptionKey,
      evaluation: props.evaluation,
      modelPrices: props.modelPrices,
      costBudget: props.costBudget,
      runHistoryLength: props.runHistoryLength,
      maxConcurrentJobs: props.maxConcurrentJobs,
      promotion: props.promotion,
      removalPolicy,
    });
    this.stateMachine = this.workflow.stateMachine;

    this.trigger = new RunRequestTrigger(this, 'Trigger', {
      bucket: this.datasetBucket,
      stateMachine: this.stateMachine,
      requestPrefix: this.workflow.requestPrefix,
    });

    const promotion = this.workflow._promotion;
    if (promotion && props.modelRetention?.enabled !== false) {
      this.modelRetention = new CustomModelRetention(this, 'ModelRetention', {
        ...props.modelRetention,
        environmentName: props.environmentName ?? 'default',
        deploymentId: this.workflow.deploymentId,
        registryPrefix: promotion.registryPrefix,
        runRecords: { bucket: this.artifactsBucket, prefix: runsPrefix, encryptionKey: this.storage.encryptionKey },
        logRetention: props.logRetention,
        logEncryptionKey: ownKey,
        removalPolicy,
      });
    }

    this.operations = new FinetuningOperations(this, 'Operations', {
      ...props.operations,
      workflow: this.workflow,
      notificationTopic: this.notificationTopic,
      triggerDeadLetterQueue: this.trigger.deadLetterQueue,
      additionalFunctions: this.modelRetention ? { 'custom-model-retention': this.modelRetention.function } : undefined,
      environmentName: props.environmentName,
      logRetention: props.logRetention,
      logEncryptionKey: ownKey,
      removalPolicy,
    });
  }

  /**
   * Adds CloudFormation outputs to the stack: the dataset and artifacts bucket names, the
   * request and runs prefixes (and the data prefix, when set), the state machine and outcome
   * topic ARNs, the dashboard name, and an upload command that starts a run
   * (`aws s3 cp request.json s3://<dataset bucket>/<request prefix>request.json`). Nothing is
   * exported unless `exportPrefix` is given. Once per instance; several instances in one stack
   * each need their own `keyPrefix`.
   */
  public addOutputs(options: FinetuningOutputsOptions = {}): FinetuningOutputs {
    return new FinetuningOutputs(this, 'Outputs', {
      ...options,
      datasetBucket: this.datasetBucket,
      artifactsBucket: this.artifactsBucket,
      requestPrefix: this.workflow.requestPrefix,
      runsPrefix: this.workflow.runsPrefix,
      dataPrefix: this.workflow.dataPrefix,
      stateMachine: this.stateMachine,
      notificationTopic: this.notificationTopic,
      dashboard: this.operations.dashboard,
      modelRegistryPrefix: this.workflow._promotion?.registryPrefix,
      promoteFunction: this.workflow._promotion?.function.function,
    });
  }

  /**
   * Lets `grantee` pass the customization service role to Amazon Bedrock, and to no other
   * service (iam:PassRole on that role only, with iam:PassedToService = bedrock.amazonaws.com).
   */
  public grantPassRole(grantee: iam.IGrantable): iam.Grant {
    return grantPassToBedrock(this.customizationServiceRole, grantee);
  }

  /**
   * A rule that matches the outcome event of every run of this deployment
   * (`Fine-tuning Run Finished`, sent when a run succeeds or fails). See FinetuningWorkflow.onRunFinished.
   */
  public onRunFinished(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflow.onRunFinished(id, options);
  }

  /**
   * A rule that matches the event sent when a run's model becomes the current model of its
   * request name (`Fine-tuned Model Promoted`). Throws when promotion (or evaluation) is disabled.
   */
  public onModelPromoted(id: string, options: events.OnEventOptions = {}): events.Rule {
    return this.workflow.onModelPromoted(id, options);
  }

  /** SQuAD F1 (0-100) of the fine-tuned model, one data point per evaluated run (average over 1 hour by default). */
  public metricFineTunedF1(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.operations.metricFineTunedF1(options);
  }

  /** SQuAD F1 (0-100) of the base model, one data point per evaluated run (average over 1 hour by default). */
  public metricBaseF1(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.operations.metricBaseF1(options);
  }

  /** Relative F1 improvement of the fine-tuned over the base model, in percent (average over 1 hour by default). */
  public metricRelativeImprovement(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.operations.metricRelativeImprovement(options);
  }

  /** Seconds a customization job took, from creation to end (average over 1 hour by default). */
  public metricJobDuration(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.operations.metricJobDuration(options);
  }

  /** Run outcomes recorded but not announced because SNS or EventBridge refused them (sum over 5 minutes by default). */
  public metricNotificationFailures(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.operations.metricNotificationFailures(options);
  }

  /**
   * The SSM parameter path of the model registry (begins and ends with `/`): the entry of
   * request name N is `<path>N`. A plain string (no token), so another stack of the app can use
   * it without a cross-stack export. Throws when promotion is off.
   */
  public get modelRegistryPrefix(): string {
    const promotion = this.workflow._promotion;
    if (!promotion) throw new Error('This LlamaFinetuning has no model registry: promotion (or evaluation) is disabled.');
    return promotion.registryPrefix;
  }

  /**
   * The SSM parameter that holds the current model of runs named `requestName` (JSON: custom
   * model ARN, run id, base and fine-tuned F1, when, report; see the README). Hand it to another
   * stack, with {@link grantReadModelRegistry} for its functions.
   */
  public modelRegistryParameterName(requestName: string): string {
    if (!/^[a-zA-Z0-9-]{1,40}$/.test(requestName)) throw new Error(`'${requestName}' is not a run request name (1-40 letters, digits, hyphens).`);
    return `${this.modelRegistryPrefix}${requestName}`;
  }

  /**
   * Lets `grantee` read the model registry: `ssm:GetParameter`, `ssm:GetParameters` and
   * `ssm:GetParameterHistory` on its parameters and `ssm:GetParametersByPath` on its path, nothing
   * to write. The entries are plain String parameters (no KMS key). Same account: SSM parameters
   * have no resource policies. To call the model, the grantee also needs `bedrock:InvokeModel` on
   * the Provisioned Throughput that serves it.
   */
  public grantReadModelRegistry(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const path = this.modelRegistryPrefix.replace(/\/$/, '').slice(1);
    const parameters = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${path}/*` });
    return iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory'], resourceArns: [parameters] }).combine(
      iam.Grant.addToPrincipal({ grantee, actions: ['ssm:GetParametersByPath'], resourceArns: [stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: path }), parameters] }),
    );
  }

  /**
   * Lets `grantee` promote a run by hand, e.g. roll back to an earlier run's model:
   * `lambda:InvokeFunction` on the promotion function only. Throws when promotion is off.
   */
  public grantPromoteRuns(grantee: iam.IGrantable): iam.Grant {
    const promotion = this.workflow._promotion;
    if (!promotion) throw new Error('This LlamaFinetuning has no promotion: promotion (or evaluation) is disabled.');
    return promotion.function.function.grantInvoke(grantee);
  }

  /**
   * Lets `grantee` start runs: upload datasets, images and run requests to the dataset bucket
   * (under the data prefix and the request prefix when a data prefix is set) (`s3:PutObject`, `s3:AbortMultipartUpload`; with the storage key, `kms:GenerateDataKey` and
   * the `kms:Decrypt` that multipart uploads need, through S3 only). A run starts when a request
   * lands under the request prefix. Nothing to read or delete. A grantee in another account
   * is also added to the bucket policy and key policy (when the bucket and key are defined in
   * this app; an imported bucket's policy cannot be changed, and the grant says so).
   */
  public grantStartRuns(grantee: iam.IGrantable): iam.Grant {
    // With a data prefix, uploads go only where this deployment's requests and data may be.
    const { dataPrefix, requestPrefix } = this.workflow;
    const upload = grantOnPrincipalOrResource({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: dataPrefix ? [this.datasetBucket.arnForObjects(`${dataPrefix}*`), this.datasetBucket.arnForObjects(`${requestPrefix}*`)] : [this.datasetBucket.arnForObjects('*')],
      resource: this.datasetBucket,
    });
    return this.withStorageKey(upload, grantee, ['kms:GenerateDataKey', 'kms:Decrypt']);
  }

  /**
   * Lets `grantee` read what runs write under the runs prefix of the artifacts bucket: run
   * records, reports, predictions and Bedrock's output (`s3:GetObject`; `s3:ListBucket` for
   * keys under that prefix only, so asking for a key that does not exist may answer 403 rather
   * than 404; with the storage key, `kms:Decrypt` through S3). Nothing outside that prefix, and
   * nothing to write. Another account's grantee is handled as in {@link grantStartRuns}.
   */
  public grantReadResults(grantee: iam.IGrantable): iam.Grant {
    const runs = this.workflow.runsPrefix;
    const bucket = this.artifactsBucket;
    const read = grantOnPrincipalOrResource({ grantee, actions: ['s3:GetObject'], resourceArns: [bucket.arnForObjects(`${runs}*`)], resource: bucket }).combine(
      grantOnPrincipalOrResource({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [bucket.bucketArn],
        resource: bucket,
        conditions: { StringLike: { 's3:prefix': [`${runs}*`] } },
      }),
    );
    return this.withStorageKey(read, grantee, ['kms:Decrypt']);
  }

  /**
   * Lets `grantee` follow and stop runs: list this state machine's executions, describe them,
   * read their history and stop them (`StopExecution`, which also makes the cleanup stop the
   * training job and delete the run's Provisioned Throughput). Limited to this state machine;
   * its execution ARNs end in the execution name, hence the `:*`. Same account only: Step
   * Functions has no resource policies through which another account could be allowed.
   */
  public grantStopRuns(grantee: iam.IGrantable): iam.Grant {
    const executions = Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return iam.Grant.addToPrincipal({ grantee, actions: ['states:ListExecutions'], resourceArns: [this.stateMachine.stateMachineArn] }).combine(
      iam.Grant.addToPrincipal({ grantee, actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:StopExecution'], resourceArns: [executions] }),
    );
  }

  /** Adds the use of the storage key through S3, when the buckets have one. No Sid: a user's role may get these grants from several instances. */
  private withStorageKey(grant: iam.Grant, grantee: iam.IGrantable, actions: string[]): iam.Grant {
    const key = this.storage.encryptionKey;
    if (!key) return grant;
    const viaS3 = { StringEquals: { 'kms:ViaService': `s3.${Stack.of(key).region}.amazonaws.com` } };
    return grant.combine(grantOnPrincipalOrResource({ grantee, actions, resourceArns: [key.keyArn], resourceSelfArns: ['*'], resource: key, conditions: viaS3 }));
  }
}

/** The outcome topic's own key, for when the buckets have none to share. */
function createTopicKey(scope: Construct, removalPolicy: RemovalPolicy): kms.Key {
  return new kms.Key(scope, 'NotificationsKey', {
    description: 'Encrypts the fine-tuning run outcome topic; CloudWatch alarms of this account may use it to publish there',
    enableKeyRotation: true,
    removalPolicy,
  });
}

function warnOnUnsupportedRegion(scope: Construct): void {
  const region = Stack.of(scope).region;
  if (Token.isUnresolved(region)) {
    Annotations.of(scope).addInfo(
      `The stack has no region, so it cannot be checked; Llama 3.2 customization is offered in ${CUSTOMIZATION_REGIONS.join(', ')}.`,
    );
  } else if (!isCustomizationRegion(region)) {
    Annotations.of(scope).addWarningV2(
      'llama-finetune:unsupported-region',
      `Region ${region} does not offer Llama 3.2 model customization (offered in ${CUSTOMIZATION_REGIONS.join(', ')}); runs will fail when they create the job. Deploy to a supported region.`,
    );
  }
}
