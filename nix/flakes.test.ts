import { afterEach, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureCache } from './binary-cache/measure.ts';
import { CacheSignatureRefusedError, CacheUnreachableError } from './binary-cache/errors.ts';
import { generateSigningKey } from './binary-cache/signing-key.ts';
import { fromRoot, repoRoot } from '../hypervisor/paths.ts';
import { buildArgs, buildFlakeOutput, choosePackageSet } from './build.ts';
import { NixMissingError, runNix } from './nix-cli.ts';
import { runBuiltProgram } from './run-built.ts';

describe('the three flakes, built with the real nix CLI', { timeout: 180_000 }, () => {
  it("the hypervisor flake's bin/choiros-hypervisor starts and answers /health", async () => {
    const built = await buildFlakeOutput('hypervisor');
    const ran = await runBuiltProgram(built.storePath, 'choiros-hypervisor');
    expect(ran.health.status).toBe('healthy');
    expect(ran.output).toContain('"event":"hypervisor.listening"');
    expect(ran.stopped, 'SIGTERM to bin/choiros-hypervisor: a clean exit, its port free').toEqual({ code: 0, signal: null, portFreed: true });
  });

  it("the sandbox flake's bin/choiros-sandbox passes its health check", async () => {
    const built = await buildFlakeOutput('sandbox');
    const ran = await runBuiltProgram(built.storePath, 'choiros-sandbox');
    expect(ran.health).toMatchObject({ status: 'healthy', instance_role: 'live' });
    expect(ran.stopped, 'SIGTERM to bin/choiros-sandbox: a clean exit, its port free').toEqual({ code: 0, signal: null, portFreed: true });
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

// Each attempt builds in empty stores of its own under workDir (never deleting from /nix/store).
// The desktop is the smallest output: one derivation, a few KB in the cache.
describe('the warm build refuses a cache it cannot trust, with the real nix CLI', { timeout: 240_000 }, () => {
  const workDirs: string[] = [];
  const newWorkDir = (prefix: string): string => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    workDirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of workDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a tampered narinfo is refused, and named', async () => {
    const workDir = newWorkDir('cache-tamper-');
    let tampered = '';
    const attempt = measureCache({
      workDir,
      outputs: ['desktop'],
      afterPush: (cache) => {
        const narinfo = readdirSync(cache.dir).find((f) => f.endsWith('.narinfo'));
        if (!narinfo) throw new Error('the push left no narinfo');
        tampered = narinfo;
        const file = path.join(cache.dir, narinfo);
        // A different NAR size: the signature over the fingerprint no longer matches.
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^NarSize: (\d+)$/m, (_, n: string) => `NarSize: ${Number(n) + 1}`));
      },
    });
    await expect(attempt).rejects.toThrow(CacheSignatureRefusedError);
    await expect(attempt).rejects.toThrow(new RegExp(`Nix refused 1 substitute\\(s\\) from http://127.0.0.1:\\d+ as not signed by a trusted key: ${tampered}`));
  });

  it('a cache signed with another key is refused, and the trusted key named', async () => {
    const workDir = newWorkDir('cache-wrong-key-');
    const other = await generateSigningKey(path.join(workDir, 'other'), 'someone-elses-cache-1');
    const attempt = measureCache({ workDir, outputs: ['desktop'], trustedPublicKey: other.publicKey });
    await expect(attempt).rejects.toThrow(/not signed by a trusted key: [0-9a-z]{32}\.narinfo\. Trusted: someone-elses-cache-1\./);
  });

  it('an unreachable cache stops the warm build with its URL and the error', async () => {
    const workDir = newWorkDir('cache-unreachable-');
    const attempt = measureCache({ workDir, outputs: ['desktop'], warmCacheUrl: 'http://127.0.0.1:9' });
    await expect(attempt).rejects.toThrow(CacheUnreachableError);
    await expect(attempt).rejects.toThrow('the binary cache at http://127.0.0.1:9 cannot be reached (ECONNREFUSED)');
  });
});
