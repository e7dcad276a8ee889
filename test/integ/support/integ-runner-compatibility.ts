/**
 * Whether the installed integ-runner can read what the installed aws-cdk-lib synthesizes.
 * integ-runner bundles its own cloud assembly schema and refuses a manifest of a newer major
 * version ("AssemblyVersionMismatch: Maximum schema version supported is 53.x.x, but found
 * 55.0.0") before it compares anything. That is why the aws-cdk-lib devDependency is pinned to
 * the peer-dependency floor: a bump past it must come with an integ-runner that reads the new
 * schema, and the snapshot test says so by name instead of failing with integ-runner's error.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Manifest } from 'aws-cdk-lib/cloud-assembly-schema';

const INTEG_RUNNER_ROOT = path.resolve(__dirname, '..', '..', '..', 'node_modules', '@aws-cdk', 'integ-runner');

/** The bundle of integ-runner's workers, which holds its copy of the schema version. */
export const INTEG_RUNNER_WORKER_BUNDLE = path.join(INTEG_RUNNER_ROOT, 'lib', 'workers', 'extract', 'index.js');

/**
 * The schema major version a bundle reads at most: the `revision` of the cloud assembly
 * schema's version.json, as esbuild inlines it. Undefined when the text has no such module.
 */
export function schemaRevisionInBundle(bundleText: string): number | undefined {
  const match = /cloud-assembly-schema\/schema\/version\.json[\s\S]{0,600}?revision:\s*(\d+)/.exec(bundleText);
  return match ? Number(match[1]) : undefined;
}

/** What the installed packages say. */
export interface SchemaVersions {
  /** Version of integ-runner, if installed. */
  readonly integRunner?: string;
  /** Highest schema major version integ-runner reads, if found. */
  readonly integRunnerReads?: number;
  /** Schema version aws-cdk-lib writes, e.g. 53.0.0. */
  readonly cdkLibWrites: string;
  /** The CDK CLI version aws-cdk-lib asks for, e.g. 2.1148.2, if it names one. */
  readonly cliNeeded?: string;
}

/** Reads the versions from node_modules. */
export function installedSchemaVersions(): SchemaVersions {
  const packageJson = path.join(INTEG_RUNNER_ROOT, 'package.json');
  const integRunner = fs.existsSync(packageJson) ? (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version : undefined;
  const integRunnerReads = fs.existsSync(INTEG_RUNNER_WORKER_BUNDLE) ? schemaRevisionInBundle(fs.readFileSync(INTEG_RUNNER_WORKER_BUNDLE, 'utf8')) : undefined;
  return { integRunner, integRunnerReads, cdkLibWrites: Manifest.version(), cliNeeded: Manifest.cliVersion() };
}

/**
 * Why integ-runner certainly cannot compare snapshots here, or undefined when it can (or
 * when it cannot be told, integ-runner missing included: then the comparison runs and fails
 * with integ-runner's own error).
 */
export function integRunnerIncompatibility(versions: SchemaVersions): string | undefined {
  const writes = Number(versions.cdkLibWrites.split('.')[0]);
  if (versions.integRunnerReads === undefined || versions.integRunnerReads >= writes) return undefined;
  const toolkit = versions.cliNeeded ? ` (it needs a CDK toolkit of at least ${versions.cliNeeded})` : '';
  return (
    `@aws-cdk/integ-runner ${versions.integRunner} reads cloud assemblies up to schema ${versions.integRunnerReads}.x.x, ` +
    `but aws-cdk-lib writes ${versions.cdkLibWrites}${toolkit}, so every synthesis fails with AssemblyVersionMismatch ` +
    'before any snapshot is compared. Keep the aws-cdk-lib devDependency at a version that writes a schema integ-runner ' +
    'reads (package.json pins the peer-dependency floor for this reason), or upgrade integ-runner along with it.'
  );
}
