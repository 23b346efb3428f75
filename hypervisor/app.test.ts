import { describe, expect, it } from 'vitest';
import { request } from 'undici';
import { removeDir, startTestHypervisor, uniqueUser } from '../fixtures/test-hypervisor.ts';
import { processAlive } from './process-alive.ts';

describe('a started hypervisor', () => {
  it('on an IPv6 address, names its URL with the address in brackets, and serves there', async () => {
    const hv = await startTestHypervisor({ HYPERVISOR_HOST: '::1' });
    try {
      expect(hv.url).toBe(`http://[::1]:${hv.hypervisor.port}`);
      expect(hv.logs.find((line) => line.event === 'hypervisor.listening')).toMatchObject({ url: hv.url, port: hv.hypervisor.port });
      const health = await request(`${hv.url}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.dump();
    } finally {
      await hv.close();
      removeDir(hv.dir);
    }
  });

  it('on close, runs the clean-ups last registered first, with the database still open', async () => {
    const hv = await startTestHypervisor();
    const ran: string[] = [];
    const databaseOpen = () => hv.hypervisor.db.prepare('SELECT 1 AS one').get() !== undefined;
    try {
      hv.hypervisor.context.onClose(() => void ran.push(`first (database open: ${databaseOpen()})`));
      hv.hypervisor.context.onClose(async () => void ran.push(`second (database open: ${databaseOpen()})`));
    } finally {
      await hv.close();
      removeDir(hv.dir);
    }
    expect(ran).toEqual(['second (database open: true)', 'first (database open: true)']);
  });

  it('on close, leaves its sandboxes running unless told to stop them', async () => {
    const hv = await startTestHypervisor();
    const user = uniqueUser('keeps');
    let pid: number | null = null;
    try {
      const started = await hv.client.start(user, 'live');
      pid = started.pid;
      expect(pid).toEqual(expect.any(Number));
      await hv.close({ keepSandboxes: true });
      expect(processAlive(pid as number)).toBe(true);
      const health = await request(`http://127.0.0.1:${started.port}/health`);
      expect(health.statusCode).toBe(200);
      await health.body.dump();
    } finally {
      await hv.close();
      if (pid !== null && processAlive(pid)) process.kill(pid, 'SIGKILL');
      removeDir(hv.dir);
    }
  });
});
