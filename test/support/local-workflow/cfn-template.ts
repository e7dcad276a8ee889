/**
 * The parts of a synthesized CloudFormation template the local workflow runner reads, and
 * small lookups over them. Pure: no I/O.
 */
import { Template } from 'aws-cdk-lib/assertions';

/** One resource of a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** A template as JSON (what `cdk synth` writes, or `Template.toJSON()`). */
export interface CfnTemplateJson {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Type?: string; readonly Default?: unknown }>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Description?: string; readonly Export?: { readonly Name: unknown } }>;
}

/** A template given either way. */
export type TemplateSource = Template | CfnTemplateJson;

/** The template as JSON. */
export function templateJsonOf(template: TemplateSource): CfnTemplateJson {
  return template instanceof Template ? (template.toJSON() as CfnTemplateJson) : template;
}

/** `[logicalId, resource]` pairs of one resource type, in template order. */
export function resourcesOfType(template: CfnTemplateJson, type: string): Array<[string, CfnResource]> {
  return Object.entries(template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

/** The logical id in `{Fn::GetAtt: [id, 'Arn']}` (how a template points at a role), if the value is one. */
export function arnAttributeLogicalId(expression: unknown): string | undefined {
  const getAtt = (expression as Record<string, unknown> | undefined)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && getAtt[1] === 'Arn' ? String(getAtt[0]) : undefined;
}
