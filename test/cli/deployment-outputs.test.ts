import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { parseArgs, UsageError } from '../../cli/command-args';
import { DEPLOYMENT_OPTION_NAMES, deploymentSettings } from '../../cli/deployment';
import { settingsFromOutputs } from '../../cli/deployment-outputs';

const STACK = {
  DatasetBucketName: 'ds-bucket',
  ArtifactsBucketName: 'art-bucket',
  RequestPrefix: 'requests/',
  RunsPrefix: 'runs/',
  DataPrefix: 'datasets/',
  StateMachineArn: 'arn:aws:states:us-west-2:111122223333:stateMachine:x',
};

function usageMessage(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('settingsFromOutputs', () => {
  test('one stack: its outputs give the buckets and prefixes', () => {
    expect(settingsFromOutputs(JSON.stringify({ Only: STACK }), 'o.json')).toEqual({
      datasetBucket: 'ds-bucket', artifactsBucket: 'art-bucket', requestPrefix: 'requests/', runsPrefix: 'runs/', dataPrefix: 'datasets/',
    });
  });

  test('a keyPrefix\'d construct is read with --key-prefix', () => {
    const prefixed = Object.fromEntries(Object.entries(STACK).map(([k, v]) => [`TeamA${k}`, `a-${v}`]));
    expect(settingsFromOutputs(JSON.stringify({ S: { ...STACK, ...prefixed } }), 'o.json', { keyPrefix: 'TeamA' }).datasetBucket).toBe('a-ds-bucket');
  });

  test('several stacks need --stack (listing them); a stack not there lists the ones there', () => {
    const text = JSON.stringify({ First: STACK, Second: { ...STACK, DatasetBucketName: 'second' } });
    expect(usageMessage(() => settingsFromOutputs(text, 'o.json'))).toBe('--outputs o.json: holds several stacks (First, Second); pick one with --stack <name>.');
    expect(settingsFromOutputs(text, 'o.json', { stack: 'Second' }).datasetBucket).toBe('second');
    expect(usageMessage(() => settingsFromOutputs(text, 'o.json', { stack: 'Third' }))).toBe('--outputs o.json: no stack \'Third\'; the file holds First, Second.');
  });

  test('not JSON, not that shape, or no stack: each says what the file should be', () => {
    expect(usageMessage(() => settingsFromOutputs('{', 'o.json'))).toMatch(/^--outputs o.json: not JSON .*cdk deploy --outputs-file/);
    expect(usageMessage(() => settingsFromOutputs('[1]', 'o.json'))).toMatch(/^--outputs o.json: not the outputs of stacks; expected .*\{ "<stack name>": \{ "<output key>": "<value>" \} \}/);
    expect(usageMessage(() => settingsFromOutputs('{"S": "x"}', 'o.json'))).toMatch(/not the outputs of stacks/);
    expect(usageMessage(() => settingsFromOutputs('{}', 'o.json'))).toMatch(/holds no stack/);
  });

  test('missing outputs are named, with addOutputs and --key-prefix as the fix; outputs given otherwise are not required', () => {
    const text = JSON.stringify({ S: { DatasetBucketName: 'd', RequestPrefix: 'requests/' } });
    expect(usageMessage(() => settingsFromOutputs(text, 'o.json'))).toBe(
      '--outputs o.json: stack S has no output ArtifactsBucketName, RunsPrefix. LlamaFinetuning.addOutputs() publishes them (with addOutputs({ keyPrefix }), pass that --key-prefix); or give the bucket and prefix options.');
    expect(usageMessage(() => settingsFromOutputs(JSON.stringify({ S: STACK }), 'o.json', { keyPrefix: 'TeamA' }))).toMatch(/has no output TeamADatasetBucketName, TeamAArtifactsBucketName, TeamARequestPrefix, TeamARunsPrefix/);
    expect(settingsFromOutputs(text, 'o.json', { given: new Set(['artifactsBucket', 'runsPrefix'] as const) })).toEqual({ datasetBucket: 'd', requestPrefix: 'requests/' });
  });
});

describe('deploymentSettings with --outputs', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'outputs-'));
    file = path.join(dir, 'cdk-outputs.json');
    writeFileSync(file, JSON.stringify({ S: STACK }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const args = (...argv: string[]) => parseArgs(argv, { values: DEPLOYMENT_OPTION_NAMES, flags: [] });

  test('the file alone, or from LLAMA_FINETUNE_OUTPUTS, gives every setting', () => {
    const expected = { datasetBucket: 'ds-bucket', artifactsBucket: 'art-bucket', requestPrefix: 'requests/', runsPrefix: 'runs/', dataPrefix: 'datasets/', region: undefined };
    expect(deploymentSettings(args('--outputs', file), {})).toEqual(expected);
    expect(deploymentSettings(args(), { LLAMA_FINETUNE_OUTPUTS: file })).toEqual(expected);
  });

  test('options and variables override the file', () => {
    const settings = deploymentSettings(args('--outputs', file, '--dataset-bucket', 'mine', '--runs-prefix', 'other'), { LLAMA_FINETUNE_ARTIFACTS_BUCKET: 'env-art' });
    expect(settings).toMatchObject({ datasetBucket: 'mine', artifactsBucket: 'env-art', runsPrefix: 'other/', requestPrefix: 'requests/' });
  });

  test('a missing file says how to write it; --stack without --outputs says to give the file', () => {
    expect(usageMessage(() => deploymentSettings(args('--outputs', path.join(dir, 'nope.json')), {}))).toBe(
      `--outputs ${path.join(dir, 'nope.json')}: no such file. Write it with 'cdk deploy --outputs-file ${path.join(dir, 'nope.json')}'.`);
    expect(usageMessage(() => deploymentSettings(args('--stack', 'S'), {}))).toMatch(/^--stack and --key-prefix pick outputs from an outputs file: give it with --outputs <file>/);
  });
});
