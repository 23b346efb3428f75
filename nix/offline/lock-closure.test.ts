import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fromRoot } from '../../hypervisor/paths.ts';
import { lockClosure, LockFileError, type PackageLock } from './lock-closure.ts';

const linux = { os: 'linux', cpu: 'x64', libc: 'glibc' };

/** A lock shaped like npm's: `a` needs `b` (a nested copy) and `c`; `c` has per-platform optional binaries. */
const lock: PackageLock = {
  lockfileVersion: 3,
  packages: {
    '': { dependencies: { a: '^1.0.0' } },
    'node_modules/a': { version: '1.0.0', dependencies: { b: '^2.0.0', c: '^1.0.0' }, peerDependencies: { d: '*', e: '*' }, peerDependenciesMeta: { e: { optional: true } } },
    'node_modules/a/node_modules/b': { version: '2.0.0' },
    'node_modules/b': { version: '1.0.0' },
    'node_modules/c': { version: '1.0.0', optionalDependencies: { 'c-linux-x64': '1.0.0', 'c-darwin-arm64': '1.0.0', 'c-gone': '1.0.0' } },
    'node_modules/c-linux-x64': { version: '1.0.0', os: ['linux'], cpu: ['x64'] },
    'node_modules/c-darwin-arm64': { version: '1.0.0', os: ['darwin'], cpu: ['arm64'] },
    'node_modules/d': { version: '1.0.0' },
    'node_modules/e': { version: '1.0.0' },
  },
};

describe('the lock entries npm ci needs for the runtime packages', () => {
  it('follow each dependency to where Node resolves it (the nested copy first), non-optional peers included, optional peers not', () => {
    expect(lockClosure(lock, ['node_modules/a'], linux).install).toEqual(['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/c', 'node_modules/c-linux-x64', 'node_modules/d']);
  });

  it("keep an optional package for another platform in the lock without installing it, and this platform's one installed", () => {
    const closure = lockClosure(lock, ['node_modules/c'], linux);
    expect(closure.install).toEqual(['node_modules/c', 'node_modules/c-linux-x64']);
    expect(closure.otherPlatforms).toEqual(['node_modules/c-darwin-arm64']);
    const mac = lockClosure(lock, ['node_modules/c'], { os: 'darwin', cpu: 'arm64', libc: '' });
    expect(mac.install).toEqual(['node_modules/c', 'node_modules/c-darwin-arm64']);
    expect(mac.otherPlatforms).toEqual(['node_modules/c-linux-x64']);
  });

  it('refuse a location the lock does not hold, naming it and the fix', () => {
    expect(() => lockClosure(lock, ['node_modules/zz'], linux)).toThrow(LockFileError);
    expect(() => lockClosure(lock, ['node_modules/zz'], linux)).toThrow('package-lock.json: it has no entry for node_modules/zz, which is installed here: run npm install so the lock matches node_modules.');
  });

  it('refuse a dependency missing from the lock, naming both', () => {
    const broken: PackageLock = { lockfileVersion: 3, packages: { 'node_modules/a': { version: '1.0.0', dependencies: { ghost: '1' } } } };
    expect(() => lockClosure(broken, ['node_modules/a'], linux)).toThrow('node_modules/a depends on ghost, which the lock does not hold');
  });

  it('refuse a lock npm 6 wrote, which has no packages map', () => {
    expect(() => lockClosure({ lockfileVersion: 1 }, ['node_modules/a'], linux)).toThrow(/lockfileVersion 1 has no "packages" map/);
  });

  it("include every package this checkout's hypervisor and sandbox load, from the real lock", async () => {
    const { runtimePackageDirs } = await import('./runtime-packages.ts');
    const real = JSON.parse(readFileSync(fromRoot('package-lock.json'), 'utf8')) as PackageLock;
    const runtime = await runtimePackageDirs();
    const { install } = lockClosure(real, runtime);
    for (const dir of runtime) expect(install).toContain(dir);
  });
});
