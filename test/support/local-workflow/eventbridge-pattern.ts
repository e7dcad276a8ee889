/**
 * EventBridge event pattern matching, for the rules of a template: exact values, prefix,
 * suffix, equals-ignore-case, wildcard, anything-but (values, prefix, suffix, wildcard),
 * exists, numeric and $or, on nested fields and array values. Pure.
 */

/** Thrown for a pattern EventBridge would reject, or an operator this matcher lacks. */
export class EventPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventPatternError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Whether `event` matches `pattern` (both as JSON). */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isPlainObject(pattern)) throw new EventPatternError(`An event pattern must be a JSON object, got ${JSON.stringify(pattern)}.`);
  return matchesObject(pattern as Record<string, Json>, event, '');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function matchesObject(pattern: Record<string, Json>, value: unknown, path: string): boolean {
  const fields = isPlainObject(value) ? value : {};
  for (const [key, expected] of Object.entries(pattern)) {
    const where = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(expected) || expected.length < 2) throw new EventPatternError(`${where}: $or needs a list of at least two patterns.`);
      if (!expected.some((alternative) => isPlainObject(alternative) && matchesObject(alternative as Record<string, Json>, value, path))) return false;
      continue;
    }
    const actual = fields[key];
    if (Array.isArray(expected)) {
      if (!matchesLeaf(expected, actual, where)) return false;
    } else if (isPlainObject(expected)) {
      // A nested pattern cannot match a scalar; a missing object only matches through exists:false.
      if (actual !== undefined && !isPlainObject(actual)) return false;
      if (!matchesObject(expected as Record<string, Json>, actual, where)) return false;
    } else {
      throw new EventPatternError(`${where}: a pattern value must be a list of matchers or a nested object, got ${JSON.stringify(expected)}.`);
    }
  }
  return true;
}

/** A leaf: the field matches when any matcher matches any of its values. */
function matchesLeaf(matchers: Json[], actual: unknown, where: string): boolean {
  const values: unknown[] = actual === undefined ? [] : Array.isArray(actual) ? actual : [actual];
  return matchers.some((matcher) => {
    if (isPlainObject(matcher)) {
      const operator = matcher as Record<string, Json>;
      if ('exists' in operator) return operator.exists === true ? actual !== undefined && !isPlainObject(actual) : actual === undefined;
      return values.some((v) => matchesOperator(operator, v, where));
    }
    return values.some((v) => v === matcher);
  });
}

function matchesOperator(operator: Record<string, Json>, value: unknown, where: string): boolean {
  const keys = Object.keys(operator);
  if (keys.length !== 1) throw new EventPatternError(`${where}: a matcher object has exactly one operator, got ${JSON.stringify(operator)}.`);
  const [name] = keys;
  const argument = operator[name];
  switch (name) {
    case 'prefix':
      return typeof value === 'string' && compareText(argument, where, name, (text, ignoreCase) => fold(value, ignoreCase).startsWith(text));
    case 'suffix':
      return typeof value === 'string' && compareText(argument, where, name, (text, ignoreCase) => fold(value, ignoreCase).endsWith(text));
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof argument === 'string' && value.toLowerCase() === argument.toLowerCase();
    case 'wildcard':
      if (typeof argument !== 'string') throw new EventPatternError(`${where}: wildcard needs a string.`);
      return typeof value === 'string' && wildcardRegExp(argument).test(value);
    case 'anything-but':
      return matchesAnythingBut(argument, value, where);
    case 'numeric':
      return typeof value === 'number' && matchesNumeric(argument, value, where);
    default:
      throw new EventPatternError(
        `${where}: the matcher '${name}' is not supported by the local EventBridge matcher (supported: exact values, prefix, suffix, equals-ignore-case, wildcard, anything-but, exists, numeric, $or). ` +
          'Add it to test/support/local-workflow/eventbridge-pattern.ts.',
      );
  }
}

/** Applies a prefix/suffix argument: a string, or `{equals-ignore-case: string}`. */
function compareText(argument: Json, where: string, name: string, test: (text: string, ignoreCase: boolean) => boolean): boolean {
  if (typeof argument === 'string') return test(argument, false);
  if (isPlainObject(argument) && typeof argument['equals-ignore-case'] === 'string') return test(argument['equals-ignore-case'].toLowerCase(), true);
  throw new EventPatternError(`${where}: ${name} needs a string or {"equals-ignore-case": string}.`);
}

function fold(text: string, ignoreCase: boolean): string {
  return ignoreCase ? text.toLowerCase() : text;
}

/** `*` matches any run of characters; `\*` is a literal star. */
function wildcardRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && pattern[i + 1] === '*') {
      source += '\\*';
      i++;
    } else if (c === '*') source += '.*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

function matchesAnythingBut(argument: Json, value: unknown, where: string): boolean {
  if (isPlainObject(argument)) {
    const [name] = Object.keys(argument);
    if (!['prefix', 'suffix', 'wildcard', 'equals-ignore-case'].includes(name)) {
      throw new EventPatternError(`${where}: anything-but supports values, prefix, suffix, wildcard and equals-ignore-case, not ${JSON.stringify(argument)}.`);
    }
    if (typeof value !== 'string') return true;
    const inner = argument[name];
    const excluded = Array.isArray(inner) ? inner : [inner];
    return !excluded.some((item) => matchesOperator({ [name]: item }, value, where));
  }
  const excluded = Array.isArray(argument) ? argument : [argument];
  return !excluded.some((item) => item === value);
}

/** `[">", 0, "<=", 5]`: every comparison must hold. */
function matchesNumeric(argument: Json, value: number, where: string): boolean {
  if (!Array.isArray(argument) || argument.length % 2 !== 0 || argument.length === 0) {
    throw new EventPatternError(`${where}: numeric needs pairs of operator and number, e.g. [">", 0, "<=", 5].`);
  }
  for (let i = 0; i < argument.length; i += 2) {
    const [op, bound] = [argument[i], argument[i + 1]];
    if (typeof bound !== 'number') throw new EventPatternError(`${where}: numeric bound ${JSON.stringify(bound)} is not a number.`);
    const holds = op === '=' ? value === bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '>' ? value > bound : op === '>=' ? value >= bound : undefined;
    if (holds === undefined) throw new EventPatternError(`${where}: numeric operator ${JSON.stringify(op)} is not one of =, <, <=, >, >=.`);
    if (!holds) return false;
  }
  return true;
}
