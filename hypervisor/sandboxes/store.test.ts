import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { SandboxStore } from './store.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'sandbox-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The store as a restarted hypervisor sees it: a new connection to the same SQLite file. */
const reopened = (file: string): SandboxStore => new SandboxStore(openDatabase(`sqlite:${file}`));

describe('the sandbox store', () => {
  it('keeps every field of an update across reopening, including one cleared back to null or 0', () => {
    const file = path.join(dir, 'fields.db');
    const key = { userId: 'alice', role: 'live' } as const;
    reopened(file).insert({ ...key, port: 40_101, desired: 'running', state: 'starting', spec: { runtime: 'process', image: 'process' }, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null });

    const failed = {
      port: 40_102,
      desired: 'stopped',
      state: 'failed',
      spec: { runtime: 'podman', image: 'sha256:abc', config: { SANDBOX_CONDUCTOR_STEP_MS: '50' } },
      containerId: 'c0ffee',
      pid: 4242,
      pidStart: '123456',
      restarts: 3,
      lastError: 'exited with code 1',
    } as const;
    reopened(file).update(key, failed);
    expect(reopened(file).get(key), 'every field written, read back by another connection').toMatchObject(failed);

    // A start that succeeded clears what the failure left: nulls and a zero are values to write, not "no change".
    reopened(file).update(key, { state: 'running', spec: { runtime: 'podman', image: 'sha256:abc' }, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null });
    const after = reopened(file).get(key);
    expect(after).toMatchObject({ state: 'running', containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null });
    expect(after?.spec, 'a spec updated without config has none').toEqual({ runtime: 'podman', image: 'sha256:abc' });
    expect(reopened(file).all().map((record) => `${record.userId}/${record.role}:${record.port}`)).toEqual(['alice/live:40102']);
  });

  it('forgets a deleted sandbox, and says whether there was one', () => {
    const store = reopened(path.join(dir, 'delete.db'));
    const base = { desired: 'running', state: 'stopped', spec: { runtime: 'process', image: 'process' }, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null } as const;
    store.insert({ ...base, userId: 'bob', role: 'live', port: 40_201 });
    store.insert({ ...base, userId: 'bob', role: 'dev', port: 40_202 });
    expect(store.delete({ userId: 'bob', role: 'live' })).toBe(true);
    expect(store.delete({ userId: 'bob', role: 'live' })).toBe(false);
    expect(store.get({ userId: 'bob', role: 'live' })).toBeUndefined();
    expect([...store.reservedPorts()]).toEqual([40_202]);
  });
});
