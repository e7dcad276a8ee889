import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { buildApp } from '../../bin/app';
import { readCdkJsonContext } from '../support/cdk-json';

/**
 * cfn-lint (when installed) finds no error in any synthesized template. Whether it is installed
 * is read from PATH: asking `cfn-lint --version` starts Python and loads its rules (about 1.8 s of
 * CPU, in each of the two projects).
 */
const CFN_LINT_FILES = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD').split(';').map((extension) => `cfn-lint${extension}`) : ['cfn-lint'];
const cfnLintInstalled = (process.env.PATH ?? '').split(path.delimiter).some((dir) =>
  CFN_LINT_FILES.some((file) => {
    try {
      fs.accessSync(path.join(dir, file), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }),
);
const describeIfLint = cfnLintInstalled ? describe : describe.skip;

describeIfLint('cfn-lint on the synthesized templates', () => {
  test('no errors in any environment\'s template', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'llama-finetune-lint-'));
    const assembly = buildApp(new App({ outdir, context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] } })).synth();
    const templates = assembly.stacks.map((s) => path.join(outdir, s.templateFile));
    expect(templates.length).toBeGreaterThanOrEqual(2);
    // Exit code bit 2 = errors; warnings (4) and informational (8) are reported but allowed.
    const run = spawnSync('cfn-lint', ['--format', 'parseable', ...templates], { encoding: 'utf-8' });
    const errors = run.stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    expect(errors).toEqual([]);
    expect(run.status! & 2).toBe(0);
    fs.rmSync(outdir, { recursive: true, force: true });
  });
});

if (!cfnLintInstalled) {
  // Say so instead of passing silently.
  test.skip('cfn-lint is not on PATH; install it (pip install cfn-lint) to lint templates', () => undefined);
}
