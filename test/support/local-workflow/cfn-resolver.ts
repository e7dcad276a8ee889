/**
 * Resolves CloudFormation intrinsic functions in template values to the stand-ins' names
 * (see physical-resources.ts): Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split,
 * Fn::Base64 and the pseudo parameters. Pure.
 */
import { CfnTemplateJson } from './cfn-template';
import { AwsScope, PhysicalResource } from './physical-resources';

/** Thrown for an expression the runner cannot resolve; the message says where and what to do. */
export class CfnResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CfnResolutionError';
  }
}

const SUPPORTED = 'Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::Base64';

/** Resolves template values against one set of physical names. */
export class CfnResolver {
  constructor(
    private readonly template: CfnTemplateJson,
    private readonly physical: Readonly<Record<string, PhysicalResource>>,
    private readonly scope: AwsScope,
  ) {}

  /**
   * The value with every intrinsic function resolved, deeply. `{Ref: AWS::NoValue}` removes
   * the property. `where` names the template location in error messages.
   */
  resolve(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((item, i) => this.resolve(item, `${where}[${i}]`)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) return this.intrinsic(entries[0][0], entries[0][1], where);
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.resolve(item, `${where}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  /** The value resolved to a string (numbers and booleans are stringified, as CloudFormation does). */
  resolveString(value: unknown, where: string): string {
    const resolved = this.resolve(value, where);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new CfnResolutionError(`${where} resolves to ${JSON.stringify(resolved)}, not a string; the local workflow runner needs a string here.`);
  }

  private intrinsic(name: string, argument: unknown, where: string): unknown {
    switch (name) {
      case 'Ref':
        return this.ref(String(argument), where);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(argument) ? (argument as string[]) : String(argument).split(/\.(.+)/);
        return this.getAtt(id, this.resolveString(attribute, `${where}.Fn::GetAtt[1]`), where);
      }
      case 'Fn::Join': {
        const [delimiter, parts] = argument as [string, unknown];
        const list = this.resolve(parts, `${where}.Fn::Join[1]`);
        if (!Array.isArray(list)) throw new CfnResolutionError(`${where}: Fn::Join needs a list, got ${JSON.stringify(list)}.`);
        return list.map((part, i) => this.resolveString(part, `${where}.Fn::Join[1][${i}]`)).join(delimiter);
      }
      case 'Fn::Sub':
        return this.sub(argument, where);
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const items = this.resolve(list, `${where}.Fn::Select[1]`);
        const position = Number(this.resolve(index, `${where}.Fn::Select[0]`));
        if (!Array.isArray(items) || !(position >= 0 && position < items.length)) {
          throw new CfnResolutionError(`${where}: Fn::Select index ${position} is outside ${JSON.stringify(items)}.`);
        }
        return items[position];
      }
      case 'Fn::Split': {
        const [delimiter, source] = argument as [string, unknown];
        return this.resolveString(source, `${where}.Fn::Split[1]`).split(delimiter);
      }
      case 'Fn::Base64':
        return Buffer.from(this.resolveString(argument, `${where}.Fn::Base64`), 'utf-8').toString('base64');
      default:
        throw new CfnResolutionError(
          `${where} uses ${name}, which the local workflow runner cannot resolve (it supports ${SUPPORTED}). ` +
            'Avoid it in resources the workflow uses, or add it to test/support/local-workflow/cfn-resolver.ts.',
        );
    }
  }

  private ref(id: string, where: string): unknown {
    switch (id) {
      case 'AWS::Partition':
        return this.scope.partition;
      case 'AWS::Region':
        return this.scope.region;
      case 'AWS::AccountId':
        return this.scope.accountId;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'LocalStack';
      case 'AWS::StackId':
        return `arn:${this.scope.partition}:cloudformation:${this.scope.region}:${this.scope.accountId}:stack/LocalStack/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const resource = this.physical[id];
    if (resource) return resource.ref;
    const parameter = this.template.Parameters?.[id];
    if (parameter && parameter.Default !== undefined) return parameter.Default;
    throw new CfnResolutionError(`${where} refers to '${id}', which is neither a resource nor a parameter with a default in the template.`);
  }

  private getAtt(id: string, attribute: string, where: string): string {
    const resource = this.physical[id];
    if (!resource) throw new CfnResolutionError(`${where} asks for ${id}.${attribute}, but the template has no resource '${id}'.`);
    const value = resource.attributes[attribute];
    // Attributes no stand-in models still get a stable, recognisable value.
    return value ?? `${resource.ref}.${attribute}`;
  }

  private sub(argument: unknown, where: string): string {
    const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
    const resolvedVariables: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables ?? {})) resolvedVariables[name] = this.resolveString(value, `${where}.Fn::Sub[1].${name}`);
    return text.replace(/\$\{(!?)([^}]+)\}/g, (whole, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      if (name in resolvedVariables) return resolvedVariables[name];
      const [id, attribute] = name.split(/\.(.+)/);
      if (attribute) return this.getAtt(id, attribute, where);
      const value = this.ref(id, where);
      if (typeof value !== 'string') throw new CfnResolutionError(`${where}: ${whole} in Fn::Sub resolves to ${JSON.stringify(value)}, not a string.`);
      return value;
    });
  }
}

/** Marker for `{Ref: AWS::NoValue}`: the property is removed. */
const NO_VALUE = Symbol('AWS::NoValue');
