import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { removeDir, sandboxProcesses, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { registerWithPasskey } from '../auth/testing/auth-client.ts';
import { createSoftwarePasskey } from '../auth/testing/software-passkey.ts';
import { metricsRegistry } from '../metrics-registry.ts';

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A hypervisor whose crash backoff outlasts the test (30 s), so the restart after a kill -9 is the
 * on-demand start of the next proxied request, not the backoff timer; and a logged-in user.
 */
async function hypervisorWithUser(restartLimit: number): Promise<{ hv: TestHypervisor; userId: string; get(path: string): Promise<number> }> {
  const hv = await startTestHypervisor({ SANDBOX_RESTART_BACKOFF_MS: '30000', SANDBOX_RESTART_LIMIT: String(restartLimit) });
  cleanups.push(() => removeDir(hv.dir));
  cleanups.push(() => hv.close());
  const origin = `http://localhost:${hv.hypervisor.port}`;
  const reply = await registerWithPasskey({ url: hv.url, origin }, { username: `crashy-${Date.now().toString(36)}`, passkey: createSoftwarePasskey({ origin, rpId: 'localhost' }) });
  expect(reply.status).toBe(200);
  const session = reply.session as string;
  return {
    hv,
    userId: String(reply.body.user_id),
    async get(path) {
      const res = await request(`${hv.url}${path}`, { headers: { cookie: `choiros_session=${session}` } });
      await res.body.dump();
      return res.statusCode;
    },
  };
}

async function crashRestarts(): Promise<number> {
  const values = (await metricsRegistry.getSingleMetric('choiros_sandbox_restarts_total')?.get())?.values ?? [];
  return values.find((v) => v.labels.runtime === 'process' && v.labels.role === 'live' && v.labels.reason === 'crash')?.value ?? 0;
}

/** kill -9 the user's live sandbox and wait until the manager has seen the crash. */
async function killLive(hv: TestHypervisor, userId: string): Promise<void> {
  const pid = hv.hypervisor.sandboxes.get({ userId, role: 'live' })?.pid;
  expect(pid).toBeTypeOf('number');
  const from = hv.logs.length;
  process.kill(pid as number, 'SIGKILL');
  await hv.waitForLog((line) => line.event === 'sandbox.crash' && line.user === userId, 30_000, from);
}

describe('a crash restarted by the next request counts as a crash', () => {
  it('kill -9 then one proxied GET: restarts and choiros_sandbox_restarts_total{reason="crash"} go up', async () => {
    const { hv, userId, get } = await hypervisorWithUser(5);
    expect(await get('/conductor/runs')).toBe(200);
    const before = await crashRestarts();
    await killLive(hv, userId);
    expect(await get('/conductor/runs')).toBe(200);
    expect(hv.hypervisor.sandboxes.get({ userId, role: 'live' })).toMatchObject({ status: 'running', restarts: 1 });
    expect(await crashRestarts()).toBe(before + 1);
    expect(hv.logs.some((line) => line.event === 'sandbox.restart' && line.user === userId && line.reason === 'crash')).toBe(true);
  });

  it('a sandbox that keeps crashing while in use reaches SANDBOX_RESTART_LIMIT and stays failed', async () => {
    const { hv, userId, get } = await hypervisorWithUser(2);
    expect(await get('/conductor/runs')).toBe(200);
    for (let crash = 1; crash <= 2; crash += 1) {
      await killLive(hv, userId);
      expect(await get('/conductor/runs')).toBe(200);
    }
    await killLive(hv, userId);
    const failed = await hv.waitForLog((line) => line.event === 'sandbox.failed' && line.user === userId);
    expect(failed.error).toMatch(/crashed 3 times in a row \(restart limit 2\)/);
    // Requests no longer start it: a sandbox past its restart limit waits for an admin restart.
    expect(await get('/conductor/runs')).toBe(503);
    expect(hv.hypervisor.sandboxes.get({ userId, role: 'live' })).toMatchObject({ status: 'failed', restarts: 2 });
    expect(sandboxProcesses(hv.env.SANDBOX_DATA_ROOT as string)).toEqual([]);
  });
  it('an explicit start of a sandbox failed past SANDBOX_RESTART_LIMIT (a release, as slot control starts it) begins its crash count afresh: its next crash is restarted again', async () => {
    const { hv, userId, get } = await hypervisorWithUser(1);
    expect(await get('/conductor/runs')).toBe(200);
    await killLive(hv, userId);
    expect(await get('/conductor/runs')).toBe(200);
    await killLive(hv, userId);
    await hv.waitForLog((line) => line.event === 'sandbox.failed' && line.user === userId);
    expect(await get('/conductor/runs')).toBe(503);
    // A failed sandbox has no process to stop: the start itself must reset the count.
    await hv.hypervisor.sandboxes.start({ userId, role: 'live' }, undefined, 'release');
    await killLive(hv, userId);
    expect(await get('/conductor/runs'), 'one crash after the release start is within the limit of 1').toBe(200);
  });
});
