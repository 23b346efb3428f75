import { repoRoot } from '../hypervisor/paths.ts';
import { builtOutPath, choosePackageSet, flakeDirs, type PackageSetChoice } from './build.ts';
import { runNix } from './nix-cli.ts';

/** The NixOS host configuration hypervisor/flake.nix defines for the EC2 target (Phase 3 and 4). */
export const targetHost = 'choiros-host';

export interface ToplevelBuild {
  attribute: string;
  storePath: string;
  log: string;
  durationMs: number;
  command: string[];
}

/** nixpkgs cannot be had (offline, or Nix older than 2.18): the real toplevel cannot be built here. */
export class ToplevelNeedsNixpkgsError extends Error {
  constructor(packageSet: PackageSetChoice) {
    super(`the NixOS toplevel of ${targetHost} needs the real nixpkgs, and this machine builds with the ${packageSet} package set (github.com unreachable or Nix older than 2.18): the offline host closure stands in for it; set CHOIROS_NIXPKGS=nixpkgs on a machine that can fetch nixpkgs to build the real one.`);
    this.name = 'ToplevelNeedsNixpkgsError';
  }
}

/** The `nix build` arguments for the host's toplevel (without the shared flags of nix-cli.ts). */
export function toplevelArgs(checkout = repoRoot): { args: string[]; attribute: string } {
  const attribute = `nixosConfigurations.${targetHost}.config.system.build.toplevel`;
  return { attribute, args: ['build', '--json', '--no-link', `git+file://${checkout}?dir=${flakeDirs.hypervisor}#${attribute}`] };
}

/** Builds the real NixOS system closure of the target host; refuses, saying why, where nixpkgs is out of reach. */
export async function buildToplevel(packageSet?: PackageSetChoice): Promise<ToplevelBuild> {
  const chosen = packageSet ?? (await choosePackageSet());
  if (chosen !== 'nixpkgs') throw new ToplevelNeedsNixpkgsError(chosen);
  const { args, attribute } = toplevelArgs();
  const started = performance.now();
  const result = await runNix(args);
  const durationMs = performance.now() - started;
  if (result.exitCode !== 0) throw new Error(`nix build of ${attribute} failed (exit ${result.exitCode}):\n${result.stderr.trim().split('\n').slice(-12).join('\n')}`);
  const storePath = builtOutPath(result.stdout);
  if (!storePath) throw new Error(`nix build --json of ${attribute} printed no output path: ${result.stdout}`);
  return { attribute, storePath, log: result.stderr, durationMs, command: ['nix', ...args] };
}
