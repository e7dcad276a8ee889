/**
 * Synth-time checks of construct props. Every message names the prop and the fix, because
 * the user reads it in a failed `cdk synth`, far from the code that raised it.
 */
import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Raised for props that cannot work; the message names the prop and the fix, and, like
 * aws-cdk-lib's own ValidationError, the path of the construct that raised it (when known),
 * which is also its `constructPath`. Internal: not exported from the package (jsii cannot
 * export a class that extends Error); callers recognise it by `name === 'InvalidPropsError'`.
 * aws-cdk-lib's ValidationError itself is @internal there, so it is not used here.
 */
export class InvalidPropsError extends Error {
  /** The path of the construct whose props are invalid, when known. */
  public readonly constructPath?: string;
  constructor(construct: string, prop: string, problem: string, fix: string, scope?: IConstruct) {
    super(`${construct}: invalid prop '${prop}': ${problem}. ${fix}${scope ? ` (at ${scope.node.path})` : ''}`);
    this.name = 'InvalidPropsError';
    this.constructPath = scope?.node.path;
  }
}

/** Whether `error` is an InvalidPropsError (also across copies of this package). */
export function isInvalidPropsError(error: unknown): error is InvalidPropsError {
  return error instanceof Error && error.name === 'InvalidPropsError';
}

/** Throws when both an existing resource and props to create one are given. */
export function requireAtMostOne(construct: string, existingProp: string, existing: unknown, propsProp: string, props: unknown, scope?: IConstruct): void {
  if (existing !== undefined && props !== undefined) {
    throw new InvalidPropsError(
      construct,
      `${existingProp}`,
      `both '${existingProp}' and '${propsProp}' were given`,
      `Pass '${existingProp}' to use an existing resource, or '${propsProp}' to create one, not both.`,
      scope,
    );
  }
}

/**
 * Normalizes an S3 key prefix: non-empty, no leading slash, ends with '/'.
 * Tokens are passed through unchecked.
 */
export function normalizePrefix(construct: string, prop: string, value: string, scope?: IConstruct): string {
  if (Token.isUnresolved(value)) return value;
  const trimmed = value.trim().replace(/^\/+/, '');
  if (trimmed === '' || trimmed === '/') {
    throw new InvalidPropsError(construct, prop, 'the prefix is empty', `Give a folder-like prefix such as 'requests/'.`, scope);
  }
  if (/[*?]/.test(trimmed)) {
    throw new InvalidPropsError(construct, prop, `'${value}' contains a wildcard`, 'Give a literal prefix such as \'requests/\'.', scope);
  }
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
