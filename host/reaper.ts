import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import type { Logger } from '../hypervisor/log.ts';
import { isRunning, readOwnership, type MachineOwnership, type ProcessIdentity } from './owner.ts';
import { hostProfilesDir, machineProfilesDir, removeMachineProfiles } from './profiles.ts';

/** Where machines keep their folders (overlay, keys, console, ownership): /var/tmp/choiros-host-<id>-<suffix>. */
export const machinesDir = '/var/tmp';
export const machinePrefix = 'choiros-host-';
const machineName = /^choiros-host-[0-9a-f]{8}$/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ReapedMachine {
  machine: string;
  dir: string;
  owner: ProcessIdentity;
  /** Machine processes still running when reaped (they were killed). */
  killed: number[];
}

/**
 * Ends what a machine whose owner died left behind: its processes (the owner's death already asked
 * nspawn to power off, host/nspawn.ts; this kills what did not go), the overlay mount, its folder
 * and its Nix profiles, which would otherwise root its closures for good. Machines of a live owner
 * and folders without an ownership record (being made, or made by other code) are left alone.
 * Profile folders of machines whose folder is gone are removed too. Each reaped thing is logged.
 */
export async function reapOrphanedMachines(log: Logger, dirs: { machines?: string; profiles?: string } = {}): Promise<ReapedMachine[]> {
  const machines = dirs.machines ?? machinesDir;
  const profiles = dirs.profiles ?? hostProfilesDir;
  const reaped: ReapedMachine[] = [];
  const entries = (await readdir(machines).catch(() => [])).filter((entry) => entry.startsWith(machinePrefix));
  for (const entry of entries) {
    const dir = path.join(machines, entry);
    const ownership = await readOwnership(dir);
    if (!ownership || !machineName.test(ownership.machine) || (await isRunning(ownership.owner))) continue;
    const profilesDir = machineProfilesDir(ownership.machine, profiles);
    const machine = await reap(dir, ownership, profilesDir);
    reaped.push(machine);
    log.info({ event: 'host.machine.reaped', machine: machine.machine, dir, ownerPid: machine.owner.pid, killed: machine.killed, profilesDir }, `reaped systemd host ${machine.machine}: its owner (pid ${machine.owner.pid}) is gone`);
  }
  const liveMachines = new Set(entries.map((entry) => entry.slice(0, machinePrefix.length + 8)));
  for (const name of await readdir(profiles).catch(() => [])) {
    if (!machineName.test(name) || liveMachines.has(name) || reaped.some((r) => r.machine === name)) continue;
    await removeMachineProfiles(machineProfilesDir(name, profiles));
    log.info({ event: 'host.profiles.reaped', machine: name, profilesDir: machineProfilesDir(name, profiles) }, `removed the Nix profiles of systemd host ${name}: the machine is gone`);
  }
  return reaped;
}

async function reap(dir: string, ownership: MachineOwnership, profilesDir: string): Promise<ReapedMachine> {
  const running: ProcessIdentity[] = [];
  // Killing the leader (the machine's PID 1) ends every process in its PID namespace.
  for (const identity of [ownership.leader, ownership.nspawn]) if (identity && (await isRunning(identity))) running.push(identity);
  for (const identity of running) {
    try {
      process.kill(identity.pid, 'SIGKILL');
    } catch {
      // Gone between the check and the kill.
    }
  }
  for (let waited = 0; waited < 100 && (await anyRunning(running)); waited += 1) await sleep(100);
  if (existsSync(ownership.rootDir)) {
    const unmounted = await execa('umount', [ownership.rootDir], { reject: false });
    // A mount still busy (a process of it not yet gone) is detached now and freed when it is.
    if (unmounted.exitCode !== 0) await execa('umount', ['--lazy', ownership.rootDir], { reject: false });
  }
  await removeMachineProfiles(profilesDir);
  await rm(dir, { recursive: true, force: true });
  return { machine: ownership.machine, dir, owner: ownership.owner, killed: running.map((identity) => identity.pid) };
}

async function anyRunning(identities: readonly ProcessIdentity[]): Promise<boolean> {
  for (const identity of identities) if (await isRunning(identity)) return true;
  return false;
}
