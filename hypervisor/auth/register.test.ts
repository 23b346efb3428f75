import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PublicKeyCredentialCreationOptionsJSON } from '@simplewebauthn/server';
import { getJson, loginWithPasskey, postJson, registerWithPasskey } from './testing/auth-client.ts';
import { startAuthServer, type AuthServer } from './testing/auth-server.ts';
import { createSoftwarePasskey } from './testing/software-passkey.ts';

const unique = (): string => `user-${Math.random().toString(36).slice(2, 8)}`;

describe('passkey registration', () => {
  let server: AuthServer;
  const passkey = () => createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
  beforeEach(async () => {
    server = await startAuthServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('registers a new user with a passkey, issues 10 recovery codes once, and logs the user in', async () => {
    const username = unique();
    const reply = await registerWithPasskey(server, { username, displayName: 'Ada', passkey: passkey() });
    expect(reply.status).toBe(200);
    expect(reply.body.is_first_passkey).toBe(true);
    const codes = reply.body.recovery_codes as string[];
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(code).toMatch(/^[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}-[a-z0-9]{5}$/);
    expect(new Set(codes).size).toBe(10);
    expect(reply.session).toBeTruthy();
    const me = await getJson(server, '/auth/me', reply.session);
    expect(me.body).toEqual({ authenticated: true, user_id: reply.body.user_id, username });
  });

  it('sets an HttpOnly, SameSite=Lax session cookie, without Secure on an http origin', async () => {
    const reply = await registerWithPasskey(server, { username: unique(), passkey: passkey() });
    const cookie = String(reply.headers['set-cookie']);
    expect(cookie).toMatch(/^choiros_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/);
    expect(cookie).not.toMatch(/Secure/);
  });

  it('stores neither session ids nor recovery codes in clear', async () => {
    const reply = await registerWithPasskey(server, { username: unique(), passkey: passkey() });
    const dump = JSON.stringify([
      server.db.prepare('SELECT * FROM auth_sessions').all(),
      server.db.prepare('SELECT user_id, hex(salt), hex(hash) FROM auth_recovery_codes').all(),
      server.db.prepare('SELECT * FROM auth_audit').all(),
    ]);
    expect(dump).not.toContain(reply.session);
    for (const code of reply.body.recovery_codes as string[]) {
      expect(dump).not.toContain(code);
      expect(dump.toLowerCase()).not.toContain(Buffer.from(code).toString('hex'));
    }
    expect(server.db.prepare('SELECT count(*) AS n FROM auth_recovery_codes').get()).toEqual({ n: 10 });
  });

  it('refuses to register an existing username without that account\'s session (409)', async () => {
    const username = unique();
    await registerWithPasskey(server, { username, passkey: passkey() });
    const again = await registerWithPasskey(server, { username, passkey: passkey() });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already registered/);
    const differentCase = await postJson(server, '/auth/register/start', { username: username.toUpperCase(), display_name: 'Mallory' });
    expect(differentCase.status).toBe(409);
  });

  it("refuses to add a passkey to another user's account, even when logged in", async () => {
    const victim = unique();
    await registerWithPasskey(server, { username: victim, passkey: passkey() });
    const attacker = await registerWithPasskey(server, { username: unique(), passkey: passkey() });
    const takeover = await registerWithPasskey(server, { username: victim, passkey: passkey(), cookie: attacker.session! });
    expect(takeover.status).toBe(409);
  });

  it('lets a logged-in user add a second passkey, without new recovery codes', async () => {
    const username = unique();
    const first = await registerWithPasskey(server, { username, passkey: passkey() });
    const second = await registerWithPasskey(server, { username, passkey: passkey(), cookie: first.session! });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ is_first_passkey: false, recovery_codes: [], user_id: first.body.user_id });
    expect(second.session).not.toBe(first.session);
    expect(server.db.prepare('SELECT count(*) AS n FROM auth_passkeys WHERE user_id = ?').get(String(first.body.user_id))).toEqual({ n: 2 });
  });

  it('asks for a verified user on this relying party, and excludes the passkeys the account already has', async () => {
    const username = unique();
    const first = passkey();
    const fresh = await postJson(server, '/auth/register/start', { username });
    const options = fresh.body.publicKey as PublicKeyCredentialCreationOptionsJSON;
    expect([options.rp.id, options.rp.name, options.authenticatorSelection?.userVerification]).toEqual(['localhost', 'ChoirOS test', 'required']);
    expect(options.excludeCredentials).toEqual([]);
    const registered = await postJson(server, '/auth/register/finish', first.register(options));
    expect(registered.status).toBe(200);
    const another = await postJson(server, '/auth/register/start', { username }, { cookie: registered.session! });
    const anotherOptions = another.body.publicKey as PublicKeyCredentialCreationOptionsJSON;
    expect(anotherOptions.authenticatorSelection?.userVerification).toBe('required');
    expect(anotherOptions.excludeCredentials?.map((credential) => credential.id)).toEqual([first.credentialId]);
  });

  it('adds a passkey only with a sign-in from the last 5 minutes: an older session must log in again first', async () => {
    const username = unique();
    const firstKey = passkey();
    const first = await registerWithPasskey(server, { username, passkey: firstKey });
    try {
      // Only the clock moves on: timers stay real, so the servers keep working.
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() + 5 * 60_000 + 10_000);
      const stale = await registerWithPasskey(server, { username, passkey: passkey(), cookie: first.session! });
      expect(stale.status).toBe(403);
      expect(stale.body.error).toBe('adding a passkey needs a sign-in from the last 5 minutes: log in again at /login, then add the passkey');
      expect(server.db.prepare('SELECT count(*) AS n FROM auth_passkeys WHERE user_id = ?').get(String(first.body.user_id))).toEqual({ n: 1 });

      const again = await loginWithPasskey(server, { username, passkey: firstKey });
      expect(again.status).toBe(200);
      // Started while fresh, finished once stale: refused too.
      vi.setSystemTime(Date.now() + 4 * 60_000);
      const start = await postJson(server, '/auth/register/start', { username }, { cookie: again.session! });
      expect(start.status).toBe(200);
      vi.setSystemTime(Date.now() + 2 * 60_000);
      const lateFinish = await postJson(server, '/auth/register/finish', passkey().register(start.body.publicKey as PublicKeyCredentialCreationOptionsJSON), { cookie: again.session! });
      expect(lateFinish.status).toBe(403);
      expect(lateFinish.body.error).toMatch(/^adding a passkey needs a sign-in from the last 5 minutes/);

      const fresh = await loginWithPasskey(server, { username, passkey: firstKey });
      const added = await registerWithPasskey(server, { username, passkey: passkey(), cookie: fresh.session! });
      expect(added.status).toBe(200);
      expect(server.db.prepare('SELECT count(*) AS n FROM auth_passkeys WHERE user_id = ?').get(String(first.body.user_id))).toEqual({ n: 2 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a replayed registration response: the challenge is single-use', async () => {
    const key = passkey();
    const start = await postJson(server, '/auth/register/start', { username: unique(), display_name: 'Ada' });
    const credential = key.register(start.body.publicKey as PublicKeyCredentialCreationOptionsJSON);
    expect((await postJson(server, '/auth/register/finish', credential)).status).toBe(200);
    const replay = await postJson(server, '/auth/register/finish', credential);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toMatch(/challenge is unknown, expired or already used/);
  });

  it('refuses an expired registration challenge', async () => {
    const start = await postJson(server, '/auth/register/start', { username: unique(), display_name: 'Ada' });
    server.db.prepare('UPDATE auth_challenges SET expires_at = ?').run(Date.now() - 1);
    const finish = await postJson(server, '/auth/register/finish', passkey().register(start.body.publicKey as PublicKeyCredentialCreationOptionsJSON));
    expect(finish.status).toBe(400);
    expect(finish.body.error).toMatch(/expired/);
  });

  it('refuses a credential created for another origin', async () => {
    const start = await postJson(server, '/auth/register/start', { username: unique(), display_name: 'Ada' });
    const credential = passkey().register(start.body.publicKey as PublicKeyCredentialCreationOptionsJSON, { origin: 'http://evil.example' });
    const finish = await postJson(server, '/auth/register/finish', credential);
    expect(finish.status).toBe(400);
    expect(finish.body.error).toMatch(/could not be verified.*origin/i);
  });

  it('answers malformed bodies with 400 naming the field', async () => {
    expect((await postJson(server, '/auth/register/start', {})).body.error).toMatch(/^username is required/);
    expect((await postJson(server, '/auth/register/start', { username: 42 })).body.error).toMatch(/^username must be a string/);
    expect((await postJson(server, '/auth/register/start', { username: '../etc' })).body.error).toMatch(/^username is invalid/);
    expect((await postJson(server, '/auth/register/start', { username: unique(), display_name: 'a\u0000b' })).body.error).toMatch(/^display_name is invalid/);
    const noClientData = await postJson(server, '/auth/register/finish', { id: 'abc', rawId: 'abc', type: 'public-key', response: { attestationObject: 'abc' } });
    expect(noClientData.status).toBe(400);
    expect(noClientData.body.error).toMatch(/^response\.clientDataJSON is required/);
    const noResponse = await postJson(server, '/auth/register/finish', { id: 'abc', rawId: 'abc', type: 'public-key' });
    expect(noResponse.body.error).toMatch(/^response is required/);
  });

  it('answers a body that is not JSON with 400, and a wrong content type with 415', async () => {
    const { request } = await import('undici');
    const notJson = await request(`${server.url}/auth/register/start`, { method: 'POST', headers: { 'content-type': 'application/json', origin: server.origin }, body: '{"username":' });
    expect(notJson.statusCode).toBe(400);
    expect(await notJson.body.json()).toMatchObject({ error: expect.stringMatching(/not valid JSON/) });
    const form = await request(`${server.url}/auth/register/start`, { method: 'POST', headers: { 'content-type': 'text/plain', origin: server.origin }, body: 'username=x' });
    expect(form.statusCode).toBe(415);
    await form.body.dump();
  });

  it('refuses at finish (409) a username another registration took since the start, and a passkey already registered to an account', async () => {
    const username = unique();
    const raced = await postJson(server, '/auth/register/start', { username });
    expect(raced.status).toBe(200);
    expect((await registerWithPasskey(server, { username, passkey: passkey() })).status).toBe(200);
    const late = await postJson(server, '/auth/register/finish', passkey().register(raced.body.publicKey as PublicKeyCredentialCreationOptionsJSON));
    expect(late.status, 'the username was taken between this start and its finish').toBe(409);

    const shared = passkey();
    expect((await registerWithPasskey(server, { username: unique(), passkey: shared })).status).toBe(200);
    const reused = await registerWithPasskey(server, { username: unique(), passkey: shared });
    expect(reused.status, 'the same passkey for a second account').toBe(409);
    expect(reused.body.error).toMatch(/passkey is already registered/);
  });

  it('refuses (403) to finish adding a passkey in another session than the one that started it, even a session of the same user', async () => {
    const username = unique();
    const key = passkey();
    const first = await registerWithPasskey(server, { username, passkey: key });
    const other = await loginWithPasskey(server, { username, passkey: key });
    expect(other.session).toBeTruthy();
    const start = await postJson(server, '/auth/register/start', { username }, { cookie: first.session! });
    expect(start.status).toBe(200);
    const finish = await postJson(server, '/auth/register/finish', passkey().register(start.body.publicKey as PublicKeyCredentialCreationOptionsJSON), { cookie: other.session! });
    expect(finish.status).toBe(403);
    expect(finish.body.error).toMatch(/session that started it/);
  });
});
