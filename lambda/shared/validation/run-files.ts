/**
 * How one run's data is validated, shared by the validate-dataset Lambda (the run context) and
 * `llama-finetune validate` (files on the command line or a run request), so both apply the
 * same cross-file rules: training + validation count toward Bedrock's 100..10,000 records,
 * duplicates are found across all three files, and the request's own hyperparameters override
 * the recommendation. Pure.
 */
import { LlamaHyperParameterName } from '../models/llama-models';
import { DatasetSource } from './dataset-source';
import { DatasetFileInput } from './engine';

/** The data files of one run; validation and test are optional. */
export interface RunDataSources {
  readonly training: DatasetSource;
  readonly validation?: DatasetSource;
  readonly test?: DatasetSource;
}

/** The files in the order and with the roles the workflow validates them: training, validation, test. */
export function runDatasetFiles(sources: RunDataSources): DatasetFileInput[] {
  const files: DatasetFileInput[] = [{ role: 'training', source: sources.training }];
  if (sources.validation) files.push({ role: 'validation', source: sources.validation });
  if (sources.test) files.push({ role: 'test', source: sources.test });
  return files;
}

/** The hyperparameter part of a run request or run context. */
export interface RequestedHyperParameters {
  readonly hyperParameters?: Readonly<Record<string, number>>;
  /** Names set explicitly (by the request or the deployment's defaults). */
  readonly hyperParametersOverridden?: readonly string[];
}

/** The values set explicitly, which win over the recommendation the data suggests. */
export function hyperParameterOverridesOf(run: RequestedHyperParameters): Partial<Record<LlamaHyperParameterName, number>> {
  return Object.fromEntries(
    (run.hyperParametersOverridden ?? []).filter((name) => run.hyperParameters?.[name] !== undefined).map((name) => [name, run.hyperParameters![name]]),
  ) as Partial<Record<LlamaHyperParameterName, number>>;
}

/** Where the customization role may read images when nothing narrower is configured: the dataset bucket. */
export function defaultAllowedImageLocations(datasetBucket: string): string[] {
  return [`s3://${datasetBucket}/`];
}
