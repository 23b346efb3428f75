import { existsSync, mkdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { withBuildLock } from './build-lock.ts';

// The lock lives in the temp directory, machine-wide: these tests use a temp directory of their
// own (set before the module reads it) so that they never hold or remove a real build's lock.
const ownTmp = vi.hoisted(() => {
  process.env.TMPDIR = `${process.env.TMPDIR ?? '/tmp'}/choir-build-lock-test-${process.pid}`;
  return process.env.TMPDIR;
});
mkdirSync(ownTmp, { recursive: true });
const lockDir = path.join(tmpdir(), 'choir-sandbox-image.lock');
afterAll(() => rmSync(ownTmp, { recursive: true, force: true }));

describe('the sandbox image build lock', () => {
  test('the test uses its own temp directory', () => {
    expect(tmpdir()).toBe(ownTmp);
  });

  test('the work runs under the lock, its result is returned and the lock released, also when it fails', async () => {
    expect(await withBuildLock(async () => (existsSync(lockDir) ? 'locked' : 'unlocked'))).toBe('locked');
    expect(existsSync(lockDir)).toBe(false);
    await expect(withBuildLock(async () => Promise.reject(new Error('build failed')))).rejects.toThrow('build failed');
    expect(existsSync(lockDir)).toBe(false);
  });

  test('builds take turns: a second waits for the first, however long it takes', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const build = (name: string, ms: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      order.push(`${name} start`);
      await sleep(ms);
      order.push(`${name} end`);
      running -= 1;
    };
    await Promise.all([withBuildLock(build('first', 1500)), sleep(50).then(() => withBuildLock(build('second', 10)))]);
    expect(most).toBe(1);
    expect(order).toEqual(['first start', 'first end', 'second start', 'second end']);
  });

  test('a lock left by a build that died more than 5 minutes ago is taken over', async () => {
    mkdirSync(lockDir);
    const sixMinutesAgo = new Date(Date.now() - 6 * 60_000);
    utimesSync(lockDir, sixMinutesAgo, sixMinutesAgo);
    expect(await withBuildLock(async () => 'built')).toBe('built');
  });

  test('a lock that cannot be made for another reason than "taken" fails the build instead of running it unlocked', async () => {
    // Immutable: even root cannot make the lock directory in it.
    await execa('chattr', ['+i', ownTmp]);
    let ran = false;
    try {
      await expect(withBuildLock(async () => void (ran = true))).rejects.toThrow(/EPERM|EACCES/);
    } finally {
      await execa('chattr', ['-i', ownTmp]);
    }
    expect(ran).toBe(false);
  });
});
