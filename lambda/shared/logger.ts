/**
 * Structured JSON logging: one JSON object per line, with the run id on every line so a
 * CloudWatch Logs Insights query can follow one run across functions.
 */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds these fields to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export function createLogger(base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  const log = (level: LogLevel, message: string, fields?: Record<string, unknown>) =>
    write(JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...base, ...fields }, errorReplacer));
  return {
    debug: (m, f) => log('DEBUG', m, f),
    info: (m, f) => log('INFO', m, f),
    warn: (m, f) => log('WARN', m, f),
    error: (m, f) => log('ERROR', m, f),
    child: (fields) => createLogger({ ...base, ...fields }, write),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}
