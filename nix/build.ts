import { lookup } from 'node:dns/promises';
import path from 'node:path';
import { repoRoot } from '../hypervisor/paths.ts';
import { runNix } from './nix-cli.ts';
import { offlinePackageSet } from './offline/package-set.ts';
import { flakeDirs, type FlakeOutput } from './outputs.ts';

export { flakeOutputs, flakeDirs, type FlakeOutput } from './outputs.ts';

/** Where `nixpkgs` comes from: the real flake input, or the offline stand-in (the one switch). */
export type PackageSetChoice = 'nixpkgs' | 'offline';

export interface BuildOptions {
  /** Binary caches to substitute from; none means an offline build that asks no cache at all. */
  substituters?: readonly string[];
  trustedPublicKeys?: readonly string[];
  /** Default: CHOIROS_NIXPKGS (nixpkgs|offline), else offline when github.com cannot be resolved or Nix is older than 2.18. */
  packageSet?: PackageSetChoice;
  /** The checkout to build (default: this one). */
  checkout?: string;
  /**
   * A separate Nix store rooted at this directory (`--store <dir>`), empty at first: a build from
   * nothing, or from a cache alone, that never touches this machine's /nix store.
   */
  store?: string;
}

export interface FlakeBuild {
  output: FlakeOutput;
  flakeRef: string;
  storePath: string;
  /** Nix's own transcript (stderr): `building '…drv'` per build, `copying path '…' from '…'` per substitution. */
  log: string;
  durationMs: number;
  packageSet: PackageSetChoice;
  command: string[];
  /** The separate store it was built in (BuildOptions.store), if any. */
  store?: string;
}

/** Where a built path's files are on this machine's disk (under a separate store's root, or in /nix/store). */
export function onDisk(build: Pick<FlakeBuild, 'storePath' | 'store'>, ...inside: string[]): string {
  return path.join(build.store ?? '/', build.storePath, ...inside);
}

export class NixBuildError extends Error {
  readonly output: FlakeOutput;
  readonly log: string;
  constructor(output: FlakeOutput, log: string, exitCode: number) {
    const tail = log.trim().split('\n').slice(-12).join('\n');
    super(`nix build of the ${output} flake failed (exit ${exitCode}):\n${tail}`);
    this.name = 'NixBuildError';
    this.output = output;
    this.log = log;
  }
}

let probed: Promise<PackageSetChoice> | undefined;

/** nixpkgs is fetched from GitHub and needs Nix >= 2.18: offline where GitHub's name does not resolve or Nix is older. */
export function choosePackageSet(env: NodeJS.ProcessEnv = process.env): Promise<PackageSetChoice> {
  const forced = env.CHOIROS_NIXPKGS?.trim();
  if (forced === 'nixpkgs' || forced === 'offline') return Promise.resolve(forced);
  if (forced) return Promise.reject(new Error(`CHOIROS_NIXPKGS is "${forced}": use nixpkgs (the real flake input) or offline (the stand-in package set), or unset it to choose by reachability.`));
  probed ??= (async () => {
    // Current nixpkgs needs Nix 2.18 or later; Debian 12's nix-bin is 2.8.
    const version = await runNix(['--version']);
    const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(version.stdout)?.slice(1) ?? []).map(Number);
    if (major < 2 || (major === 2 && minor < 18)) return 'offline';
    return lookup('github.com').then(
      () => 'nixpkgs' as const,
      () => 'offline' as const,
    );
  })();
  return probed;
}

/** The `nix build` arguments for one output (without the shared flags of nix-cli.ts). */
export async function buildArgs(output: FlakeOutput, options: BuildOptions = {}): Promise<{ args: string[]; flakeRef: string; packageSet: PackageSetChoice }> {
  const packageSet = options.packageSet ?? (await choosePackageSet());
  const flakeRef = `git+file://${options.checkout ?? repoRoot}?dir=${flakeDirs[output]}`;
  const args = ['build', '--json', '--no-link', flakeRef];
  if (options.store) args.push('--store', options.store);
  if (packageSet === 'offline') {
    const set = await offlinePackageSet();
    // The lock file is never written: it would pin nixpkgs to a path on this machine.
    args.push('--no-write-lock-file', '--override-input', 'nixpkgs', `path:${set.dir}`);
    // A separate store builds in a chroot, where the file:// sources must be bound in.
    if (options.store) args.push('--option', 'extra-sandbox-paths', set.sourcesDir);
  }
  args.push('--option', 'substituters', (options.substituters ?? []).join(' '));
  if (options.trustedPublicKeys) args.push('--option', 'trusted-public-keys', options.trustedPublicKeys.join(' '));
  return { args, flakeRef, packageSet };
}

/** The `out` path `nix build --json` printed for its first installable, if it printed one. */
export function builtOutPath(stdout: string): string | undefined {
  return (JSON.parse(stdout) as { outputs: { out?: string } }[])[0]?.outputs.out;
}

/** Builds one of the three flakes' default package and returns its store path and Nix's transcript. */
export async function buildFlakeOutput(output: FlakeOutput, options: BuildOptions = {}): Promise<FlakeBuild> {
  const { args, flakeRef, packageSet } = await buildArgs(output, options);
  const started = performance.now();
  const result = await runNix(args);
  const durationMs = performance.now() - started;
  if (result.exitCode !== 0) throw new NixBuildError(output, result.stderr, result.exitCode);
  const storePath = builtOutPath(result.stdout);
  if (!storePath) throw new NixBuildError(output, `${result.stderr}\nnix build --json printed no output path: ${result.stdout}`, 0);
  return { output, flakeRef, storePath, log: result.stderr, durationMs, packageSet, command: ['nix', ...args], ...(options.store ? { store: options.store } : {}) };
}
