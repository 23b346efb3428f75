import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromRoot } from '../hypervisor/paths.ts';

/** A PATH holding only the named commands, so a tool can be made "missing" for real. */
function pathWith(commands: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'setup-path-'));
  chmodSync(dir, 0o755);
  for (const command of commands) symlinkSync(`/usr/bin/${command}`, path.join(dir, command));
  return dir;
}

describe('scripts/setup.sh', () => {
  it('is idempotent on a prepared machine and ends ready, with podman API up', async () => {
    const run = await execa('bash', [fromRoot('scripts', 'setup.sh')], { reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/setup: node v24\./);
    expect(run.stdout).toMatch(/podman API: unix:\/\//);
    expect(run.stdout).not.toMatch(/installing/);
    expect(run.stdout).toMatch(/setup: ready$/m);
  });

  it('as a non-root user without podman, slirp4netns, nix, strip, debootstrap, systemd-nspawn and ssh-keygen, names what is missing and how to install it', async () => {
    const bin = pathWith(['bash', 'id', 'grep', 'awk', 'dirname', 'env', 'setpriv']);
    // A copy the unprivileged user can read: the checkout itself may sit in a private (0700) directory.
    const copy = mkdtempSync(path.join(tmpdir(), 'setup-copy-'));
    mkdirSync(path.join(copy, 'scripts'));
    copyFileSync(fromRoot('scripts', 'setup.sh'), path.join(copy, 'scripts', 'setup.sh'));
    for (const dir of [copy, path.join(copy, 'scripts')]) chmodSync(dir, 0o755);
    chmodSync(path.join(copy, 'scripts', 'setup.sh'), 0o644);
    const run = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'bash', path.join(copy, 'scripts', 'setup.sh')], {
      env: { PATH: bin },
      extendEnv: false,
      reject: false,
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain('setup: missing: podman runc slirp4netns nix-bin binutils debootstrap systemd-container openssh-client');
    expect(run.stdout).toContain('apt-get install -y podman runc slirp4netns nix-bin binutils debootstrap systemd-container openssh-client');
  });
});
