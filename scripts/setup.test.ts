import { describe, expect, it, onTestFinished } from 'vitest';
import { execa } from 'execa';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
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

  // npm run integrity's scratch copies link the checkout's node_modules, and every file in them is new,
  // so their package-lock.json is newer than the installed one: an install there once emptied the
  // shared node_modules under two running measurements.
  it('never installs into a linked node_modules, however new the package lock beside it', async () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'setup-linked-'));
    onTestFinished(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(fromRoot('scripts'), path.join(copy, 'scripts'), { recursive: true });
    for (const file of ['package.json', 'package-lock.json']) copyFileSync(fromRoot(file), path.join(copy, file));
    symlinkSync(fromRoot('hypervisor'), path.join(copy, 'hypervisor'));
    // Not the checkout's own modules: if the guard ever failed, npm ci would refill this decoy instead.
    const linked = path.join(copy, 'linked-modules');
    mkdirSync(path.join(linked, '.bin'), { recursive: true });
    symlinkSync(process.execPath, path.join(linked, '.bin', 'node'));
    writeFileSync(path.join(linked, '.package-lock.json'), '{}\n');
    const old = new Date('2026-01-01T00:00:00Z');
    utimesSync(path.join(linked, '.package-lock.json'), old, old);
    symlinkSync(linked, path.join(copy, 'node_modules'));
    const run = await execa('bash', [path.join(copy, 'scripts', 'setup.sh')], { reject: false });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain(`setup: node_modules links to ${linked}: using it as it is`);
    expect(run.stdout).not.toMatch(/installing npm dependencies/);
    expect(statSync(path.join(linked, '.package-lock.json')).mtime).toEqual(old);
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
