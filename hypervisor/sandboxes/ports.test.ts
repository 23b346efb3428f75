import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { allocatePort, isPortFree } from './ports.ts';
import { SandboxStore } from './store.ts';

describe('sandbox ports', () => {
  it('knows a bound loopback port is taken and a released one is free', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    expect(await isPortFree(port)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(await isPortFree(port)).toBe(true);
  });

  it('never hands out a port another sandbox has recorded', async () => {
    const first = await allocatePort(new Set());
    const reserved = new Set([first]);
    for (let i = 0; i < 20; i += 1) {
      const port = await allocatePort(reserved);
      expect(reserved.has(port)).toBe(false);
      reserved.add(port);
    }
  });

  it('refuses to record one port for two sandboxes (UNIQUE), and keeps ports across reopening', () => {
    const store = new SandboxStore(openDatabase('sqlite::memory:'));
    const base = { desired: 'running', state: 'stopped', spec: { runtime: 'process', image: 'x' }, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null } as const;
    store.insert({ ...base, userId: 'alice', role: 'live', port: 40001 });
    expect(() => store.insert({ ...base, userId: 'bob', role: 'live', port: 40001 })).toThrow(/UNIQUE/);
    store.insert({ ...base, userId: 'alice', role: 'dev', port: 40002 });
    expect([...store.reservedPorts()].sort()).toEqual([40001, 40002]);
    expect(store.get({ userId: 'alice', role: 'dev' })).toMatchObject({ port: 40002, spec: { runtime: 'process', image: 'x' } });
  });
});
