/**
 * A small command-line parser shared by the run commands: `--name value`, `--name=value`,
 * boolean `--flag`s and positional arguments; anything else is a usage error that names it.
 */

/** Bad usage: the message names the option or argument and what to do. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The options a command accepts. */
export interface OptionSpec {
  /** Options that take a value (repeatable: every value is kept, in order). */
  readonly values: readonly string[];
  /** Options without a value. */
  readonly flags: readonly string[];
}

/** What was given. */
export interface ParsedArgs {
  readonly positional: readonly string[];
  readonly flags: ReadonlySet<string>;
  /** The last value given for an option. */
  value(name: string): string | undefined;
  /** Every value given for an option. */
  values(name: string): readonly string[];
}

/** Parses `args` against `spec`; throws UsageError for an unknown option or a missing value. */
export function parseArgs(args: readonly string[], spec: OptionSpec): ParsedArgs {
  const valueNames = new Set(spec.values);
  const flagNames = new Set(spec.flags);
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (valueNames.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value.`);
      values.set(name, [...(values.get(name) ?? []), value]);
    } else if (flagNames.has(name) && eq < 0) {
      flags.add(name);
    } else if (arg.startsWith('-') && arg !== '-') {
      throw new UsageError(`Unknown option '${arg.slice(0, 60)}'.`);
    } else {
      positional.push(arg);
    }
  }
  return {
    positional,
    flags,
    value: (name) => values.get(name)?.at(-1),
    values: (name) => values.get(name) ?? [],
  };
}

/** A number of seconds from an option, within bounds. */
export function secondsOption(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || value < min || value > max) throw new UsageError(`${name} must be a number of seconds from ${min} to ${max}, got '${text.slice(0, 40)}'.`);
  return value;
}
