import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { fromRoot, repoRoot } from '../hypervisor/paths.ts';
import { buildArgs, buildFlakeOutput, choosePackageSet } from './build.ts';
import { NixMissingError, runNix } from './nix-cli.ts';
import { runBuiltProgram } from './run-built.ts';

describe('the three flakes, built with the real nix CLI', () => {
  it("the hypervisor flake's bin/choiros-hypervisor starts and answers /health", async () => {
    const built = await buildFlakeOutput('hypervisor');
    const ran = await runBuiltProgram(built.storePath, 'choiros-hypervisor');
    expect(ran.health.status).toBe('healthy');
    expect(ran.output).toContain('"event":"hypervisor.listening"');
  });

  it("the sandbox flake's bin/choiros-sandbox passes its health check", async () => {
    const built = await buildFlakeOutput('sandbox');
    const ran = await runBuiltProgram(built.storePath, 'choiros-sandbox');
    expect(ran.health).toMatchObject({ status: 'healthy', instance_role: 'live' });
  });

  it("the desktop flake's result holds the page the sandbox serves", async () => {
    const built = await buildFlakeOutput('desktop');
    const page = readFileSync(`${built.storePath}/share/choiros-desktop/index.html`, 'utf8');
    expect(page).toBe(readFileSync(fromRoot('hypervisor', 'workload', 'public', 'index.html'), 'utf8'));
  });
});

describe('the offline switch', () => {
  it('is one input override: nixpkgs from the generated stand-in, and the lock file left unwritten', async () => {
    const { args, flakeRef } = await buildArgs('sandbox', { packageSet: 'offline' });
    expect(flakeRef).toBe(`git+file://${repoRoot}?dir=nix/sandbox`);
    const at = args.indexOf('--override-input');
    expect(args.slice(at, at + 2)).toEqual(['--override-input', 'nixpkgs']);
    expect(args[at + 2]).toMatch(/^path:\/.+nix-offline-package-set\//);
    expect(args).toContain('--no-write-lock-file');
    const online = await buildArgs('sandbox', { packageSet: 'nixpkgs' });
    expect(online.args).not.toContain('--override-input');
  });

  it('refuses an unknown CHOIROS_NIXPKGS value, naming it', async () => {
    await expect(choosePackageSet({ CHOIROS_NIXPKGS: 'nixos' })).rejects.toThrow(/CHOIROS_NIXPKGS is "nixos": use nixpkgs .* or offline/);
  });

  it('no committed flake.lock pins an input to a path on this machine', async () => {
    const { stdout } = await execa('git', ['ls-files', '*flake.lock'], { cwd: repoRoot });
    for (const file of stdout.split('\n').filter(Boolean)) {
      const lock = readFileSync(fromRoot(file), 'utf8');
      expect(lock, file).not.toMatch(/"type":\s*"path"|\/var\/cache|\/nix\/store/);
    }
  });
});

describe('nix missing', () => {
  it('says the apt line that installs it', async () => {
    const saved = process.env.CHOIROS_NIX_BINARY;
    process.env.CHOIROS_NIX_BINARY = '/nonexistent/nix';
    try {
      await expect(runNix(['--version'])).rejects.toThrow(NixMissingError);
      await expect(runNix(['--version'])).rejects.toThrow(/apt-get install -y nix-bin/);
    } finally {
      if (saved === undefined) delete process.env.CHOIROS_NIX_BINARY;
      else process.env.CHOIROS_NIX_BINARY = saved;
    }
  });
});
