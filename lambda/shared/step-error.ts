/**
 * The error a Step Functions Catch puts at `$.error`: `{ Error, Cause }`. For a Lambda task,
 * Cause is a JSON string `{ errorType, errorMessage, trace }`; for a Fail or Pass state it is
 * plain text. This turns either into one readable sentence.
 */
export interface StepError {
  readonly Error?: string;
  readonly Cause?: string;
}

/** The error name and the human message inside a Step Functions error. */
export function describeStepError(error: StepError | undefined): { name: string; message: string } {
  const name = error?.Error ?? 'UnknownError';
  const cause = error?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; errorType?: unknown };
    if (parsed && typeof parsed.errorMessage === 'string') return { name, message: parsed.errorMessage };
  } catch {
    // plain text cause
  }
  return { name, message: cause || name };
}
