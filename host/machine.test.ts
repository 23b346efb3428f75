import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { mountsUnder } from '../hypervisor/podman/own-store.ts';
import { HostMachine } from './machine.ts';
import { isRunning, readOwnership } from './owner.ts';
import { generateKeyPair, knownHostsLine } from './ssh-keys.ts';

/** ssh into the machine the way Phase 4's deployer does: pinned host key, never auto-accepted. */
function sshArgs(machine: HostMachine, knownHostsFile: string, identityFile: string): string[] {
  return ['-p', String(machine.ssh.port), '-i', identityFile, '-o', `UserKnownHostsFile=${knownHostsFile}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'ConnectTimeout=10', `${machine.ssh.user}@127.0.0.1`];
}

describe('the local systemd host', () => {
  let machine: HostMachine;
  beforeAll(async () => {
    machine = await HostMachine.boot();
  }, 600_000);
  afterAll(async () => {
    await machine?.stop();
  });

  it('boots systemd as PID 1 in its own PID namespace and keeps a journal', async () => {
    expect((await machine.exec(['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    expect((await machine.exec(['systemctl', 'is-system-running'], { reject: false })).stdout.trim()).toMatch(/^(running|degraded)$/);
    // systemd's own line reaches the journal through journald, behind the state is-system-running reports.
    await expect.poll(() => machine.journal({ lines: 50 }), { timeout: 10_000 }).toMatch(/Startup finished/);
  });

  it('lets the deploy key in over SSH on its loopback port when the pinned host key matches', async () => {
    const { stdout } = await execa('ssh', [...sshArgs(machine, machine.ssh.knownHostsFile, machine.ssh.identityFile), 'systemctl', 'is-active', 'ssh']);
    expect(stdout.trim()).toBe('active');
  });

  it('refuses a host key other than the pinned one, and any key other than the deploy key', async () => {
    const other = await generateKeyPair(path.join(machine.dir, 'other'), 'other', 'not the host');
    const wrongKnownHosts = path.join(machine.dir, 'other', 'known_hosts');
    await writeFile(wrongKnownHosts, `${knownHostsLine(machine.ssh.port, other.publicKey)}\n`);
    const mismatched = await execa('ssh', [...sshArgs(machine, wrongKnownHosts, machine.ssh.identityFile), 'true'], { reject: false });
    expect(mismatched.exitCode).not.toBe(0);
    expect(mismatched.stderr).toMatch(/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/);
    const unknown = await execa('ssh', [...sshArgs(machine, '/dev/null', machine.ssh.identityFile), 'true'], { reject: false });
    expect(unknown.stderr).toMatch(/Host key verification failed/);
    const wrongUser = await execa('ssh', [...sshArgs(machine, machine.ssh.knownHostsFile, other.privateKeyFile), 'true'], { reject: false });
    expect(wrongUser.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('reboots for real: a new PID 1, the disk kept', async () => {
    await machine.exec(['sh', '-c', 'echo kept > /var/lib/choiros-reboot-marker']);
    const before = await machine.bootIdentity();
    await machine.reboot();
    expect(await machine.bootIdentity()).not.toBe(before);
    expect(machine.boots).toBe(2);
    expect((await machine.exec(['cat', '/var/lib/choiros-reboot-marker'])).stdout.trim()).toBe('kept');
    await expect.poll(() => machine.journal({ lines: 400 }), { timeout: 10_000 }).toMatch(/Startup finished/);
  });

  it('powers off and leaves nothing behind when stopped', async () => {
    const dir = machine.dir;
    const ownership = await readOwnership(dir);
    expect(ownership?.leader && (await isRunning(ownership.leader))).toBe(true);
    await mkdir(machine.profilesDir, { recursive: true });
    await machine.stop();
    // Its PID 1 and nspawn are gone, not just its folder: a machine left running would outlive the test.
    expect(await isRunning(ownership!.leader!)).toBe(false);
    expect(await isRunning(ownership!.nspawn!)).toBe(false);
    expect(await mountsUnder(ownership!.rootDir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(machine.profilesDir)).toBe(false);
    await expect(machine.exec(['true'])).rejects.toThrow(/not running/);
  });
});
