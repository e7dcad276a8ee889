/**
 * The custom metrics of one scored evaluation: base F1, fine-tuned F1 and the relative
 * improvement, which the dashboard graphs run after run. Pure.
 */
import { FinetuneMetric } from '../metric-names';
import type { MetricDatum } from '../metrics-emf';
import type { EvaluationReport } from '../report/report-model';

/** The data points of a report; the improvement is left out when it is undefined (base F1 of 0). */
export function evaluationMetrics(report: Pick<EvaluationReport, 'scores' | 'relativeImprovementPercent'>): MetricDatum[] {
  return [
    { name: FinetuneMetric.BASE_F1, value: report.scores.base.f1, unit: 'None' },
    { name: FinetuneMetric.FINE_TUNED_F1, value: report.scores.fineTuned.f1, unit: 'None' },
    { name: FinetuneMetric.RELATIVE_IMPROVEMENT, value: report.relativeImprovementPercent, unit: 'Percent' },
  ];
}
