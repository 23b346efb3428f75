import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getJson, loginWithPasskey, postJson, registerWithPasskey } from './testing/auth-client.ts';
import { startAuthServer, type AuthServer } from './testing/auth-server.ts';
import { createSoftwarePasskey } from './testing/software-passkey.ts';

const unique = (): string => `user-${Math.random().toString(36).slice(2, 8)}`;

describe('account recovery with a recovery code', () => {
  let server: AuthServer;
  let username: string;
  let codes: string[];
  const passkey = () => createSoftwarePasskey({ origin: server.origin, rpId: 'localhost' });
  beforeEach(async () => {
    server = await startAuthServer({ limits: { recoveryByAccount: { max: 3, windowMs: 60_000 }, recoveryByClient: { max: 6, windowMs: 60_000 } } });
    username = unique();
    codes = (await registerWithPasskey(server, { username, passkey: passkey() })).body.recovery_codes as string[];
  });
  afterEach(async () => {
    await server.close();
  });

  it('lets a valid code register a new passkey, which then logs in', async () => {
    const recovered = await postJson(server, '/auth/recovery', { username, code: codes[3] });
    expect(recovered.status).toBe(200);
    expect(recovered.body).toMatchObject({ recovered: true, username, remaining_codes: 9 });
    const replacement = passkey();
    const registered = await registerWithPasskey(server, { username, passkey: replacement, cookie: recovered.session! });
    expect(registered.status).toBe(200);
    expect(registered.body.is_first_passkey).toBe(false);
    expect((await getJson(server, '/auth/me', registered.session)).body).toMatchObject({ authenticated: true, username });
    expect((await getJson(server, '/auth/me', recovered.session)).body.authenticated).toBe(false);
    const login = await loginWithPasskey(server, { username, passkey: replacement });
    expect(login.status).toBe(200);
    const events = server.db.prepare('SELECT event, detail FROM auth_audit ORDER BY id').all().map((r) => [r.event, JSON.parse(String(r.detail))]);
    expect(events).toContainEqual(['recovery_used', { remaining_codes: 9 }]);
    expect(events).toContainEqual(['register', { is_first_passkey: false, via: 'recovery' }]);
  });

  it('gives the recovery session no other power: no sandbox access and no other account', async () => {
    const recovered = await postJson(server, '/auth/recovery', { username, code: codes[0] });
    expect((await getJson(server, '/conductor/runs', recovered.session)).status).toBe(401);
    const me = await getJson(server, '/auth/me', recovered.session);
    expect(me.body).toMatchObject({ authenticated: false, user_id: null, recovery: { username } });
    const other = unique();
    await registerWithPasskey(server, { username: other, passkey: passkey() });
    expect((await registerWithPasskey(server, { username: other, passkey: passkey(), cookie: recovered.session! })).status).toBe(409);
  });

  it("gives each session cookie its session's lifetime in seconds: 7 days for a sign-in, 10 minutes for a recovery", async () => {
    const maxAge = (setCookie: string | string[] | undefined) => /; Max-Age=(\d+)(;|$)/.exec(String(setCookie))?.[1];
    const registered = await registerWithPasskey(server, { username: unique(), passkey: passkey() });
    expect(maxAge(registered.headers['set-cookie'])).toBe(String(7 * 24 * 3600));
    const recovered = await postJson(server, '/auth/recovery', { username, code: codes[2] });
    expect(maxAge(recovered.headers['set-cookie'])).toBe(String(10 * 60));
  });

  it('says when the recovery session ends, 10 minutes from now, in the answer and in /auth/me (epoch ms read as a date)', async () => {
    const tenMinutes = 10 * 60_000;
    const before = Date.now();
    const recovered = await postJson(server, '/auth/recovery', { username, code: codes[4] });
    const after = Date.now();
    const me = await getJson(server, '/auth/me', recovered.session);
    for (const expiresAt of [recovered.body.expires_at, (me.body.recovery as { expires_at?: unknown } | undefined)?.expires_at]) {
      const at = Date.parse(String(expiresAt));
      expect(at, String(expiresAt)).toBeGreaterThanOrEqual(before + tenMinutes);
      expect(at, String(expiresAt)).toBeLessThanOrEqual(after + tenMinutes);
    }
  });

  it('accepts a code pasted in upper case with spaces around it', async () => {
    const reply = await postJson(server, '/auth/recovery', { username, code: ` ${codes[1]!.toUpperCase()} ` });
    expect(reply.status).toBe(200);
  });

  it('refuses a reused code with 401 "invalid username or code"', async () => {
    expect((await postJson(server, '/auth/recovery', { username, code: codes[2] })).status).toBe(200);
    const again = await postJson(server, '/auth/recovery', { username, code: codes[2] });
    expect(again.status).toBe(401);
    expect(again.body).toEqual({ error: 'invalid username or code' });
    expect(again.session).toBeUndefined();
  });

  it('answers a wrong code and an unknown username alike: 401 "invalid username or code"', async () => {
    const wrong = await postJson(server, '/auth/recovery', { username, code: 'aaaaa-bbbbb-ccccc-ddddd' });
    const unknown = await postJson(server, '/auth/recovery', { username: unique(), code: codes[0] });
    expect([wrong.status, wrong.body]).toEqual([401, { error: 'invalid username or code' }]);
    expect([unknown.status, unknown.body]).toEqual([401, { error: 'invalid username or code' }]);
  });

  it("does not accept one account's code for another account", async () => {
    const other = unique();
    await registerWithPasskey(server, { username: other, passkey: passkey() });
    expect((await postJson(server, '/auth/recovery', { username: other, code: codes[0] })).status).toBe(401);
  });

  it('rate limits wrong codes per account with 429 and Retry-After, refusing even a right code meanwhile', async () => {
    for (let i = 0; i < 3; i += 1) expect((await postJson(server, '/auth/recovery', { username, code: 'aaaaa-bbbbb-ccccc-ddddd' })).status).toBe(401);
    const limited = await postJson(server, '/auth/recovery', { username, code: codes[0] });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(limited.body.error).toMatch(/too many failed recovery attempts/);
  });

  it('rate limits wrong codes per client across accounts', async () => {
    for (let i = 0; i < 6; i += 1) await postJson(server, '/auth/recovery', { username: unique(), code: 'aaaaa-bbbbb-ccccc-ddddd' });
    const limited = await postJson(server, '/auth/recovery', { username, code: codes[0] });
    expect(limited.status).toBe(429);
  });

  it('answers a malformed recovery request with 400 naming the field', async () => {
    const noCode = await postJson(server, '/auth/recovery', { username });
    expect([noCode.status, noCode.body.error]).toEqual([400, expect.stringMatching(/^code is required/)]);
    const noUser = await postJson(server, '/auth/recovery', { code: codes[0] });
    expect(noUser.body.error).toMatch(/^username is required/);
  });
});
