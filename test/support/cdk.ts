/**
 * Helpers for construct tests: synthesize without bundling Lambda code (esbuild runs once, in
 * the app test), and read IAM statements out of a template.
 */
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';

/** An app that skips asset bundling, so template tests stay fast. */
export function testApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** A stack in a supported region with a fixed account, so ARNs in assertions are concrete. */
export function testStack(app: App = testApp(), id = 'TestStack', region = 'us-west-2'): Stack {
  return new Stack(app, id, { env: { account: '111122223333', region } });
}

export interface IamStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** Every IAM statement of the policies attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOfRole(template: Template, rolePrefix: string): IamStatement[] {
  const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(rolePrefix));
  if (roles.length !== 1) throw new Error(`expected one role starting with ${rolePrefix}, found ${roles.join(', ') || 'none'}`);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roles[0]),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as IamStatement[]);
}

/** Every IAM statement in the template (policies and inline role policies). */
export function allStatements(template: Template): Array<IamStatement & { policy: string }> {
  const out: Array<IamStatement & { policy: string }> = [];
  for (const [id, p] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const s of p.Properties.PolicyDocument.Statement as IamStatement[]) out.push({ ...s, policy: id });
  }
  for (const [id, r] of Object.entries(template.findResources('AWS::IAM::Role'))) {
    for (const inline of (r.Properties.Policies ?? []) as Array<{ PolicyDocument: { Statement: IamStatement[] } }>) {
      for (const s of inline.PolicyDocument.Statement) out.push({ ...s, policy: id });
    }
  }
  return out;
}

/** Actions of a statement as an array. */
export function actionsOf(statement: IamStatement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Resources of a statement as an array. */
export function resourcesOf(statement: IamStatement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The template logical id of a construct's default resource (a bucket's, a role's, ...). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}
