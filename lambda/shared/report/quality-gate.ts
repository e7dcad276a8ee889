/** Checks the fine-tuned model against the quality gate's thresholds. Pure. */
import { formatPercent, formatScore } from './format-numbers';
import { QualityGate, QualityGateResult } from './report-model';

/** The figures the gate looks at. */
export interface GateFigures {
  readonly baseF1: number;
  readonly fineTunedF1: number;
  /** `null` when the base F1 is 0. */
  readonly relativeImprovementPercent: number | null;
  /** Records scored; a gate never passes on no records. */
  readonly count: number;
}

/**
 * Evaluates each threshold that is set. With no threshold set the gate is not evaluated and
 * counts as passed. When the base F1 is 0 the relative improvement is undefined: the
 * improvement threshold then passes if the fine-tuned F1 is above 0 (any gain over nothing is
 * unbounded) and fails otherwise.
 *
 * @throws Error when a threshold is not a finite number, or minF1 is outside 0..100.
 */
export function evaluateQualityGate(gate: QualityGate | undefined, figures: GateFigures): QualityGateResult {
  const reasons: string[] = [];
  let passed = true;
  const check = (ok: boolean, pass: string, fail: string) => {
    reasons.push(ok ? `PASS: ${pass}` : `FAIL: ${fail}`);
    if (!ok) passed = false;
  };
  if (gate?.minF1 === undefined && gate?.minImprovementPercent === undefined) return { evaluated: false, passed: true, reasons: [] };

  if (gate.minF1 !== undefined && !(Number.isFinite(gate.minF1) && gate.minF1 >= 0 && gate.minF1 <= 100)) {
    throw new Error(`qualityGate.minF1 must be a number from 0 to 100 (an F1 score in percent), got ${gate.minF1}.`);
  }
  if (gate.minImprovementPercent !== undefined && !Number.isFinite(gate.minImprovementPercent)) {
    throw new Error(`qualityGate.minImprovementPercent must be a finite number of percent, got ${gate.minImprovementPercent}.`);
  }
  if (figures.count === 0) {
    return { evaluated: true, passed: false, reasons: ['FAIL: no test record was scored, so nothing shows the model meets the gate.'] };
  }
  const { fineTunedF1, baseF1, relativeImprovementPercent } = figures;
  if (gate.minF1 !== undefined) {
    check(
      fineTunedF1 >= gate.minF1,
      `fine-tuned F1 ${formatScore(fineTunedF1)} is at least the minimum ${formatScore(gate.minF1)}.`,
      `fine-tuned F1 ${formatScore(fineTunedF1)} is below the minimum ${formatScore(gate.minF1)}.`,
    );
  }
  if (gate.minImprovementPercent !== undefined) {
    const wanted = formatPercent(gate.minImprovementPercent);
    if (relativeImprovementPercent === null) {
      check(
        fineTunedF1 > 0,
        `the base F1 is 0 and the fine-tuned F1 is ${formatScore(fineTunedF1)}, an unbounded improvement (required ${wanted}).`,
        `both the base and the fine-tuned F1 are 0: no improvement (required ${wanted}).`,
      );
    } else {
      check(
        relativeImprovementPercent >= gate.minImprovementPercent,
        `F1 changed by ${formatPercent(relativeImprovementPercent)} relative to the base model (from ${formatScore(baseF1)} to ${formatScore(fineTunedF1)}), meeting the required ${wanted}.`,
        `F1 changed by ${formatPercent(relativeImprovementPercent)} relative to the base model (from ${formatScore(baseF1)} to ${formatScore(fineTunedF1)}), short of the required ${wanted}.`,
      );
    }
  }
  return { evaluated: true, passed, reasons };
}
