import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { createLogger, type Logger } from '../hypervisor/log.ts';
import { allocatePort } from '../hypervisor/sandboxes/ports.ts';
import { mountOverlay, overlayMountPoint, type MachineOverlay } from './overlay.ts';
import { leaderPid, nspawnRebootExit, processStartTicks, startNspawn, type NspawnBoot } from './nspawn.ts';
import { identify, writeOwnership, type MachineOwnership } from './owner.ts';
import { machineProfilesDir, removeMachineProfiles } from './profiles.ts';
import { machinePrefix, machinesDir, reapOrphanedMachines } from './reaper.ts';
import { requireHostTools } from './prerequisites.ts';
import { ensureHostRoot, type HostRoot } from './root.ts';
import { generateKeyPair, knownHostsLine, type KeyPair } from './ssh-keys.ts';

/** What a command run inside the machine printed. */
export interface ExecResult {
  command: string;
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** How the outside reaches the machine's sshd: a loopback port, a pinned host key and a deploy key. */
export interface HostSsh {
  host: '127.0.0.1';
  port: number;
  user: 'root';
  /** The machine's own ed25519 host key (public half), generated for this machine. */
  hostPublicKey: string;
  /** A known_hosts file holding only that key: use with StrictHostKeyChecking=yes, never auto-accept. */
  knownHostsFile: string;
  /** The private key authorized for root (key-only sshd). */
  identityFile: string;
}

export interface BootOptions {
  /** Writes files into the machine's root before its first boot (the root as the machine sees it). */
  provision?: (root: string) => Promise<void>;
  /** Seconds to wait for systemd to finish starting up. */
  bootTimeoutSecs?: number;
  /** More directories of this machine the host sees read-only at the same path (besides /nix). */
  readOnlyBinds?: readonly string[];
  /** Where boot logs what it reaps of machines whose owner died (structured JSON; stdout by default). */
  log?: Logger;
}

export class HostBootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostBootError';
  }
}

const machinePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Debian machine with systemd as PID 1, booted with systemd-nspawn from the cached root
 * (host/root.ts) under an overlay of its own. It shares this machine's loopback; its sshd listens on
 * 127.0.0.1:<ssh.port> with key-only login. Reboots are real: the machine's systemd shuts down and a
 * new one boots on the same disk. `stop()` tears down whatever was started, whatever state it is in.
 * A machine ends with the process that booted it: if that process dies without stop(), nspawn powers
 * the machine off (host/nspawn.ts) and the next boot here reaps its remains (host/reaper.ts).
 */
export class HostMachine {
  readonly name: string;
  readonly dir: string;
  readonly root: HostRoot;
  readonly ssh: HostSsh;
  readonly consoleLog: string;
  /** How many times this machine has booted (1 after boot()). */
  boots = 0;
  #overlay: MachineOverlay;
  #nspawn: NspawnBoot | undefined;
  #leader: number | undefined;
  #bootTimeoutSecs: number;
  #readOnlyBinds: readonly string[];
  #ownership: MachineOwnership;

  private constructor(name: string, dir: string, root: HostRoot, overlay: MachineOverlay, ssh: HostSsh, ownership: MachineOwnership, options: BootOptions) {
    this.name = name;
    this.dir = dir;
    this.root = root;
    this.#overlay = overlay;
    this.ssh = ssh;
    this.consoleLog = path.join(dir, 'console.log');
    this.#bootTimeoutSecs = options.bootTimeoutSecs ?? 60;
    this.#readOnlyBinds = options.readOnlyBinds ?? [];
    this.#ownership = ownership;
  }

  /** The folder for this machine's Nix profiles (/nix/var/nix/profiles/choiros-gates/<name>): removed with the machine. */
  get profilesDir(): string {
    return machineProfilesDir(this.name);
  }

  /** The machine's root directory as seen from outside (writes land in its own layer). */
  get rootDir(): string {
    return this.#overlay.merged;
  }

  static async boot(options: BootOptions = {}): Promise<HostMachine> {
    await requireHostTools();
    await reapOrphanedMachines(options.log ?? createLogger('host-machine'));
    const root = await ensureHostRoot();
    const name = `${machinePrefix}${randomBytes(4).toString('hex')}`;
    const dir = await mkdtemp(path.join(machinesDir, `${name}-`));
    const owner = await identify(process.pid);
    if (!owner) throw new HostBootError(`cannot read /proc/${process.pid}/stat to record who owns the systemd host ${name}`);
    // Recorded before anything is mounted or started, so nothing of the machine exists unowned.
    const ownership: MachineOwnership = { machine: name, owner, rootDir: overlayMountPoint(dir) };
    await writeOwnership(dir, ownership);
    const overlay = await mountOverlay(root.dir, dir);
    let machine: HostMachine | undefined;
    try {
      const ssh = await provisionSsh(overlay.merged, path.join(dir, 'keys'), name);
      machine = new HostMachine(name, dir, root, overlay, ssh, ownership, options);
      await options.provision?.(overlay.merged);
      await machine.#start();
      return machine;
    } catch (error) {
      if (machine) await machine.stop();
      else {
        await overlay.unmount();
        await rm(dir, { recursive: true, force: true });
      }
      throw error;
    }
  }

  async #start(): Promise<void> {
    const nspawn = startNspawn(this.#overlay.merged, this.name, this.consoleLog, this.#readOnlyBinds);
    this.#nspawn = nspawn;
    this.#ownership.nspawn = nspawn.process.pid === undefined ? undefined : await identify(nspawn.process.pid);
    delete this.#ownership.leader;
    await writeOwnership(this.dir, this.#ownership);
    let gone = false;
    void nspawn.exited.then(() => (gone = true));
    const deadline = Date.now() + this.#bootTimeoutSecs * 1000;
    let state = '';
    while (Date.now() < deadline && !gone) {
      if (this.#leader === undefined && nspawn.process.pid !== undefined) {
        this.#leader = await leaderPid(nspawn.process.pid);
        if (this.#leader !== undefined) {
          this.#ownership.leader = await identify(this.#leader);
          await writeOwnership(this.dir, this.#ownership);
        }
      }
      if (this.#leader !== undefined) {
        state = (await this.exec(['systemctl', 'is-system-running'], { reject: false })).stdout.trim();
        if (state === 'running' || state === 'degraded') {
          this.boots += 1;
          return;
        }
      }
      await sleep(100);
    }
    const consoleTail = (await readFile(this.consoleLog, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
    throw new HostBootError(
      `the systemd host ${this.name} did not finish booting within ${this.#bootTimeoutSecs} s (${gone ? 'systemd-nspawn exited' : `state "${state || 'unknown'}"`}); its console said:\n${consoleTail}`,
    );
  }

  /** Runs a command inside the machine (its mount, PID, network, IPC and UTS namespaces, as root). */
  async exec(args: readonly string[], options: { reject?: boolean; input?: string } = {}): Promise<ExecResult> {
    if (this.#leader === undefined) throw new HostBootError(`the systemd host ${this.name} is not running; boot it first`);
    const result = await execa('nsenter', ['-t', String(this.#leader), '-m', '-u', '-i', '-n', '-p', '-r', '-w', ...args], {
      reject: false,
      extendEnv: false,
      env: { PATH: machinePath, LANG: 'C.UTF-8', SYSTEMD_PAGER: '', SYSTEMD_COLORS: '0' },
      ...(options.input === undefined ? {} : { input: options.input }),
    });
    const outcome: ExecResult = { command: args.join(' '), stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? -1 };
    if ((options.reject ?? true) && outcome.exitCode !== 0) {
      throw new Error(`"${outcome.command}" in ${this.name} exited ${outcome.exitCode}: ${(outcome.stderr || outcome.stdout).trim()}`);
    }
    return outcome;
  }

  /** The machine's journal (for one unit when given), oldest first, `lines` from the end. */
  async journal(options: { unit?: string; lines?: number; since?: string } = {}): Promise<string> {
    const args = ['journalctl', '--no-pager', '-o', 'short-iso-precise', '-n', String(options.lines ?? 200)];
    if (options.unit) args.push('-u', options.unit);
    if (options.since) args.push('--since', options.since);
    return (await this.exec(args, { reject: false })).stdout;
  }

  /** Identifies this boot of the machine: PID 1's pid and start time as the outside sees them (the kernel's boot_id is shared). */
  async bootIdentity(): Promise<string> {
    if (this.#leader === undefined) throw new HostBootError(`the systemd host ${this.name} is not running`);
    return `${this.#leader}@${await processStartTicks(this.#leader)}`;
  }

  /** A real reboot: the machine's systemd shuts everything down, then a new PID 1 boots the same disk. */
  async reboot(): Promise<void> {
    const nspawn = this.#requireRunning();
    await this.exec(['systemctl', 'reboot'], { reject: false });
    const code = await withTimeout(nspawn.exited, 60_000, `the systemd host ${this.name} did not shut down for its reboot within 60 s`);
    if (code !== nspawnRebootExit) throw new HostBootError(`the systemd host ${this.name} was asked to reboot but systemd-nspawn exited with ${code}, not ${nspawnRebootExit}`);
    this.#leader = undefined;
    await this.#start();
  }

  /** Powers the machine off (systemd shuts down cleanly); its disk stays until stop(). */
  async powerOff(): Promise<void> {
    const nspawn = this.#nspawn;
    if (!nspawn || nspawn.process.exitCode !== null) return;
    await this.exec(['systemctl', 'poweroff'], { reject: false });
    await withTimeout(nspawn.exited, 30_000, `the systemd host ${this.name} did not power off within 30 s`);
    this.#leader = undefined;
  }

  /** Powers off (or kills, if it will not go) and removes the machine's own layer, files and Nix profiles. */
  async stop(): Promise<void> {
    try {
      await this.powerOff();
    } catch {
      if (this.#leader !== undefined) process.kill(this.#leader, 'SIGKILL');
      this.#nspawn?.process.kill('SIGKILL');
      if (this.#nspawn) await withTimeout(this.#nspawn.exited, 10_000, 'systemd-nspawn did not exit after SIGKILL').catch(() => undefined);
    }
    this.#leader = undefined;
    await this.#overlay.unmount();
    await removeMachineProfiles(this.profilesDir);
    await rm(this.dir, { recursive: true, force: true });
  }

  #requireRunning(): NspawnBoot {
    if (!this.#nspawn || this.#leader === undefined) throw new HostBootError(`the systemd host ${this.name} is not running`);
    return this.#nspawn;
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new HostBootError(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A key-only sshd on a loopback port of its own, with a host key made for this machine. */
async function provisionSsh(root: string, keysDir: string, name: string): Promise<HostSsh> {
  const port = await allocatePort(new Set());
  const hostKey = await generateKeyPair(keysDir, 'ssh_host_ed25519_key', `${name} host key`);
  const deployKey: KeyPair = await generateKeyPair(keysDir, 'deploy_ed25519', `choiros-gates deploy key for ${name}`);
  await copyFile(hostKey.privateKeyFile, path.join(root, 'etc/ssh/ssh_host_ed25519_key'));
  await chmod(path.join(root, 'etc/ssh/ssh_host_ed25519_key'), 0o600);
  await writeFile(path.join(root, 'etc/ssh/ssh_host_ed25519_key.pub'), `${hostKey.publicKey}\n`);
  await writeFile(
    path.join(root, 'etc/ssh/sshd_config.d/choiros-gates.conf'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      'HostKey /etc/ssh/ssh_host_ed25519_key',
      'PubkeyAuthentication yes',
      'AuthenticationMethods publickey',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      '',
    ].join('\n'),
  );
  await mkdir(path.join(root, 'root/.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(path.join(root, 'root/.ssh/authorized_keys'), `${deployKey.publicKey}\n`, { mode: 0o600 });
  const knownHostsFile = path.join(keysDir, 'known_hosts');
  await writeFile(knownHostsFile, `${knownHostsLine(port, hostKey.publicKey)}\n`);
  return { host: '127.0.0.1', port, user: 'root', hostPublicKey: hostKey.publicKey, knownHostsFile, identityFile: deployKey.privateKeyFile };
}
