import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../../hypervisor/paths.ts';
import { nodeBinary, sharedLibraries } from '../../hypervisor/workload/image/runtime-files.ts';
import { bundledNpmVersion, nodeChangelog } from './bundled-npm.ts';
import { flakeText, type FlakeInputs } from './flake-text.ts';
import { lockClosure, LockFileError, lockPackages, packageName, type PackageLock } from './lock-closure.ts';
import { packTarballs, sha512Of } from './npm-tarballs.ts';
import { runtimePackageDirs } from './runtime-packages.ts';

/**
 * The offline stand-in for the `nixpkgs` flake input: a tiny flake exposing, under the names the
 * real nixpkgs uses, only what nix/packages.nix needs (nodejs_24, runtimeShell, runCommand,
 * importNpmLock.buildNodeModules). Its builds run Debian's static busybox; Node 24 is the binary this
 * checkout already runs (the npm package `node`); the npm dependencies are installed inside the
 * build by `npm ci --offline` (the npm Node bundles) from each locked package's registry tarball.
 * Every one of those is a fixed-output derivation fetched by hash from a file:// URL, the way
 * nixpkgs fetches sources: the tarballs by the lock's own sha512 integrity. The generation step
 * copies them from the npm cache or the registry (npm pack). Generated once per input set under
 * `cacheRoot`, keyed by the inputs' hashes.
 */
export const cacheRoot = process.env.CHOIROS_NIX_OFFLINE_CACHE ?? '/var/cache/choiros-gates/nix-offline-package-set';
export const busyboxPath = '/bin/busybox';
const busyboxApplets = ['sh', 'mkdir', 'cp', 'ln', 'chmod', 'cat', 'tar', 'gzip', 'rm', 'mv', 'ls', 'echo', 'test', 'true'];
/** Bump when the generated flake's shape changes, so old sets are not reused. */
const generatorVersion = '5-npm-ci';
const generatorFiles = ['./package-set.ts', './flake-text.ts'];

export class MissingToolError extends Error {
  constructor(what: string, fix: string) {
    super(`${what} is missing: ${fix}`);
    this.name = 'MissingToolError';
  }
}

export interface OfflinePackageSet {
  /** The flake directory: pass `--override-input nixpkgs path:<dir>`. */
  dir: string;
  /** The files its fetchurl derivations download by file:// URL (a chroot build binds it in). */
  sourcesDir: string;
  nodeVersion: string;
  /** The locked npm packages npm installs into node_modules, as lock locations (`node_modules/a/node_modules/b`). */
  packages: string[];
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `file`: a flat file's hash; `path`: the hash of its NAR, which fetchurl's `executable = true` checks. */
async function nixBase32Hash(mode: 'file' | 'path', file: string): Promise<string> {
  const { stdout } = await execa('nix', ['--extra-experimental-features', 'nix-command', 'hash', mode, '--type', 'sha256', '--base32', file]);
  return stdout.trim();
}

/** Returns the offline package set for this checkout, generating it if its inputs changed. */
export async function offlinePackageSet(): Promise<OfflinePackageSet> {
  if (!existsSync(busyboxPath)) throw new MissingToolError(busyboxPath, 'the offline Nix package set builds with Debian\'s static busybox: apt-get install -y busybox-static (scripts/setup.sh installs it).');
  const node = nodeBinary();
  const { stdout: nodeVersionOut } = await execa(node, ['--version']);
  const nodeVersion = nodeVersionOut.trim().replace(/^v/, '');
  const lockText = readFileSync(fromRoot('package-lock.json'));
  const lock = JSON.parse(lockText.toString('utf8')) as PackageLock;
  const { install: packages, otherPlatforms } = lockClosure(lock, await runtimePackageDirs());
  // The generator's own text is an input too: an edited flake template must not reuse an old set.
  const generator = generatorFiles.map((file) => sha256(readFileSync(new URL(file, import.meta.url))));
  const key = sha256([generatorVersion, ...generator, nodeVersion, sha256(readFileSync(busyboxPath)), sha256(lockText), ...packages, ...otherPlatforms].join('\n')).slice(0, 16);
  // Two folders: the flake (busybox and flake.nix, copied into the store at every evaluation) and,
  // beside it, the sources its fixed-output derivations fetch by URL and hash only when something
  // must be built. A warm build that substitutes its outputs never copies the sources at all.
  const root = path.join(cacheRoot, key);
  const set = { dir: path.join(root, 'flake'), sourcesDir: path.join(root, 'sources'), nodeVersion, packages };
  if (existsSync(path.join(set.dir, 'flake.nix'))) return set;

  mkdirSync(cacheRoot, { recursive: true });
  const staging = `${root}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  try {
    mkdirSync(path.join(staging, 'flake', 'busybox', 'bin'), { recursive: true });
    mkdirSync(path.join(staging, 'sources', 'npm'), { recursive: true });
    // busybox picks its applet from the name it is called by, so each applet is a symlink to it.
    copyFileSync(busyboxPath, path.join(staging, 'flake', 'busybox', 'bin', 'busybox'));
    chmodSync(path.join(staging, 'flake', 'busybox', 'bin', 'busybox'), 0o755);
    for (const applet of busyboxApplets) symlinkSync('busybox', path.join(staging, 'flake', 'busybox', 'bin', applet));
    copyFileSync(node, path.join(staging, 'sources', 'node'));
    const loader = await packNodeLibraries(node, path.join(staging, 'sources', 'node-libraries.tar'));
    const npm = await lockedTarballs(lock, packages, bundledNpmVersion(nodeChangelog(fromRoot()), nodeVersion), path.join(staging, 'sources', 'npm'));
    const nodeHash = await nixBase32Hash('path', path.join(staging, 'sources', 'node'));
    const librariesHash = await nixBase32Hash('file', path.join(staging, 'sources', 'node-libraries.tar'));
    writeFileSync(path.join(staging, 'flake', 'flake.nix'), flakeText({ nodeVersion, sourcesDir: set.sourcesDir, nodeHash, librariesHash, loader, otherPlatforms, ...npm }));
  } catch (error) {
    // A failed generation (registry unreachable, a tarball the lock does not pin) leaves nothing half-made.
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  try {
    renameSync(staging, root);
  } catch (error) {
    // Another checkout generated the same set meanwhile: same inputs, same result.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(set.dir, 'flake.nix'))) throw error;
  }
  return set;
}

/**
 * Copies the tarballs of the locked packages at `locations` and of npm `npmVersion` into
 * `destination`; returns what the flake pins: npm's tarball, and each location's file.
 */
async function lockedTarballs(lock: PackageLock, locations: readonly string[], npmVersion: string, destination: string): Promise<Pick<FlakeInputs, 'npm' | 'tarballs'>> {
  const entries = lockPackages(lock);
  const specOf = new Map<string, string>();
  const expected = new Map<string, string>();
  for (const location of locations) {
    const entry = entries[location];
    const integrity = entry?.integrity && sha512Of(entry.integrity);
    if (!entry?.version || !integrity) throw new LockFileError(`${location} has no version or sha512 integrity to fetch it by; run npm install to refresh the lock.`);
    const spec = `${packageName(location, entry)}@${entry.version}`;
    specOf.set(location, spec);
    expected.set(spec, integrity);
  }
  const npmSpec = `npm@${npmVersion}`;
  const packed = await packTarballs([npmSpec, ...specOf.values()], destination, expected);
  const fileOf = new Map(packed.map((p) => [p.spec, p]));
  const npm = fileOf.get(npmSpec);
  if (!npm) throw new Error(`npm pack gave no tarball for ${npmSpec}`);
  return {
    npm: { version: npmVersion, file: npm.file, integrity: npm.integrity },
    tarballs: new Map(locations.map((location) => [location, fileOf.get(specOf.get(location) ?? '')?.file ?? ''])),
  };
}

/** Tars node's shared libraries and loader (as ldd finds them here) flat into `tarFile`; returns the loader's name. */
async function packNodeLibraries(node: string, tarFile: string): Promise<string> {
  const folder = `${tarFile}.d`;
  mkdirSync(folder);
  let loader = '';
  for (const library of await sharedLibraries(node)) {
    const name = path.basename(library.imagePath);
    copyFileSync(library.hostPath, path.join(folder, name));
    chmodSync(path.join(folder, name), 0o755);
    if (name.startsWith('ld-linux')) loader = name;
  }
  await execa('tar', ['--sort=name', '--mtime=@1', '--owner=0', '--group=0', '--numeric-owner', '-cf', tarFile, '.'], { cwd: folder });
  rmSync(folder, { recursive: true });
  return loader;
}
