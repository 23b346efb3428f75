import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { fromRoot } from '../hypervisor/paths.ts';

describe('flake.nix', () => {
  it('parses with the real nix CLI', async () => {
    const parsed = await execa('nix-instantiate', ['--parse', fromRoot('flake.nix')]);
    expect(parsed.exitCode).toBe(0);
  });

  it('declares a dev shell with Node 24, podman and chromium for both Linux systems', async () => {
    // Evaluating needs nixpkgs, which this network cannot fetch; the parsed AST is what we can check offline.
    const { stdout } = await execa('nix-instantiate', ['--parse', fromRoot('flake.nix')]);
    for (const attribute of ['devShells', 'nodejs_24', 'podman', 'chromium', 'forEachSystem']) {
      expect(stdout).toContain(attribute);
    }
    // The systems are the ones every flake shares, in the file flake.nix takes forEachSystem from.
    expect(stdout).toMatch(/import \(?[^)]*\/nix\/flake-outputs\.nix/);
    const shared = await execa('nix-instantiate', ['--parse', fromRoot('nix', 'flake-outputs.nix')]);
    for (const system of ['"x86_64-linux"', '"aarch64-linux"']) expect(shared.stdout).toContain(system);
  });
});
