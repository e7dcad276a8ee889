/**
 * Reads a deployment's settings from the file `cdk deploy --outputs-file <file>` writes:
 * `{ "<StackName>": { "<OutputKey>": "<value>", ... }, ... }`, with the output keys that
 * `LlamaFinetuning.addOutputs({ keyPrefix })` publishes (`<keyPrefix>DatasetBucketName`, ...).
 * A local file only: no CloudFormation call, so no permission beyond the run commands' own.
 */
import { readFileSync } from 'fs';
import { UsageError } from './command-args';

/** The outputs a run command reads, and the setting each gives. */
export const OUTPUT_KEYS = {
  DatasetBucketName: 'datasetBucket',
  ArtifactsBucketName: 'artifactsBucket',
  RequestPrefix: 'requestPrefix',
  RunsPrefix: 'runsPrefix',
  DataPrefix: 'dataPrefix',
} as const;

type OutputSetting = (typeof OUTPUT_KEYS)[keyof typeof OUTPUT_KEYS];

/** Always published by addOutputs (DataPrefix only when the deployment has one). */
const ALWAYS_PUBLISHED = ['DatasetBucketName', 'ArtifactsBucketName', 'RequestPrefix', 'RunsPrefix'] as const;

/** What to pick from an outputs file. */
export interface OutputsSelection {
  /** The stack to read; needed when the file holds several. */
  readonly stack?: string;
  /** The `keyPrefix` given to addOutputs. */
  readonly keyPrefix?: string;
  /** Settings given explicitly (options or variables): their outputs need not be in the file. */
  readonly given?: ReadonlySet<OutputSetting>;
}

/** Reads and parses `file`; a usage error that names the file when it cannot. */
export function readOutputsFile(file: string, selection: OutputsSelection = {}): Partial<Record<OutputSetting, string>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT'
      ? `--outputs ${file}: no such file. Write it with 'cdk deploy --outputs-file ${file}'.`
      : `--outputs ${file}: cannot read it (${code ?? (error as Error).message}).`);
  }
  return settingsFromOutputs(text, file, selection);
}

/** The settings the outputs in `text` (the content of `file`) give. */
export function settingsFromOutputs(text: string, file: string, selection: OutputsSelection = {}): Partial<Record<OutputSetting, string>> {
  const shape = `the file 'cdk deploy --outputs-file' writes: { "<stack name>": { "<output key>": "<value>" } }`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--outputs ${file}: not JSON (${(error as Error).message}); expected ${shape}.`);
  }
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(parsed) || !Object.values(parsed).every(isObject)) {
    throw new UsageError(`--outputs ${file}: not the outputs of stacks; expected ${shape}.`);
  }
  const stacks = Object.keys(parsed);
  if (stacks.length === 0) throw new UsageError(`--outputs ${file}: holds no stack; deploy with 'cdk deploy --outputs-file ${file}'.`);
  let stackName = selection.stack;
  if (stackName === undefined) {
    if (stacks.length > 1) throw new UsageError(`--outputs ${file}: holds several stacks (${stacks.join(', ')}); pick one with --stack <name>.`);
    stackName = stacks[0];
  } else if (!(stackName in parsed)) {
    throw new UsageError(`--outputs ${file}: no stack '${stackName}'; the file holds ${stacks.join(', ')}.`);
  }
  const outputs = parsed[stackName] as Record<string, unknown>;
  const keyPrefix = selection.keyPrefix ?? '';
  const settings: Partial<Record<OutputSetting, string>> = {};
  for (const [key, setting] of Object.entries(OUTPUT_KEYS) as Array<[keyof typeof OUTPUT_KEYS, OutputSetting]>) {
    const value = outputs[`${keyPrefix}${key}`];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value === '') throw new UsageError(`--outputs ${file}: ${stackName}.${keyPrefix}${key} is not a non-empty string.`);
    settings[setting] = value;
  }
  const missing = ALWAYS_PUBLISHED.filter((key) => settings[OUTPUT_KEYS[key]] === undefined && !selection.given?.has(OUTPUT_KEYS[key]));
  if (missing.length > 0) {
    throw new UsageError(`--outputs ${file}: stack ${stackName} has no output ${missing.map((key) => `${keyPrefix}${key}`).join(', ')}. `
      + `LlamaFinetuning.addOutputs() publishes them${keyPrefix ? '' : ' (with addOutputs({ keyPrefix }), pass that --key-prefix)'}; or give the bucket and prefix options.`);
  }
  return settings;
}
