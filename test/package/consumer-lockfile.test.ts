import { consumerLockfile, Lockfile, lockedClosure, registryTarballUrl, resolveLockedPath } from './consumer-lockfile';

const REGISTRY = 'https://registry.example.test/';

/** A small lockfile: a library with a nested older helper, a bundled package, a scoped one and optional extras. */
const LOCK: Lockfile = {
  name: 'repository',
  lockfileVersion: 3,
  packages: {
    '': { name: 'repository', dependencies: { library: '^1.0.0' }, devDependencies: { tool: '^1.0.0' } },
    'node_modules/library': { version: '1.2.0', integrity: 'sha512-library', dev: true, dependencies: { helper: '^1.0.0', '@scope/util': '^2.0.0' }, optionalDependencies: { 'not-installed': '^1.0.0' }, peerDependencies: { peer: '^3.0.0', 'optional-peer': '^1.0.0' }, peerDependenciesMeta: { 'optional-peer': { optional: true } } },
    'node_modules/library/node_modules/helper': { version: '1.0.5', integrity: 'sha512-helper1', dev: true },
    'node_modules/helper': { version: '2.0.0', integrity: 'sha512-helper2', dev: true },
    'node_modules/@scope/util': { version: '2.1.0', integrity: 'sha512-util', devOptional: true, dependencies: { helper: '^2.0.0', bundled: '^1.0.0' } },
    'node_modules/@scope/util/node_modules/bundled': { version: '1.0.0', inBundle: true, dev: true },
    'node_modules/peer': { version: '3.0.0', integrity: 'sha512-peer', peer: true },
    'node_modules/tool': { version: '1.0.0', integrity: 'sha512-tool', dev: true },
  },
};

describe('resolveLockedPath', () => {
  it('finds the nearest node_modules walking up from the requiring package, as Node does', () => {
    expect(resolveLockedPath(LOCK.packages, 'node_modules/library', 'helper')).toBe('node_modules/library/node_modules/helper');
    expect(resolveLockedPath(LOCK.packages, 'node_modules/@scope/util', 'helper')).toBe('node_modules/helper');
    expect(resolveLockedPath(LOCK.packages, 'node_modules/@scope/util/node_modules/bundled', 'peer')).toBe('node_modules/peer');
    expect(resolveLockedPath(LOCK.packages, '', 'missing')).toBeUndefined();
  });
});

describe('lockedClosure', () => {
  it('collects everything the roots need, at the nesting the repository has, and nothing else', () => {
    expect(lockedClosure(LOCK, ['library'])).toEqual([
      'node_modules/@scope/util',
      'node_modules/@scope/util/node_modules/bundled',
      'node_modules/helper',
      'node_modules/library',
      'node_modules/library/node_modules/helper',
      'node_modules/peer',
    ]);
  });

  it('names a required package the lockfile lacks', () => {
    expect(() => lockedClosure(LOCK, ['library', 'absent'])).toThrow("package-lock.json has no 'absent' reachable from 'the root'");
  });

  it('refuses a package linked to a folder, which no cache can supply', () => {
    const linked: Lockfile = { lockfileVersion: 3, packages: { ...LOCK.packages, 'node_modules/local': { link: true, resolved: '../local' } } };
    expect(() => lockedClosure(linked, ['local'])).toThrow(/links 'node_modules\/local' to a folder/);
  });
});

describe('consumerLockfile', () => {
  const lock = consumerLockfile(LOCK, { name: 'consumer', dependencies: { peer: '3.0.0' }, preinstalled: ['library'], registry: REGISTRY });

  it('roots the consumer with its own dependencies and locks what they and the preinstalled packages need', () => {
    expect(lock.packages['']).toEqual({ name: 'consumer', version: '1.0.0', dependencies: { peer: '3.0.0' } });
    expect(Object.keys(lock.packages).filter((p) => p !== '').sort()).toEqual(lockedClosure(LOCK, ['peer', 'library']));
    expect(lock.packages['node_modules/tool']).toBeUndefined();
  });

  it('drops the repository-side dependency type flags and keeps versions and integrity', () => {
    for (const [packagePath, entry] of Object.entries(lock.packages)) {
      for (const flag of ['dev', 'optional', 'devOptional', 'peer']) expect({ packagePath, flag, present: flag in entry }).toEqual({ packagePath, flag, present: false });
    }
    expect(lock.packages['node_modules/library/node_modules/helper']).toMatchObject({ version: '1.0.5', integrity: 'sha512-helper1' });
  });

  it('gives registry packages their tarball address and leaves bundled ones to their parent', () => {
    expect(lock.packages['node_modules/library'].resolved).toBe('https://registry.example.test/library/-/library-1.2.0.tgz');
    expect(lock.packages['node_modules/@scope/util'].resolved).toBe('https://registry.example.test/@scope/util/-/util-2.1.0.tgz');
    expect(lock.packages['node_modules/library/node_modules/helper'].resolved).toBe('https://registry.example.test/helper/-/helper-1.0.5.tgz');
    expect(lock.packages['node_modules/@scope/util/node_modules/bundled'].resolved).toBeUndefined();
  });

  it('refuses a lockfile from npm 6, which has no packages section', () => {
    expect(() => consumerLockfile({ ...LOCK, lockfileVersion: 1 }, { name: 'c', dependencies: {}, preinstalled: [], registry: REGISTRY })).toThrow(/lockfileVersion 1/);
  });
});

describe('registryTarballUrl', () => {
  it('uses the base name of a scoped package and tolerates a registry without a trailing slash', () => {
    expect(registryTarballUrl('https://r.test', 'node_modules/a/node_modules/@s/pkg', '1.0.0')).toBe('https://r.test/@s/pkg/-/pkg-1.0.0.tgz');
  });
});
