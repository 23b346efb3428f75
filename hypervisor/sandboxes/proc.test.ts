import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { allPids, isSameProcessAlive, processCommandLine, processEnviron, processStartTime } from './proc.ts';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function started(command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { pid: number } {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  expect(child.pid).toBeDefined();
  return child as ChildProcess & { pid: number };
}

/** Clock ticks since boot now (USER_HZ is 100 on Linux): no process can have started later. */
const ticksNow = (): number => Math.ceil(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * 100) + 1;

describe('/proc readings', () => {
  it("read a process's start time in ticks since boot, also when its name holds spaces and parentheses", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'choiros-proc-'));
    dirs.push(dir);
    const oddName = path.join(dir, 'a) b (c');
    copyFileSync('/bin/sleep', oddName);
    const plain = started('/bin/sleep', ['30']);
    const odd = started(oddName, ['30']);
    const ours = Number(processStartTime(process.pid));
    for (const child of [plain, odd]) {
      const start = processStartTime(child.pid);
      expect(start, String(child.pid)).toMatch(/^\d+$/);
      expect(Number(start), 'started after this test process').toBeGreaterThanOrEqual(ours);
      expect(Number(start), 'started before now').toBeLessThanOrEqual(ticksNow());
      expect(isSameProcessAlive(child.pid, start ?? null)).toBe(true);
    }
    expect(processStartTime(odd.pid)).not.toBeUndefined();
    expect(Number(processStartTime(odd.pid))).toBeGreaterThanOrEqual(Number(processStartTime(plain.pid)));
  });

  it('never take another start time, a process that ended, or a zombie, for the process', async () => {
    const child = started('/bin/sleep', ['30']);
    const start = processStartTime(child.pid) ?? null;
    expect(isSameProcessAlive(child.pid, null), 'no recorded start time: the pid alone').toBe(true);
    expect(isSameProcessAlive(child.pid, String(Number(start) + 1)), 'a reused pid').toBe(false);
    // perl (Essential on Debian) forks a child that exits at once and never reaps it: the child stays a zombie. (A shell
    // that execs into sleep may reap its background child first, under load, and leave no zombie to read.)
    const parent = started('/usr/bin/perl', ['-e', '$| = 1; my $pid = fork(); exit 0 if $pid == 0; print "$pid\\n"; sleep 30;']);
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
    await vi.waitFor(() => expect(readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/\) Z /), { timeout: 10_000 });
    expect(isSameProcessAlive(zombie, null)).toBe(false);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(isSameProcessAlive(child.pid, start)).toBe(false);
    expect(processStartTime(child.pid)).toBeUndefined();
  });

  it("read a process's environment and command line whole, values with '=' included, and list it among all pids", () => {
    const child = started('/bin/sleep', ['30'], { CHOIROS_DATA_DIR: '/srv/sb/alice/live', DATABASE_URL: 'sqlite:/data/x.db?mode=rwc', EMPTY: '' });
    expect(processEnviron(child.pid)).toEqual({ CHOIROS_DATA_DIR: '/srv/sb/alice/live', DATABASE_URL: 'sqlite:/data/x.db?mode=rwc', EMPTY: '' });
    expect(processCommandLine(child.pid)).toEqual(['/bin/sleep', '30']);
    expect(allPids()).toContain(child.pid);
    expect(allPids()).toContain(process.pid);
    expect(processEnviron(2 ** 22 + 1)).toBeUndefined();
  });
});
