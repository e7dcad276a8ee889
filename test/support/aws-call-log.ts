/**
 * A shared record of every request the local AWS stand-ins answered, written the way IAM
 * would see it: which action was authorised, on which resource ARNs, for which principal.
 *
 * Tests use it to check least privilege (every action the code performs is granted by the
 * policy under test, and nothing more is needed) and to count calls (retries, polls).
 * One API call can need several authorisations (CopyObject reads the source and writes the
 * target; CreateModelCustomizationJob also needs iam:PassRole), so one request may add
 * several records that share a `requestId`.
 */

/** One authorisation that a request needed. */
export interface AwsCallRecord {
  /** Position in the log, starting at 1; increases across `clear()`. */
  readonly sequence: number;
  /** Id of the HTTP request (several records may share it). */
  readonly requestId: string;
  /** Service prefix of the action: `s3`, `bedrock`, `iam`. */
  readonly service: string;
  /** API operation that was called, e.g. `HeadObject`, `CreateModelCustomizationJob`. */
  readonly operation: string;
  /** IAM action that authorises it, e.g. `s3:GetObject` (HeadObject is authorised as GetObject). */
  readonly action: string;
  /** ARNs IAM evaluates for the action; `['*']` for actions without resource-level permissions. */
  readonly resources: readonly string[];
  /** HTTP status the stand-in answered with. */
  readonly status: number;
  /** Error code when the request failed (e.g. `NoSuchKey`, `ThrottlingException`). */
  readonly errorCode?: string;
  /**
   * Who made the request: the access key id from the SigV4 credential scope for client calls
   * (tests may give each simulated role its own key id), or the role ARN when a stand-in acts
   * for a service role (Bedrock reading training data and writing job output).
   */
  readonly principal: string;
  /** When the request was answered. */
  readonly time: Date;
}

/** What a stand-in reports; the log fills in `sequence` and `time`. */
export type AwsCallInput = Omit<AwsCallRecord, 'sequence' | 'time'>;

/** Criteria for {@link AwsCallLog.entries}; every given field must match. */
export interface AwsCallFilter {
  readonly service?: string;
  readonly operation?: string;
  readonly action?: string;
  readonly principal?: string;
  /** Only successful (status < 400) or only failed records. */
  readonly succeeded?: boolean;
}

/** An in-memory, append-only call log that several stand-ins can share. */
export class AwsCallLog {
  private readonly records: AwsCallRecord[] = [];
  private nextSequence = 1;

  /** Appends one authorisation record. */
  record(input: AwsCallInput): AwsCallRecord {
    const entry: AwsCallRecord = { ...input, resources: [...input.resources], sequence: this.nextSequence++, time: new Date() };
    this.records.push(entry);
    return entry;
  }

  /** Records matching the filter, oldest first (copies: changing them does not change the log). */
  entries(filter: AwsCallFilter = {}): AwsCallRecord[] {
    return this.records.filter((r) => matches(r, filter)).map((r) => ({ ...r, resources: [...r.resources] }));
  }

  /** Distinct IAM actions seen (optionally for one principal), sorted. */
  actions(filter: AwsCallFilter = {}): string[] {
    return [...new Set(this.entries(filter).map((r) => r.action))].sort();
  }

  /** Distinct operations seen, sorted. */
  operations(filter: AwsCallFilter = {}): string[] {
    return [...new Set(this.entries(filter).map((r) => r.operation))].sort();
  }

  /** How many records match. */
  count(filter: AwsCallFilter = {}): number {
    return this.records.filter((r) => matches(r, filter)).length;
  }

  /** Forgets every record (sequence numbers keep increasing, so stale references stay distinguishable). */
  clear(): void {
    this.records.length = 0;
  }

  /** Number of records currently held. */
  get length(): number {
    return this.records.length;
  }
}

function matches(record: AwsCallRecord, filter: AwsCallFilter): boolean {
  if (filter.service !== undefined && record.service !== filter.service) return false;
  if (filter.operation !== undefined && record.operation !== filter.operation) return false;
  if (filter.action !== undefined && record.action !== filter.action) return false;
  if (filter.principal !== undefined && record.principal !== filter.principal) return false;
  if (filter.succeeded !== undefined && filter.succeeded !== record.status < 400) return false;
  return true;
}
