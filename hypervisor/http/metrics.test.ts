import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { routeOnLoopback } from './testing/route-on-loopback.ts';
import { metricsRoute } from './metrics.ts';

let served: Awaited<ReturnType<typeof routeOnLoopback>>;

beforeAll(async () => {
  served = await routeOnLoopback(metricsRoute());
});

afterAll(() => served.close());

describe('GET /metrics', () => {
  it('answers GET /metrics with the registry in the Prometheus text format, never cached', async () => {
    const res = await request(`${served.url}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await res.body.text()).toContain('# TYPE process_resident_memory_bytes ');
  });

  it('takes only that path and that method: the rest goes to the next handler (here 404)', async () => {
    for (const [method, path] of [['GET', '/metrics/extra'], ['GET', '/metricsx'], ['POST', '/metrics'], ['DELETE', '/metrics']] as const) {
      const res = await request(`${served.url}${path}`, { method });
      await res.body.dump();
      expect(res.statusCode, `${method} ${path}`).toBe(404);
    }
  });
});
