/** The quality gate: each threshold passes or fails with a reason, and bad thresholds are refused. */
import { buildEvaluationReport, evaluateQualityGate } from '../../lambda/shared/report';
import { sampleInput } from './report-fixtures';

const figures = { baseF1: 40, fineTunedF1: 50, relativeImprovementPercent: 25, count: 100 };

describe('evaluateQualityGate', () => {
  it('is not evaluated, and passes, without thresholds', () => {
    expect(evaluateQualityGate(undefined, figures)).toEqual({ evaluated: false, passed: true, reasons: [] });
    expect(evaluateQualityGate({}, figures)).toEqual({ evaluated: false, passed: true, reasons: [] });
  });

  it('passes when every threshold is met, explaining each', () => {
    const result = evaluateQualityGate({ minF1: 50, minImprovementPercent: 25 }, figures);
    expect(result.evaluated).toBe(true);
    expect(result.passed).toBe(true);
    expect(result.reasons).toEqual([
      'PASS: fine-tuned F1 50.00 is at least the minimum 50.00.',
      'PASS: F1 changed by +25.0% relative to the base model (from 40.00 to 50.00), meeting the required +25.0%.',
    ]);
  });

  it('fails on a low F1 and names the figures', () => {
    const result = evaluateQualityGate({ minF1: 60 }, figures);
    expect(result.passed).toBe(false);
    expect(result.reasons).toEqual(['FAIL: fine-tuned F1 50.00 is below the minimum 60.00.']);
  });

  it('fails on a small improvement while the F1 threshold passes', () => {
    const result = evaluateQualityGate({ minF1: 45, minImprovementPercent: 30 }, figures);
    expect(result.passed).toBe(false);
    expect(result.reasons[0]).toMatch(/^PASS: /);
    expect(result.reasons[1]).toBe('FAIL: F1 changed by +25.0% relative to the base model (from 40.00 to 50.00), short of the required +30.0%.');
  });

  it('accepts a negative improvement threshold (a tolerated loss)', () => {
    const worse = { baseF1: 50, fineTunedF1: 48, relativeImprovementPercent: -4, count: 10 };
    expect(evaluateQualityGate({ minImprovementPercent: -5 }, worse).passed).toBe(true);
    expect(evaluateQualityGate({ minImprovementPercent: -3 }, worse).passed).toBe(false);
  });

  it('judges the improvement over a base F1 of 0 by whether the fine-tuned F1 is above 0', () => {
    const gate = { minImprovementPercent: 1000 };
    expect(evaluateQualityGate(gate, { baseF1: 0, fineTunedF1: 12, relativeImprovementPercent: null, count: 5 }).passed).toBe(true);
    const none = evaluateQualityGate(gate, { baseF1: 0, fineTunedF1: 0, relativeImprovementPercent: null, count: 5 });
    expect(none.passed).toBe(false);
    expect(none.reasons[0]).toMatch(/^FAIL: both the base and the fine-tuned F1 are 0/);
  });

  it('never passes on no records', () => {
    const result = evaluateQualityGate({ minF1: 0 }, { ...figures, count: 0 });
    expect(result).toEqual({ evaluated: true, passed: false, reasons: [expect.stringMatching(/^FAIL: no test record was scored/)] });
  });

  it.each([[{ minF1: 101 }], [{ minF1: -1 }], [{ minF1: Number.NaN }], [{ minImprovementPercent: Infinity }]])('refuses %j', (gate) => {
    expect(() => evaluateQualityGate(gate, figures)).toThrow(/qualityGate\.(minF1|minImprovementPercent) must be/);
  });
});

describe('the gate in the report', () => {
  it('uses the report\'s own scores', () => {
    const open = buildEvaluationReport(sampleInput({ qualityGate: undefined }));
    const fineTunedF1 = open.scores.fineTuned.f1;
    // Thresholds just below and just above the computed score flip the verdict.
    expect(buildEvaluationReport(sampleInput({ qualityGate: { minF1: fineTunedF1 - 0.01 } })).gate.passed).toBe(true);
    const failed = buildEvaluationReport(sampleInput({ qualityGate: { minF1: fineTunedF1 + 0.01 } })).gate;
    expect(failed.passed).toBe(false);
    expect(failed.reasons[0]).toContain(`fine-tuned F1 ${fineTunedF1.toFixed(2)} is below`);
    const improvement = open.relativeImprovementPercent!;
    expect(buildEvaluationReport(sampleInput({ qualityGate: { minImprovementPercent: improvement + 1 } })).gate.passed).toBe(false);
    expect(buildEvaluationReport(sampleInput({ qualityGate: { minImprovementPercent: improvement - 1 } })).gate.passed).toBe(true);
  });
});
