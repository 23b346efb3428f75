import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../log.ts';
import { registerWithPasskey } from '../auth/testing/auth-client.ts';
import { startAuthServer, type AuthServer } from '../auth/testing/auth-server.ts';
import { createSoftwarePasskey } from '../auth/testing/software-passkey.ts';
import { createProxy, type Proxy } from './proxy.ts';
import { createSessionGuard } from './session-guard.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';

/** The guard on a real loopback server, in front of a real proxy to a stand-in sandbox, with real sessions. */
describe('the session guard in front of the proxy', () => {
  let authServer: AuthServer;
  let sandbox: Upstream;
  let proxy: Proxy;
  let guarded: Server;
  let url: string;
  let session: string;
  beforeAll(async () => {
    authServer = await startAuthServer();
    sandbox = await startUpstream('live');
    proxy = createProxy({
      log: createLogger('session-guard-test', { write: () => undefined }),
      resolver: { target: () => ({ port: sandbox.port, role: 'live' }), roleOf: () => 'live', touch: () => undefined },
    });
    const guard = createSessionGuard({ auth: authServer.auth, proxy });
    guarded = createServer((req, res) => void guard.handleRequest(req, res, new URL(req.url ?? '/', authServer.origin)));
    guarded.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void guard.handleUpgrade(req, socket, head, new URL(req.url ?? '/', authServer.origin)));
    await new Promise<void>((resolve) => guarded.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(guarded.address() as AddressInfo).port}`;
    const registered = await registerWithPasskey(authServer, { username: `sw-${Date.now().toString(36)}`, passkey: createSoftwarePasskey({ origin: authServer.origin, rpId: 'localhost' }) });
    session = registered.session!;
  });
  afterAll(async () => {
    await proxy?.close();
    guarded?.closeAllConnections();
    await new Promise<void>((resolve) => (guarded ? guarded.close(() => resolve()) : resolve()));
    await sandbox?.close();
    await authServer?.close();
  });

  const get = async (path: string, headers: Record<string, string>) => {
    const res = await request(`${url}${path}`, { headers: { cookie: `choiros_session=${session}`, ...headers } });
    return { status: res.statusCode, body: await res.body.text() };
  };

  it('refuses (403) a service worker script fetch even with a valid session, so no sandbox script can control the login pages', async () => {
    const before = sandbox.requests.length;
    expect((await get('/sw.js', {})).status, 'the same fetch as an ordinary script').toBe(200);
    const refused = await get('/sw.js', { 'service-worker': 'script' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/service worker/);
    expect(sandbox.requests.length, 'only the ordinary fetch reached the sandbox').toBe(before + 1);
  });

  it('proxies a state-changing request only with a session and from the relying party origin, and never an admin path on a session', async () => {
    const post = async (path: string, headers: Record<string, string>) => {
      const res = await request(`${url}${path}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...headers } });
      await res.body.dump();
      return res.statusCode;
    };
    const cookie = `choiros_session=${session}`;
    const before = sandbox.requests.length;
    expect(await post('/api/runs', { cookie, origin: authServer.origin })).toBe(200);
    expect(await post('/api/runs', { cookie, origin: 'http://evil.example' }), 'a foreign origin').toBe(403);
    expect(await post('/api/runs', { cookie, 'sec-fetch-site': 'cross-site' }), 'a cross-site fetch without Origin').toBe(403);
    expect(await post('/api/runs', { origin: authServer.origin }), 'no session').toBe(401);
    expect(await post('/admin/sandboxes/someone/swap', { cookie, origin: authServer.origin }), 'an admin path').toBe(401);
    expect(sandbox.requests.length, 'only the same-origin request with a session reached the sandbox').toBe(before + 1);
  });

  it('lets a WebSocket through only with a session and from the relying party origin, and never on an admin path', async () => {
    /** The HTTP status a refused handshake got, or 101 once the socket opened through to the sandbox. */
    const upgrade = async (path: string, headers: Record<string, string>): Promise<number> => {
      const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${path}`, { headers });
      const outcome = await Promise.race([once(ws, 'open').then(() => 101), once(ws, 'unexpected-response').then(([, response]) => (response as IncomingMessage).statusCode ?? 0)]);
      // Abandoning a refused handshake: ws reports it as an error, then closes.
      ws.on('error', () => undefined);
      const closed = new Promise((resolve) => ws.once('close', resolve));
      ws.terminate();
      await closed;
      return outcome;
    };
    const cookie = `choiros_session=${session}`;
    expect(await upgrade('/ws', { cookie, origin: authServer.origin })).toBe(101);
    expect(await upgrade('/ws', { origin: authServer.origin }), 'no session').toBe(401);
    expect(await upgrade('/ws', { cookie, origin: 'http://evil.example' }), 'a foreign origin').toBe(403);
    expect(await upgrade('/admin/sandboxes', { cookie, origin: authServer.origin }), 'an admin path').toBe(401);
  });
});
