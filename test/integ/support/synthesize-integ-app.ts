/**
 * Synthesizes an integration test app the way integ-runner does for a snapshot: the app run
 * as a plain Node.js program (the CDK CLI does no more for a synth), with integ-runner's
 * placeholder variables, its recommended feature flags and its metadata switches as context,
 * into a given folder. For the jest tests that check the integ apps without integ-runner.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Folder of the integration test apps (integ-runner runs them from here). */
export const INTEG_DIRECTORY = path.resolve(__dirname, '..');

/** The variables integ-runner sets for every snapshot synthesis. */
export const SNAPSHOT_SYNTH_VARIABLES: Readonly<Record<string, string>> = {
  CDK_INTEG_ACCOUNT: '12345678',
  CDK_INTEG_REGION: 'test-region',
};

/** Feature flags integ-runner passes as context; an empty set when integ-runner is absent. */
export function integRunnerRecommendedFlags(): Record<string, unknown> {
  const file = path.resolve(__dirname, '..', '..', '..', 'node_modules', '@aws-cdk', 'integ-runner', 'lib', 'recommended-feature-flags.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
}

/** Options of {@link synthesizeIntegApp}. */
export interface IntegSynthOptions {
  /** Where the cloud assembly goes. */
  readonly outdir: string;
  /** Variables added to (or, as undefined, removed from) the app's environment. */
  readonly variables?: Readonly<Record<string, string | undefined>>;
  /** Context besides integ-runner's. */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** How the app ended. */
export interface IntegSynthResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `test/integ/<file>` like a CDK synth; CDK_* variables of the caller are not passed on. */
export function synthesizeIntegApp(file: string, options: IntegSynthOptions): IntegSynthResult {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CDK_')));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    CDK_OUTDIR: options.outdir,
    CDK_CONTEXT_JSON: JSON.stringify({
      ...integRunnerRecommendedFlags(),
      'aws:cdk:version-reporting': false,
      'aws:cdk:enable-path-metadata': false,
      'aws:cdk:enable-asset-metadata': false,
      ...options.context,
    }),
  };
  for (const [name, value] of Object.entries(options.variables ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  // TypeScript loaded as integ.config.json's app loads it (scripts/esbuild-register.js).
  const run = spawnSync(process.execPath, ['-r', path.resolve(INTEG_DIRECTORY, '..', '..', 'scripts', 'esbuild-register.js'), file], { cwd: INTEG_DIRECTORY, env, encoding: 'utf8' });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** A synthesized stack's template. */
export function readTemplate(outdir: string, stackName: string): { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] }>; [key: string]: unknown } {
  return JSON.parse(fs.readFileSync(path.join(outdir, `${stackName}.template.json`), 'utf8'));
}
