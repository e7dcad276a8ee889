/**
 * The template's Lambda functions as the runner executes them: which code (the
 * `llama-finetune:handler` metadata names the folder under lambda/), which environment (the
 * template's variables resolved to the stand-ins' names, Lambda's own variables, the
 * stand-ins' endpoints, and the function's logical id as its access key so the call log
 * names the caller), timeout, memory and role. Pure, apart from looking for the entry file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnTemplateJson, arnAttributeLogicalId, resourcesOfType } from './cfn-template';
import { CfnResolver } from './cfn-resolver';
import { LambdaFunctionSpec } from './lambda-function-pool';
import { PhysicalResource } from './physical-resources';

/** Template metadata key naming a function's handler folder (see lib/workflow/workflow-function.ts). */
export const HANDLER_METADATA = 'llama-finetune:handler';

/** The repository's lambda/ folder. */
export const DEFAULT_HANDLER_ROOT = path.resolve(__dirname, '..', '..', '..', 'lambda');

/** A template function and what the runner knows about it. */
export interface TemplateFunction {
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** Logical id of its role, when the role is in the template. */
  readonly roleLogicalId?: string;
  /** Runnable spec; undefined for functions without handler metadata (CDK's own helpers). */
  readonly spec?: LambdaFunctionSpec;
}

/** How to build the specs. */
export interface FunctionSpecOptions {
  /**
   * Folder with one sub-folder per handler; default the repository's lambda/. Handlers of another
   * folder run from CommonJS bundles of their own, not from the shipped ES modules (lambda-bundler).
   */
  readonly handlerRoot?: string;
  /** Entry file per handler name, replacing `<handlerRoot>/<name>/index.ts`. */
  readonly handlerEntries?: Readonly<Record<string, string>>;
  /** Timeout in ms per function logical id or handler name, replacing the template's Timeout. */
  readonly timeoutMs?: Readonly<Record<string, number>>;
  /** Variables every function gets (the stand-ins' endpoints and region). */
  readonly baseEnvironment: Readonly<Record<string, string>>;
  readonly region: string;
}

/** Every AWS::Lambda::Function of the template. */
export function templateFunctionsOf(
  template: CfnTemplateJson,
  resolver: CfnResolver,
  physical: Readonly<Record<string, PhysicalResource>>,
  options: FunctionSpecOptions,
): TemplateFunction[] {
  return resourcesOfType(template, 'AWS::Lambda::Function').map(([logicalId, resource]) => {
    const props = resource.Properties ?? {};
    const functionName = physical[logicalId].ref;
    const functionArn = physical[logicalId].arn!;
    const roleLogicalId = arnAttributeLogicalId(props.Role);
    const handlerName = resource.Metadata?.[HANDLER_METADATA];
    if (typeof handlerName !== 'string') return { logicalId, functionName, functionArn, roleLogicalId };

    const where = `${logicalId}.Properties`;
    const variables = (resolver.resolve((props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}, `${where}.Environment.Variables`) ?? {}) as Record<string, unknown>;
    const templateVariables = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, String(value)]));
    const memorySizeMb = Number(props.MemorySize ?? 128);
    const runtime = String(props.Runtime ?? 'nodejs');
    const logGroupName = props.LoggingConfig ? resolver.resolveString((props.LoggingConfig as { LogGroup?: unknown }).LogGroup ?? `/aws/lambda/${functionName}`, `${where}.LoggingConfig.LogGroup`) : `/aws/lambda/${functionName}`;
    const handlerProperty = String(props.Handler ?? 'index.handler');
    const timeoutMs = options.timeoutMs?.[logicalId] ?? options.timeoutMs?.[handlerName] ?? Number(props.Timeout ?? 3) * 1000;

    const environment: Record<string, string> = {
      ...options.baseEnvironment,
      AWS_REGION: options.region,
      AWS_DEFAULT_REGION: options.region,
      AWS_LAMBDA_FUNCTION_NAME: functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySizeMb),
      AWS_LAMBDA_LOG_GROUP_NAME: logGroupName,
      AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
      _HANDLER: handlerProperty,
      ...templateVariables,
      // The access key id becomes the call log's principal: which function made each call.
      AWS_ACCESS_KEY_ID: logicalId,
      AWS_SECRET_ACCESS_KEY: 'local-workflow-runner',
    };
    delete environment.AWS_SESSION_TOKEN;
    delete environment.AWS_PROFILE;

    const spec: LambdaFunctionSpec = {
      logicalId,
      functionName,
      functionArn,
      handlerName,
      entry: entryOf(handlerName, options),
      exportName: handlerProperty.slice(handlerProperty.lastIndexOf('.') + 1),
      environment,
      timeoutMs,
      memorySizeMb,
      execArgv: (templateVariables.NODE_OPTIONS ?? '').split(/\s+/).filter((flag) => flag === '--enable-source-maps'),
      logGroupName,
    };
    return { logicalId, functionName, functionArn, roleLogicalId, spec };
  });
}

/** The source file of a handler: an explicit entry, else `<root>/<name>/index.ts` (or index.js). */
function entryOf(handlerName: string, options: FunctionSpecOptions): string {
  const explicit = options.handlerEntries?.[handlerName];
  if (explicit) return path.resolve(explicit);
  const folder = path.join(options.handlerRoot ?? DEFAULT_HANDLER_ROOT, handlerName);
  const candidates = ['index.ts', 'index.js'].map((file) => path.join(folder, file));
  return candidates.find((file) => fs.existsSync(file)) ?? candidates[0];
}
