/**
 * Last evaluation step: reads every predictions shard, scores base and fine-tuned answers with
 * SQuAD F1 and exact match, and writes the report (report.json, report.md, report.html) under
 * the run's prefix. The scores and the quality gate go into the run record, where the outcome
 * notification and event pick them up.
 *
 * The lowest-scoring examples show their images: at most DEFAULT_REPORT_IMAGE_LIMITS.maxImages,
 * each read with one ranged GET of at most maxBytesPerImage bytes from the dataset bucket and
 * embedded in report.html; larger or unreadable ones get a placeholder (report-images.ts).
 * REPORT_MADE_WITH_STAND_INS=true (set only by the offline demo) marks every figure that came
 * from the stand-ins.
 *
 * Before anything is written, the answers are counted: when either model answered fewer than
 * MIN_ANSWERED_SHARE of the records (default 0.95), the step fails with EvaluationIncomplete, so
 * refused calls (e.g. AccessDenied on the base model) can never pass the quality gate as an
 * "improvement" over a base F1 of 0.
 *
 * A run whose context carries `evaluation.baseline` scores the base side from the stored
 * baseline's answers (evaluation/baseline.ts) and its own fine-tuned answers; the run sent no
 * base-model calls, so its base token counts are 0 and the record names the baseline.
 *
 * Input: { run, provisioned? }. Output: { baseF1, fineTunedF1, relativeImprovementPercent,
 * gatePassed, gateEvaluated, reportUri, reportHtmlUri }.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../shared/aws-clients';
import { flagEnv, jsonEnv, requireEnv } from '../shared/env';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import {
  DEFAULT_REPORT_IMAGE_LIMITS,
  EvaluationReportInput,
  PredictionRecord,
  QualityGate,
  buildEvaluationReport,
  renderReportHtml,
  renderReportMarkdown,
} from '../shared/report';
import { readReportImages } from '../shared/report/read-report-images';
import { RunContext } from '../shared/run-context';
import { readRunRecord, runRecordKey, updateOwnRunRecord, withEvent } from '../shared/run-record';
import { getText } from '../shared/s3';
import { evaluationMetrics } from '../shared/evaluation/evaluation-metrics';
import { emitMetrics } from '../shared/metrics-emf';
import { ModelPredictionLine } from '../shared/evaluation/model-prediction';
import { AnswerCoverageCounter, minAnsweredShareFrom, requireEnoughAnswers } from '../shared/evaluation/answer-coverage';
import { BaselineResults } from '../shared/evaluation/baseline';
import { evaluationPredictionsPrefix } from '../shared/evaluation/test-records';

export interface ScoreEvaluationEvent {
  readonly run: RunContext;
}

export interface ScoreEvaluationResult {
  readonly baseF1: number;
  readonly fineTunedF1: number;
  readonly relativeImprovementPercent: number | null;
  readonly gateEvaluated: boolean;
  readonly gatePassed: boolean;
  readonly reportUri: string;
  readonly reportHtmlUri: string;
}

const log = createLogger({ step: 'score-evaluation' });

/** The entry point: scoreEvaluation, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, scoreEvaluation);

async function scoreEvaluation(event: ScoreEvaluationEvent): Promise<ScoreEvaluationResult> {
  const { run } = event;
  // Read first: a misconfigured deployment fails before any work.
  const minAnsweredShare = minAnsweredShareFrom(process.env.MIN_ANSWERED_SHARE);
  const madeWithStandIns = flagEnv('REPORT_MADE_WITH_STAND_INS');
  const s3 = s3Client();
  const bucket = run.artifacts.bucket;
  const predictionsPrefix = evaluationPredictionsPrefix(run.artifacts.prefix);

  const base: PredictionRecord[] = [];
  const fineTuned: PredictionRecord[] = [];
  const coverage = new AnswerCoverageCounter();
  const add = (line: ModelPredictionLine) => {
    coverage.add(line);
    // A record the model refused has no prediction: the report counts it as missing (scored 0).
    if (line.prediction === undefined) return;
    const record: PredictionRecord = {
      recordId: line.recordId,
      question: line.question,
      references: line.references,
      prediction: line.prediction,
      latencyMs: line.latencyMs,
      inputTokens: line.inputTokens,
      outputTokens: line.outputTokens,
      line: line.line,
      imageUris: line.imageUris,
    };
    (line.model === 'base' ? base : fineTuned).push(record);
  };
  // A shared baseline's answers stand for the base side (prepare-evaluation checked it fits the run).
  const baseline = run.evaluation.baseline ? await BaselineResults.read(s3, run.evaluation.baseline) : undefined;
  if (baseline) for (const line of await baseline.predictions(s3)) if (line.model === 'base') add(line);
  for (const key of await listKeys(bucket, predictionsPrefix)) {
    for (const text of (await getText(s3, { bucket, key })).split('\n')) {
      if (text.trim() === '') continue;
      const line = JSON.parse(text) as ModelPredictionLine;
      // With a shared baseline, only its base answers count.
      if (baseline && line.model === 'base') continue;
      add(line);
    }
  }
  // Before the report and the gate: scores of refused calls would measure the errors, not the models.
  requireEnoughAnswers(coverage.coverage(), minAnsweredShare, `s3://${bucket}/${predictionsPrefix}`);
  if (base.length === 0 && fineTuned.length === 0) throw new Error(`No predictions under s3://${bucket}/${predictionsPrefix}; inference produced nothing to score`);

  const current = await readRunRecord(s3, bucket, runRecordKey(run));
  const record = current?.record;
  const pt = record?.provisionedThroughput;
  const sum = (records: PredictionRecord[], field: 'inputTokens' | 'outputTokens') => records.reduce((n, r) => n + r[field], 0);
  const input: EvaluationReportInput = {
    run: {
      runId: run.runId,
      requestName: run.requestName,
      environment: requireEnv('ENVIRONMENT_NAME'),
      model: { name: run.model.name, baseModelIdentifier: run.model.baseModelIdentifier, customModelArn: record?.job?.outputModelArn },
      hyperParameters: record?.job?.hyperParameters ?? run.hyperParameters,
      requestUri: `s3://${run.request.bucket}/${run.request.key}`,
      startedAt: record?.createdAt ?? new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      testDataUri: run.data.testKey ? `s3://${run.data.bucket}/${run.data.testKey}` : undefined,
    },
    training: record?.metrics,
    base,
    fineTuned,
    costs: {
      provisionedThroughputHours: pt ? (Date.now() - Date.parse(pt.createdAt)) / 3_600_000 : undefined,
      modelUnits: pt?.modelUnits,
      // With a shared baseline the run sent no base calls: the baseline's tokens are paid once, by the experiment.
      baseInputTokens: baseline ? 0 : sum(base, 'inputTokens'),
      baseOutputTokens: baseline ? 0 : sum(base, 'outputTokens'),
      fineTunedInputTokens: sum(fineTuned, 'inputTokens'),
      fineTunedOutputTokens: sum(fineTuned, 'outputTokens'),
    },
    qualityGate: jsonEnv<QualityGate>('QUALITY_GATE', {}),
    ...(record?.costEstimate ? { costEstimate: record.costEstimate } : {}),
    madeWithStandIns,
  };
  const report = buildEvaluationReport(input);
  const images = await readReportImages(s3, report.lowest, DEFAULT_REPORT_IMAGE_LIMITS, (uri, error) =>
    log.warn('image not embedded in the report', { runId: run.runId, uri, error: error.message }),
  );

  const reportKey = (ext: string) => `${run.artifacts.prefix}report.${ext}`;
  const put = (ext: string, body: string, contentType: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: reportKey(ext), Body: body, ContentType: contentType }));
  await Promise.all([
    put('json', JSON.stringify(report, null, 2), 'application/json'),
    put('md', renderReportMarkdown(report), 'text/markdown; charset=utf-8'),
    put('html', renderReportHtml(report, { images, imageLimits: DEFAULT_REPORT_IMAGE_LIMITS }), 'text/html; charset=utf-8'),
  ]);
  const reportUri = `s3://${bucket}/${reportKey('json')}`;
  const reportHtmlUri = `s3://${bucket}/${reportKey('html')}`;

  await updateOwnRunRecord(s3, run, (r) => ({
    ...withEvent(r, 'evaluation scored', { baseF1: report.scores.base.f1, fineTunedF1: report.scores.fineTuned.f1 }),
    evaluation: {
      baseF1: report.scores.base.f1,
      fineTunedF1: report.scores.fineTuned.f1,
      baseExactMatch: report.scores.base.exactMatch,
      fineTunedExactMatch: report.scores.fineTuned.exactMatch,
      relativeImprovementPercent: report.relativeImprovementPercent,
      records: Math.max(report.scores.base.count, report.scores.fineTuned.count),
      gate: report.gate,
      reportUri,
      reportHtmlUri,
      ...(baseline ? { baselineUri: baseline.uri } : {}),
    },
  }));
  const runLog = log.child({ runId: run.runId });
  runLog.info('evaluation scored', { baseF1: report.scores.base.f1, fineTunedF1: report.scores.fineTuned.f1, gate: report.gate });
  emitMetrics(runLog, evaluationMetrics(report), process.env.ENVIRONMENT_NAME);
  return {
    baseF1: report.scores.base.f1,
    fineTunedF1: report.scores.fineTuned.f1,
    relativeImprovementPercent: report.relativeImprovementPercent,
    gateEvaluated: report.gate.evaluated,
    gatePassed: report.gate.passed,
    reportUri,
    reportHtmlUri,
  };
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3Client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}
