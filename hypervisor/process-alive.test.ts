import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processAlive } from './process-alive.ts';

/** Above the kernel's largest pid_max (2^22), so no process can have it. */
const pidNoProcessHas = 2 ** 22 + 12_345;
const nobody = 65_534;

/**
 * Runs `read` with this test process's effective uid set to `uid`, then back to root. Tests run as
 * root, whom the kernel never refuses a signal; as nobody, signal 0 to root's init answers EPERM.
 * Vitest runs each test file in its own process, so nothing else shares the switch.
 */
function asEffectiveUser<T>(uid: number, read: () => T): T {
  const { seteuid, geteuid } = process;
  if (!seteuid || !geteuid) throw new Error('this test needs POSIX seteuid (Linux)');
  if (geteuid() !== 0) throw new Error(`this test needs root to act as uid ${uid} (it runs as ${geteuid()})`);
  seteuid(uid);
  try {
    return read();
  } finally {
    seteuid(0);
  }
}

describe('whether a process is alive', () => {
  it('this process is alive; a child that has exited and been reaped is not', () => {
    expect(processAlive(process.pid)).toBe(true);
    const exited = spawnSync(process.execPath, ['-e', '']);
    expect(processAlive(exited.pid)).toBe(false);
  });

  it('counts a process that exists but belongs to someone else (EPERM) as alive, and a missing one (ESRCH) as not', () => {
    const seen = asEffectiveUser(nobody, () => ({ init: processAlive(1), missing: processAlive(pidNoProcessHas) }));
    expect(seen).toEqual({ init: true, missing: false });
  });
});
