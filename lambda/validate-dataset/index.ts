/**
 * Validation step of a run: checks the training, validation and test files against Bedrock's
 * rules with the shared validation engine, writes the report next to the run's artifacts,
 * and tells the state machine whether to go on.
 *
 * Input: { run: RunContext }. Output: {@link ValidateDatasetResult}.
 * Invalid data is a normal outcome (`valid: false`, the state machine branches on it); the
 * function throws only when it cannot do its work (S3 unreachable, throttled beyond retries,
 * misconfiguration, or DataChanged: a file is no longer the version the run accepted). It
 * reads exactly the versions pinned in the run context, and when they are valid copies them
 * to `<run.artifacts.prefix>data/` (see pinned-data.ts), which training and evaluation read;
 * it writes only there and under `<run.artifacts.prefix>validation/` in the artifacts bucket.
 *
 * Environment:
 * - EXPECTED_ACCOUNT_ID (optional): account that must own image buckets (bucketOwner).
 * - IMAGE_CONCURRENCY (default 32): images read at once.
 * - MAX_LISTED_PROBLEMS (default 200): errors and warnings listed with messages.
 * - ALLOWED_IMAGE_LOCATIONS (optional): comma-separated s3://bucket[/prefix] locations the
 *   customization role may read images from; default: the whole dataset bucket.
 * - ENVIRONMENT_NAME (optional): named in budget refusals.
 * - COST_PRICES (optional): JSON {model name: ModelPrices}; dollars are estimated where set.
 * - COST_BUDGET (optional): JSON CostBudget of the environment.
 * - EVALUATION_MODE: 'per-run' (a Provisioned Throughput per run, EVALUATION_MODEL_UNITS units),
 *   'existing' (an existing one, not billed to the run) or 'off'. @default 'off'
 *
 * Valid data also gets a cost estimate (cost-estimate.ts), recorded in the run record and the
 * summary; a run over its environment's or its request's budget comes back `withinBudget: false`
 * with the refusal, and the state machine fails it before the job is created.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { findModel, LlamaHyperParameterName, LlamaModelSpec } from '../shared/models/llama-models';
import { checkExperimentBudget, describeExperimentCost, estimateExperimentCost } from '../shared/experiment-plan';
import { recommendHyperParameters } from '../shared/validation/hyperparameters';
import { BudgetSource, BudgetVerdict, CostBudget, CostEstimate, DataTokens, estimateRunCost, checkBudget, ModelPrices, renderCostEstimateLines } from '../shared/cost-estimate';
import { intEnv, jsonEnv } from '../shared/env';
import { createLogger, Logger } from '../shared/logger';
import { logFailures, runIdOf } from '../shared/log-failures';
import { copyPinnedDataFiles, currentDataFileVersions, sourceDataKeys } from '../shared/pinned-data';
import { ExperimentOfRun, distinctVariantModels } from '../shared/experiment-runs';
import { ExperimentVariantSpec, RunContext } from '../shared/run-context';
import { readRunRecord, runRecordKey, updateOwnRunRecord, withEvent } from '../shared/run-record';
import { putJson } from '../shared/s3';
import {
  createS3ClientForImageReads,
  DEFAULT_IMAGE_CONCURRENCY,
  defaultAllowedImageLocations,
  hyperParameterOverridesOf,
  DEFAULT_MAX_LISTED_PROBLEMS,
  renderSummary,
  runDatasetFiles,
  S3ImageByteSource,
  ValidationReport,
  s3DatasetSource,
  validateDataset,
} from '../shared/validation';

/** The step's input. */
export interface ValidateDatasetEvent {
  readonly run: RunContext;
}

/** The step's output. */
export interface ValidateDatasetResult {
  /** False when the data has errors: the run stops before any training is paid for. */
  readonly valid: boolean;
  readonly errorCount: number;
  readonly warningCount: number;
  /** s3:// URI of the full JSON report. */
  readonly reportUri: string;
  /** s3:// URI of the text summary. */
  readonly summaryUri: string;
  /** A short text (under 2,000 characters) fit for a notification. */
  readonly summary: string;
  /** Hyperparameters for the job: the recommendation from the data, with the run request's own values kept. */
  readonly recommendedHyperParameters: Record<LlamaHyperParameterName, number>;
  /** An experiment's variants' hyperparameters (request order): each variant's own values, else the recommendation for its model. */
  readonly variantHyperParameters?: ReadonlyArray<{ readonly name: string; readonly values: Record<LlamaHyperParameterName, number> }>;
  /** False when the cost estimate exceeds a budget: the run stops before any training is paid for. */
  readonly withinBudget: boolean;
  /** Why the run is over budget: the estimate, the budget and what to change. */
  readonly budgetRefusal?: string;
}

/** Longest summary returned (SNS and Step Functions output stay small). */
export const MAX_SUMMARY_CHARS = 1900;

/** What the handler needs from outside; tests pass their own. */
export interface ValidateDatasetDependencies {
  /** The S3 client for data, images and the report, given the image concurrency. */
  readonly s3: (imageConcurrency: number) => S3Client;
  readonly log: Logger;
}

let cachedClient: { client: S3Client; concurrency: number } | undefined;

/** An S3 client sized for the concurrency, reused across warm invocations. */
function defaultS3(concurrency: number): S3Client {
  if (!cachedClient || cachedClient.concurrency !== concurrency) {
    cachedClient?.client.destroy();
    cachedClient = { client: createS3ClientForImageReads(concurrency), concurrency };
  }
  return cachedClient.client;
}

/** Builds the handler around its dependencies. */
export function createValidateDatasetHandler(deps: Partial<ValidateDatasetDependencies> = {}): (event: ValidateDatasetEvent) => Promise<ValidateDatasetResult> {
  const log = deps.log ?? createLogger({ step: 'validate-dataset' });
  return logFailures(log, runIdOf, async (event: ValidateDatasetEvent) => {
    const env = process.env;
    const run = event?.run;
    if (!run?.data?.bucket || !run.data.trainingKey || !run.artifacts?.bucket) {
      throw new Error('The execution input has no run context ($.run with data.bucket, data.trainingKey and artifacts); the state machine must pass the read-request output');
    }
    const model = findModel(run.model?.name ?? '') ?? findModel(run.model?.baseModelIdentifier ?? '');
    if (!model) throw new Error(`The run names model '${run.model?.name}', which the model catalogue does not know`);

    const concurrency = intEnv('IMAGE_CONCURRENCY', DEFAULT_IMAGE_CONCURRENCY);
    const maxListed = intEnv('MAX_LISTED_PROBLEMS', DEFAULT_MAX_LISTED_PROBLEMS);
    const expectedAccountId = env.EXPECTED_ACCOUNT_ID || undefined;
    const allowed = (env.ALLOWED_IMAGE_LOCATIONS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const s3 = (deps.s3 ?? defaultS3)(concurrency);

    const { bucket } = run.data;
    // The versions the request was accepted with; a context without them pins what is there now.
    const versions = run.data.versions ?? (await currentDataFileVersions(s3, bucket, sourceDataKeys(run.data)));
    // The run's files at their pinned versions; each validation pass reads them afresh.
    const openFiles = () =>
      runDatasetFiles({
        training: s3DatasetSource(s3, bucket, run.data.trainingKey, versions.training),
        validation: run.data.validationKey ? s3DatasetSource(s3, bucket, run.data.validationKey, versions.validation) : undefined,
        test: run.data.testKey ? s3DatasetSource(s3, bucket, run.data.testKey, versions.test) : undefined,
      });
    const files = openFiles();

    const runLog = log.child({ runId: run.runId });
    const experiment = run.experiment?.kind === 'experiment' ? run.experiment : undefined;
    const validateFor = (spec: LlamaModelSpec, overrides: Partial<Record<LlamaHyperParameterName, number>>) => {
      runLog.info('validating dataset', { files: files.map((f) => f.source.name), model: spec.name, imageConcurrency: concurrency });
      return validateDataset({
        model: spec,
        files: spec === model ? files : openFiles(),
        imageSource: new S3ImageByteSource(s3),
        imageConcurrency: concurrency,
        allowedImageLocations: allowed.length > 0 ? allowed : defaultAllowedImageLocations(bucket),
        expectedAccountId,
        maxListedProblems: maxListed,
        hyperParameterOverrides: overrides,
      });
    };
    // An experiment's data is validated once per distinct model of its variants (the rules
    // that depend on the model: images, tokens per record), usually once.
    const reports = new Map<string, ValidationReport>();
    for (const spec of experiment ? experimentModels(experiment, model) : [model]) {
      reports.set(spec.name, await validateFor(spec, experiment ? {} : hyperParameterOverridesOf(run)));
    }
    const report = [...reports.values()].find((r) => !r.valid) ?? reports.values().next().value!;
    const invalidFor = experiment && reports.size > 1 && !report.valid ? [...reports].find(([, r]) => r === report)![0] : undefined;

    const prefix = `${run.artifacts.prefix}validation/`;
    const reportKey = `${prefix}report.json`;
    const summaryKey = `${prefix}summary.txt`;
    const reportUri = `s3://${run.artifacts.bucket}/${reportKey}`;
    const summaryUri = `s3://${run.artifacts.bucket}/${summaryKey}`;
    const variantHyperParameters = experiment && report.valid ? experiment.variants.map((v) => ({ name: v.name, values: variantRecommendation(v, reports.get(v.model)!) })) : undefined;
    const costEstimate = report.valid && !experiment ? estimateCost(run, report) : undefined;
    const experimentCost = report.valid && experiment
      ? estimateExperimentCost(experiment.variants.map((v) => ({ name: v.name, estimate: estimateCost({ ...run, model: { ...run.model, name: v.model } }, reports.get(v.model)!, variantHyperParameters!.find((h) => h.name === v.name)!.values.epochCount) })))
      : undefined;
    const verdict: BudgetVerdict = costEstimate ? checkBudget(costEstimate, budgetsOf(run)) : experimentCost ? checkExperimentBudget(experimentCost, budgetsOf(run)) : { withinBudget: true };
    const estimateLines = costEstimate ? renderCostEstimateLines(costEstimate) : experimentCost ? ['Cost estimate of the experiment:', ...describeExperimentCost(experimentCost)] : [];
    const costText = estimateLines.length > 0 ? [...estimateLines, ...(verdict.refusal ? [`OVER BUDGET: ${verdict.refusal}`] : [])].join('\n') : '';
    const modelsLine = experiment ? `Validated for ${[...reports.keys()].join(', ')}${invalidFor ? `; the problems below are for ${invalidFor}` : ''}.` : '';
    const dataSummary = renderSummary(report, { reportUri, maxChars: MAX_SUMMARY_CHARS - (costText ? costText.length + 1 : 0) - (modelsLine ? modelsLine.length + 1 : 0) });
    const summary = [modelsLine, dataSummary, costText].filter((part) => part !== '').join('\n');
    await putJson(s3, { bucket: run.artifacts.bucket, key: reportKey }, report);
    await s3.send(new PutObjectCommand({ Bucket: run.artifacts.bucket, Key: summaryKey, Body: summary, ContentType: 'text/plain; charset=utf-8' }));
    // Valid data is copied under the run before anything is paid for: Bedrock and the
    // evaluation read these copies, so a file replaced later changes nothing.
    const pinned = report.valid && verdict.withinBudget ? await copyPinnedDataFiles(s3, run, versions) : undefined;
    // The run record (when the workflow began one) keeps the verdict next to everything else.
    const recordKey = runRecordKey(run);
    if (await readRunRecord(s3, run.artifacts.bucket, recordKey)) {
      await updateOwnRunRecord(s3, run, (r) => ({
        ...withEvent(r, report.valid ? 'dataset valid' : 'dataset invalid', { errors: report.totals.errors, warnings: report.totals.warnings }),
        validation: { valid: report.valid, errorCount: report.totals.errors, warningCount: report.totals.warnings, reportUri },
        ...(pinned ? { data: pinned } : {}),
        ...(costEstimate ? { costEstimate } : {}),
        ...(experimentCost ? { experiment: { ...r.experiment, costEstimate: experimentCost } } : {}),
      }));
      if (!verdict.withinBudget) {
        const total = costEstimate ? { totalTokens: costEstimate.totalTokens, dollars: costEstimate.dollars.total } : { totalTokens: experimentCost?.totalTokens, dollars: experimentCost?.totalDollars };
        await updateOwnRunRecord(s3, run, (r) => withEvent(r, 'over budget', total));
      }
    }

    runLog.info('dataset validated', {
      valid: report.valid,
      errors: report.totals.errors,
      warnings: report.totals.warnings,
      records: report.totals.records,
      uniqueImages: report.totals.uniqueImagesChecked,
      reportUri,
      pinned: pinned && Object.values(pinned).map((f) => f!.copyUri),
    });
    return {
      valid: report.valid,
      errorCount: report.totals.errors,
      warningCount: report.totals.warnings,
      reportUri,
      summaryUri,
      summary,
      recommendedHyperParameters: { ...(variantHyperParameters?.[0]?.values ?? report.hyperParameters.values) },
      ...(variantHyperParameters ? { variantHyperParameters } : {}),
      withinBudget: verdict.withinBudget,
      ...(verdict.refusal ? { budgetRefusal: verdict.refusal } : {}),
    };
  });
}

/** Records and estimated tokens of the files of one role in the report. */
function dataTokensOf(report: ValidationReport, role: 'training' | 'validation' | 'test'): DataTokens | undefined {
  const files = report.files.filter((f) => f.role === role && f.found);
  if (files.length === 0) return undefined;
  return { records: files.reduce((n, f) => n + f.records, 0), tokens: files.reduce((n, f) => n + f.estimatedTokens, 0) };
}

/** The distinct models of an experiment's variants, in request order (the run's own model object when it is one of them). */
function experimentModels(experiment: ExperimentOfRun, fallback: LlamaModelSpec): LlamaModelSpec[] {
  return distinctVariantModels(experiment).map((name) => (name === fallback.name ? fallback : findModel(name))).filter((m): m is LlamaModelSpec => m !== undefined);
}

/** A variant's hyperparameters: its own values, else the recommendation from the data for its model. */
function variantRecommendation(variant: ExperimentVariantSpec, report: ValidationReport): Record<LlamaHyperParameterName, number> {
  const spec = findModel(variant.model)!;
  return { ...recommendHyperParameters(spec, dataTokensOf(report, 'training')?.records ?? 0, hyperParameterOverridesOf(variant)).values };
}

/** The run's cost estimate from the validation report, the job's hyperparameters and the deployment's prices. */
function estimateCost(run: RunContext, report: ValidationReport, epochCount = report.hyperParameters.values.epochCount): CostEstimate {
  const prices = jsonEnv<Record<string, ModelPrices>>('COST_PRICES', {})[run.model.name];
  const mode = process.env.EVALUATION_MODE ?? 'off';
  const test = dataTokensOf(report, 'test');
  const evaluates = mode !== 'off' && run.evaluation?.enabled !== false && test !== undefined;
  return estimateRunCost({
    model: run.model.name,
    // The epochs the job will train: the request's, else the recommendation launch-job uses.
    epochCount,
    training: dataTokensOf(report, 'training') ?? { records: 0, tokens: 0 },
    validation: dataTokensOf(report, 'validation'),
    evaluation: evaluates
      ? { test, maxRecords: run.evaluation.maxRecords, maxTokens: run.evaluation.maxTokens, ...(mode === 'per-run' ? { modelUnits: intEnv('EVALUATION_MODEL_UNITS', 1) } : {}) }
      : undefined,
    prices,
  });
}

/** The environment's budget, then the request's. */
function budgetsOf(run: RunContext): BudgetSource[] {
  const environment = process.env.ENVIRONMENT_NAME ?? 'default';
  const budgets: BudgetSource[] = [];
  const deployment = jsonEnv<CostBudget | undefined>('COST_BUDGET', undefined);
  if (deployment) {
    budgets.push({
      budget: deployment,
      where: `the environment '${environment}' (cdk.json llama-finetune:environments.${environment}.budget, or the construct prop costBudget)`,
      field: `raise budget.<limit> of the environment '${environment}' in cdk.json (a request's budget cannot raise it)`,
    });
  }
  if (run.budget) budgets.push({ budget: run.budget, where: 'the run request (budget)', field: 'raise budget.<limit> in the run request' });
  return budgets;
}

/** The Lambda entry point. */
export const handler = createValidateDatasetHandler();
