/**
 * What `cdk synth` shows the user, through the app entry cdk.json runs (bin/synth.ts, spawned as
 * the CDK CLI spawns it: context in CDK_CONTEXT_JSON, output folder in CDK_OUTDIR): a wrong
 * cdk.json lists every problem of every environment at once, without a stack trace; a
 * synthesis from a cold bundle cache prints nothing (a quiet synth stays quiet).
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '../..');
let scratch: string;
beforeAll(() => (scratch = mkdtempSync(path.join(tmpdir(), 'synth-output-'))));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** cdk.json's app command, run as the CDK CLI runs it (through a shell, in the repository). */
const APP_COMMAND = (JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { app: string }).app;

function synth(context: unknown, env: Record<string, string> = {}) {
  return spawnSync(APP_COMMAND, {
    shell: true,
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: mkdtempSync(path.join(scratch, 'out-')), ...env },
    timeout: 110_000,
  });
}

test('a wrong cdk.json: every problem of every environment in one go, exit 1, no stack trace', () => {
  const result = synth({
    'llama-finetune:environments': {
      dev: { account: '1234', regoin: 'us-west-2', defaultModel: 'llama3.1-8b', notificationEmails: 'ml@example.com' },
      prod: { logRetentionDays: 42, kmsEncryption: 'yes', defaultHyperParameters: { epochCount: 99 }, evaluation: { qualityGate: { minF1: 'high' } } },
    },
  });
  expect(result.status).toBe(1);
  expect(result.stdout).toBe('');
  const where = 'cdk.json llama-finetune:environments';
  expect(result.stderr).toContain('cdk.json has 8 problems');
  for (const expected of [
    `${where}.dev.regoin': is not a known setting`,
    `${where}.dev.account': '1234' is not a 12-digit account id`,
    `${where}.dev.defaultModel': "llama3.1-8b" is not a Llama 3.2 model`,
    `${where}.dev.notificationEmails': is not a list`,
    `${where}.prod.logRetentionDays': 42 is not a CloudWatch Logs retention`,
    `${where}.prod.kmsEncryption': "yes" is not true or false`,
    `${where}.prod.defaultHyperParameters': Invalid hyperparameters`,
    `${where}.prod.evaluation.qualityGate.minF1': high is not a number`,
  ]) {
    expect(result.stderr).toContain(expected);
  }
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/Error:/);
});

test('problems the constructs find are listed per environment, also without a stack trace', () => {
  const result = synth({
    'llama-finetune:environments': {
      dev: { executionTimeoutHours: 8, quotaWaitHours: 1, jobWatchErrorBudgetHours: 9 },
      prod: { executionTimeoutHours: 8, quotaWaitHours: 1, jobWatchErrorBudgetHours: 10 },
    },
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(/environment dev: .*jobWatchErrorBudget/);
  expect(result.stderr).toMatch(/environment prod: .*jobWatchErrorBudget/);
  expect(result.stderr).not.toMatch(/^\s+at /m);
});

test('a synthesis that bundles the handlers afresh prints nothing', () => {
  const context = (JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: object }).context;
  const result = synth(context, { LLAMA_FINETUNE_HANDLER_BUNDLE_CACHE: path.join(scratch, 'cold-cache') });
  expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
});
