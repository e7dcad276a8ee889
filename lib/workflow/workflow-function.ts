import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { handlerBundleDirectory } from './handler-bundles';
import { HandlerCode, HandlerCodeRoots, handlerRuntime, lambdaHandlerOf, resolveHandlerCode } from './handler-code';

export { handlerRuntime } from './handler-code';

/** Template metadata key on each function resource that names its folder under lambda/. */
export const HANDLER_METADATA_KEY = 'llama-finetune:handler';

/** Props of {@link WorkflowFunction}. */
export interface WorkflowFunctionProps {
  /** The handler's folder under lambda/, e.g. `read-request`. */
  readonly handler: string;
  /** One line on what the function does. */
  readonly description: string;
  /** Environment variables. */
  readonly environment: Record<string, string>;
  /**
   * Timeout.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB.
   * @default 512
   */
  readonly memorySize?: number;
  /** How long the function's logs are kept. */
  readonly logRetention: logs.RetentionDays;
  /**
   * Key that encrypts the function's log group.
   * @default - CloudWatch Logs service-side encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /** What happens to the log group when the stack is deleted. */
  readonly logRemovalPolicy: RemovalPolicy;
  /**
   * Queue for asynchronous invocations that failed every attempt.
   * @default - none (the function is invoked synchronously by Step Functions)
   */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Where the handler's code is looked up.
   * @default - the package's prebundled handlers, else the repository's lambda/ sources
   */
  readonly codeRoots?: HandlerCodeRoots;
}

/**
 * A Lambda function of the workflow: Node.js (newest runtime), arm64, its code the handler's
 * prebundled asset when the library runs from the package, else bundled with esbuild from
 * lambda/<handler>/index.ts together with every other handler, once per process (either way
 * AWS SDK included, so the code runs against the SDK version it was tested with; see
 * handler-code.ts and handler-bundles.ts), X-Ray tracing, its own log group with
 * retention, and its own role that starts with nothing but writing to that log group.
 * Callers add exactly the grants it needs.
 */
export class WorkflowFunction extends Construct {
  /** The function. */
  public readonly function: lambda.Function;
  /** The function's role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: props.logRemovalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Role of the ${props.handler} function of the Llama fine-tuning workflow`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // Identical either way but for where the code comes from.
    const functionProps: lambda.FunctionOptions & Pick<lambda.FunctionProps, 'runtime'> = {
      description: props.description,
      runtime: handlerRuntime(),
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      deadLetterQueue: props.deadLetterQueue,
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
    };
    this.function = new lambda.Function(this, 'Function', { ...functionProps, code: assetOf(this, resolveHandlerCode(props.handler, props.codeRoots)), handler: lambdaHandlerOf(props.handler) });
    // Names the handler folder in the template, so tools (the offline runner) can find the code.
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, props.handler);
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so AWS offers no narrower form than Resource: *.',
    });
  }
}

/**
 * The function's code asset: the folder of every handler's bundle, which all workflow functions
 * share (one asset to stage and upload; each function's `Handler` names its module). From the
 * sources, that folder is made by one esbuild call for every handler, unless the app skips bundling for this stack (context
 * `aws:cdk:bundling-stacks`, as template tests do): then the source folder stands in, under a
 * fixed hash, as CDK does for a skipped bundle.
 */
function assetOf(scope: Construct, code: HandlerCode): lambda.Code {
  if (code.kind === 'prebundled') return lambda.Code.fromAsset(code.directory);
  const sourceFolder = path.dirname(code.entry);
  if (!Stack.of(scope).bundlingRequired) return lambda.Code.fromAsset(sourceFolder, { assetHash: `bundling-skipped-${path.basename(sourceFolder)}` });
  return lambda.Code.fromAsset(handlerBundleDirectory(path.basename(sourceFolder), path.dirname(sourceFolder), scope.node.root));
}
