import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { hypervisorEnv, removeDir, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { createUserSession, ReconnectingSocket, startHttpLoop, UserClient } from './testing/user-traffic.ts';
import type { pointersView, switchResultView, switchView } from './views.ts';

type SwapAnswer = ReturnType<typeof switchResultView>;

let hv: TestHypervisor;
let client: UserClient;
let userId: string;
let cookie: string;

beforeAll(async () => {
  const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process' });
  hv = await startTestHypervisor({}, { dir, env });
  ({ userId, cookie } = createUserSession(env.HYPERVISOR_DATABASE_URL as string));
  client = new UserClient(hv.url, cookie);
  for (const role of ['live', 'dev']) expect((await hv.admin('POST', `/admin/sandboxes/${userId}/${role}/start`)).status).toBe(200);
});

afterAll(async () => {
  await client?.close();
  await hv?.close();
  if (hv) removeDir(hv.dir);
});

describe('route swap under continuous traffic', () => {
  it('20 swaps back and forth give 0 failed HTTP requests, every in-flight request completes, and WebSocket clients see a clean close and reconnect', async () => {
    // A run on each slot tells which slot the main route reaches.
    const onLive = await client.completedRun('', 'marker on live');
    const onDev = await client.completedRun('/dev', 'marker on dev');
    const mainReaches = async (): Promise<'live' | 'dev'> => ((await client.get(`/conductor/runs/${onLive.runId}`)).status === 200 ? 'live' : 'dev');
    expect(await mainReaches()).toBe('live');
    expect((await client.get(`/dev/conductor/runs/${onDev.runId}`)).status).toBe(200);

    const loop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 2, maxMs: 120_000 });
    const socket = new ReconnectingSocket(`${hv.url.replace(/^http/, 'ws')}/ws`, cookie, 40);
    await socket.greeted(1);

    const slowRequests: Array<Promise<{ status: number; body: string }>> = [];
    const answers: SwapAnswer[] = [];
    for (let i = 0; i < 20; i += 1) {
      // A request still uploading on the old target when the switch happens: drain must let it finish.
      slowRequests.push(client.slowPost('/conductor/execute', { objective: `in flight during swap ${i}`, desktop_id: 'routing' }, 300));
      await sleep(60);
      const swapped = await hv.admin<SwapAnswer>('POST', `/admin/sandboxes/${userId}/swap`, { reason: `swap ${i} under load` });
      expect(swapped.status, JSON.stringify(swapped.body)).toBe(200);
      answers.push(swapped.body);
      expect(await mainReaches()).toBe(swapped.body.main);
      await socket.greeted(i + 2);
    }
    const loopResult = await loop.stop();
    const socketLog = await socket.stop();
    const slow = await Promise.all(slowRequests);

    expect(loopResult.failures).toEqual([]);
    expect(loopResult.failed).toBe(0);
    expect(loopResult.ok).toBeGreaterThan(200);
    expect(slow.map((answer) => answer.status)).toEqual(Array(20).fill(202));
    expect(answers.map((answer) => answer.main)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 'dev' : 'live')));
    expect(answers.every((answer) => answer.drained)).toBe(true);
    // How long each drain waited for the slow request is a figure of `npm run bench -- routing`.
    expect(socketLog.closes).toEqual(Array(20).fill({ code: 1012, reason: 'route switched' }));
    expect(socketLog.greeted).toBe(21);

    const history = await hv.admin<{ switches: Array<ReturnType<typeof switchView>> }>('GET', `/admin/sandboxes/${userId}/switches?limit=20`);
    expect(history.body.switches).toHaveLength(20);
    for (const record of history.body.switches) {
      expect(record).toMatchObject({ action: 'swap', actor: 'admin', outcome: 'switched', drained: true });
      expect(record.reason).toMatch(/^swap \d+ under load$/);
      expect(record.duration_ms).toBeGreaterThan(0);
    }
    const pointers = await hv.admin<ReturnType<typeof pointersView>>('GET', `/admin/sandboxes/${userId}/pointers`);
    expect(pointers.body).toMatchObject({ main: 'live', dev: 'dev' });
  });

  it('a swap whose new target fails its health check changes nothing, says why, and main keeps serving', async () => {
    const broken = await hv.admin('POST', `/admin/sandboxes/${userId}/dev/start`, { config: { SANDBOX_CONDUCTOR_STEP_MS: 'abc' } });
    expect(broken.status).toBe(503);
    const loop = startHttpLoop(client, '/conductor/runs?limit=1', { workers: 1, maxMs: 60_000 });
    const refused = await hv.admin<{ error: string; code: string }>('POST', `/admin/sandboxes/${userId}/swap`, { reason: 'dev is broken' });
    const loopResult = await loop.stop();
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('health_check_failed');
    expect(refused.body.error).toMatch(/dev slot of user "u[0-9a-f]+" failed its check, so main still points to live: .*SANDBOX_CONDUCTOR_STEP_MS="abc" is invalid/s);
    expect(loopResult.failed).toBe(0);
    expect(loopResult.ok).toBeGreaterThan(0);
    const pointers = await hv.admin<ReturnType<typeof pointersView>>('GET', `/admin/sandboxes/${userId}/pointers`);
    expect(pointers.body).toMatchObject({ main: 'live', dev: 'dev' });
    const [last] = (await hv.admin<{ switches: Array<ReturnType<typeof switchView>> }>('GET', `/admin/sandboxes/${userId}/switches?limit=1`)).body.switches;
    expect(last).toMatchObject({ outcome: 'refused', from: { role: 'live' }, to: { role: 'dev' }, reason: 'dev is broken' });
  });
});
