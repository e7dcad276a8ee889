/**
 * A minimal command-line flag reader: `--name value`, `--name=value`, boolean switches and
 * positional arguments. Unknown or repeated flags are errors, so a typo never goes unnoticed.
 */
import { PrepareUsageError } from './prepare-errors';

/** Which flags take a value and which are switches. */
export interface FlagSpec {
  readonly valueFlags: readonly string[];
  readonly switches: readonly string[];
}

/** Flags and positionals as given. */
export interface ParsedCommandLine {
  readonly positionals: string[];
  readonly values: ReadonlyMap<string, string>;
  readonly switches: ReadonlySet<string>;
}

/**
 * Splits arguments into flags and positionals.
 * @throws PrepareUsageError for unknown, repeated or value-less flags.
 */
export function parseCommandLine(args: readonly string[], spec: FlagSpec): ParsedCommandLine {
  const valueFlags = new Set(spec.valueFlags);
  const switchFlags = new Set(spec.switches);
  const positionals: string[] = [];
  const values = new Map<string, string>();
  const switches = new Set<string>();
  let onlyPositionals = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (onlyPositionals || !arg.startsWith('--') || arg === '--') {
      if (arg === '--' && !onlyPositionals) onlyPositionals = true;
      else positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (switchFlags.has(name)) {
      if (eq >= 0) throw new PrepareUsageError(`${name} is a switch and takes no value; write just ${name}`);
      switches.add(name);
      continue;
    }
    if (!valueFlags.has(name)) {
      throw new PrepareUsageError(`unknown option ${name}; known options: ${[...spec.valueFlags, ...spec.switches].join(', ')}`);
    }
    let value: string | undefined;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      value = args[i + 1];
      // "--bucket --out x" means the value was forgotten, not that the bucket is called "--out".
      if (value === undefined || valueFlags.has(value.split('=')[0]) || switchFlags.has(value)) {
        throw new PrepareUsageError(`${name} needs a value, e.g. ${name} <value> (write ${name}=<value> if the value starts with --)`);
      }
      i++;
    }
    if (values.has(name)) throw new PrepareUsageError(`${name} is given twice; give it once`);
    values.set(name, value);
  }
  return { positionals, values, switches };
}
