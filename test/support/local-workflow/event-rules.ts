/**
 * The template's EventBridge rules, resolved: bus, pattern and targets (with what each
 * target is: a template function, the workflow's state machine, or something else). Pure.
 */
import { CfnTemplateJson, resourcesOfType } from './cfn-template';
import { CfnResolver } from './cfn-resolver';
import { PhysicalResource } from './physical-resources';
import { RuleTargetInputFields } from './eventbridge-target-input';

/** Where a rule target sends events. */
export type RuleTargetKind =
  | { readonly kind: 'function'; readonly logicalId: string }
  | { readonly kind: 'state-machine'; readonly logicalId: string }
  | { readonly kind: 'other'; readonly arn: string };

/** One target of a rule. */
export interface RuleTarget extends RuleTargetInputFields {
  readonly id: string;
  readonly arn: string;
  /** Role EventBridge uses to call the target (state machines, buses, ...). */
  readonly roleArn?: string;
  readonly destination: RuleTargetKind;
}

/** One rule. */
export interface EventRule {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Bus name; `default` for the account's default bus. */
  readonly busName: string;
  readonly enabled: boolean;
  readonly pattern: Record<string, unknown>;
  readonly targets: readonly RuleTarget[];
}

/** Every AWS::Events::Rule with an EventPattern (scheduled rules are left out). */
export function eventRulesOf(template: CfnTemplateJson, resolver: CfnResolver, physical: Readonly<Record<string, PhysicalResource>>): EventRule[] {
  const byArn = new Map<string, RuleTargetKind>();
  for (const [id, resource] of Object.entries(template.Resources ?? {})) {
    const arn = physical[id].arn;
    if (resource.Type === 'AWS::Lambda::Function' && arn) byArn.set(arn, { kind: 'function', logicalId: id });
    if (resource.Type === 'AWS::StepFunctions::StateMachine' && arn) byArn.set(arn, { kind: 'state-machine', logicalId: id });
  }
  return resourcesOfType(template, 'AWS::Events::Rule')
    .filter(([, rule]) => rule.Properties?.EventPattern !== undefined)
    .map(([logicalId, rule]) => {
      const props = resolver.resolve(rule.Properties ?? {}, `${logicalId}.Properties`) as Record<string, unknown>;
      const pattern = typeof props.EventPattern === 'string' ? (JSON.parse(props.EventPattern) as Record<string, unknown>) : (props.EventPattern as Record<string, unknown>);
      const bus = String(props.EventBusName ?? 'default');
      const targets = ((props.Targets ?? []) as Array<Record<string, unknown>>).map((target): RuleTarget => {
        const arn = String(target.Arn);
        return {
          id: String(target.Id),
          arn,
          roleArn: target.RoleArn === undefined ? undefined : String(target.RoleArn),
          Input: target.Input as string | undefined,
          InputPath: target.InputPath as string | undefined,
          InputTransformer: target.InputTransformer as RuleTargetInputFields['InputTransformer'],
          // Function and state machine ARNs have seven parts; an eighth is a version or alias.
          destination: byArn.get(arn.split(':').slice(0, 7).join(':')) ?? { kind: 'other', arn },
        };
      });
      return {
        logicalId,
        name: physical[logicalId].ref,
        arn: physical[logicalId].arn!,
        busName: bus.startsWith('arn:') ? bus.split('/').pop()! : bus,
        enabled: props.State === undefined || props.State === 'ENABLED',
        pattern,
        targets,
      };
    });
}
