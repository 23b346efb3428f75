import { describe, expect, it } from 'vitest';
import { runNix } from './nix-cli.ts';
import { offlinePackageSet } from './offline/package-set.ts';
import { repoRoot } from '../hypervisor/paths.ts';
import { buildToplevel, targetHost, ToplevelNeedsNixpkgsError, toplevelArgs } from './toplevel.ts';

describe('the NixOS toplevel of the target host', () => {
  it('is the nixosConfigurations attribute of the hypervisor flake', () => {
    const { args, attribute } = toplevelArgs();
    expect(attribute).toBe('nixosConfigurations.choiros-host.config.system.build.toplevel');
    expect(args).toEqual(['build', '--json', '--no-link', `git+file://${repoRoot}?dir=hypervisor#${attribute}`]);
  });

  it('names the host configuration hypervisor/flake.nix defines (evaluated with the real nix CLI)', { timeout: 60_000 }, async () => {
    const set = await offlinePackageSet();
    // The names only: building the configuration needs nixpkgs, listing it does not.
    const listed = await runNix(['eval', '--json', `git+file://${repoRoot}?dir=hypervisor#nixosConfigurations`, '--apply', 'builtins.attrNames', '--no-write-lock-file', '--override-input', 'nixpkgs', `path:${set.dir}`]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([targetHost]);
  });

  it('is refused with the offline package set, saying what stands in and how to build the real one', async () => {
    const attempt = buildToplevel('offline');
    await expect(attempt).rejects.toThrow(ToplevelNeedsNixpkgsError);
    await expect(attempt).rejects.toThrow(/offline host closure stands in for it; set CHOIROS_NIXPKGS=nixpkgs/);
  });
});
