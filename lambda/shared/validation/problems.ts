/**
 * Collects problems with bounded memory: every problem is counted per rule, but only the
 * first `maxListed` errors and the first `maxListed` warnings (in file and line order) are
 * kept with their messages. A file with 10,000 bad lines therefore yields a short report.
 *
 * Messages quote the data, so every kept message (and file name) passes through
 * {@link safeText} here, the one place all problems go through: control characters, terminal
 * escape sequences and bidi overrides from a dataset reach no report, summary, terminal or
 * e-mail verbatim, and no message exceeds {@link MAX_PROBLEM_MESSAGE_CHARS}.
 */
import { safeText } from '../display-text';
import { RuleId, Severity, severityOf } from './rules';

/** One problem found in the data. */
export interface ValidationProblem {
  readonly severity: Severity;
  /** Stable rule id (see rules.ts). */
  readonly rule: RuleId;
  /** The file it was found in (as the user named it); absent for dataset-wide problems. */
  readonly file?: string;
  /** 1-based line number; absent for file- and dataset-wide problems. */
  readonly line?: number;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** How often one rule was broken. */
export interface RuleCount {
  readonly rule: RuleId;
  readonly severity: Severity;
  readonly count: number;
}

/** Where a problem sorts: dataset-wide first, then by file order, line, and arrival. */
interface Ranked {
  readonly problem: ValidationProblem;
  readonly fileRank: number;
  readonly line: number;
  readonly sequence: number;
}

/** Default cap on listed errors (and, separately, on listed warnings). */
export const DEFAULT_MAX_LISTED_PROBLEMS = 200;

/** Longest problem message kept (messages quote bounded excerpts; this is the backstop). */
export const MAX_PROBLEM_MESSAGE_CHARS = 2000;

/** A problem collector; see the module comment. */
export class ProblemCollector {
  private readonly counts = new Map<RuleId, number>();
  private readonly listedBySeverity: Record<Severity, Ranked[]> = { error: [], warning: [] };
  private readonly totals: Record<Severity, number> = { error: 0, warning: 0 };
  private sequence = 0;

  /**
   * @param maxListed most problems of each severity kept with their messages.
   * @param fileRank position of a file in the report, so problems sort in file order.
   */
  constructor(
    readonly maxListed: number = DEFAULT_MAX_LISTED_PROBLEMS,
    private readonly fileRank: (file: string) => number = () => 0,
  ) {}

  /** Records a problem; its severity comes from the rule table. */
  add(rule: RuleId, message: string, file?: string, line?: number): void {
    const severity = severityOf(rule);
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
    this.totals[severity]++;
    if (this.maxListed <= 0) return;
    const list = this.listedBySeverity[severity];
    const fileRank = file === undefined ? -1 : this.fileRank(file);
    const problem: ValidationProblem = {
      severity,
      rule,
      message: safeText(message, { maxChars: MAX_PROBLEM_MESSAGE_CHARS }),
      ...(file !== undefined ? { file: safeText(file, { maxChars: MAX_PROBLEM_MESSAGE_CHARS }) } : {}),
      ...(line !== undefined ? { line } : {}),
    };
    list.push({ problem, fileRank, line: line ?? 0, sequence: this.sequence++ });
    // Trim now and then rather than on every add: amortised O(log n) per problem.
    if (list.length >= this.maxListed * 2) this.trim(list);
  }

  /** Number of errors found. */
  get errorCount(): number {
    return this.totals.error;
  }

  /** Number of warnings found. */
  get warningCount(): number {
    return this.totals.warning;
  }

  /** The listed problems of one severity, in file and line order. */
  listed(severity: Severity): ValidationProblem[] {
    const list = this.listedBySeverity[severity];
    this.trim(list);
    return list.map((r) => r.problem);
  }

  /** Problems of a severity that were counted but not listed. */
  omitted(severity: Severity): number {
    return this.totals[severity] - Math.min(this.totals[severity], this.maxListed);
  }

  /** How often each rule was broken: errors first, then by count. */
  countsByRule(): RuleCount[] {
    return [...this.counts.entries()]
      .map(([rule, count]) => ({ rule, severity: severityOf(rule), count }))
      .sort((a, b) => (a.severity === b.severity ? b.count - a.count || a.rule.localeCompare(b.rule) : a.severity === 'error' ? -1 : 1));
  }

  /** How often one rule was broken. */
  count(rule: RuleId): number {
    return this.counts.get(rule) ?? 0;
  }

  private trim(list: Ranked[]): void {
    list.sort((a, b) => a.fileRank - b.fileRank || a.line - b.line || a.sequence - b.sequence);
    if (list.length > this.maxListed) list.length = this.maxListed;
  }
}
