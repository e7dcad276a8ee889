/**
 * What an EventBridge rule target receives for an event: the whole event, a constant
 * `Input`, the part at `InputPath`, or the result of an `InputTransformer`. Pure.
 */
import { AwsEvent } from './aws-events';

/** The input fields of an AWS::Events::Rule target (resolved). */
export interface RuleTargetInputFields {
  readonly Input?: string;
  readonly InputPath?: string;
  readonly InputTransformer?: { readonly InputPathsMap?: Record<string, string>; readonly InputTemplate: string };
}

/** Thrown when a target's input settings cannot be applied to an event. */
export class TargetInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetInputError';
  }
}

/** The value the target is invoked with (JSON value, or a string for non-JSON templates). */
export function targetInputOf(target: RuleTargetInputFields, event: AwsEvent, rule: { readonly name: string; readonly arn: string }): unknown {
  if (target.Input !== undefined) return parseJson(target.Input, 'Input');
  if (target.InputPath !== undefined) return jsonPathValue(event, target.InputPath);
  if (target.InputTransformer) return transformInput(target.InputTransformer, event, rule);
  return event;
}

/** A simple JSONPath (`$`, `$.a.b`, `$.a[0]`, `$['a-b']`) evaluated on a value; undefined when absent. */
export function jsonPathValue(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new TargetInputError(`JSONPath '${path}' must start with '$'.`);
  const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/g)];
  const consumed = steps.map((m) => m[0]).join('');
  if (consumed !== path.slice(1)) throw new TargetInputError(`JSONPath '${path}' uses syntax the local runner does not evaluate (only $.a.b, [n] and ['a']).`);
  let current: unknown = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = step[1] ?? step[3] ?? Number(step[2]);
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/**
 * Applies an InputTransformer: each `<name>` is replaced by the value at its path, as JSON
 * where it stands outside a string and as bare text inside one (`"ended <status>"`). Predefined names:
 * aws.events.rule-arn, aws.events.rule-name, aws.events.event, aws.events.event.json,
 * aws.events.event.ingestion-time. The result is JSON when it parses, else the text.
 */
export function transformInput(transformer: NonNullable<RuleTargetInputFields['InputTransformer']>, event: AwsEvent, rule: { readonly name: string; readonly arn: string }): unknown {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) values.set(name, jsonPathValue(event, path));
  values.set('aws.events.rule-arn', rule.arn);
  values.set('aws.events.rule-name', rule.name);
  values.set('aws.events.event', event);
  values.set('aws.events.event.json', event);
  values.set('aws.events.event.ingestion-time', event.time);

  const template = transformer.InputTemplate;
  const text = template.replace(/<([A-Za-z0-9_.-]+)>/g, (whole, name: string, offset: number) => {
    if (!values.has(name)) return whole;
    const value = values.get(name);
    if (insideJsonString(template, offset)) {
      const raw = typeof value === 'string' ? value : JSON.stringify(value ?? null);
      return JSON.stringify(raw).slice(1, -1);
    }
    return value === undefined ? 'null' : JSON.stringify(value);
  });
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Whether `offset` lies inside a double-quoted string of `text` (escaped quotes skipped). */
function insideJsonString(text: string, offset: number): boolean {
  let inside = false;
  for (let i = 0; i < offset; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') inside = !inside;
  }
  return inside;
}

function parseJson(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new TargetInputError(`The rule target's ${field} is not JSON: ${text.slice(0, 200)}`);
  }
}
