import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { fromRoot } from '../../hypervisor/paths.ts';
import { nodeBinary } from '../../hypervisor/workload/image/runtime-files.ts';
import { runtimePackageDirs } from './runtime-packages.ts';

/**
 * The offline stand-in for the `nixpkgs` flake input: a tiny flake exposing, under the names the
 * real nixpkgs uses, only what nix/packages.nix needs (nodejs_24, runtimeShell, runCommand,
 * importNpmLock.buildNodeModules). Its builds run Debian's static busybox; Node 24 is the binary this
 * checkout already runs (the npm package `node`) and the npm dependencies are the installed ones,
 * both fetched by hash as fixed-output derivations from file:// URLs, the way nixpkgs fetches
 * sources. Generated once per input set under `cacheRoot`, keyed by the inputs' hashes.
 */
export const cacheRoot = process.env.CHOIROS_NIX_OFFLINE_CACHE ?? '/var/cache/choiros-gates/nix-offline-package-set';
export const busyboxPath = '/bin/busybox';
const busyboxApplets = ['sh', 'mkdir', 'cp', 'ln', 'chmod', 'cat', 'tar', 'rm', 'mv', 'ls', 'echo', 'test', 'true'];
/** Bump when the generated flake's shape changes, so old sets are not reused. */
const generatorVersion = '4';

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
  /** The npm packages shipped as node_modules, relative to the checkout. */
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
  // A package nested in another's folder travels with it.
  const packages = (await runtimePackageDirs()).filter((dir, _, all) => !all.some((other) => dir.startsWith(`${other}/`)));
  const lock = readFileSync(fromRoot('package-lock.json'));
  const key = sha256([generatorVersion, nodeVersion, sha256(readFileSync(busyboxPath)), sha256(lock), ...packages].join('\n')).slice(0, 16);
  // Two folders: the flake (busybox and flake.nix, copied into the store at every evaluation) and,
  // beside it, the sources its fixed-output derivations fetch by URL and hash only when something
  // must be built. A warm build that substitutes its outputs never copies the sources at all.
  const root = path.join(cacheRoot, key);
  const set = { dir: path.join(root, 'flake'), sourcesDir: path.join(root, 'sources'), nodeVersion, packages };
  if (existsSync(path.join(set.dir, 'flake.nix'))) return set;

  mkdirSync(cacheRoot, { recursive: true });
  const staging = `${root}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.join(staging, 'flake', 'busybox', 'bin'), { recursive: true });
  mkdirSync(path.join(staging, 'sources'));
  // busybox picks its applet from the name it is called by, so each applet is a symlink to it.
  copyFileSync(busyboxPath, path.join(staging, 'flake', 'busybox', 'bin', 'busybox'));
  chmodSync(path.join(staging, 'flake', 'busybox', 'bin', 'busybox'), 0o755);
  for (const applet of busyboxApplets) symlinkSync('busybox', path.join(staging, 'flake', 'busybox', 'bin', applet));
  const nodeFile = path.join(set.sourcesDir, 'node');
  copyFileSync(node, path.join(staging, 'sources', 'node'));
  const modulesTar = path.join(set.sourcesDir, 'node-modules.tar');
  await execa('tar', ['--sort=name', '--mtime=@1', '--owner=0', '--group=0', '--numeric-owner', '-cf', path.join(staging, 'sources', 'node-modules.tar'), ...packages], { cwd: fromRoot() });
  const nodeHash = await nixBase32Hash('path', path.join(staging, 'sources', 'node'));
  const modulesHash = await nixBase32Hash('file', path.join(staging, 'sources', 'node-modules.tar'));
  writeFileSync(path.join(staging, 'flake', 'flake.nix'), flakeText({ nodeVersion, nodeUrl: `file://${nodeFile}`, nodeHash, modulesUrl: `file://${modulesTar}`, modulesHash }));
  try {
    renameSync(staging, root);
  } catch (error) {
    // Another checkout generated the same set meanwhile: same inputs, same result.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(path.join(set.dir, 'flake.nix'))) throw error;
  }
  return set;
}

function flakeText(s: { nodeVersion: string; nodeUrl: string; nodeHash: string; modulesUrl: string; modulesHash: string }): string {
  return `{
  description = "Offline stand-in for nixpkgs (generated by nix/offline/package-set.ts): only what ChoirOS' packages use";

  outputs = { self }:
    let
      system = "x86_64-linux";
      busybox = builtins.path { path = ./busybox; name = "choiros-offline-busybox-static"; };
      runtimeShell = "\${busybox}/bin/sh";
      # nixpkgs' runCommand, with busybox for bash and coreutils.
      runCommand = name: env: script: derivation (env // {
        inherit name system;
        builder = runtimeShell;
        args = [ "-e" "-c" script ];
        PATH = "\${busybox}/bin";
      });
      fetchurl = args: import <nix/fetchurl.nix> args;
      nodeBinary = fetchurl { url = "${s.nodeUrl}"; sha256 = "${s.nodeHash}"; executable = true; name = "choiros-offline-node-${s.nodeVersion}-linux-x64"; };
      nodeModulesTar = fetchurl { url = "${s.modulesUrl}"; sha256 = "${s.modulesHash}"; name = "choiros-offline-node-modules.tar"; };
      nodejs_24 = runCommand "nodejs-${s.nodeVersion}" { } ''
        mkdir -p $out/bin
        cp \${nodeBinary} $out/bin/node
        chmod 555 $out/bin/node
      '';
      # nixpkgs' importNpmLock.buildNodeModules gives $out/node_modules installed from the lock file;
      # here the installed runtime packages, by hash.
      buildNodeModules = { npmRoot, nodejs }: runCommand "choiros-node-modules" { } ''
        mkdir -p $out
        tar -xf \${nodeModulesTar} -C $out
      '';
    in
    {
      legacyPackages.\${system} = {
        inherit nodejs_24 runtimeShell runCommand;
        importNpmLock = { inherit buildNodeModules; };
      };
    };
}
`;
}
