/**
 * Last step of the shared baseline (lib/workflow/baseline-evaluation.ts): once every shard's
 * base answers are written, checks that enough records were answered and writes each base
 * model's manifest.json (what the baseline was made for; evaluation/baseline.ts), last, so a
 * manifest only ever names a complete baseline.
 *
 * Input: { run, prepared: the PrepareEvaluation output of the baseline (itemsDigest, recordCount, baseModelIds) }.
 * Output: { baselines: BaselineReference[] } in the order of `prepared.baseModelIds`: what a
 * variant's run context carries as `evaluation.baseline`.
 */
import { s3Client } from '../shared/aws-clients';
import {
  BaselineReference,
  baselineManifestKey,
  baselineManifestOf,
  baselinePrefix,
  readPredictionLines,
  requireBaselineAnswers,
} from '../shared/evaluation/baseline';
import { minAnsweredShareFrom } from '../shared/evaluation/answer-coverage';
import { createLogger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { RunContext } from '../shared/run-context';
import { putJson } from '../shared/s3';

export interface RecordBaselineEvent {
  readonly run: RunContext;
  readonly prepared: { readonly itemsDigest: string; readonly recordCount: number; readonly baseModelIds: readonly string[] };
}

export interface RecordBaselineResult {
  readonly baselines: BaselineReference[];
}

const log = createLogger({ step: 'record-baseline' });

/** The entry point: recordBaseline, with its errors logged with the run id. */
export const handler = logFailures(log, runIdOf, recordBaseline);

async function recordBaseline(event: RecordBaselineEvent): Promise<RecordBaselineResult> {
  const { run, prepared } = event;
  const minAnsweredShare = minAnsweredShareFrom(process.env.MIN_ANSWERED_SHARE);
  if (!prepared?.baseModelIds?.length) throw new Error('record-baseline: the input has no prepared.baseModelIds; chain it after the baseline\'s PrepareEvaluation');
  const s3 = s3Client();
  const bucket = run.artifacts.bucket;
  const baselines: BaselineReference[] = [];
  for (const baseModelId of prepared.baseModelIds) {
    const predictionsPrefix = `${baselinePrefix(run.artifacts.prefix, baseModelId)}predictions/`;
    const lines = await readPredictionLines(s3, bucket, predictionsPrefix);
    const answered = requireBaselineAnswers(lines, prepared.recordCount, minAnsweredShare, `s3://${bucket}/${predictionsPrefix}`);
    const manifest = baselineManifestOf(run, baseModelId, { records: prepared.recordCount, itemsDigest: prepared.itemsDigest, answered });
    const key = baselineManifestKey(run.artifacts.prefix, baseModelId);
    await putJson(s3, { bucket, key }, manifest);
    baselines.push({ bucket, key, baseModelId, records: prepared.recordCount });
    log.info('baseline recorded', { runId: run.runId, baseModelId, records: prepared.recordCount, answered, manifest: `s3://${bucket}/${key}` });
  }
  return { baselines };
}
