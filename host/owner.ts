import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { processStartTicks } from './nspawn.ts';

/**
 * A process named so that a reused pid does not pass for it: its pid and its start time in clock
 * ticks since this kernel booted.
 */
export interface ProcessIdentity {
  pid: number;
  startTicks: string;
}

/**
 * Who a machine belongs to and which processes are its own, kept in the machine's folder. The owner
 * is the process that booted it: when that process is gone, nothing will stop the machine, so the
 * next boot on this machine reaps it (host/reaper.ts).
 */
export interface MachineOwnership {
  machine: string;
  owner: ProcessIdentity;
  nspawn?: ProcessIdentity;
  leader?: ProcessIdentity;
  /** The overlay's mount point, unmounted when the machine is reaped. */
  rootDir: string;
}

export const ownershipFile = 'owner.json';

export async function identify(pid: number): Promise<ProcessIdentity | undefined> {
  try {
    return { pid, startTicks: await processStartTicks(pid) };
  } catch {
    return undefined;
  }
}

/** True while the very process named is running (same pid, same start time). */
export async function isRunning(process: ProcessIdentity): Promise<boolean> {
  const now = await identify(process.pid);
  return now !== undefined && now.startTicks === process.startTicks;
}

export async function writeOwnership(dir: string, ownership: MachineOwnership): Promise<void> {
  await writeFile(path.join(dir, ownershipFile), `${JSON.stringify(ownership)}\n`);
}

/** The machine's record, or undefined for a folder without one (a machine being made, or not ours to judge). */
export async function readOwnership(dir: string): Promise<MachineOwnership | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, ownershipFile), 'utf8')) as MachineOwnership;
  } catch {
    return undefined;
  }
}
