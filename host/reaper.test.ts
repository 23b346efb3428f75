import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../hypervisor/log.ts';
import { mountsUnder } from '../hypervisor/podman/own-store.ts';
import { HostMachine } from './machine.ts';
import { isRunning, readOwnership, type MachineOwnership } from './owner.ts';
import { autoRootsDir } from './profiles.ts';
import { reapOrphanedMachines } from './reaper.ts';

interface Killed {
  name: string;
  dir: string;
  profile: string;
  storePath: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function mounted(dir: string): Promise<boolean> {
  return (await mountsUnder(dir)).includes(dir);
}

async function autoRootsInto(dir: string): Promise<string[]> {
  const links = await Promise.all((await readdir(autoRootsDir).catch(() => [])).map((root) => readlink(path.join(autoRootsDir, root)).catch(() => '')));
  return links.filter((target) => target.startsWith(`${dir}/`));
}

/** Boots a machine from a child process and reads what it made. */
async function bootInChild(): Promise<{ child: ReturnType<typeof spawn>; made: Killed }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, 'owner-to-kill.ts')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the owner exited (${code}) before its machine booted`))));
  const first = new Promise<string>((resolve) => lines.once('line', resolve));
  const made = JSON.parse(await Promise.race([first, exited])) as Killed;
  return { child, made };
}

describe('a systemd host whose owner dies', () => {
  const events: Record<string, unknown>[] = [];
  const log = createLogger('host-machine', { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) });
  let next: HostMachine | undefined;
  afterAll(async () => {
    await next?.stop();
  });

  it('powers off with its owner, and the next boot reaps its folder, mount, Nix profile and GC roots, saying so', async () => {
    const { child, made } = await bootInChild();
    const ownership = (await readOwnership(made.dir)) as MachineOwnership;
    expect(ownership.machine).toBe(made.name);
    expect(ownership.leader && (await isRunning(ownership.leader))).toBe(true);
    expect((await execa('nix-store', ['--query', '--roots', made.storePath])).stdout).toContain(made.profile);

    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    // The owner's death alone ends the machine: nothing else here stops it.
    for (let waited = 0; waited < 600 && ((await isRunning(ownership.leader!)) || (await isRunning(ownership.nspawn!))); waited += 1) await sleep(100);
    expect(await isRunning(ownership.leader!)).toBe(false);
    expect(await isRunning(ownership.nspawn!)).toBe(false);
    expect(existsSync(made.profile)).toBe(true);
    expect(await mounted(ownership.rootDir)).toBe(true);

    next = await HostMachine.boot({ log });
    const reaped = events.filter((event) => event.event === 'host.machine.reaped' && event.machine === made.name);
    expect(reaped).toHaveLength(1);
    expect(reaped[0]?.msg).toMatch(new RegExp(`reaped systemd host ${made.name}: its owner \\(pid ${child.pid}\\) is gone`));
    expect(existsSync(made.dir)).toBe(false);
    expect(await mounted(ownership.rootDir)).toBe(false);
    expect(existsSync(path.dirname(made.profile))).toBe(false);
    expect(await autoRootsInto(path.dirname(made.profile))).toEqual([]);
    expect((await execa('nix-store', ['--query', '--roots', made.storePath])).stdout).toBe('');
  }, 600_000);

  it("leaves a machine whose owner is alive alone, and stop() removes it with its profiles", async () => {
    expect(next).toBeDefined();
    const machine = next!;
    await execa('mkdir', ['-p', machine.profilesDir]);
    const reaped = await reapOrphanedMachines(log);
    expect(reaped.map((r) => r.machine)).not.toContain(machine.name);
    expect((await machine.exec(['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    await machine.stop();
    next = undefined;
    expect(existsSync(machine.dir)).toBe(false);
    expect(existsSync(machine.profilesDir)).toBe(false);
  }, 300_000);
});
