/**
 * Injected failures for the stand-ins: "answer the next N matching requests with this error",
 * or "answer every matching request for the next T milliseconds with it" (a storm, e.g. a
 * throttling storm of a chosen length). Kept apart from HTTP so the rules are easy to read and test.
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

/**
 * How long a fault lasts: a number of matching requests, `'forever'`, or a wall-clock window
 * (`{ forMs }`) that starts when the fault is added and answers every matching request inside it.
 */
export type FaultLength = number | 'forever' | { readonly forMs: number };

/** Which requests a fault applies to. */
export interface FaultScope {
  /** API operation name, e.g. `PutObject`; every operation when omitted. */
  readonly operation?: string;
  /**
   * Only requests the stand-in marks conditional (S3: writes with If-Match / If-None-Match),
   * e.g. for S3's 409 ConditionalRequestConflict, which only conditional writes can meet.
   */
  readonly conditionalOnly?: boolean;
}

/** What a stand-in knows about a request when it asks for a fault. */
export interface FaultRequest {
  /** True for a conditional write (see {@link FaultScope.conditionalOnly}). */
  readonly conditional?: boolean;
}

interface PlannedFault {
  readonly fault: InjectedFault;
  readonly scope: FaultScope;
  /** Requests left to answer (Infinity for 'forever' and for windows). */
  remaining: number;
  /** End of the window (ms since the epoch, by the plan's clock); undefined for counted faults. */
  readonly until?: number;
}

/** A queue of faults; the oldest matching entry fires first. */
export class FaultPlan {
  private readonly planned: PlannedFault[] = [];

  /** @param now the clock windows are measured by; Date.now unless a test drives time itself. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Answers matching requests with `fault` for `length` (see {@link FaultLength}). */
  add(length: FaultLength, fault: InjectedFault, scope: FaultScope = {}): void {
    if (typeof length === 'object') {
      if (!(Number.isFinite(length.forMs) && length.forMs > 0)) throw new Error(`A fault window must last a positive, finite number of milliseconds; got forMs=${String(length.forMs)}.`);
      this.planned.push({ fault, scope, remaining: Number.POSITIVE_INFINITY, until: this.now() + length.forMs });
      return;
    }
    const remaining = length === 'forever' ? Number.POSITIVE_INFINITY : length;
    if (!(remaining > 0)) throw new Error(`A fault must fire at least once; got times=${String(length)}.`);
    this.planned.push({ fault, scope, remaining });
  }

  /** The fault for a request to `operation`, consuming one use; undefined when none applies. */
  take(operation: string, request: FaultRequest = {}): InjectedFault | undefined {
    this.dropExpired();
    const index = this.planned.findIndex(
      (p) => (p.scope.operation === undefined || p.scope.operation === operation) && (!p.scope.conditionalOnly || request.conditional === true),
    );
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

  /** How many planned faults are still waiting (an endless one, or an open window, counts as Infinity). */
  pending(): number {
    this.dropExpired();
    return this.planned.reduce((sum, p) => sum + p.remaining, 0);
  }

  private dropExpired(): void {
    const now = this.now();
    for (let i = this.planned.length - 1; i >= 0; i--) {
      const until = this.planned[i].until;
      if (until !== undefined && now >= until) this.planned.splice(i, 1);
    }
  }
}
