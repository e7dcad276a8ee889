/**
 * The package's type declarations, built as the package's own build makes them (tsconfig.build.json)
 * into a throw-away consumer folder, installed there under the package's name the way npm lays a
 * package out (node_modules/<name>/package.json and its `files`), next to its peer and regular
 * dependencies. A consumer file in that folder that imports the package by name resolves it
 * through package.json (`exports`, `types`) exactly as a user's app does: never to lib/*.ts.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const REPOSITORY = path.resolve(__dirname, '..', '..');

export interface PackageManifest {
  readonly name: string;
  readonly types?: string;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
}

export const MANIFEST = JSON.parse(fs.readFileSync(path.join(REPOSITORY, 'package.json'), 'utf8')) as PackageManifest;

export interface InstalledDeclarations {
  /** The consumer folder: put files here that import the package by name. */
  readonly consumerDir: string;
  /** node_modules/<package name> inside it. */
  readonly packageDir: string;
  /** Removes the folder. */
  remove(): void;
}

/**
 * Builds the declarations (`tsc -p tsconfig.build.json --emitDeclarationOnly`, 20-60 s) and
 * installs them into a new consumer folder under the OS temp directory.
 */
export function installPackageDeclarations(prefix = 'llama-finetune-consumer-'): InstalledDeclarations {
  const consumerDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const nodeModules = path.join(consumerDir, 'node_modules');
  const packageDir = path.join(nodeModules, MANIFEST.name);
  fs.mkdirSync(packageDir, { recursive: true });
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', path.join(packageDir, 'dist'), '--emitDeclarationOnly'], { cwd: REPOSITORY, stdio: 'pipe' });
  fs.copyFileSync(path.join(REPOSITORY, 'package.json'), path.join(packageDir, 'package.json'));
  // What npm would install beside it: the peers (aws-cdk-lib, constructs) and the dependencies.
  for (const dependency of [...Object.keys(MANIFEST.peerDependencies ?? {}), ...Object.keys(MANIFEST.dependencies ?? {})]) {
    const link = path.join(nodeModules, dependency);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(REPOSITORY, 'node_modules', dependency), link, 'dir');
  }
  return { consumerDir, packageDir, remove: () => fs.rmSync(consumerDir, { recursive: true, force: true }) };
}
