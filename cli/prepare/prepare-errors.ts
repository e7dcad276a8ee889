/**
 * The two kinds of failure `llama-finetune prepare` reports, mapped to its exit codes:
 * a usage error (exit 2: a flag or argument is wrong) and a data error (exit 1: the input
 * dataset has problems). Both carry messages that name the flag, file or line and the fix.
 */

/** A flag or argument is missing or wrong; the message names the flag and how to fix it. */
export class PrepareUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrepareUsageError';
  }
}

/** The input data has problems; `details` lists the first few, each naming file and line or index. */
export class PrepareDataError extends Error {
  constructor(message: string, readonly details: readonly string[] = []) {
    super(message);
    this.name = 'PrepareDataError';
  }
}
