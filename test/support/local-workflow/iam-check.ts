/**
 * Least-privilege check of an offline run: every call in the shared call log made by a
 * principal the template defines (a function, by its logical id as access key; a role, by
 * its ARN, as when LocalBedrock acts for the customization role or the runner acts for the
 * state machine and the events role) is evaluated against that role's synthesized policy
 * with RolePolicy; and every granted action no call used is listed per role.
 */
import { AwsCallRecord } from '../aws-call-log';
import { IamStatement } from '../cdk';
import { RolePolicy, wildcardMatch } from '../iam-policy';
import { CfnTemplateJson, resourcesOfType } from './cfn-template';
import { CfnResolver } from './cfn-resolver';
import { AwsScope, PhysicalResource } from './physical-resources';

/** A call the caller's role does not allow. */
export interface DeniedCall {
  /** The call log's principal (function logical id, role ARN or service). */
  readonly principal: string;
  /** Logical id of the role evaluated (or `resource policy of <function>`). */
  readonly role: string;
  readonly operation: string;
  readonly action: string;
  readonly resource: string;
  /** Position in the call log (0 for checks that are not call log records). */
  readonly sequence: number;
}

/** Granted actions of one role that no call used. */
export interface UnusedGrants {
  readonly role: string;
  readonly actions: string[];
}

/** The outcome of the check. */
export interface IamCheckResult {
  readonly denied: DeniedCall[];
  readonly unused: UnusedGrants[];
}

/**
 * Actions a role needs for what AWS does on its behalf rather than for calls the code makes
 * (log delivery, X-Ray, KMS behind S3/SNS encryption, which the stand-ins do not record):
 * never reported as unused.
 */
export const PLATFORM_ACTIONS: readonly string[] = [
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'xray:*',
  'kms:*',
];

/**
 * Actions for which AWS defines no resource type: a statement allows them only with
 * `Resource: "*"`; one naming an ARN does not match, and AWS denies the call. From the Service
 * Authorization Reference for Step Functions (list_awsstepfunctions: SendTaskSuccess,
 * SendTaskFailure and SendTaskHeartbeat have an empty "Resource types" column; the task token
 * identifies the task).
 */
export const ACTIONS_WITHOUT_RESOURCE_TYPES: readonly string[] = ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'];

/** What the check needs. */
export interface IamCheckInput {
  readonly template: CfnTemplateJson;
  readonly resolver: CfnResolver;
  readonly physical: Readonly<Record<string, PhysicalResource>>;
  readonly scope: AwsScope;
  readonly calls: readonly AwsCallRecord[];
  /** Which role each known principal acts as (function logical id or role ARN -> role logical id). */
  readonly principalRoles: ReadonlyMap<string, string>;
  /** Roles whose unused grants are reported even when they made no call (the functions' roles). */
  readonly rolesToReport: readonly string[];
  /** Further action patterns never reported as unused. */
  readonly ignoreUnused?: readonly string[];
  /** Action patterns one role needs for what AWS does on its behalf (e.g. a function's dead-letter queue). */
  readonly platformActionsByRole?: ReadonlyMap<string, readonly string[]>;
  /** Denials found elsewhere (resource policies), added to the result. */
  readonly extraDenied?: readonly DeniedCall[];
}

/** Runs the check; see the module comment. */
export function checkIam(input: IamCheckInput): IamCheckResult {
  const policies = new Map<string, RolePolicy>();
  const policyOf = (role: string) => {
    let policy = policies.get(role);
    if (!policy) policies.set(role, (policy = rolePolicyOf(input, role)));
    return policy;
  };
  const denied: DeniedCall[] = [...(input.extraDenied ?? [])];
  const usedByRole = new Map<string, Set<string>>();
  for (const call of input.calls) {
    const role = input.principalRoles.get(call.principal);
    if (!role) continue;
    const policy = policyOf(role);
    const used = usedByRole.get(role) ?? new Set<string>();
    usedByRole.set(role, used.add(call.action));
    // AWS authorizes an action of no resource type against "*", whatever the call names.
    const resources = ACTIONS_WITHOUT_RESOURCE_TYPES.includes(call.action) ? ['*'] : call.resources;
    for (const resource of resources) {
      if (!policy.allows(call.action, resource)) {
        denied.push({ principal: call.principal, role, operation: call.operation, action: call.action, resource, sequence: call.sequence });
      }
    }
  }
  const ignored = [...PLATFORM_ACTIONS, ...(input.ignoreUnused ?? [])];
  const unused: UnusedGrants[] = [];
  for (const role of new Set([...input.rolesToReport, ...usedByRole.keys()])) {
    const used = [...(usedByRole.get(role) ?? [])];
    const ignoredHere = [...ignored, ...(input.platformActionsByRole?.get(role) ?? [])];
    const actions = policyOf(role)
      .grantedActions()
      .filter((granted) => !ignoredHere.some((pattern) => wildcardMatch(pattern, granted, true)))
      .filter((granted) => !used.some((action) => wildcardMatch(granted, action, true)))
      .sort();
    if (actions.length > 0) unused.push({ role, actions });
  }
  return { denied, unused };
}

/**
 * The role's identity policies (AWS::IAM::Policy and AWS::IAM::ManagedPolicy attached to it,
 * and its inline Policies) as a RolePolicy, resources resolved to the stand-ins' names.
 */
export function rolePolicyOf(input: Pick<IamCheckInput, 'template' | 'resolver' | 'physical' | 'scope'>, roleLogicalId: string): RolePolicy {
  const { template, resolver } = input;
  const attachedTo = (roles: unknown) => Array.isArray(roles) && roles.some((r) => (r as { Ref?: string })?.Ref === roleLogicalId);
  const documents: Array<{ where: string; document: unknown }> = [];
  for (const [id, policy] of [...resourcesOfType(template, 'AWS::IAM::Policy'), ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy')]) {
    if (attachedTo(policy.Properties?.Roles)) documents.push({ where: `${id}.Properties.PolicyDocument`, document: policy.Properties?.PolicyDocument });
  }
  const role = template.Resources?.[roleLogicalId];
  if (!role || role.Type !== 'AWS::IAM::Role') throw new Error(`The template has no AWS::IAM::Role '${roleLogicalId}'.`);
  ((role.Properties?.Policies ?? []) as Array<{ PolicyDocument: unknown }>).forEach((inline, i) => documents.push({ where: `${roleLogicalId}.Properties.Policies[${i}].PolicyDocument`, document: inline.PolicyDocument }));

  const statements: IamStatement[] = documents.flatMap(({ where, document }) => {
    const resolved = resolver.resolve(document, where) as { Statement?: IamStatement | IamStatement[] };
    return Array.isArray(resolved?.Statement) ? resolved.Statement : resolved?.Statement ? [resolved.Statement] : [];
  });
  return new RolePolicy(statements, input.physical, { account: input.scope.accountId, region: input.scope.region, partition: input.scope.partition });
}

/** A function invocation by EventBridge, which the function's resource policy must allow. */
export interface EventDelivery {
  readonly ruleArn: string;
  readonly functionLogicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
}

/**
 * Whether some AWS::Lambda::Permission lets events.amazonaws.com invoke the function from
 * this rule (a permission without SourceArn allows every rule).
 */
export function isDeliveryPermitted(template: CfnTemplateJson, resolver: CfnResolver, delivery: EventDelivery): boolean {
  return resourcesOfType(template, 'AWS::Lambda::Permission').some(([id, resource]) => {
    const p = resolver.resolve(resource.Properties ?? {}, `${id}.Properties`) as Record<string, unknown>;
    const functionName = String(p.FunctionName ?? '');
    return (
      wildcardMatch(String(p.Action ?? ''), 'lambda:InvokeFunction', true) &&
      p.Principal === 'events.amazonaws.com' &&
      (functionName === delivery.functionArn || functionName === delivery.functionName) &&
      (p.SourceArn === undefined || p.SourceArn === delivery.ruleArn)
    );
  });
}

/** The deliveries EventBridge could not make in AWS, as denied calls (one per rule and function). */
export function unpermittedDeliveries(template: CfnTemplateJson, resolver: CfnResolver, deliveries: readonly EventDelivery[]): DeniedCall[] {
  const seen = new Set<string>();
  const denied: DeniedCall[] = [];
  for (const delivery of deliveries) {
    const key = `${delivery.ruleArn}->${delivery.functionArn}`;
    if (seen.has(key) || isDeliveryPermitted(template, resolver, delivery)) continue;
    seen.add(key);
    denied.push({ principal: 'events.amazonaws.com', role: `resource policy of ${delivery.functionLogicalId}`, operation: 'Invoke', action: 'lambda:InvokeFunction', resource: delivery.functionArn, sequence: 0 });
  }
  return denied;
}
