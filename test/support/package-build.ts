/**
 * The package's type declarations, the very ones the package ships (the jsii compile's, which
 * `npm test` runs before jest), copied into a throw-away consumer folder, installed there under the package's name the way npm lays a
 * package out (node_modules/<name>/package.json and its `files`), next to its peer and regular
 * dependencies. A consumer file in that folder that imports the package by name resolves it
 * through package.json (`exports`, `types`) exactly as a user's app does: never to lib/*.ts.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ASSEMBLY_FILE, assertCompileCurrent } from './jsii-assembly';

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
 * Installs the declarations of the jsii compile (the .d.ts files under dist/, as `npm test` left them before
 * jest; the build ships the same) into a new consumer folder under the OS temp directory. Fails,
 * saying what to do, when the compile is older than the library's sources.
 */
export function installPackageDeclarations(prefix = 'llama-finetune-consumer-'): InstalledDeclarations {
  const built = path.join(REPOSITORY, 'dist');
  if (!fs.existsSync(path.join(built, 'lib', 'index.d.ts'))) throw new Error(`${built}/lib/index.d.ts does not exist: compile the package with \`npm run compile:jsii\` (npm test does, before jest)`);
  // jsii writes the assembly after the JavaScript and declarations: a current assembly means current declarations.
  assertCompileCurrent(ASSEMBLY_FILE);
  const consumerDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const nodeModules = path.join(consumerDir, 'node_modules');
  const packageDir = path.join(nodeModules, MANIFEST.name);
  fs.mkdirSync(packageDir, { recursive: true });
  fs.cpSync(built, path.join(packageDir, 'dist'), { recursive: true, filter: (source) => fs.statSync(source).isDirectory() || isCurrentDeclaration(built, source, REPOSITORY) });
  fs.copyFileSync(path.join(REPOSITORY, 'package.json'), path.join(packageDir, 'package.json'));
  // What npm would install beside it: the peers (aws-cdk-lib, constructs) and the dependencies.
  for (const dependency of [...Object.keys(MANIFEST.peerDependencies ?? {}), ...Object.keys(MANIFEST.dependencies ?? {})]) {
    const link = path.join(nodeModules, dependency);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(REPOSITORY, 'node_modules', dependency), link, 'dir');
  }
  return { consumerDir, packageDir, remove: () => fs.rmSync(consumerDir, { recursive: true, force: true }) };
}

/**
 * Whether `file` under the compile's output folder `built` is a declaration the package build
 * would ship: a .d.ts whose TypeScript source still exists under `sourceRoot` (dist/lib/x.d.ts
 * from lib/x.ts). The build cleans dist/ first; a developer's dist/ may still hold the
 * declaration of a source deleted since, which jsii does not remove.
 */
export function isCurrentDeclaration(built: string, file: string, sourceRoot: string): boolean {
  if (!file.endsWith('.d.ts')) return false;
  return fs.existsSync(path.join(sourceRoot, path.relative(built, file).replace(/\.d\.ts$/, '.ts')));
}
