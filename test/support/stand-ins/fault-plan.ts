/**
 * Injected failures for the stand-ins: "answer the next N matching requests with this error".
 * Kept apart from HTTP so the counting rules are easy to read and test.
 */

/** An error a stand-in should answer with instead of doing the work. */
export interface InjectedFault {
  /** HTTP status, e.g. 503 or 429. */
  readonly status: number;
  /** Error code as the protocol spells it: `SlowDown`, `ThrottlingException`, ... */
  readonly code: string;
  /** Error message; each stand-in has a sensible default per code. */
  readonly message?: string;
}

/** Which requests a fault applies to. */
export interface FaultScope {
  /** API operation name, e.g. `PutObject`; every operation when omitted. */
  readonly operation?: string;
}

interface PlannedFault {
  readonly fault: InjectedFault;
  readonly operation?: string;
  remaining: number;
}

/** A queue of faults; the oldest matching entry fires first. */
export class FaultPlan {
  private readonly planned: PlannedFault[] = [];

  /** Answers the next `times` matching requests (`'forever'` for all of them) with `fault`. */
  add(times: number | 'forever', fault: InjectedFault, scope: FaultScope = {}): void {
    const remaining = times === 'forever' ? Number.POSITIVE_INFINITY : times;
    if (!(remaining > 0)) throw new Error(`A fault must fire at least once; got times=${String(times)}.`);
    this.planned.push({ fault, operation: scope.operation, remaining });
  }

  /** The fault for a request to `operation`, consuming one use; undefined when none applies. */
  take(operation: string): InjectedFault | undefined {
    const index = this.planned.findIndex((p) => p.operation === undefined || p.operation === operation);
    if (index < 0) return undefined;
    const entry = this.planned[index];
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.planned.splice(index, 1);
    return entry.fault;
  }

  /** Removes every planned fault. */
  clear(): void {
    this.planned.length = 0;
  }

  /** How many planned faults are still waiting (an endless one counts as Infinity). */
  pending(): number {
    return this.planned.reduce((sum, p) => sum + p.remaining, 0);
  }
}
