import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** systemd-nspawn exits with this code when the machine asked for a reboot (`systemctl reboot`). */
export const nspawnRebootExit = 133;

export interface NspawnBoot {
  process: ChildProcess;
  /** Resolves with nspawn's exit code once the machine is gone (powered off, rebooted or killed). */
  exited: Promise<number | null>;
}

/**
 * Boots `root` with systemd as PID 1. No --private-network: the machine shares this machine's
 * loopback, so its services bind 127.0.0.1 on ports of their own. /nix comes in read-only, so units
 * run store paths the outside built. Not registered with machined (none runs here): the machine is
 * reached through its leader's namespaces (host/machine.ts). The console goes to `consoleLog`.
 * The machine ends with the process that calls this (see below).
 */
export function startNspawn(root: string, name: string, consoleLog: string, readOnlyBinds: readonly string[]): NspawnBoot {
  const fd = openSync(consoleLog, 'a');
  // setpriv gives nspawn a parent-death signal: when the process that booted the machine dies
  // (a killed test worker, a killed runner), nspawn gets SIGTERM and powers the machine off, as
  // on `machinectl poweroff`. No systemd runs here to tie it to a scope. What the owner's death
  // leaves (the overlay, the folder, the Nix profiles) the next boot reaps (host/reaper.ts).
  const child = spawn(
    'setpriv',
    ['--pdeathsig', 'TERM', '--', 'systemd-nspawn', '-D', root, `--machine=${name}`, '--register=no', '--keep-unit', '-b', '--console=pipe', '--bind-ro=/nix', ...readOnlyBinds.map((dir) => `--bind-ro=${dir}`)],
    { stdio: ['ignore', fd, fd], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', SYSTEMD_NSPAWN_TMPFS_TMP: '1' } },
  );
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { process: child, exited };
}

/** The machine's PID 1 as seen from outside: nspawn's child process, once it exists. */
export async function leaderPid(nspawnPid: number): Promise<number | undefined> {
  try {
    const children = (await readFile(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
    for (const pid of children) {
      const comm = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
      if (comm === 'systemd') return pid;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** PID 1's start time in clock ticks since this kernel booted: a new value means the machine booted again. */
export async function processStartTicks(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Field 22; the command name (field 2) may hold spaces, so count from its closing parenthesis.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}
