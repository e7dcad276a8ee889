import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct, IConstruct } from 'constructs';
import { grantS3KeyUse } from '../core/kms-grants';
import { InvalidPropsError } from '../core/props-validation';
import { grantCustomModelKey } from './evaluation-stage';
import { allow, bedrockArn } from './grants';
import { WorkflowFunction, WorkflowFunctionProps } from './workflow-function';
import { MAX_REQUEST_NAME_CHARS } from '../../lambda/shared/run-request';

/**
 * What happens to a run's model after a successful evaluation: it may become the *current
 * model* of its request name (the model registry), and a serving Provisioned Throughput may be
 * pointed at it.
 */
export interface ModelPromotionOptions {
  /**
   * Whether evaluated runs are promoted (needs evaluation).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * Promote only runs whose quality gate PASSED. With false, evaluated runs without a gate
   * (`evaluation.qualityGate` unset) are promoted too; a FAILED gate never is.
   * @default true
   */
  readonly requireQualityGate?: boolean;
  /**
   * Promote a run even when the current model of its name scored a higher fine-tuned F1. Off,
   * a run replaces the current model only with an equal or higher fine-tuned F1 (each on its
   * own run's test set).
   * @default false
   */
  readonly allowWorseModel?: boolean;
  /**
   * SSM parameter path under which each request name gets its entry
   * (`<prefix><request name>`). Begins and ends with `/`; at most 908 characters, so a
   * 40-character request name fits Parameter Store's 1011-character names (ARN included).
   * @default `/llama-finetune/<environment name>/<deployment id>/models/`
   */
  readonly registryPrefix?: string;
  /**
   * A no-commitment Provisioned Throughput that applications call: on promotion it is pointed at
   * the new model (UpdateProvisionedModelThroughput), so the ARN applications use never
   * changes. It must serve a custom model of the same base model as the runs (Bedrock's rule).
   * Never created, deleted or given a commitment term by the library; one with a commitment
   * term is left alone (the run records `SwapRefused`).
   * @default - no serving swap
   */
  readonly servingProvisionedModelArn?: string;
  /**
   * How often the serving Provisioned Throughput is checked while it updates.
   * @default Duration.minutes(1)
   */
  readonly servingSwapPollInterval?: Duration;
  /**
   * How long the update may take before the run records the swap as failed (the previous model
   * keeps serving until Bedrock completes an update).
   * @default Duration.hours(1)
   */
  readonly servingSwapTimeout?: Duration;
}

/** What the promotion stage needs from the workflow. */
export interface PromotionStageProps extends ModelPromotionOptions {
  readonly environmentName: string;
  /** Identifies this deployment: in the default registry prefix. */
  readonly deploymentId: string;
  readonly artifactsBucket: s3.IBucket;
  readonly runsPrefix: string;
  readonly bucketEncryptionKey?: kms.IKey;
  readonly customModelEncryptionKey?: kms.IKey;
  readonly eventBus: events.IEventBus;
  readonly functionDefaults: Pick<WorkflowFunctionProps, 'logRetention' | 'logEncryptionKey' | 'logRemovalPolicy'>;
  readonly statesScope: Construct;
  /** Where a promotion that could not be written goes. */
  readonly recordFailure: sfn.IChainable;
  /** The state after the stage (recording the success). */
  readonly next: sfn.IChainable;
  readonly addTransientRetry: (task: tasks.LambdaInvoke) => void;
}

const CONSTRUCT = 'ModelPromotion';
const PROVISIONED_MODEL_ARN = /^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{12}:provisioned-model\/[a-z0-9]+$/;

/**
 * Parameter Store takes names of at most 1011 characters counting the ARN before them
 * (`arn:<partition>:ssm:<region>:<account>:parameter/`, at most 63 characters with the longest
 * partition and Region names, padded), so a prefix may take what a 40-character request name leaves.
 */
const MAX_PARAMETER_NAME_WITH_ARN = 1011;
const LONGEST_PARAMETER_ARN_PREFIX = 'arn:'.length + 10 + ':ssm:'.length + 20 + ':'.length + 12 + ':parameter/'.length;
export const MAX_REGISTRY_PREFIX_CHARS = MAX_PARAMETER_NAME_WITH_ARN - LONGEST_PARAMETER_ARN_PREFIX - MAX_REQUEST_NAME_CHARS;

/** The registry prefix a deployment uses unless told otherwise. */
export function defaultRegistryPrefix(environmentName: string, deploymentId: string): string {
  return `/llama-finetune/${environmentName.replace(/[^a-zA-Z0-9_.-]/g, '-')}/${deploymentId}/models/`;
}

/** Checks and resolves the registry prefix. */
export function resolveRegistryPrefix(props: Pick<ModelPromotionOptions, 'registryPrefix'>, environmentName: string, deploymentId: string, scope?: IConstruct): string {
  const prefix = props.registryPrefix ?? defaultRegistryPrefix(environmentName, deploymentId);
  if (!/^\/[a-zA-Z0-9_.\-/]*\/$/.test(prefix) || /^\/(aws|ssm)/i.test(prefix) || prefix.split('/').filter(Boolean).length > 14) {
    throw new InvalidPropsError(CONSTRUCT, 'promotion.registryPrefix', `'${prefix}' is not an SSM parameter path`, "Begin and end it with '/', use letters, digits and _.-/ only, at most 14 levels, not beginning with aws or ssm, e.g. '/my-team/models/'.", scope);
  }
  if (prefix.length > MAX_REGISTRY_PREFIX_CHARS) {
    throw new InvalidPropsError(
      CONSTRUCT,
      'promotion.registryPrefix',
      `'${prefix.slice(0, 40)}...' is too long (${prefix.length} characters): with a ${MAX_REQUEST_NAME_CHARS}-character request name and the parameter's ARN it passes Parameter Store's ${MAX_PARAMETER_NAME_WITH_ARN}-character name limit`,
      `Use at most ${MAX_REGISTRY_PREFIX_CHARS} characters${props.registryPrefix === undefined ? ' (the default prefix holds the environment name: shorten it, or set promotion.registryPrefix)' : ''}.`,
      scope,
    );
  }
  return prefix;
}

/**
 * The promotion stage, after the evaluation released its Provisioned Throughput and before the
 * success is recorded: PromoteModel decides and writes the registry entry (and starts the serving
 * swap); while the serving Provisioned Throughput updates, WaitForServingSwap/CheckServingSwap
 * poll it. A failed swap is recorded and the run goes on; only a registry entry that could not be
 * written fails the run.
 */
export class PromotionStage extends Construct {
  public readonly startState: sfn.State;
  public readonly function: WorkflowFunction;
  /** SSM parameter path of the registry (begins and ends with '/'). */
  public readonly registryPrefix: string;
  /** The history budget's bound of the swap poll loop (history-budget.ts). */
  public readonly loopBounds: Readonly<Record<string, { what: string; settings: string[]; maxRounds: number }>>;

  constructor(scope: Construct, id: string, props: PromotionStageProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.registryPrefix = resolveRegistryPrefix(props, props.environmentName, props.deploymentId, this);
    if (props.servingProvisionedModelArn !== undefined && !PROVISIONED_MODEL_ARN.test(props.servingProvisionedModelArn)) {
      throw new InvalidPropsError(CONSTRUCT, 'promotion.servingProvisionedModelArn', `'${props.servingProvisionedModelArn}' is not a provisioned model ARN`, 'Copy the ARN of a no-commitment Provisioned Throughput from the Bedrock console.', this);
    }
    const pollInterval = props.servingSwapPollInterval ?? Duration.minutes(1);
    const timeout = props.servingSwapTimeout ?? Duration.hours(1);
    if (pollInterval.toSeconds() < 1 || timeout.toSeconds() < pollInterval.toSeconds() || timeout.toSeconds() % 60 !== 0) {
      throw new InvalidPropsError(CONSTRUCT, 'promotion.servingSwapTimeout', `${timeout.toHumanString()} is not a whole number of minutes of at least one servingSwapPollInterval (${pollInterval.toHumanString()})`, 'Use e.g. Duration.hours(1) with Duration.minutes(1).', this);
    }

    const parameters = stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${this.registryPrefix.slice(1)}*` });
    const runRecords = props.artifactsBucket.arnForObjects(`${props.runsPrefix}*/run.json`);
    this.function = new WorkflowFunction(this, 'Function', {
      ...props.functionDefaults,
      handler: 'promote-model',
      description: 'Promotes an evaluated run to the current model of its name (SSM registry, event) and points the serving Provisioned Throughput at it',
      environment: {
        ENVIRONMENT_NAME: props.environmentName,
        REGISTRY_PREFIX: this.registryPrefix,
        REQUIRE_QUALITY_GATE: String(props.requireQualityGate ?? true),
        ALLOW_WORSE_MODEL: String(props.allowWorseModel ?? false),
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        ARTIFACTS_BUCKET: props.artifactsBucket.bucketName,
        RUNS_PREFIX: props.runsPrefix,
        SERVING_SWAP_TIMEOUT_MINUTES: String(timeout.toMinutes()),
        ...(props.servingProvisionedModelArn ? { SERVING_PROVISIONED_MODEL_ARN: props.servingProvisionedModelArn } : {}),
      },
    });
    const fn = this.function;
    allow(fn, 'WriteModelRegistry', ['ssm:GetParameter', 'ssm:PutParameter'], [parameters], 'One parameter per request name under this deployment\'s registry path; request names are chosen per run.');
    allow(fn, 'UpdateRunRecord', ['s3:GetObject', 's3:PutObject'], [runRecords], 'Updates the run\'s own record; run ids are made per request.');
    allow(fn, 'TellMissingFromDenied', ['s3:ListBucket'], [props.artifactsBucket.bucketArn]);
    grantS3KeyUse(props.bucketEncryptionKey, fn.role, 'read-write');
    props.eventBus.grantPutEventsTo(fn.role);
    if (props.servingProvisionedModelArn) {
      allow(fn, 'ReadServingThroughput', ['bedrock:GetProvisionedModelThroughput'], [props.servingProvisionedModelArn]);
      // The update names both the Provisioned Throughput and the custom model it is pointed at.
      allow(
        fn,
        'SwapServingModel',
        ['bedrock:UpdateProvisionedModelThroughput'],
        [props.servingProvisionedModelArn, bedrockArn(stack, 'custom-model', '*')],
        'The custom model is the run\'s, whose ARN Bedrock assigns when training ends; the Provisioned Throughput is the one the environment names.',
      );
      grantCustomModelKey(props.customModelEncryptionKey, fn);
    }

    const s = props.statesScope;
    const run = sfn.JsonPath.objectAt('$.run');
    const invoke = (stateId: string, payload: Record<string, unknown>) => {
      const task = new tasks.LambdaInvoke(s, stateId, { lambdaFunction: fn.function, payload: sfn.TaskInput.fromObject(payload), payloadResponseOnly: true, resultPath: '$.promotion', retryOnServiceExceptions: false });
      props.addTransientRetry(task);
      return task;
    };
    const promote = invoke('PromoteModel', { action: 'promote', run });
    promote.addCatch(props.recordFailure, { errors: ['States.ALL'], resultPath: '$.error' });
    this.startState = promote;
    // Without a serving Provisioned Throughput there is nothing to wait for: no loop, no history it could add.
    if (!props.servingProvisionedModelArn) {
      promote.next(props.next);
      this.loopBounds = {};
      return;
    }
    const wait = new sfn.Wait(s, 'WaitForServingSwap', { time: sfn.WaitTime.duration(pollInterval) });
    const check = invoke('CheckServingSwap', { action: 'check-serving', run, promotion: sfn.JsonPath.objectAt('$.promotion') });
    // The model is promoted; a swap that cannot be checked any more is not worth failing the run for.
    check.addCatch(props.next, { errors: ['States.ALL'], resultPath: '$.servingSwapError' });
    const swapping = new sfn.Choice(s, 'IsServingSwapInProgress').when(sfn.Condition.stringEquals('$.promotion.swap', 'UPDATING'), wait).otherwise(props.next);
    promote.next(swapping);
    wait.next(check);
    check.next(swapping);
    this.loopBounds = {
      WaitForServingSwap: {
        what: 'serving Provisioned Throughput status checks',
        settings: ['promotion.servingSwapPollInterval', 'promotion.servingSwapTimeout'],
        maxRounds: Math.ceil(timeout.toSeconds() / Math.max(1, pollInterval.toSeconds())) + 1,
      },
    };
  }

  /** The registry parameter of `requestName`. */
  public parameterName(requestName: string): string {
    return `${this.registryPrefix}${requestName}`;
  }
}
