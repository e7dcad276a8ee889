/**
 * Runs the validation engine on in-memory JSONL for the rule tests.
 */
import { resolveModel } from '../../lambda/shared/models/llama-models';
import { inMemoryDatasetSource, ValidateDatasetOptions, validateDataset, ValidationProblem, ValidationReport } from '../../lambda/shared/validation';
import { textRecords, toJsonl } from './fixtures';

/** Options of {@link validateLines}. */
export type HarnessOptions = Partial<Omit<ValidateDatasetOptions, 'model' | 'files'>> & {
  /** Model short name. @default 'llama3.2-11b' */
  readonly model?: string;
};

/** Validates one training file made of `lines`. */
export function validateLines(lines: readonly (object | string)[], options: HarnessOptions = {}, name = 'train.jsonl'): Promise<ValidationReport> {
  const { model, ...rest } = options;
  return validateDataset({
    model: resolveModel(model ?? 'llama3.2-11b'),
    files: [{ role: 'training', source: inMemoryDatasetSource(name, toJsonl(lines)) }],
    maxListedProblems: 1000,
    ...rest,
  });
}

/**
 * 120 valid text records with `bad` placed at line `line` (1-based), so the dataset is big
 * enough for the record-count rule and only the bad line can break rules.
 */
export function withBadLineAt(line: number, bad: object | string, total = 120): (object | string)[] {
  const lines: (object | string)[] = textRecords(total - 1);
  lines.splice(line - 1, 0, bad);
  return lines;
}

/** Every listed problem (errors and warnings) of a rule. */
export function problemsOf(report: ValidationReport, rule: string): ValidationProblem[] {
  return [...report.problems.errors, ...report.problems.warnings].filter((p) => p.rule === rule);
}

/** The rules of all listed problems, sorted and de-duplicated. */
export function rulesOf(report: ValidationReport): string[] {
  return [...new Set([...report.problems.errors, ...report.problems.warnings].map((p) => p.rule))].sort();
}
