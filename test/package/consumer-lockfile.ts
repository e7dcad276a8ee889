/**
 * A package-lock.json for the throw-away consumer app, cut from this repository's lockfile:
 * the consumer's dependencies, and everything they need, at exactly the versions (and nesting)
 * this repository installed. npm then installs the consumer from its cache alone: every locked
 * tarball is there since this repository's own install, whereas a fresh resolution of version
 * ranges could pick a release newer than anything cached and fail offline. Pure.
 */

/** One entry of a lockfile's `packages` (lockfileVersion 2 or 3). */
export interface LockedPackage {
  readonly version?: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly link?: boolean;
  readonly inBundle?: boolean;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<Record<string, { optional?: boolean }>>;
  readonly [field: string]: unknown;
}

/** The parts of a lockfile this module reads and writes. */
export interface Lockfile {
  readonly name?: string;
  readonly version?: string;
  readonly lockfileVersion: number;
  readonly requires?: boolean;
  readonly packages: Readonly<Record<string, LockedPackage>>;
}

/** Flags npm computes from the root's dependency types; in the consumer everything is a production dependency. */
const DEPENDENCY_TYPE_FLAGS = ['dev', 'optional', 'devOptional', 'peer'];

/**
 * Where Node (and npm) finds `name` when required from the package at `fromPath`
 * (`''` is the root): the nearest `node_modules/<name>` walking up. Undefined when the
 * lockfile has none.
 */
export function resolveLockedPath(packages: Lockfile['packages'], fromPath: string, name: string): string | undefined {
  let base = fromPath;
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (base === '') return undefined;
    const parent = base.lastIndexOf('/node_modules/');
    base = parent === -1 ? '' : base.slice(0, parent);
  }
}

/** The lockfile paths of `rootDependencies` and of everything they depend on, transitively. */
export function lockedClosure(lock: Lockfile, rootDependencies: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (fromPath: string, name: string, optional: boolean): void => {
    const found = resolveLockedPath(lock.packages, fromPath, name);
    if (!found) {
      if (optional) return;
      throw new Error(`package-lock.json has no '${name}' reachable from '${fromPath || 'the root'}'; run npm install in the repository so the lockfile holds what the consumer needs.`);
    }
    if (seen.has(found)) return;
    seen.add(found);
    const entry = lock.packages[found];
    if (entry.link) throw new Error(`package-lock.json links '${found}' to a folder; the consumer app can only be installed from registry packages.`);
    for (const dependency of Object.keys(entry.dependencies ?? {})) visit(found, dependency, false);
    for (const dependency of Object.keys(entry.optionalDependencies ?? {})) visit(found, dependency, true);
    for (const dependency of Object.keys(entry.peerDependencies ?? {})) visit(found, dependency, entry.peerDependenciesMeta?.[dependency]?.optional === true);
  };
  for (const name of rootDependencies) visit('', name, false);
  return [...seen].sort();
}

/**
 * The registry address of a package's tarball (`<registry>/<name>/-/<base name>-<version>.tgz`).
 * This repository's lockfile leaves `resolved` out (npm's omit-lockfile-registry-resolved), and
 * without it npm asks for the package's full metadata, which an offline install may not have.
 */
export function registryTarballUrl(registry: string, packagePath: string, version: string): string {
  const name = packagePath.slice(packagePath.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const baseName = name.slice(name.lastIndexOf('/') + 1);
  return `${registry.replace(/\/+$/, '')}/${name}/-/${baseName}-${version}.tgz`;
}

/** What the consumer app declares, and what the library tarball it installs later will need. */
export interface ConsumerLockfileOptions {
  readonly name: string;
  /** The consumer's package.json dependencies (name -> spec). */
  readonly dependencies: Readonly<Record<string, string>>;
  /**
   * Packages the library tarball depends on: locked now, so that `npm install <tarball>`
   * finds them at the repository's versions instead of resolving them anew.
   */
  readonly preinstalled: readonly string[];
  /** The registry npm uses, e.g. `https://registry.npmjs.org/`. */
  readonly registry: string;
}

/**
 * The consumer's lockfile: its root with `dependencies`, and the locked packages those and
 * `preinstalled` need, with their registry tarball addresses.
 */
export function consumerLockfile(repositoryLock: Lockfile, consumer: ConsumerLockfileOptions): Lockfile {
  if (repositoryLock.lockfileVersion < 2) throw new Error(`package-lock.json has lockfileVersion ${repositoryLock.lockfileVersion}; the consumer test needs 2 or 3 (npm 7 or newer).`);
  const packages: Record<string, LockedPackage> = {
    '': { name: consumer.name, version: '1.0.0', dependencies: { ...consumer.dependencies } },
  };
  for (const path of lockedClosure(repositoryLock, [...Object.keys(consumer.dependencies), ...consumer.preinstalled])) {
    const entry = { ...repositoryLock.packages[path] } as Record<string, unknown>;
    for (const flag of DEPENDENCY_TYPE_FLAGS) delete entry[flag];
    // Bundled packages come inside their parent's tarball.
    if (!entry.inBundle && !entry.resolved && typeof entry.version === 'string') entry.resolved = registryTarballUrl(consumer.registry, path, entry.version);
    packages[path] = entry as LockedPackage;
  }
  return { name: consumer.name, version: '1.0.0', lockfileVersion: 3, requires: true, packages };
}
