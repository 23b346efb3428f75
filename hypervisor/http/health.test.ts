import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { routeOnLoopback } from './testing/route-on-loopback.ts';
import { healthRoute } from './health.ts';

const startedAgoS = 90;
let served: Awaited<ReturnType<typeof routeOnLoopback>>;
let url: string;

beforeAll(async () => {
  served = await routeOnLoopback(healthRoute({
    version: '0.1.0',
    runtime: 'podman',
    bootId: 'boot-1',
    startedAt: Date.now() - startedAgoS * 1000,
    counts: () => ({ running: 2, stopped: 1, failed: 0 }),
  }));
  url = served.url;
});

afterAll(() => served.close());

describe('GET /health', () => {
  it('reports uptime_s in whole seconds since the hypervisor started, and the sandbox counts as they are', async () => {
    const res = await request(`${url}/health`);
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'healthy', version: '0.1.0', runtime: 'podman', boot_id: 'boot-1', sandboxes: { running: 2, stopped: 1, failed: 0 } });
    expect(Number.isInteger(body.uptime_s), `uptime_s ${String(body.uptime_s)} is whole seconds`).toBe(true);
    // Started 90 s before the request; the test itself takes well under 10 minutes.
    expect(body.uptime_s).toBeGreaterThanOrEqual(startedAgoS);
    expect(body.uptime_s).toBeLessThan(startedAgoS + 600);
  });

  it('counts uptime_s as the whole seconds elapsed, rounded down: 90.6 s is 90', async () => {
    // A second source started 90.6 s before the request: the answer lies between the whole seconds
    // elapsed when it was sent and when it came back, whatever the machine's speed.
    const sent = Date.now();
    const startedAt = sent - 90_600;
    const second = await routeOnLoopback(healthRoute({ version: '0.1.0', runtime: 'podman', bootId: 'boot-2', startedAt, counts: () => ({ running: 0, stopped: 0, failed: 0 }) }));
    try {
      const res = await request(`${second.url}/health`);
      const body = (await res.body.json()) as { uptime_s: number };
      const back = Date.now();
      expect(body.uptime_s).toBeGreaterThanOrEqual(Math.floor((sent - startedAt) / 1000));
      expect(body.uptime_s).toBeLessThanOrEqual(Math.floor((back - startedAt) / 1000));
    } finally {
      await second.close();
    }
  });

  it('answers HEAD too, and leaves other methods and paths to the next handler', async () => {
    expect((await request(`${url}/health`, { method: 'HEAD' })).statusCode).toBe(200);
    for (const [method, path] of [['POST', '/health'], ['GET', '/healthz']] as const) {
      const res = await request(`${url}${path}`, { method });
      await res.body.dump();
      expect(res.statusCode, `${method} ${path}`).toBe(404);
    }
  });
});
