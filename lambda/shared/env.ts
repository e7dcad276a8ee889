/** Reading a handler's configuration from its environment. */

/** The value of a required environment variable; throws a message that says what is wrong. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set; the function was deployed without its configuration`);
  return value;
}

/** A whole number from the environment, or the fallback when unset. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`Environment variable ${name} must be a positive whole number, got '${raw}'`);
  return value;
}

/** A JSON value from the environment, or the fallback when unset. */
export function jsonEnv<T>(name: string, fallback: T): T {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return JSON.parse(raw) as T;
  } catch {
    throw new Error(`Environment variable ${name} is not valid JSON`);
  }
}

/** A true/false flag from the environment; unset or empty is false, anything but "true"/"false" is an error. */
export function flagEnv(name: string): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new Error(`Environment variable ${name} must be 'true' or 'false', got '${raw}'`);
}
