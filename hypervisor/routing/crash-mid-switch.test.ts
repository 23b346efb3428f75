import { afterAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { hypervisorEnv, removeDir, spawnHypervisor, type ChildHypervisor } from '../../fixtures/test-hypervisor.ts';
import { openDatabase } from '../store/database.ts';
import { RoutePointers, type Pointers } from './route-pointers.ts';
import { migrateRouting } from './schema.ts';
import { SwitchHistory, type SwitchRecord } from './switch-history.ts';
import { createUserSession, UserClient } from './testing/user-traffic.ts';
import type { PointersAnswer } from './testing/routing-admin.ts';

const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process' });
let hv: ChildHypervisor | undefined;
let client: UserClient | undefined;
let userId = '';

/** What a restarted hypervisor finds in its database. */
function stored(userId: string): { pointers: Pointers; switched: SwitchRecord[] } {
  const db = openDatabase(env.HYPERVISOR_DATABASE_URL as string);
  try {
    migrateRouting(db);
    return { pointers: new RoutePointers(db).get(userId), switched: new SwitchHistory(db).list({ userId, limit: 1000 }).filter((s) => s.outcome === 'switched') };
  } finally {
    db.close();
  }
}

async function killHard(target: ChildHypervisor): Promise<void> {
  target.child.kill('SIGKILL');
  expect(await target.exited).toBe('SIGKILL');
}

afterAll(async () => {
  await client?.close();
  if (hv && userId) {
    for (const role of ['live', 'dev']) await hv.admin('POST', `/admin/sandboxes/${userId}/${role}/stop`).catch(() => undefined);
  }
  if (hv && hv.child.exitCode === null) {
    hv.child.kill('SIGTERM');
    await hv.exited;
  }
  removeDir(dir);
});

describe('a hypervisor killed mid-switch', () => {
  it('leaves consistent pointers after restart: before the switch or after it, never split', async () => {
    hv = await spawnHypervisor(env);
    const session = createUserSession(env.HYPERVISOR_DATABASE_URL as string);
    userId = session.userId;
    const cookie = session.cookie;
    client = new UserClient(hv.url, cookie);
    for (const role of ['live', 'dev']) expect((await hv.admin('POST', `/admin/sandboxes/${userId}/${role}/start`)).status).toBe(200);
    const markers = { live: (await client.completedRun('', 'marker on live')).runId, dev: (await client.completedRun('/dev', 'marker on dev')).runId };

    const seen: string[] = [];
    for (const killAfterMs of [0, 150, 2, 250, 40]) {
      const before = stored(userId);
      // A slow request on the old main keeps the switch in its drain for about 400 ms.
      const inFlight = client.slowPost('/conductor/execute', { objective: 'in flight', desktop_id: 'routing' }, 400).catch(() => undefined);
      await sleep(30);
      const swap = hv.admin('POST', `/admin/sandboxes/${userId}/swap`, { reason: `killed after ${killAfterMs} ms` }).catch(() => undefined);
      await sleep(killAfterMs);
      await killHard(hv);
      await Promise.all([inFlight, swap]);

      const after = stored(userId);
      expect([after.pointers.main, after.pointers.dev].sort()).toEqual(['dev', 'live']);
      // The pointers and the switch history moved together: one more switch row exactly when main moved.
      const moved = after.pointers.main !== before.pointers.main;
      expect(after.switched.length).toBe(before.switched.length + (moved ? 1 : 0));
      if (moved) expect(after.switched[0]?.toRole).toBe(after.pointers.main);
      seen.push(moved ? (after.switched[0]?.drained === null ? 'after, mid-drain' : 'after') : 'before');

      hv = await spawnHypervisor(env);
      await client.close();
      client = new UserClient(hv.url, cookie);
      const served = await hv.admin<PointersAnswer>('GET', `/admin/sandboxes/${userId}/pointers`);
      expect(served.body).toMatchObject({ main: after.pointers.main, dev: after.pointers.dev });
      const reached = (await client.get(`/conductor/runs/${markers[after.pointers.main]}`)).status;
      expect(reached).toBe(200);
    }
    // The kills really landed on both sides of the commit, and at least once inside a switch.
    expect(seen).toContain('before');
    expect(seen).toContain('after, mid-drain');
  });
});
