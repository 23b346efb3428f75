import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fromRoot } from '../paths.ts';
import { openDatabase } from '../store/database.ts';
import { RoutePointers } from './route-pointers.ts';
import { migrateRouting } from './schema.ts';
import { SwitchHistory } from './switch-history.ts';

async function killWhileSwitching(url: string, userId: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, [fromRoot('hypervisor/routing/testing/switch-forever.ts'), url, userId], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`switch-forever exited early (${code})`)));
    child.stdout.once('data', () => resolve());
  });
  await sleep(afterMs);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('route pointers under SIGKILL', () => {
  it('a process killed mid-switch leaves the pointers before or after a switch, never split, and the history agrees', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pointers-crash-'));
    const url = `sqlite:${path.join(dir, 'h.db')}`;
    const userId = `crash-${process.pid}`;
    for (const afterMs of [0, 7, 23, 61, 150]) {
      await killWhileSwitching(url, userId, afterMs);
      const db = openDatabase(url);
      migrateRouting(db);
      const pointers = new RoutePointers(db).get(userId);
      expect([pointers.main, pointers.dev].sort()).toEqual(['dev', 'live']);
      const switches = new SwitchHistory(db).list({ userId, limit: 1_000_000 });
      expect(switches.length).toBeGreaterThan(0);
      // Every committed switch flipped main once: the pointers and the history moved together.
      expect(pointers.main).toBe(switches.length % 2 === 0 ? 'live' : 'dev');
      expect(switches[0]?.toRole).toBe(pointers.main);
      db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });
});
