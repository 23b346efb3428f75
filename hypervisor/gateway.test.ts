import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { request } from 'undici';
import { WebSocket } from 'ws';
import { removeDir, startTestHypervisor, waitFor, type TestHypervisor } from '../fixtures/test-hypervisor.ts';
import { registerWithPasskey, type AuthTarget } from './auth/testing/auth-client.ts';
import { createSoftwarePasskey } from './auth/testing/software-passkey.ts';

interface Member {
  userId: string;
  session: string;
}

/** Requests as a logged-in browser would send them (cookie, Origin on writes). */
const as = (target: AuthTarget, member: Member | null) => ({
  async get(path: string, headers: Record<string, string> = {}) {
    const res = await request(`${target.url}${path}`, { headers: { ...(member ? { cookie: `choiros_session=${member.session}` } : {}), ...headers } });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  },
  async post(path: string, body: unknown, origin: string | null = target.origin) {
    const res = await request(`${target.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}), ...(member ? { cookie: `choiros_session=${member.session}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, json: () => JSON.parse(text) as Record<string, unknown> };
  },
  webSocket(path: string, origin: string | null = target.origin) {
    return new WebSocket(`${target.url.replace(/^http/, 'ws')}${path}`, { headers: { ...(origin ? { origin } : {}), ...(member ? { cookie: `choiros_session=${member.session}` } : {}) } });
  },
});

/** The HTTP status a refused WebSocket handshake got; the abandoned socket is cleaned up. */
async function refusal(socket: WebSocket): Promise<number> {
  const [, response] = (await once(socket, 'unexpected-response')) as [unknown, { statusCode: number }];
  const abandoned = once(socket, 'error');
  socket.terminate();
  await abandoned;
  return response.statusCode;
}

async function completedRun(client: ReturnType<typeof as>, prefix: string, objective: string): Promise<string> {
  const started = await client.post(`${prefix}/conductor/execute`, { objective, desktop_id: 'desktop-1' });
  expect(started.status).toBe(202);
  const runId = String(started.json().run_id);
  await waitFor(`run ${runId}`, async () => ((await client.get(`${prefix}/conductor/runs/${runId}`)).json().status === 'completed' ? true : undefined), 30_000);
  return runId;
}

describe('the hypervisor serves each user their own sandboxes through the session-guarded proxy', () => {
  let hv: TestHypervisor;
  let target: AuthTarget;
  let alice: Member;
  let bob: Member;
  beforeAll(async () => {
    hv = await startTestHypervisor();
    target = { url: hv.url, origin: `http://localhost:${hv.hypervisor.port}` };
    const register = async (username: string): Promise<Member> => {
      const reply = await registerWithPasskey(target, { username, passkey: createSoftwarePasskey({ origin: target.origin, rpId: 'localhost' }) });
      expect(reply.status).toBe(200);
      return { userId: String(reply.body.user_id), session: reply.session! };
    };
    alice = await register(`alice-${Date.now().toString(36)}`);
    bob = await register(`bob-${Date.now().toString(36)}`);
  });
  afterAll(async () => {
    await hv?.close();
    if (hv) removeDir(hv.dir);
  });

  it("starts the user's live sandbox on demand and serves its desktop page at /", async () => {
    const page = await as(target, alice).get('/', { accept: 'text/html' });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Objective');
    expect(hv.hypervisor.sandboxes.get({ userId: alice.userId, role: 'live' })?.status).toBe('running');
    const dev = await as(target, alice).get('/dev/conductor/runs');
    expect(dev.status).toBe(200);
    expect(hv.hypervisor.sandboxes.get({ userId: alice.userId, role: 'dev' })?.status).toBe('running');
  });

  it("keeps one user's runs invisible to another, on live and on dev", async () => {
    const liveRun = await completedRun(as(target, alice), '', 'alice live report');
    const devRun = await completedRun(as(target, alice), '/dev', 'alice dev report');
    const bobLive = (await as(target, bob).get('/conductor/runs')).json().runs as { run_id: string }[];
    const bobDev = (await as(target, bob).get('/dev/conductor/runs')).json().runs as { run_id: string }[];
    const aliceLive = (await as(target, alice).get('/conductor/runs')).json().runs as { run_id: string }[];
    expect(aliceLive.map((r) => r.run_id)).toContain(liveRun);
    expect(bobLive.map((r) => r.run_id)).not.toContain(liveRun);
    expect(bobDev.map((r) => r.run_id)).not.toContain(devRun);
    expect((await as(target, bob).get(`/conductor/runs/${liveRun}`)).status).toBe(404);
    expect((await as(target, bob).get(`/conductor/runs/${liveRun}`, { 'x-choiros-user-id': alice.userId })).status).toBe(404);
  });

  it('grants a session cookie nothing on the admin API', async () => {
    expect((await as(target, alice).get('/admin/sandboxes')).status).toBe(401);
    expect((await as(target, alice).post(`/admin/sandboxes/${bob.userId}/live/stop`, {})).status).toBe(401);
    expect(hv.hypervisor.sandboxes.get({ userId: bob.userId, role: 'live' })?.status).toBe('running');
  });

  it('sends an unauthenticated browser to /login and answers an API client 401', async () => {
    const browser = await as(target, null).get('/', { accept: 'text/html' });
    expect([browser.status, browser.headers.location]).toEqual([303, '/login']);
    expect((await as(target, null).get('/conductor/runs')).status).toBe(401);
  });

  it('refuses a cross-site write through the proxy (Origin check)', async () => {
    const forged = await as(target, alice).post('/conductor/execute', { objective: 'csrf', desktop_id: 'd' }, 'http://evil.example');
    expect(forged.status).toBe(403);
  });

  it('relays the WebSocket only for a session, from the relying party origin', async () => {
    expect(await refusal(as(target, null).webSocket('/ws'))).toBe(401);
    expect(await refusal(as(target, alice).webSocket('/ws', 'http://evil.example'))).toBe(403);
    const socket = as(target, alice).webSocket('/dev/ws');
    const greeting = await once(socket, 'message');
    expect(JSON.parse(String(greeting[0]))).toMatchObject({ type: 'pong' });
    socket.close();
    await once(socket, 'close');
  });

  it('tells the sandbox the scheme clients use, from the relying party origin (X-Forwarded-Proto http, no colon)', async () => {
    const received = (await as(target, alice).get('/diagnostics/received')).json() as { forwarding: Record<string, string | null> };
    expect(received.forwarding['x-forwarded-proto']).toBe('http');
  });

  it('starts a stopped sandbox again on the next request', async () => {
    expect((await hv.admin('POST', `/admin/sandboxes/${alice.userId}/live/stop`)).status).toBe(200);
    const again = await as(target, alice).get('/conductor/runs');
    expect(again.status).toBe(200);
    expect(hv.hypervisor.sandboxes.get({ userId: alice.userId, role: 'live' })?.status).toBe('running');
  });
});

describe('hypervisor shutdown with relayed WebSockets open', () => {
  it('closes them with 1001 instead of waiting for the clients to leave', async () => {
    const hv = await startTestHypervisor();
    try {
      const target = { url: hv.url, origin: `http://localhost:${hv.hypervisor.port}` };
      const reply = await registerWithPasskey(target, { username: 'leaving', passkey: createSoftwarePasskey({ origin: target.origin, rpId: 'localhost' }) });
      const socket = as(target, { userId: String(reply.body.user_id), session: reply.session! }).webSocket('/ws');
      await once(socket, 'message');
      const closed = once(socket, 'close');
      await hv.close();
      const [code, reason] = await closed;
      expect([code, String(reason)]).toEqual([1001, 'the hypervisor is shutting down']);
    } finally {
      await hv.close();
      removeDir(hv.dir);
    }
  });
});

describe('a hypervisor behind a trusted reverse proxy, allowing one relayed WebSocket per user', () => {
  let hv: TestHypervisor;
  let target: AuthTarget;
  let member: Member;
  beforeAll(async () => {
    hv = await startTestHypervisor({ HYPERVISOR_WEBSOCKETS_PER_USER: '1', HYPERVISOR_TRUSTED_PROXIES: '127.0.0.1' });
    target = { url: hv.url, origin: `http://localhost:${hv.hypervisor.port}` };
    const reply = await registerWithPasskey(target, { username: 'one-socket', passkey: createSoftwarePasskey({ origin: target.origin, rpId: 'localhost' }) });
    member = { userId: String(reply.body.user_id), session: reply.session! };
  });
  afterAll(async () => {
    await hv?.close();
    if (hv) removeDir(hv.dir);
  });

  it("tells the sandbox the client address the trusted proxy names (HYPERVISOR_TRUSTED_PROXIES)", async () => {
    const received = (await as(target, member).get('/diagnostics/received', { 'x-forwarded-for': '203.0.113.9' })).json() as { forwarding: Record<string, string | null> };
    expect(received.forwarding['x-forwarded-for']).toBe('203.0.113.9');
  });

  it('closes the WebSocket past the per-user cap (HYPERVISOR_WEBSOCKETS_PER_USER) with 1008, while the total has room', async () => {
    const first = as(target, member).webSocket('/ws');
    await once(first, 'message');
    const second = as(target, member).webSocket('/ws');
    const [code] = (await once(second, 'close')) as [number];
    expect(code).toBe(1008);
    first.close();
    await once(first, 'close');
  });
});
