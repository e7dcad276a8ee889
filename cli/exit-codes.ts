/**
 * Exit codes of every `llama-finetune` command, and how an error maps to one. A script can
 * tell apart "the data (or the run) has errors", "I typed the command wrong" and "the check
 * could not be made" (no region or credentials, S3 unreachable, access denied).
 */

/** The exit codes. */
export const EXIT = {
  /** Success: the data is valid (warnings allowed), the run succeeded, the command did its work. */
  OK: 0,
  /** The data has errors, or the run followed ended other than SUCCEEDED. */
  DATA_ERRORS: 1,
  /** Bad usage: unknown command or option, missing argument, a file that does not exist. */
  USAGE: 2,
  /** Could not check: no region or credentials, AWS unreachable, access denied, missing bucket. */
  CANNOT_CHECK: 3,
} as const;

/** One line of the exit codes, for usage texts. */
export const EXIT_CODES_LINE = 'Exit codes: 0 success, 1 the data (or the run) has errors, 2 bad usage, 3 could not check (no region or credentials, AWS unreachable, access denied).';

/** A failure whose message already says what failed, why and what to do: shown as it is, exit 3. */
export class ExplainedError extends Error {}

/** What went wrong reaching AWS, in words a user can act on; undefined when `err` is not such a problem. */
export function awsAccessProblem(err: unknown): string | undefined {
  const e = err as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number }; Code?: string } | undefined;
  if (!e || typeof e !== 'object') return undefined;
  const name = e.name ?? '';
  const message = e.message ?? '';
  const status = e.$metadata?.httpStatusCode;
  if (message === 'Region is missing' || /region is missing/i.test(message)) {
    return 'no AWS region is configured: set AWS_REGION (or AWS_PROFILE with a region), or pass --region';
  }
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return 'no AWS credentials were found: configure a profile (aws configure / aws sso login) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'TokenRefreshRequired', 'InvalidToken'].includes(name)) {
    return `AWS refused the credentials (${name}): refresh them (aws sso login, new keys) and try again`;
  }
  if (name === 'AccessDenied' || status === 403) {
    return `access denied (${name || 'HTTP 403'}): your role needs the grants of grantStartRuns (upload) and grantReadResults (read runs) on this deployment; check the bucket names too`;
  }
  if (name === 'NoSuchBucket') return `the bucket does not exist (${safeMessage(message)}): check the bucket name and region`;
  const code = e.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return `AWS could not be reached (${code || name}): check the network, the region and any endpoint setting`;
  }
  if (status !== undefined && status >= 500) return `AWS answered ${status} (${name}) after retries; try again later`;
  return undefined;
}

function safeMessage(message: string): string {
  return message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
}
