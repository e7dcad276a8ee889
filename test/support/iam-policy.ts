/**
 * A small IAM evaluator for offline tests: takes the policy statements a synthesized template
 * gives a role, resolves the CloudFormation references in them to the names the stand-ins use,
 * and answers whether an action on a resource is allowed. Used to check that every AWS call a
 * handler makes during an offline run is one its role would be allowed to make in AWS.
 *
 * Limits: Allow statements with Action/Resource only (no NotAction/NotResource, no Deny in
 * these roles); conditions are not evaluated, so a call passing here may still be refused by a
 * condition in AWS (the template tests assert the conditions themselves).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { IamStatement, actionsOf, resourcesOf, statementsOfRole } from './cdk';

/** What a logical id resolves to: its Ref value and, where it has one, its Arn attribute. */
export interface PhysicalResource {
  readonly ref: string;
  readonly arn?: string;
  /** Other Fn::GetAtt attributes, e.g. a state machine's Name. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** The policy of one role, with references resolved. */
export class RolePolicy {
  /** Statements as [actions, resources] pairs with references resolved. */
  readonly statements: ReadonlyArray<{ readonly sid?: string; readonly actions: string[]; readonly resources: string[] }>;

  constructor(statements: IamStatement[], physical: Record<string, PhysicalResource>, pseudo: { account: string; region: string; partition?: string }) {
    this.statements = statements
      .filter((s) => s.Effect === 'Allow')
      .map((s) => ({
        sid: s.Sid,
        actions: actionsOf(s),
        resources: resourcesOf(s).map((r) => resolveCfn(r, physical, pseudo)),
      }));
  }

  /** The role's policy from a template. */
  static fromTemplate(template: Template, roleLogicalIdPrefix: string, physical: Record<string, PhysicalResource>, pseudo = { account: '111122223333', region: 'us-west-2' }): RolePolicy {
    return new RolePolicy(statementsOfRole(template, roleLogicalIdPrefix), physical, pseudo);
  }

  /** Decisions made so far, by action and resource (an offline run repeats the same calls many times). */
  private readonly decisions = new Map<string, boolean>();

  /** Whether some statement allows `action` on `resource`. */
  allows(action: string, resource: string): boolean {
    const key = `${action}\n${resource}`;
    let allowed = this.decisions.get(key);
    if (allowed === undefined) {
      allowed = this.statements.some((s) => s.actions.some((a) => wildcardMatch(a, action, true)) && s.resources.some((r) => wildcardMatch(r, resource, false)));
      this.decisions.set(key, allowed);
    }
    return allowed;
  }

  /** Granted actions (as written in the policy). */
  grantedActions(): string[] {
    return [...new Set(this.statements.flatMap((s) => s.actions))];
  }
}

/** IAM wildcard match: `*` any run of characters, `?` one character; actions are case-insensitive. */
export function wildcardMatch(pattern: string, value: string, ignoreCase: boolean): boolean {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = wildcardRegexes.get(key);
  if (!regex) {
    const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    wildcardRegexes.set(key, (regex = new RegExp(`^${source}$`, ignoreCase ? 'i' : '')));
  }
  return regex.test(value);
}

/** Compiled patterns, by case mode and pattern (policies hold few; checks run them many times). */
const wildcardRegexes = new Map<string, RegExp>();

/** Resolves Ref, Fn::GetAtt (Arn), Fn::Join and pseudo parameters to a string. */
export function resolveCfn(value: unknown, physical: Record<string, PhysicalResource>, pseudo: { account: string; region: string; partition?: string }): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v.Ref !== undefined) {
    const ref = v.Ref as string;
    if (ref === 'AWS::Partition') return pseudo.partition ?? 'aws';
    if (ref === 'AWS::Region') return pseudo.region;
    if (ref === 'AWS::AccountId') return pseudo.account;
    if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
    // Resources the test did not name resolve to a marker that matches no real ARN.
    return physical[ref]?.ref ?? `<unresolved:${ref}>`;
  }
  if (v['Fn::GetAtt']) {
    const [id, attribute] = v['Fn::GetAtt'] as [string, string];
    const p = physical[id];
    if (attribute === 'Arn' && p?.arn) return p.arn;
    return p?.attributes?.[attribute] ?? `<unresolved:${id}.${attribute}>`;
  }
  if (v['Fn::Join']) {
    const [delimiter, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveCfn(p, physical, pseudo)).join(delimiter);
  }
  throw new Error(`resolveCfn: unsupported expression ${JSON.stringify(value)}`);
}

/** Physical names for a bucket's logical id, as LocalS3 names it. */
export function bucketResource(name: string): PhysicalResource {
  return { ref: name, arn: `arn:aws:s3:::${name}` };
}
