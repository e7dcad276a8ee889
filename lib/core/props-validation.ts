/**
 * Synth-time checks of construct props. Every message names the prop and the fix, because
 * the user reads it in a failed `cdk synth`, far from the code that raised it.
 */
import { Token } from 'aws-cdk-lib';

/** Raised for props that cannot work; the message names the prop and the fix. */
export class InvalidPropsError extends Error {
  constructor(construct: string, prop: string, problem: string, fix: string) {
    super(`${construct}: invalid prop '${prop}': ${problem}. ${fix}`);
    this.name = 'InvalidPropsError';
  }
}

/** Throws when both an existing resource and props to create one are given. */
export function requireAtMostOne(construct: string, existingProp: string, existing: unknown, propsProp: string, props: unknown): void {
  if (existing !== undefined && props !== undefined) {
    throw new InvalidPropsError(
      construct,
      `${existingProp}`,
      `both '${existingProp}' and '${propsProp}' were given`,
      `Pass '${existingProp}' to use an existing resource, or '${propsProp}' to create one, not both.`,
    );
  }
}

/**
 * Normalizes an S3 key prefix: non-empty, no leading slash, ends with '/'.
 * Tokens are passed through unchecked.
 */
export function normalizePrefix(construct: string, prop: string, value: string): string {
  if (Token.isUnresolved(value)) return value;
  const trimmed = value.trim().replace(/^\/+/, '');
  if (trimmed === '' || trimmed === '/') {
    throw new InvalidPropsError(construct, prop, 'the prefix is empty', `Give a folder-like prefix such as 'requests/'.`);
  }
  if (/[*?]/.test(trimmed)) {
    throw new InvalidPropsError(construct, prop, `'${value}' contains a wildcard`, 'Give a literal prefix such as \'requests/\'.');
  }
  return trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
}
