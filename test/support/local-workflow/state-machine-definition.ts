/**
 * The state machine as `cdk synth` produced it: its definition with every CloudFormation
 * token resolved to the stand-ins' names, every state (including those inside Map and
 * Parallel), and what each Task state calls. Pure.
 */
import { CfnResource, CfnTemplateJson, arnAttributeLogicalId, resourcesOfType } from './cfn-template';
import { CfnResolutionError, CfnResolver } from './cfn-resolver';
import { PhysicalResource } from './physical-resources';

/** An Amazon States Language definition (only the fields the runner reads are typed). */
export interface StatesDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly Comment?: string;
  readonly [field: string]: unknown;
}

/** One state of a definition. */
export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly Retry?: unknown[];
  readonly Catch?: unknown[];
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly ItemProcessor?: StatesDefinition;
  readonly Iterator?: StatesDefinition;
  readonly Branches?: StatesDefinition[];
  readonly [field: string]: unknown;
}

/** A state with where it sits. */
export interface StateEntry {
  readonly name: string;
  readonly state: AslState;
  /** Names of the Map/Parallel states it is nested in, outermost first. */
  readonly enclosing: readonly string[];
}

/** The state machine resource of a template, resolved. */
export interface StateMachineSpec {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** ARN of its role (the principal of the calls it makes). */
  readonly roleArn?: string;
  /** Logical id of its role, when the role is in the template. */
  readonly roleLogicalId?: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  /** The definition exactly as synthesized, tokens resolved. */
  readonly definition: StatesDefinition;
}

/**
 * Finds the state machine (the only one, or the one whose logical id starts with
 * `logicalIdPrefix`) and resolves its definition.
 */
export function loadStateMachine(
  template: CfnTemplateJson,
  resolver: CfnResolver,
  physical: Readonly<Record<string, PhysicalResource>>,
  logicalIdPrefix?: string,
): StateMachineSpec {
  const machines = resourcesOfType(template, 'AWS::StepFunctions::StateMachine').filter(([id]) => !logicalIdPrefix || id.startsWith(logicalIdPrefix));
  if (machines.length !== 1) {
    const found = machines.map(([id]) => id).join(', ') || 'none';
    throw new Error(
      `The template must contain exactly one AWS::StepFunctions::StateMachine${logicalIdPrefix ? ` whose logical id starts with '${logicalIdPrefix}'` : ''}; found ${found}. Pass \`stateMachine\` to choose one.`,
    );
  }
  const [logicalId, resource] = machines[0];
  const roleExpression = resource.Properties?.RoleArn;
  const roleLogicalId = arnAttributeLogicalId(roleExpression);
  return {
    logicalId,
    name: physical[logicalId].attributes.Name,
    arn: physical[logicalId].ref,
    roleArn: roleExpression === undefined ? undefined : resolver.resolveString(roleExpression, `${logicalId}.Properties.RoleArn`),
    roleLogicalId,
    type: resource.Properties?.StateMachineType === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
    definition: resolveDefinition(logicalId, resource, resolver),
  };
}

/** JSON-escapes a value placed inside a JSON string literal of the definition. */
function jsonEscape(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The definition with tokens (Fn::Join parts and DefinitionSubstitutions) resolved. */
export function resolveDefinition(logicalId: string, resource: CfnResource, resolver: CfnResolver): StatesDefinition {
  const where = `${logicalId}.Properties`;
  const props = resource.Properties ?? {};
  let text: string;
  if (props.Definition !== undefined) {
    text = JSON.stringify(resolver.resolve(props.Definition, `${where}.Definition`));
  } else {
    const body = props.DefinitionString;
    const join = (body as Record<string, unknown> | undefined)?.['Fn::Join'] as [string, unknown[]] | undefined;
    if (typeof body === 'string') text = body;
    else if (join && Array.isArray(join[1])) {
      // Tokens sit inside JSON strings of the definition, so their values are escaped.
      text = join[1].map((part, i) => (typeof part === 'string' ? part : jsonEscape(resolver.resolveString(part, `${where}.DefinitionString.Fn::Join[1][${i}]`)))).join(join[0]);
    } else if (body !== undefined) text = resolver.resolveString(body, `${where}.DefinitionString`);
    else throw new CfnResolutionError(`${where} has neither DefinitionString nor Definition; DefinitionS3Location is not supported by the local workflow runner.`);
  }
  const substitutions = (props.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(substitutions)) {
    text = text.split(`\${${key}}`).join(jsonEscape(resolver.resolveString(value, `${where}.DefinitionSubstitutions.${key}`)));
  }
  try {
    return JSON.parse(text) as StatesDefinition;
  } catch (err) {
    throw new CfnResolutionError(`${where}: the resolved definition is not JSON (${(err as Error).message}).`);
  }
}

/** Every state of the definition, nested ones included, in definition order. */
export function walkStates(definition: StatesDefinition, enclosing: readonly string[] = []): StateEntry[] {
  const out: StateEntry[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    out.push({ name, state, enclosing });
    const inner = [...enclosing, name];
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) out.push(...walkStates(processor, inner));
    for (const branch of state.Branches ?? []) out.push(...walkStates(branch, inner));
  }
  return out;
}

/** What a Task state calls. */
export type TaskIntegration =
  | {
      readonly kind: 'lambda';
      /** Function name or ARN as written; undefined when chosen at run time (`FunctionName.$`). */
      readonly functionName?: string;
      /** True when the Resource is the function ARN itself (the result is the bare payload). */
      readonly payloadResponseOnly: boolean;
    }
  | {
      /** `lambda:invoke.waitForTaskToken`: invokes the function with a task token, then waits for it to be resumed. */
      readonly kind: 'lambda-wait-for-token';
      readonly functionName?: string;
    }
  | { readonly kind: 'sns-publish' }
  | { readonly kind: 'events-put-events' }
  /** `states:startExecution.sync:2`: starts a state machine execution and waits for it (output as JSON). */
  | { readonly kind: 'states-start-execution-sync' }
  | { readonly kind: 'unsupported'; readonly resource: string };

const LAMBDA_INVOKE = /^arn:[^:]+:states:::lambda:invoke$/;
const LAMBDA_INVOKE_WAIT_FOR_TOKEN = /^arn:[^:]+:states:::lambda:invoke\.waitForTaskToken$/;
const LAMBDA_FUNCTION_ARN = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;
const SNS_PUBLISH = /^arn:[^:]+:states:::sns:publish$/;
const EVENTS_PUT = /^arn:[^:]+:states:::events:putEvents$/;
const STATES_START_EXECUTION_SYNC_2 = /^arn:[^:]+:states:::states:startExecution\.sync:2$/;

/** Classifies a Task state by its Resource. */
export function taskIntegrationOf(state: AslState): TaskIntegration {
  const resource = String(state.Resource ?? '');
  if (LAMBDA_INVOKE.test(resource)) {
    const name = state.Parameters?.FunctionName;
    return { kind: 'lambda', functionName: typeof name === 'string' ? name : undefined, payloadResponseOnly: false };
  }
  if (LAMBDA_INVOKE_WAIT_FOR_TOKEN.test(resource)) {
    const name = state.Parameters?.FunctionName;
    return { kind: 'lambda-wait-for-token', functionName: typeof name === 'string' ? name : undefined };
  }
  if (LAMBDA_FUNCTION_ARN.test(resource)) return { kind: 'lambda', functionName: resource, payloadResponseOnly: true };
  if (SNS_PUBLISH.test(resource)) return { kind: 'sns-publish' };
  if (EVENTS_PUT.test(resource)) return { kind: 'events-put-events' };
  if (STATES_START_EXECUTION_SYNC_2.test(resource)) return { kind: 'states-start-execution-sync' };
  return { kind: 'unsupported', resource };
}

/** The function name inside a name, ARN or partial ARN, without version or alias. */
export function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  if (match) return match[1];
  return nameOrArn.split(':')[0];
}
