/** The evaluation report: model, builder, and its Markdown, HTML and notification renderings. */
export { EVALUATION_REPORT_SCHEMA_VERSION } from './report-model';
export type {
  EvaluationCosts,
  EvaluationReport,
  EvaluationReportInput,
  EvaluationRunInfo,
  LatencyStats,
  ModelScores,
  PredictionRecord,
  QualityGate,
  QualityGateResult,
  ReportRecord,
  TokenTotals,
} from './report-model';
export { buildEvaluationReport, DEFAULT_LOWEST_COUNT } from './build-report';
export { evaluateQualityGate } from './quality-gate';
export type { GateFigures } from './quality-gate';
export { latencyStats, nearestRankPercentile } from './latency-stats';
export { lossChartSvg } from './loss-chart-svg';
export type { ChartLabels, ChartSeries, ChartSize } from './loss-chart-svg';
export { niceTicks } from './chart-ticks';
export type { AxisTicks } from './chart-ticks';
export { escapeHtml } from './html-escape';
export { escapeMarkdown } from './markdown-escape';
export { renderReportMarkdown } from './render-markdown';
export { REPORT_STYLE, renderReportHtml } from './render-html';
export type { ReportHtmlOptions } from './render-html';
export {
  DEFAULT_REPORT_IMAGE_LIMITS,
  REPORT_IMAGE_BOX,
  checkReportImageLimits,
  displaySize,
  imagePlaceholder,
  imageSlots,
  imagesToRead,
  reportImageOf,
} from './report-images';
export type { ReportImage, ReportImageLimits } from './report-images';
export { renderNotificationSummary } from './render-notification';
