import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';

let target: TestHypervisor;

beforeAll(async () => {
  target = await startTestHypervisor();
});

afterAll(async () => {
  await target.close();
  removeDir(target.dir);
});

async function call(method: string, path: string, authorization?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(`${target.url}${path}`, { method, headers: authorization ? { authorization } : {} });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('admin API access', () => {
  it.each([
    ['GET', '/admin/sandboxes'],
    ['POST', '/admin/sandboxes/alice/live/start'],
    ['POST', '/admin/sandboxes/alice/live/stop'],
    ['POST', '/admin/sandboxes/alice/live/restart'],
    ['GET', '/admin/no-such-route'],
  ])('%s %s without a token is 401', async (method, path) => {
    const answer = await call(method, path);
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatch(/Authorization: Bearer/);
  });

  it.each([['Bearer wrong-token-of-some-length'], ['Bearer '], ['Basic dXNlcjpwYXNz']])('a wrong credential (%s) is refused', async (authorization) => {
    const answer = await call('GET', '/admin/sandboxes', authorization);
    expect(answer.status).toBe(authorization === 'Bearer wrong-token-of-some-length' ? 403 : 401);
  });

  it('a token that only shares a prefix with the real one is 403', async () => {
    expect((await call('GET', '/admin/sandboxes', `Bearer ${target.token.slice(0, -1)}`)).status).toBe(403);
    expect((await call('GET', '/admin/sandboxes', `Bearer ${target.token}x`)).status).toBe(403);
  });

  it('the right token lists the sandboxes', async () => {
    const answer = await target.admin('GET', '/admin/sandboxes');
    expect(answer).toEqual({ status: 200, body: [] });
  });
});

describe('admin API input', () => {
  it("an invalid role is 400 \"role must be 'live' or 'dev'\"", async () => {
    for (const route of ['/admin/sandboxes/alice/prod/start', '/admin/sandboxes/alice/LIVE/stop', '/admin/sandboxes/alice/x/restart']) {
      expect(await target.admin('POST', route)).toEqual({ status: 400, body: { error: "role must be 'live' or 'dev'" } });
    }
  });

  it.each([
    ['Alice', 'uppercase'],
    ['.hidden', 'a leading dot'],
    ['..%2F..%2Fetc', 'an encoded path escape'],
    ['a%20b', 'a space'],
    ['-alice', 'a leading dash'],
    ['a'.repeat(64), '64 characters'],
    ['al%00ice', 'a NUL byte'],
  ])('a malformed user id (%s: %s) is 400 naming the id and the rule', async (userId, _why) => {
    const answer = await target.admin<{ error: string; user_id: string; rule: string }>('POST', `/admin/sandboxes/${userId}/live/start`);
    expect(answer.status).toBe(400);
    expect(answer.body.user_id).toBe(decodeURIComponent(userId));
    expect(answer.body.error).toContain(JSON.stringify(decodeURIComponent(userId)));
    expect(answer.body.error).toMatch(/lowercase letters, digits/);
  });

  it('a malformed start body is 400 naming the problem', async () => {
    const answer = await target.admin('POST', '/admin/sandboxes/alice/live/start', { runtime: 'docker' });
    expect(answer).toEqual({ status: 400, body: { error: "runtime must be 'process' or 'podman'" } });
    const config = await target.admin('POST', '/admin/sandboxes/alice/live/start', { config: { OPENAI_API_KEY: 'sk-x' } });
    expect(config.status).toBe(400);
    expect(config.body).toMatchObject({ variable: 'OPENAI_API_KEY' });
    const image = await target.admin<{ error: string }>('POST', '/admin/sandboxes/alice/live/start', { image: '--network=host' });
    expect(image.status).toBe(400);
    expect(image.body.error).toMatch(/^image must be an image reference such as localhost\/choir-sandbox/);
  });

  it('a start body may hold only runtime, image and config, and config only string values: anything else is 400 naming it', async () => {
    const unknown = await target.admin<{ error: string }>('POST', '/admin/sandboxes/alice/live/start', { runtime: 'process', colour: 'red' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatch(/unknown field\(s\) colour/);
    for (const config of [{ SANDBOX_VERSION: 3 }, ['SANDBOX_VERSION'], 'SANDBOX_VERSION=3', null]) {
      expect(await target.admin('POST', '/admin/sandboxes/alice/live/start', { config }), JSON.stringify(config)).toEqual({ status: 400, body: { error: 'config must be an object of string values' } });
    }
    expect(target.hypervisor.sandboxes.get({ userId: 'alice', role: 'live' })).toBeUndefined();
  });

  it('stopping a sandbox that never existed is 404, an unknown admin route is 404, a wrong method 405', async () => {
    expect((await target.admin('POST', '/admin/sandboxes/nobody/live/stop')).status).toBe(404);
    expect((await target.admin('GET', '/admin/nothing-here')).status).toBe(404);
    expect((await target.admin('GET', '/admin/sandboxes/alice/live/start')).status).toBe(405);
  });
});

describe('health and metrics', () => {
  it('GET /health has the contract shape, no token needed', async () => {
    const answer = await call('GET', '/health');
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      status: 'healthy',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      runtime: 'process',
      uptime_s: expect.any(Number),
      boot_id: target.hypervisor.bootId,
      sandboxes: { running: 0, stopped: 0, failed: 0 },
    });
  });

  it('GET /metrics is Prometheus text with the sandbox metrics', async () => {
    const res = await request(`${target.url}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = await res.body.text();
    for (const name of ['choiros_sandboxes', 'choiros_sandbox_start_duration_seconds', 'choiros_sandbox_stop_duration_seconds', 'choiros_sandbox_restarts_total', 'process_resident_memory_bytes']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    expect(text).toMatch(/choiros_sandboxes\{state="running",role="live"\} \d+/);
  });
});

describe('admin API sandbox views', () => {
  it('a sandbox never started is 404; a started one reads back in the contract shape, and as stopped once stopped', async () => {
    expect((await target.admin('GET', '/admin/sandboxes/viewer/live')).status).toBe(404);
    const started = await target.admin<Record<string, unknown>>('POST', '/admin/sandboxes/viewer/live/start', {});
    expect(started).toEqual({
      status: 200,
      body: { user_id: 'viewer', role: 'live', port: expect.any(Number), status: 'running', idle_secs: 0, state: 'running', desired: 'running', runtime: 'process', image: expect.any(String), container_id: null, pid: expect.any(Number), restarts: 0, last_error: null },
    });
    const read = await target.admin<Record<string, unknown>>('GET', '/admin/sandboxes/viewer/live');
    expect(read.body).toMatchObject({ user_id: 'viewer', role: 'live', port: started.body.port, pid: started.body.pid, status: 'running' });
    const listed = await target.admin<Array<Record<string, unknown>>>('GET', '/admin/sandboxes');
    expect(listed.body.filter((view) => view.user_id === 'viewer').map((view) => view.role)).toEqual(['live']);
    const stopped = await target.admin<Record<string, unknown>>('POST', '/admin/sandboxes/viewer/live/stop');
    expect(stopped).toMatchObject({ status: 200, body: { user_id: 'viewer', role: 'live', port: started.body.port, status: 'stopped', desired: 'stopped', pid: null } });
  });
});

describe('admin API start body', () => {
  it('an image given in the start body replaces the recorded one, and the sandbox reads back with it; a later start without one keeps it', async () => {
    const image = 'localhost/choir-sandbox:9.9.9-start-body';
    const started = await target.admin<{ image: string; runtime: string }>('POST', '/admin/sandboxes/imaged/live/start', { runtime: 'process', image });
    expect(started).toMatchObject({ status: 200, body: { image, runtime: 'process' } });
    await target.admin('POST', '/admin/sandboxes/imaged/live/stop');
    const again = await target.admin<{ image: string }>('POST', '/admin/sandboxes/imaged/live/start', {});
    expect(again).toMatchObject({ status: 200, body: { image } });
    await target.admin('POST', '/admin/sandboxes/imaged/live/stop');
  });
});
