import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { getJson, loginWithPasskey, postJson, registerWithPasskey } from './testing/auth-client.ts';
import { startAuthServer, type AuthServer } from './testing/auth-server.ts';
import { createSoftwarePasskey, type SoftwarePasskey } from './testing/software-passkey.ts';

const unique = (): string => `user-${Math.random().toString(36).slice(2, 8)}`;

describe('passkey login, sessions and logout', () => {
  let server: AuthServer;
  let username: string;
  let key: SoftwarePasskey;
  let registered: Awaited<ReturnType<typeof registerWithPasskey>>;
  beforeEach(async () => {
    server = await startAuthServer();
    username = unique();
    key = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    registered = await registerWithPasskey(server, { username, passkey: key });
  });
  afterEach(async () => {
    await server.close();
  });

  it('logs in with the registered passkey and rotates the session id', async () => {
    const login = await postJson(server, '/auth/login/start', { username }, { cookie: registered.session! });
    const finish = await postJson(server, '/auth/login/finish', key.authenticate(login.body.publicKey as PublicKeyCredentialRequestOptionsJSON), { cookie: registered.session! });
    expect(finish.status).toBe(200);
    expect(finish.body).toEqual({ authenticated: true, user_id: registered.body.user_id, username });
    expect(finish.session).toBeTruthy();
    expect(finish.session).not.toBe(registered.session);
    expect((await getJson(server, '/auth/me', registered.session)).body.authenticated).toBe(false);
    expect((await getJson(server, '/auth/me', finish.session)).body.authenticated).toBe(true);
  });

  it("records each login's signature counter and time on the passkey that signed it", async () => {
    const used = () => ({ ...server.db.prepare('SELECT counter, last_used_at FROM auth_passkeys WHERE user_id = ?').get(registered.body.user_id as string) });
    const before = used();
    expect(before.last_used_at, 'registered, never used to log in').toBeNull();
    const loginAt = Date.now();
    const start = await postJson(server, '/auth/login/start', { username });
    expect((await postJson(server, '/auth/login/finish', key.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON))).status).toBe(200);
    const after = used();
    expect(Number(after.counter), 'the counter the authenticator reported, above the one it registered with').toBeGreaterThan(Number(before.counter));
    expect(Number(after.last_used_at)).toBeGreaterThanOrEqual(loginAt);
  });

  it('answers login/start for an unknown user with 404', async () => {
    const reply = await postJson(server, '/auth/login/start', { username: unique() });
    expect(reply.status).toBe(404);
    expect(reply.body.error).toMatch(/no account with a passkey/);
  });

  it('refuses a replayed assertion: the login challenge is single-use', async () => {
    const start = await postJson(server, '/auth/login/start', { username });
    const assertion = key.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON);
    expect((await postJson(server, '/auth/login/finish', assertion)).status).toBe(200);
    const replay = await postJson(server, '/auth/login/finish', assertion);
    expect(replay.status).toBe(401);
    expect(replay.body.error).toMatch(/challenge is unknown, expired or already used/);
  });

  it("refuses another account's passkey answering this account's challenge", async () => {
    const other = createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
    await registerWithPasskey(server, { username: unique(), passkey: other });
    const start = await postJson(server, '/auth/login/start', { username });
    const reply = await postJson(server, '/auth/login/finish', other.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON));
    expect(reply.status).toBe(401);
    expect(reply.session).toBeUndefined();
  });

  it('asks this relying party\'s passkeys for user verification, and refuses an assertion whose user was not verified', async () => {
    const start = await postJson(server, '/auth/login/start', { username });
    const options = start.body.publicKey as PublicKeyCredentialRequestOptionsJSON;
    expect([options.rpId, options.userVerification]).toEqual(['localhost', 'required']);
    expect(options.allowCredentials?.map((credential) => credential.id)).toEqual([key.credentialId]);
    const unverified = await postJson(server, '/auth/login/finish', key.authenticate(options, { userVerified: false }));
    expect(unverified.status).toBe(401);
    expect(unverified.session).toBeUndefined();
  });

  it('refuses an assertion signed for another origin and records the failure', async () => {
    const start = await postJson(server, '/auth/login/start', { username });
    const reply = await postJson(server, '/auth/login/finish', key.authenticate(start.body.publicKey as PublicKeyCredentialRequestOptionsJSON, { origin: 'http://localhost:1' }));
    expect(reply.status).toBe(401);
    const audit = server.db.prepare("SELECT event, username, detail FROM auth_audit WHERE event = 'login_failed'").all();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ event: 'login_failed', username });
  });

  it('logs out with 303 to /login and ends the session on the server', async () => {
    const res = await request(`${server.url}/auth/logout`, { method: 'POST', headers: { origin: server.origin, cookie: `choiros_session=${registered.session}` } });
    await res.body.dump();
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login');
    expect(String(res.headers['set-cookie'])).toMatch(/^choiros_session=; .*Max-Age=0/);
    expect((await getJson(server, '/auth/me', registered.session)).body).toEqual({ authenticated: false, user_id: null, username: null });
    expect(server.db.prepare('SELECT count(*) AS n FROM auth_sessions').get()).toEqual({ n: 0 });
  });

  it('writes audit rows for register, login, failed login and logout, with no secret in them', async () => {
    const login = await loginWithPasskey(server, { username, passkey: key });
    await postJson(server, '/auth/login/finish', { id: key.credentialId, rawId: key.credentialId, type: 'public-key', response: { clientDataJSON: Buffer.from('{"challenge":"nope"}').toString('base64url'), authenticatorData: 'AA', signature: 'AA' } });
    await postJson(server, '/auth/logout', {}, { cookie: login.session! });
    const rows = server.db.prepare('SELECT event, user_id, username, client, detail FROM auth_audit ORDER BY id').all();
    expect(rows.map((r) => r.event)).toEqual(['register', 'login', 'login_failed', 'logout']);
    const text = JSON.stringify(rows);
    for (const secret of [registered.session!, login.session!, ...(registered.body.recovery_codes as string[])]) expect(text).not.toContain(secret);
    expect(server.logLines.some((line) => JSON.parse(line).event === 'auth.login')).toBe(true);
  });

  it('refuses an expired session', async () => {
    server.db.prepare('UPDATE auth_sessions SET expires_at = ?').run(Date.now() - 1);
    expect((await getJson(server, '/auth/me', registered.session)).body.authenticated).toBe(false);
  });
});

describe('the session guard in front of the sandboxes', () => {
  let server: AuthServer;
  beforeEach(async () => {
    server = await startAuthServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('sends an unauthenticated browser to /login with 303, and answers an API client 401 JSON', async () => {
    const browser = await request(`${server.url}/desktop?x=1`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    await browser.body.dump();
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/login?next=%2Fdesktop%3Fx%3D1');
    const api = await request(`${server.url}/conductor/runs`, { headers: { accept: 'application/json' } });
    expect(api.statusCode).toBe(401);
    expect(await api.body.json()).toEqual({ error: 'authentication required: log in at /login', login: '/login' });
  });

  // Accept is a list: a browser's own order varies (Safari has put application/xhtml+xml first), and text/html anywhere in it is a page request.
  it('sends a browser to /login whichever place text/html has in its Accept list', async () => {
    for (const accept of ['application/xhtml+xml, text/html;q=0.9, */*;q=0.8', '*/*;q=0.1,text/html']) {
      const browser = await request(`${server.url}/desktop`, { headers: { accept } });
      await browser.body.dump();
      expect(browser.statusCode, accept).toBe(303);
      expect(browser.headers.location).toBe('/login?next=%2Fdesktop');
    }
  });

  it('leaves a path that merely begins with "auth" (/authors) to the sandboxes: unauthenticated, it is a 401 asking for a login, not an auth 404', async () => {
    const res = await getJson(server, '/authors/list');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'authentication required: log in at /login', login: '/login' });
  });

  it('ignores a forged or unknown session cookie', async () => {
    const res = await getJson(server, '/conductor/runs', 'A'.repeat(43));
    expect(res.status).toBe(401);
  });

  it('refuses state-changing auth requests without the relying party Origin (403)', async () => {
    const missing = await postJson(server, '/auth/register/start', { username: unique() }, { origin: null });
    expect(missing.status).toBe(403);
    expect(missing.body.error).toMatch(/origin missing/);
    const foreign = await postJson(server, '/auth/recovery', { username: 'x', code: 'y' }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatch(/origin not allowed: "http:\/\/evil.example"/);
  });

  it('serves the auth pages with the WebAuthn library from the hypervisor itself', async () => {
    const page = await request(`${server.url}/register`);
    const html = await page.body.text();
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(html).toContain('<label for="username">Username</label>');
    expect(html).toContain('<label for="display-name">Display name</label>');
    expect(html).toContain('Register with a passkey');
    expect(html).not.toMatch(/https?:\/\//);
    const library = await request(`${server.url}/auth/assets/simplewebauthn-browser.js`);
    expect(await library.body.text()).toMatch(/SimpleWebAuthnBrowser/);
    const me = await getJson(server, '/auth/me');
    expect(me).toMatchObject({ status: 200, body: { authenticated: false, user_id: null, username: null } });
  });

  it('marks the cookie Secure when the relying party origin is https', async () => {
    const tls = await startAuthServer({ origin: (port) => `https://localhost:${port}` });
    try {
      const key = createSoftwarePasskey({ origin: tls.origin, rpId: 'localhost' });
      const reply = await registerWithPasskey(tls, { username: unique(), passkey: key });
      expect(reply.status).toBe(200);
      expect(String(reply.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    } finally {
      await tls.close();
    }
  });
});
