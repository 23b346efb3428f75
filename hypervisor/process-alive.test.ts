import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { processAlive } from './process-alive.ts';

/** The error process.kill throws for a pid, as the kernel would answer signal 0. */
function killAnswers(code: string): void {
  vi.spyOn(process, 'kill').mockImplementation(() => {
    throw Object.assign(new Error(`kill ${code}`), { code });
  });
}

describe('whether a process is alive', () => {
  afterEach(() => vi.restoreAllMocks());

  it('this process is alive; a child that has exited and been reaped is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    const exited = spawnSync(process.execPath, ['-e', '']);
    expect(processAlive(exited.pid)).toBe(false);
  });

  // Root (as tests run here) is never refused, so the kernel's EPERM is stood in for.
  it("counts a process that exists but belongs to someone else (EPERM) as alive, and a missing one (ESRCH) as not", () => {
    killAnswers('EPERM');
    expect(processAlive(4242)).toBe(true);
    killAnswers('ESRCH');
    expect(processAlive(4242)).toBe(false);
  });
});
