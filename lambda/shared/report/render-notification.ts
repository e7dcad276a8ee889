/** A few plain-text lines for the SNS notification: the verdict and the figures that matter. Pure. */
import { formatCount, formatLoss, formatPoints, formatScore } from './format-numbers';
import { gateVerdictText, missingAnswersText, relativeImprovementText } from './report-phrases';
import { EvaluationReport } from './report-model';

/** Renders the notification summary (plain text, no markup; lines joined by "\n"). */
export function renderNotificationSummary(report: EvaluationReport): string {
  const { run, scores } = report;
  const lines = [
    ...(report.madeWithStandIns ? ['Offline demo: answers, scores and loss come from local stand-ins, not from Bedrock.'] : []),
    `Evaluation of ${run.requestName} (${run.model.name}, run ${run.runId}, ${run.environment}): ${gateVerdictText(report)}.`,
    `F1: base ${formatScore(scores.base.f1)} -> fine-tuned ${formatScore(scores.fineTuned.f1)} (${formatPoints(report.absoluteDelta.f1)} points, ${relativeImprovementText(report)}).`,
    `Exact match: base ${formatScore(scores.base.exactMatch)} -> fine-tuned ${formatScore(scores.fineTuned.exactMatch)} over ${formatCount(scores.fineTuned.count)} test record(s).`,
  ];
  if (report.gate.evaluated && !report.gate.passed) lines.push(...report.gate.reasons.filter((r) => r.startsWith('FAIL')));
  const missing = missingAnswersText(report);
  if (missing) lines.push(missing);
  const loss = report.training;
  if (loss?.training || loss?.validation) {
    const parts = [loss.training ? `training ${formatLoss(loss.training.finalLoss)}` : '', loss.validation ? `validation ${formatLoss(loss.validation.finalLoss)}` : ''].filter(Boolean);
    lines.push(`Final loss: ${parts.join(', ')}.`);
  }
  return lines.join('\n');
}
