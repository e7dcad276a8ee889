/** Sentences several renderers share, so Markdown, HTML and notifications say the same thing. */
import { formatCount, formatPercent } from './format-numbers';
import { EvaluationReport } from './report-model';

/** "2.50 hours x 1 model unit = 2.50 model-unit hours", or what is known of it. */
export function provisionedThroughputText(report: EvaluationReport): string {
  const { provisionedThroughputHours: hours, modelUnits: units, modelUnitHours } = report.costs;
  if (hours === undefined && units === undefined) return 'none recorded';
  const hoursText = hours === undefined ? 'unknown hours' : `${hours.toFixed(2)} hours`;
  const unitsText = units === undefined ? 'unknown model units' : `${units} model unit${units === 1 ? '' : 's'}`;
  return modelUnitHours === undefined ? `${hoursText}, ${unitsText}` : `${hoursText} x ${unitsText} = ${modelUnitHours.toFixed(2)} model-unit hours`;
}

/** Why some answers are missing and how they were scored; `undefined` when none is missing. */
export function missingAnswersText(report: EvaluationReport): string | undefined {
  const parts = [
    report.scores.base.missing > 0 ? `${formatCount(report.scores.base.missing)} base-model` : '',
    report.scores.fineTuned.missing > 0 ? `${formatCount(report.scores.fineTuned.missing)} fine-tuned-model` : '',
  ].filter((p) => p !== '');
  if (parts.length === 0) return undefined;
  return `Inference failed for ${parts.join(' and ')} answer(s); those records score 0 for that model, as the official SQuAD script scores unanswered questions.`;
}

/** "quality gate PASSED", "quality gate FAILED" or "no quality gate". */
export function gateVerdictText(report: EvaluationReport): string {
  if (!report.gate.evaluated) return 'no quality gate';
  return `quality gate ${report.gate.passed ? 'PASSED' : 'FAILED'}`;
}

/** "+73.6%" or "n/a (base F1 is 0)". */
export function relativeImprovementText(report: EvaluationReport): string {
  return report.relativeImprovementPercent === null ? 'n/a (base F1 is 0)' : formatPercent(report.relativeImprovementPercent);
}
