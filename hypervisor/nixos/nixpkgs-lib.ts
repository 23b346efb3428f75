import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../paths.ts';

/**
 * A Nix expression for nixpkgs' `lib`. Where nixpkgs cannot be fetched (this machine kind, CI),
 * a snapshot of nixpkgs.lib sits in ../shared/nixpkgs-lib beside the clone (NIXPKGS_LIB overrides);
 * anywhere else the flake's own nixpkgs input gives it.
 */
export function nixpkgsLibExpression(env: NodeJS.ProcessEnv = process.env): { expression: string; source: string } {
  const candidates = [env.NIXPKGS_LIB, path.join(repoRoot, '..', 'shared', 'nixpkgs-lib'), path.join(repoRoot, '..', '..', 'shared', 'nixpkgs-lib')];
  for (const dir of candidates) {
    if (dir && existsSync(path.join(dir, 'lib', 'default.nix'))) return { expression: `import ${JSON.stringify(path.join(path.resolve(dir), 'lib'))}`, source: path.resolve(dir) };
  }
  return { expression: `(builtins.getFlake ${JSON.stringify(`path:${repoRoot}`)}).inputs.nixpkgs.lib`, source: "the flake's nixpkgs input" };
}

/** Offline Nix settings for everything the project builds here: no public cache to wait for. */
export const offlineNixConfig = ['experimental-features = nix-command flakes', 'sandbox = false', 'substituters ='].join('\n');
