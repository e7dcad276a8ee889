/**
 * The newest aws-cdk-lib validates each template it synthesizes against CloudFormation's
 * resource schemas and rules (`CloudFormationValidationPlugin`, on by default; a user's
 * `cdk synth` runs it). The other tests of that project switch it off for time
 * (test/support/newest-cdk-lib-setup.ts); this one runs it on every environment's stack of the
 * app and wants nothing reported. aws-cdk-lib 2.257, the floor, has no such validation: the
 * floor project leaves this file out (jest.config.js).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { buildApp } from '../../bin/app';
import { readCdkJsonContext } from '../support/cdk-json';

const project = (globalThis as { AWS_CDK_LIB_UNDER_TEST?: string }).AWS_CDK_LIB_UNDER_TEST;

/** The part of validation-report.json this test reads. */
interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly violations: ReadonlyArray<{ readonly ruleName: string; readonly description: string; readonly violatingConstructs?: ReadonlyArray<{ readonly constructPath?: string }> }>;
  }>;
}

/** The CloudFormation validation's violations in a report, one line each. */
function violationsOf(report: ValidationReport): string[] {
  return report.pluginReports
    .filter((plugin) => plugin.pluginName === 'CloudFormation Validate')
    .flatMap((plugin) => plugin.violations.map((v) => `${v.ruleName}: ${v.description} (${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(', ')})`));
}

describe("the newest aws-cdk-lib's built-in template validation", () => {
  let outdir: string;
  const saved = process.env.CDK_VALIDATION;
  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'llama-finetune-cdk-validation-'));
    delete process.env.CDK_VALIDATION;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = saved;
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  /** Synthesizes the app `build` fills, with console.error captured: the validation report if one was written, what was printed, how many stacks. */
  function synthesize(build: (app: App) => void): { report?: ValidationReport; printed: unknown[][]; stacks: number } {
    const appDir = fs.mkdtempSync(path.join(outdir, 'app-'));
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const app = new App({ outdir: appDir, context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
      build(app);
      const assembly = app.synth();
      const reportFile = path.join(appDir, 'validation-report.json');
      const report = fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as ValidationReport) : undefined;
      return { report, printed: [...errors.mock.calls], stacks: assembly.stacks.length };
    } finally {
      errors.mockRestore();
    }
  }

  test('runs against the newest aws-cdk-lib (the floor has no such validation)', () => {
    expect(project).toBe('newest');
  });

  test('reports a template CloudFormation would reject (the check can fail), and writes no report when switched off', () => {
    const broken = (app: App) => new CfnResource(new Stack(app, 'Broken'), 'Bucket', { type: 'AWS::S3::Bucket', properties: { NoSuchBucketProperty: 'x' } });
    const checked = synthesize(broken);
    expect(violationsOf(checked.report!).join('\n')).toContain('NoSuchBucketProperty');
    expect(checked.printed.length).toBeGreaterThan(0);

    process.env.CDK_VALIDATION = 'false';
    try {
      expect(synthesize(broken).report).toBeUndefined();
    } finally {
      delete process.env.CDK_VALIDATION;
    }
  });

  test("finds nothing in any environment's template of the app, and says nothing", () => {
    const synthesized = synthesize((app) => buildApp(app));
    expect(synthesized.stacks).toBeGreaterThanOrEqual(2);
    // A report is written whenever the validation runs (the test above); this one names no violation.
    expect(synthesized.report).toBeDefined();
    expect(violationsOf(synthesized.report!)).toEqual([]);
    expect(synthesized.printed).toEqual([]);
  });
});

