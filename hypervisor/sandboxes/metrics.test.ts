import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { metricsRoute } from '../http/metrics.ts';
import type { Role } from '../domain/role.ts';
import { reportSandboxes } from './metrics.ts';
import type { SandboxState } from './state.ts';

let server: Server;
let url: string;

beforeAll(async () => {
  const route = metricsRoute();
  server = createServer((req, res) => {
    void route(req, res, new URL(req.url ?? '/', 'http://hypervisor.invalid')).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

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
