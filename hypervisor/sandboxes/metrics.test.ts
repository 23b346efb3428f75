import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { routeOnLoopback } from '../http/testing/route-on-loopback.ts';
import { metricsRoute } from '../http/metrics.ts';
import type { Role } from '../domain/role.ts';
import { reportSandboxes } from './metrics.ts';
import type { SandboxState } from './state.ts';

let served: Awaited<ReturnType<typeof routeOnLoopback>>;
let url: string;

beforeAll(async () => {
  served = await routeOnLoopback(metricsRoute());
  url = served.url;
});

afterAll(() => served.close());

/** The value of one choiros_sandboxes series on GET /metrics. */
async function sandboxesGauge(state: SandboxState, role: Role): Promise<number | undefined> {
  const text = await (await request(`${url}/metrics`)).body.text();
  const line = text.split('\n').find((entry) => entry.startsWith(`choiros_sandboxes{state="${state}",role="${role}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

const sandboxes = (...pairs: Array<[SandboxState, Role]>) => pairs.map(([state, role]) => ({ state, role }));

describe('choiros_sandboxes', () => {
  it('counts the sandboxes of every reporting manager by state and role, 0 for a pair none is in', async () => {
    const first = reportSandboxes(() => sandboxes(['running', 'live'], ['running', 'live'], ['running', 'dev'], ['failed', 'live']));
    const second = reportSandboxes(() => sandboxes(['running', 'live'], ['backoff', 'dev']));
    try {
      expect(await sandboxesGauge('running', 'live')).toBe(3);
      expect(await sandboxesGauge('running', 'dev')).toBe(1);
      expect(await sandboxesGauge('failed', 'live')).toBe(1);
      expect(await sandboxesGauge('backoff', 'dev')).toBe(1);
      expect(await sandboxesGauge('stopped', 'live')).toBe(0);
      expect(await sandboxesGauge('failed', 'dev')).toBe(0);
    } finally {
      first();
      second();
    }
  });

  it('stops counting a manager once it stops reporting (a closed hypervisor)', async () => {
    const stop = reportSandboxes(() => sandboxes(['stopping', 'dev'], ['stopping', 'dev']));
    expect(await sandboxesGauge('stopping', 'dev')).toBe(2);
    stop();
    expect(await sandboxesGauge('stopping', 'dev')).toBe(0);
  });
});

describe('GET /metrics', () => {
  it('answers GET only, as uncached Prometheus text', async () => {
    const res = await request(`${url}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['cache-control']).toBe('no-store');
    await res.body.dump();
    const post = await request(`${url}/metrics`, { method: 'POST' });
    expect(post.statusCode).toBe(404);
    await post.body.dump();
  });
});
