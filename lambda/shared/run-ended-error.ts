/**
 * The error of a step that finds its run already ended: the cleanup of a timed-out or aborted
 * execution recorded the outcome while the step was creating something that bills (a job, a
 * Provisioned Throughput). The step undoes what it created, then throws this.
 */

/** The run ended while this step was working; what it created has been undone. */
export class RunEndedError extends Error {
  /**
   * @param runId the run
   * @param status the outcome the record holds (TIMED_OUT, ABORTED, ...)
   * @param what what happened, ending with what was undone (e.g. "its job X was created; it has been stopped")
   */
  constructor(runId: string, status: string, what: string) {
    super(`Run ${runId} had already ended (${status}) when ${what}. Nothing to do: the run's outcome is in its record.`);
    this.name = 'RunEnded';
  }
}
