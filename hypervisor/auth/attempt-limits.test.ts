import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { connect } from 'node:net';
import { Agent } from 'undici';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { loginWithPasskey, postJson, registerWithPasskey, type AuthTarget } from './testing/auth-client.ts';
import { startAuthServer, type AuthServer } from './testing/auth-server.ts';
import { createSoftwarePasskey, type SoftwarePasskey } from './testing/software-passkey.ts';

const unique = (): string => `user-${Math.random().toString(36).slice(2, 8)}`;
const wrongCode = 'aaaaa-bbbbb-ccccc-ddddd';

/** POSTs each body on its own connection, all written in one go once every connection is open; the statuses. */
async function simultaneousPosts(target: AuthTarget, path: string, bodies: unknown[]): Promise<number[]> {
  const { hostname, port } = new URL(target.url);
  const sockets = await Promise.all(
    bodies.map(async () => {
      const socket = connect({ host: hostname, port: Number(port) });
      await once(socket, 'connect');
      return socket;
    }),
  );
  const answers = sockets.map(async (socket) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    await once(socket, 'close');
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
  });
  sockets.forEach((socket, index) => {
    const body = JSON.stringify(bodies[index]);
    socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\norigin: ${target.origin}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return Promise.all(answers);
}

/** A client connecting from another loopback address (127.0.0.0/8 is all local on Linux). */
const from = (address: string): Agent => new Agent({ localAddress: address });

describe('failed-attempt limits: counted before the slow work, aimed at the attacker, not the victim', () => {
  let server: AuthServer;
  const agents: Agent[] = [];
  const agent = (address: string): Agent => {
    const made = from(address);
    agents.push(made);
    return made;
  };
  afterEach(async () => {
    await server.close();
    for (const made of agents.splice(0)) await made.close();
  });

  it('counts concurrent wrong recovery codes: of 12 at once for one account, only the limit (5) are evaluated', async () => {
    server = await startAuthServer({ limits: { recoveryByAccount: { max: 5, windowMs: 60_000 }, recoveryByClient: { max: 100, windowMs: 60_000 } } });
    const username = unique();
    await registerWithPasskey(server, { username, passkey: createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' }) });
    const replies = await Promise.all(Array.from({ length: 12 }, () => postJson(server, '/auth/recovery', { username, code: wrongCode })));
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
  });

  it('counts concurrent failed logins from one client: of 12 at once, only the limit (5) are evaluated', async () => {
    server = await startAuthServer({ limits: { loginByClient: { max: 5, windowMs: 60_000 } } });
    const username = unique();
    const key = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    await registerWithPasskey(server, { username, passkey: key });
    // Signed by another key under this passkey's id: only the (slow) signature check can refuse it.
    const forger = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    const assertions = [];
    for (let i = 0; i < 12; i += 1) {
      const start = await postJson(server, '/auth/login/start', { username });
      assertions.push({ ...forger.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON), id: key.credentialId, rawId: key.credentialId });
    }
    // Every connection is open before any request is written, so all twelve arrive together.
    const statuses = await simultaneousPosts(server, '/auth/login/finish', assertions);
    expect(statuses.filter((status) => status === 401)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
  });

  it("bad assertions from another client do not lock the user out: the user's own passkey still logs in", async () => {
    server = await startAuthServer();
    const username = unique();
    const key = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    await registerWithPasskey(server, { username, passkey: key });
    const attacker = agent('127.0.0.2');
    const forger: SoftwarePasskey = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    for (let i = 0; i < 15; i += 1) {
      const start = await postJson(server, '/auth/login/start', { username }, { dispatcher: attacker });
      const forged = { ...forger.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON), id: key.credentialId, rawId: key.credentialId };
      expect((await postJson(server, '/auth/login/finish', forged, { dispatcher: attacker })).status).toBe(401);
    }
    const login = await loginWithPasskey(server, { username, passkey: key });
    expect(login.status).toBe(200);
  });

  it('counts failures only: a client that logs in more often than its failure budget is never refused', async () => {
    server = await startAuthServer({ limits: { loginByClient: { max: 3, windowMs: 60_000 } } });
    const username = unique();
    const key = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    await registerWithPasskey(server, { username, passkey: key });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await loginWithPasskey(server, { username, passkey: key })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('counts failures only: an account recovered with its own codes more often than its budgets (per account and per client) is never refused', async () => {
    server = await startAuthServer({ limits: { recoveryByAccount: { max: 2, windowMs: 60_000 }, recoveryByClient: { max: 2, windowMs: 60_000 } } });
    const username = unique();
    const registered = await registerWithPasskey(server, { username, passkey: createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' }) });
    const codes = registered.body.recovery_codes as string[];
    const statuses: number[] = [];
    for (const code of codes.slice(0, 4)) statuses.push((await postJson(server, '/auth/recovery', { username, code })).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
  });

  it('limits the attacking client: past its budget of failed logins it gets 429, whichever account it aims at', async () => {
    server = await startAuthServer({ limits: { loginByClient: { max: 3, windowMs: 60_000 } } });
    const attacker = agent('127.0.0.2');
    const forger = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    const victims = [unique(), unique()];
    for (const username of victims) await registerWithPasskey(server, { username, passkey: createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' }) });
    const tries: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const start = await postJson(server, '/auth/login/start', { username: victims[i % 2] }, { dispatcher: attacker });
      tries.push((await postJson(server, '/auth/login/finish', forger.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON), { dispatcher: attacker })).status);
    }
    expect(tries).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('client addresses behind a trusted reverse proxy (HYPERVISOR_TRUSTED_PROXIES)', () => {
  let server: AuthServer;
  const agents: Agent[] = [];
  const viaProxy = (): Agent => {
    const made = from('127.0.0.3');
    agents.push(made);
    return made;
  };
  afterEach(async () => {
    await server.close();
    for (const made of agents.splice(0)) await made.close();
  });

  const failLogin = async (target: AuthTarget, forwardedFor: string, dispatcher: Agent, username: string, forger: SoftwarePasskey): Promise<number> => {
    const start = await postJson(target, '/auth/login/start', { username }, { dispatcher, headers: { 'x-forwarded-for': forwardedFor } });
    const assertion = forger.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON);
    return (await postJson(target, '/auth/login/finish', assertion, { dispatcher, headers: { 'x-forwarded-for': forwardedFor } })).status;
  };

  it("limits each client behind the proxy by its X-Forwarded-For: one client's failures do not lock out another user there", async () => {
    server = await startAuthServer({ limits: { loginByClient: { max: 3, windowMs: 60_000 } }, trustedProxies: ['127.0.0.3'] });
    const proxy = viaProxy();
    const forger = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    const username = unique();
    const key = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    await registerWithPasskey(server, { username, passkey: key });
    for (let i = 0; i < 3; i += 1) expect(await failLogin(server, '203.0.113.7', proxy, username, forger)).toBe(401);
    expect(await failLogin(server, '203.0.113.7', proxy, username, forger)).toBe(429);
    const start = await postJson(server, '/auth/login/start', { username }, { dispatcher: proxy, headers: { 'x-forwarded-for': '198.51.100.20' } });
    const login = await postJson(server, '/auth/login/finish', key.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON), { dispatcher: proxy, headers: { 'x-forwarded-for': '198.51.100.20' } });
    expect(login.status).toBe(200);
    const audit = server.db.prepare("SELECT client FROM auth_audit WHERE event = 'login'").all();
    expect(audit).toEqual([{ client: '198.51.100.20' }]);
  });

  it('believes X-Forwarded-For only from a configured proxy: a direct client cannot spoof its way past the limit', async () => {
    server = await startAuthServer({ limits: { loginByClient: { max: 3, windowMs: 60_000 } }, trustedProxies: ['127.0.0.3'] });
    const direct = from('127.0.0.4');
    agents.push(direct);
    const forger = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    const username = unique();
    await registerWithPasskey(server, { username, passkey: createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' }) });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push(await failLogin(server, `203.0.113.${i + 1}`, direct, username, forger));
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const audit = server.db.prepare("SELECT DISTINCT client FROM auth_audit WHERE event = 'login_failed'").all();
    expect(audit).toEqual([{ client: '127.0.0.4' }]);
  });

  it('takes the nearest untrusted hop: addresses a client prepends to X-Forwarded-For are ignored', async () => {
    server = await startAuthServer({ limits: { loginByClient: { max: 2, windowMs: 60_000 } }, trustedProxies: ['127.0.0.3'] });
    const proxy = viaProxy();
    const forger = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    const username = unique();
    await registerWithPasskey(server, { username, passkey: createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' }) });
    // The proxy appends the address it saw (203.0.113.9) after whatever the client sent.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push(await failLogin(server, `10.9.8.${i}, 203.0.113.9`, proxy, username, forger));
    expect(statuses).toEqual([401, 401, 429, 429]);
    const audit = server.db.prepare("SELECT DISTINCT client FROM auth_audit WHERE event = 'login_failed'").all();
    expect(audit).toEqual([{ client: '203.0.113.9' }]);
  });
});
