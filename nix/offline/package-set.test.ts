import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromRoot, repoRoot } from '../../hypervisor/paths.ts';
import { buildFlakeOutput, onDisk } from '../build.ts';
import { runNix } from '../nix-cli.ts';
import { lockPackages, type PackageLock } from './lock-closure.ts';
import { offlinePackageSet } from './package-set.ts';

/** `location -> version` of every package folder npm left under `nodeModules` (nested ones included). */
function installedPackages(nodeModules: string, location = 'node_modules', found = new Map<string, string>()): Map<string, string> {
  if (!existsSync(nodeModules)) return found;
  for (const name of readdirSync(nodeModules)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      for (const scoped of readdirSync(path.join(nodeModules, name))) visit(path.join(nodeModules, name, scoped), `${location}/${name}/${scoped}`, found);
    } else visit(path.join(nodeModules, name), `${location}/${name}`, found);
  }
  return found;
}

function visit(dir: string, location: string, found: Map<string, string>): void {
  found.set(location, (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version);
  installedPackages(path.join(dir, 'node_modules'), `${location}/node_modules`, found);
}

describe('the offline stand-in for importNpmLock.buildNodeModules, built with the real nix CLI', { timeout: 300_000 }, () => {
  const scratch: string[] = [];
  afterEach(() => {
    for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("installs with npm exactly the lock's packages the set names, at the lock's versions, and keeps no tarball in the closure", async () => {
    const set = await offlinePackageSet();
    const lock = lockPackages(JSON.parse(readFileSync(fromRoot('package-lock.json'), 'utf8')) as PackageLock);
    const built = await buildFlakeOutput('hypervisor', { packageSet: 'offline' });
    const app = /\/nix\/store\/[^/\s]+-choiros-app-[^/\s]+/.exec(readFileSync(onDisk(built, 'bin', 'choiros-hypervisor'), 'utf8'))?.[0];
    expect(app, 'bin/choiros-hypervisor names the app it runs').toBeDefined();
    const installed = installedPackages(path.join(app ?? '', 'lib', 'choiros', 'node_modules'));
    expect(new Map([...installed].sort())).toEqual(new Map(set.packages.map((location) => [location, lock[location]?.version])));
    // npm's own trace of the install: bin links it made (pino's), which no copied tree had.
    expect(existsSync(path.join(app ?? '', 'lib', 'choiros', 'node_modules', '.bin', 'pino'))).toBe(true);
    // The image builder is not in the package, so neither is what only it loads (runtime-packages.ts).
    expect([...installed.keys()].filter((location) => location.includes('esbuild'))).toEqual([]);
    const closure = await runNix(['path-info', '--recursive', built.storePath]);
    expect(closure.exitCode, closure.stderr).toBe(0);
    expect(closure.stdout).not.toMatch(/\.tgz$/m);
  });

  it('refuses a tarball that is not the one the lock pins, naming it (hash mismatch), in an empty store', async () => {
    const set = await offlinePackageSet();
    const copy = mkdtempSync(path.join(tmpdir(), 'offline-set-tampered-'));
    scratch.push(copy);
    cpSync(path.dirname(set.dir), copy, { recursive: true, verbatimSymlinks: true });
    const flakeFile = path.join(copy, 'flake', 'flake.nix');
    const file = /"node_modules\/ws" = "([^"]+)";/.exec(readFileSync(flakeFile, 'utf8'))?.[1];
    expect(file, 'the set pins node_modules/ws').toBeDefined();
    writeFileSync(flakeFile, readFileSync(flakeFile, 'utf8').replaceAll(set.sourcesDir, path.join(copy, 'sources')));
    // Another package's tarball under ws's name: a real tarball, just not the locked one.
    cpSync(path.join(copy, 'sources', 'npm', readdirSync(path.join(copy, 'sources', 'npm')).find((f) => f.startsWith('yoctocolors-')) ?? ''), path.join(copy, 'sources', 'npm', file ?? ''));
    const store = path.join(copy, 'store');
    const attempt = await runNix([
      'build', '--json', '--no-link', `git+file://${repoRoot}?dir=hypervisor`, '--store', store, '--no-write-lock-file',
      '--override-input', 'nixpkgs', `path:${path.join(copy, 'flake')}`, '--option', 'extra-sandbox-paths', path.join(copy, 'sources'), '--option', 'substituters', '',
    ]);
    expect(attempt.exitCode).not.toBe(0);
    expect(attempt.stderr).toMatch(new RegExp(`hash mismatch in fixed-output derivation '[^']*-${(file ?? '').replaceAll('.', '\\.')}\\.drv'`));
  });
});
