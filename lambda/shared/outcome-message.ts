/**
 * What a person and a program are told when a run ends: the SNS message (subject and text) and
 * the EventBridge event detail. Pure formatting.
 */
import { safeText } from './display-text';
import { undeletedProvisionedThroughputNotice } from './evaluation/undeleted-throughput';
import { RunOutcomeStatus, RunRecord } from './run-record';

export { EVENT_SOURCE, OUTCOME_DETAIL_TYPE } from './event-names';

/** Longest error message quoted in the SNS message (SNS takes 256 KB; a person reads far less). */
const MAX_ERROR_MESSAGE_CHARS = 32_768;

/** Everything the outcome message is made from. */
export interface OutcomeFacts {
  readonly status: RunOutcomeStatus;
  readonly runId?: string;
  readonly requestUri?: string;
  readonly model?: string;
  readonly error?: { readonly name: string; readonly message: string };
  readonly record?: RunRecord;
  readonly recordUri?: string;
  readonly environmentName: string;
}

/**
 * SNS accepts a subject only when it is shorter than 100 characters, ASCII, and free of line
 * breaks and control characters (Publish, `Subject`); anything else refuses the whole message.
 */
export const SNS_SUBJECT_MAX_LENGTH = 99;

/**
 * The SNS subject: `[<environment>] Llama fine-tuning run <run id> <outcome>`, valid for SNS
 * whatever the environment name and run id. Characters SNS refuses become `?`; when it is too
 * long, the wording shortens first, then the environment name, then the run id loses its middle
 * (its start names the run, its end is the digest that makes it unique); the outcome stays.
 */
export function outcomeSubject(facts: OutcomeFacts): string {
  const verb = { SUCCEEDED: 'succeeded', FAILED: 'failed', TIMED_OUT: 'timed out', ABORTED: 'was aborted' }[facts.status];
  const environment = subjectText(facts.environmentName);
  const runId = subjectText(facts.runId ?? '');
  const compose = (env: string, what: string, id: string) => `[${env}] ${what}${id ? ` ${id}` : ''} ${verb}`;
  const full = compose(environment, facts.record?.run?.experiment?.kind === 'experiment' ? 'Llama fine-tuning experiment' : 'Llama fine-tuning run', runId);
  if (full.length <= SNS_SUBJECT_MAX_LENGTH) return full;
  const env = shortenMiddle(environment, 24);
  const short = compose(env, 'Run', runId);
  if (short.length <= SNS_SUBJECT_MAX_LENGTH) return short;
  return compose(env, 'Run', shortenMiddle(runId, SNS_SUBJECT_MAX_LENGTH - compose(env, 'Run', '').length - 1));
}

/** Printable ASCII only, whitespace collapsed, trimmed: what SNS accepts in a subject. */
function subjectText(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim();
}

/** `text` cut to at most `max` characters by replacing its middle with `...`. */
function shortenMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 3) return text.slice(0, Math.max(0, max));
  const tail = Math.floor((max - 3) / 2);
  return `${text.slice(0, max - 3 - tail)}...${text.slice(text.length - tail)}`;
}

/** The SNS message: what happened, the figures, what to do, where to look. */
export function outcomeText(facts: OutcomeFacts): string {
  const lines: string[] = [outcomeSubject(facts), ''];
  // Values that come from the request or the data are escaped: they reach people's terminals and mail readers.
  if (facts.requestUri) lines.push(`Request: ${safeText(facts.requestUri, { maxChars: 1100 })}`);
  if (facts.model) lines.push(`Model: ${safeText(facts.model, { maxChars: 200 })}`);
  const job = facts.record?.job;
  if (job) {
    lines.push(`Job: ${job.jobArn} (${job.status})`);
    if (job.outputModelArn) lines.push(`Custom model: ${job.outputModelArn}`);
    lines.push(`Hyperparameters: ${Object.entries(job.hyperParameters).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  }
  const metrics = facts.record?.metrics;
  if (metrics?.training) {
    lines.push(`Training loss: final ${fmt(metrics.training.finalLoss)}, best ${fmt(metrics.training.bestLoss)} (step ${metrics.training.bestStep}), ${metrics.training.steps} steps`);
  }
  if (metrics?.validation) lines.push(`Validation loss: final ${fmt(metrics.validation.finalLoss)}, best ${fmt(metrics.validation.bestLoss)}`);
  const evaluation = facts.record?.evaluation;
  if (evaluation) {
    const improvement = evaluation.relativeImprovementPercent === null ? 'n/a' : `${evaluation.relativeImprovementPercent >= 0 ? '+' : ''}${evaluation.relativeImprovementPercent.toFixed(1)}%`;
    lines.push(
      '',
      `SQuAD F1 on ${evaluation.records} test records: base ${evaluation.baseF1.toFixed(1)} -> fine-tuned ${evaluation.fineTunedF1.toFixed(1)} (${improvement})`,
      `Exact match: base ${evaluation.baseExactMatch.toFixed(1)} -> fine-tuned ${evaluation.fineTunedExactMatch.toFixed(1)}`,
    );
    if (evaluation.gate.evaluated) lines.push(`Quality gate: ${evaluation.gate.passed ? 'PASSED' : 'FAILED'}${evaluation.gate.reasons.length ? ` (${evaluation.gate.reasons.join('; ')})` : ''}`);
    lines.push(`Report: ${evaluation.reportHtmlUri}`);
  }
  const promotion = facts.record?.promotion;
  if (promotion) {
    lines.push(promotion.promoted ? `Promoted: the current model of ${promotion.parameterName}` : `Not promoted: ${promotion.explanation}`);
    const serving = promotion.serving;
    if (serving) {
      lines.push(
        serving.status === 'InService'
          ? `Serving: ${serving.provisionedModelArn} now serves this model`
          : serving.status === 'Updating'
            ? `Serving: ${serving.provisionedModelArn} is updating to this model`
            : `Serving swap ${serving.status === 'SwapRefused' ? 'refused' : 'FAILED'}: ${serving.error ?? ''} ${serving.provisionedModelArn} keeps serving ${serving.servingModelArn ?? 'its previous model'}`.trim(),
      );
    }
  }
  const experiment = facts.record?.experiment;
  if (experiment?.variants) {
    const count = (status: string) => experiment.variants!.filter((v) => v.status === status).length;
    lines.push('', `Experiment: ${experiment.variants.length} variants, ${count('SUCCEEDED')} succeeded, ${experiment.variants.length - count('SUCCEEDED')} did not`);
    if (experiment.best) lines.push(`Best variant: ${safeText(experiment.best.name, { maxChars: 40 })} (run ${experiment.best.runId})`);
    if (experiment.summary) lines.push(safeText(experiment.summary, { keepLineBreaks: true, maxChars: 1000 }));
    if (experiment.bestPromotion) lines.push(`Promotion of the best variant: ${experiment.bestPromotion.status ?? 'not run'}${experiment.bestPromotion.error ? ` (${safeText(experiment.bestPromotion.error, { maxChars: 200 })})` : ''}; its run record has the decision`);
    if (experiment.leaderboard) lines.push(`Leaderboard: ${experiment.leaderboard.htmlUri}`);
  }
  const pt = facts.record?.provisionedThroughput;
  if (pt?.hours !== undefined) lines.push(`Provisioned Throughput: ${pt.modelUnits} model unit(s) for ${pt.hours.toFixed(2)} h, deleted`);
  // A cleanup problem the run survived: told plainly, since it bills until someone deletes it.
  const undeleted = undeletedProvisionedThroughputNotice(pt);
  if (undeleted) lines.push('', `ACTION NEEDED: ${safeText(undeleted, { maxChars: 2000 })}`);
  if (facts.error) {
    lines.push('', `Error: ${safeText(facts.error.name, { maxChars: 200 })}`, safeText(facts.error.message, { keepLineBreaks: true, maxChars: MAX_ERROR_MESSAGE_CHARS }));
  }
  if (facts.recordUri) lines.push('', `Run record: ${facts.recordUri}`);
  return lines.join('\n');
}

/** The EventBridge detail: small, stable field names a rule can match on. */
export function outcomeDetail(facts: OutcomeFacts): Record<string, unknown> {
  return {
    runId: facts.runId,
    environment: facts.environmentName,
    outcome: facts.status,
    request: facts.requestUri,
    model: facts.model,
    jobArn: facts.record?.job?.jobArn,
    customModelArn: facts.record?.job?.outputModelArn,
    finalTrainingLoss: facts.record?.metrics?.training?.finalLoss,
    finalValidationLoss: facts.record?.metrics?.validation?.finalLoss,
    baseF1: facts.record?.evaluation?.baseF1,
    fineTunedF1: facts.record?.evaluation?.fineTunedF1,
    relativeImprovementPercent: facts.record?.evaluation?.relativeImprovementPercent,
    qualityGate: facts.record?.evaluation ? (facts.record.evaluation.gate.evaluated ? (facts.record.evaluation.gate.passed ? 'PASSED' : 'FAILED') : 'NOT_SET') : 'NOT_EVALUATED',
    report: facts.record?.evaluation?.reportHtmlUri,
    promotion: facts.record?.promotion ? (facts.record.promotion.promoted ? 'PROMOTED' : facts.record.promotion.reason) : undefined,
    servingSwap: facts.record?.promotion?.serving?.status,
    ...(facts.record?.experiment?.variants
      ? {
          experiment: {
            variants: facts.record.experiment.variants.length,
            succeeded: facts.record.experiment.variants.filter((v) => v.status === 'SUCCEEDED').length,
            bestVariant: facts.record.experiment.best?.name,
            bestRunId: facts.record.experiment.best?.runId,
            leaderboard: facts.record.experiment.leaderboard?.jsonUri,
          },
        }
      : {}),
    undeletedProvisionedThroughput: undeletedProvisionedThroughputNotice(facts.record?.provisionedThroughput) ? facts.record?.provisionedThroughput?.arn : undefined,
    error: facts.error?.name,
    errorMessage: facts.error ? safeText(facts.error.message, { keepLineBreaks: true, maxChars: 1000 }) : undefined,
    runRecord: facts.recordUri,
  };
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(4);
}
