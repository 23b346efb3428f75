import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.ts';

/** The flake whose nixpkgs input gives lib when no snapshot is at hand. */
export const hypervisorFlake = path.join(repoRoot, 'hypervisor', 'flake.nix');
const libFromInput = path.join(path.dirname(new URL(import.meta.url).pathname), 'local', 'nixpkgs-lib.nix');

/** Where nixpkgs' lib comes from: a snapshot folder on this machine, or the flake input (fetched). */
export interface NixpkgsLib {
  expression: string;
  source: string;
  fromFlakeInput: boolean;
}

/**
 * A Nix expression for nixpkgs' `lib`. Where nixpkgs cannot be fetched (this machine kind, CI),
 * a snapshot of nixpkgs.lib sits in ../shared/nixpkgs-lib beside the clone (NIXPKGS_LIB overrides);
 * anywhere else the real nixpkgs the hypervisor flake names as its input, fetched as that input
 * (local/nixpkgs-lib.nix): nothing of the checkout is copied into the store. `flake` is for tests.
 */
export function nixpkgsLibExpression(env: NodeJS.ProcessEnv = process.env, checkout: string = repoRoot, flake: string = hypervisorFlake): NixpkgsLib {
  const candidates = [env.NIXPKGS_LIB, path.join(checkout, '..', 'shared', 'nixpkgs-lib'), path.join(checkout, '..', '..', 'shared', 'nixpkgs-lib')];
  for (const dir of candidates) {
    if (dir && existsSync(path.join(dir, 'lib', 'default.nix'))) return { expression: `import ${JSON.stringify(path.join(path.resolve(dir), 'lib'))}`, source: path.resolve(dir), fromFlakeInput: false };
  }
  return { expression: `import ${JSON.stringify(libFromInput)} { flake = ${JSON.stringify(flake)}; }`, source: `the nixpkgs input of ${flake}`, fromFlakeInput: true };
}

/** Nix's error, and when nixpkgs could not be fetched for its lib, how to evaluate without it. */
export function explainLibFailure(message: string, lib: NixpkgsLib): string {
  if (!lib.fromFlakeInput || !/unable to download|Couldn't resolve host|cannot fetch|unable to fetch/i.test(message)) return message;
  return `${message}\nnixpkgs' lib comes from ${lib.source}, which could not be fetched: offline, put a snapshot of nixpkgs.lib (nix-community/nixpkgs.lib) at ../shared/nixpkgs-lib beside the checkout, or set NIXPKGS_LIB to its folder.`;
}

/** Offline Nix settings for everything the project builds here: no public cache to wait for. */
export const offlineNixConfig = ['experimental-features = nix-command flakes', 'sandbox = false', 'substituters ='].join('\n');
