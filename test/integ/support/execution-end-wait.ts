/**
 * Lets an integration test wait hours for a Step Functions execution to end. The waiters of
 * integ-tests (`waitForAssertions`) live inside a custom resource, which CloudFormation gives
 * at most one hour; a real Bedrock fine-tuning job often takes longer. A CloudFormation wait
 * condition may wait up to 12 hours: a small function signals it when Step Functions reports
 * (on EventBridge) that an execution of the state machine ended.
 */
import { CfnWaitCondition, CfnWaitConditionHandle, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, DependencyGroup, IDependable } from 'constructs';
import { handlerRuntime } from '../../../lib/workflow/handler-code';

/** CloudFormation's upper bound for a wait condition's timeout. */
export const MAX_WAIT_CONDITION_TIMEOUT = Duration.hours(12);

/** Props of {@link ExecutionEndWait}. */
export interface ExecutionEndWaitProps {
  /** ARN of the state machine whose (single) execution the test waits for. */
  readonly stateMachineArn: string;
  /** How long to wait before the stack fails; at most 12 hours. */
  readonly timeout: Duration;
}

/**
 * The signalling function's code (exported for its unit test). It signals SUCCESS when the execution succeeded and
 * FAILURE otherwise, with the execution's error and cause as the reason, so a failed run
 * fails the deployment with a message that says why. The body goes out as bytes, so fetch
 * sets no Content-Type, which the presigned URL was not signed for.
 */
export const SIGNAL_CODE = `
exports.handler = async (event) => {
  const detail = event.detail || {};
  const succeeded = detail.status === 'SUCCEEDED';
  const reason = succeeded
    ? 'Execution ' + detail.name + ' succeeded'
    : ('Execution ' + detail.name + ' ended ' + detail.status + ': ' + (detail.error || '') + ' ' + (detail.cause || '')).slice(0, 1000);
  const body = Buffer.from(JSON.stringify({ Status: succeeded ? 'SUCCESS' : 'FAILURE', Reason: reason, UniqueId: detail.name, Data: detail.status }));
  const response = await fetch(process.env.WAIT_HANDLE_URL, { method: 'PUT', body });
  if (!response.ok) throw new Error('Signalling the wait condition failed: HTTP ' + response.status + ' ' + (await response.text()));
};
`;

/**
 * A wait condition that completes when the first execution of a state machine ends. Make the
 * action that starts the execution depend on {@link listening} (so no end goes unheard), and
 * the checks that read the outcome on {@link condition}.
 */
export class ExecutionEndWait extends Construct {
  /** Completes when the execution succeeded; fails the stack when it did not, or on timeout. */
  public readonly condition: CfnWaitCondition;
  /** The rule and the signalling function (with its permission): in place before the execution starts. */
  public readonly listening: IDependable;

  constructor(scope: Construct, id: string, props: ExecutionEndWaitProps) {
    super(scope, id);
    if (props.timeout.toSeconds() < 1 || props.timeout.toSeconds() > MAX_WAIT_CONDITION_TIMEOUT.toSeconds()) {
      throw new Error(`ExecutionEndWait ${this.node.path}: timeout ${props.timeout.toHumanString()} is outside CloudFormation's 1 second to 12 hours for a wait condition.`);
    }
    const handle = new CfnWaitConditionHandle(this, 'Handle');
    const signal = new lambda.Function(this, 'Signal', {
      description: 'Signals the integration test wait condition when the execution under test ends',
      runtime: handlerRuntime(), // the newest this aws-cdk-lib knows, like every function of the library
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(SIGNAL_CODE),
      timeout: Duration.seconds(30),
      environment: { WAIT_HANDLE_URL: handle.ref },
      logGroup: new logs.LogGroup(this, 'SignalLogs', { retention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY }),
    });
    const rule = new events.Rule(this, 'ExecutionEnded', {
      description: 'An execution of the state machine under test ended',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [props.stateMachineArn], status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [new targets.LambdaFunction(signal, { retryAttempts: 10 })],
    });
    this.listening = new DependencyGroup(rule, signal);
    this.condition = new CfnWaitCondition(this, 'Condition', {
      handle: handle.ref,
      count: 1,
      timeout: String(props.timeout.toSeconds()),
    });
  }
}
