import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { removeDir, startTestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { getJson } from '../auth/testing/auth-client.ts';
import { hypervisorWithUsers } from '../auth/testing/hypervisor-with-users.ts';
import type { UserDeletion } from './user-deletion.ts';
import type { UserListing } from './admin-users.ts';

const users = hypervisorWithUsers();

const count = (sql: string, ...values: string[]): number => Number(users.target.hypervisor.db.prepare(sql).get(...values)?.n);

describe('admin API: delete a user', () => {
  it('deletes a user with their sessions, sandboxes and data, and audits it', async () => {
    const { userId, session } = await users.register('gate-delete-me');
    const started = await users.target.admin<{ status: string }>('POST', `/admin/sandboxes/${userId}/live/start`);
    expect(started.body.status).toBe('running');
    const dataDir = path.join(users.target.env.SANDBOX_DATA_ROOT as string, userId);
    mkdirSync(path.join(dataDir, 'dev'), { recursive: true });
    writeFileSync(path.join(dataDir, 'dev', 'notes.txt'), 'kept until the user goes');
    expect((await getJson(users.auth, '/auth/me', session)).body.authenticated).toBe(true);

    const answer = await users.target.admin<UserDeletion>('DELETE', `/admin/users/${userId}`);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      user_id: userId,
      username: 'gate-delete-me',
      sessions_ended: 1,
      sandboxes_removed: ['live'],
      passkeys_removed: 1,
      recovery_codes_removed: 10,
      switches_removed: 0,
      data_removed: true,
    });
    expect((await getJson(users.auth, '/auth/me', session)).body.authenticated).toBe(false);
    const proxied = await request(`${users.target.url}/`, { headers: { cookie: `choiros_session=${session}` } });
    await proxied.body.dump();
    expect(proxied.statusCode).toBe(401);
    expect((await users.target.admin<{ user_id: string }[]>('GET', '/admin/sandboxes')).body.filter((sandbox) => sandbox.user_id === userId)).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
    for (const table of ['auth_users WHERE id', 'auth_passkeys WHERE user_id', 'auth_recovery_codes WHERE user_id', 'auth_sessions WHERE user_id', 'sandboxes WHERE user_id']) {
      expect(count(`SELECT count(*) AS n FROM ${table} = ?`, userId), table).toBe(0);
    }
    const audit = users.target.hypervisor.db.prepare("SELECT event, username, detail FROM auth_audit WHERE user_id = ? AND event = 'user_deleted'").all(userId);
    expect(audit).toHaveLength(1);
    expect(JSON.parse(String(audit[0]?.detail))).toMatchObject({ actor: 'admin', sessions_ended: 1, sandboxes_removed: 'live', data_removed: true });
    expect(users.target.logs.some((line) => line.event === 'auth.user_deleted' && line.user === userId)).toBe(true);
  });

  it('removes a sandbox user that never had an account, and its route pointers and switches', async () => {
    const userId = 'gate-sandbox-only';
    await users.target.admin('POST', `/admin/sandboxes/${userId}/dev/start`);
    users.target.hypervisor.db.prepare("INSERT INTO route_pointers (user_id, route, role, updated_at) VALUES (?, 'main', 'dev', 'x'), (?, 'dev', 'live', 'x')").run(userId, userId);
    const answer = await users.target.admin<UserDeletion>('DELETE', `/admin/users/${userId}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ username: null, sandboxes_removed: ['dev'], data_removed: true });
    expect(count('SELECT count(*) AS n FROM route_pointers WHERE user_id = ?', userId)).toBe(0);
  });

  it('removes which release each of its slots ran and its switch history, so a new user of that id starts with none', async () => {
    const userId = 'gate-deployed';
    const release = await users.target.admin<{ id: number }>('POST', '/admin/releases', { runtime: 'process' });
    expect(release.status).toBe(201);
    expect((await users.target.admin('POST', `/admin/sandboxes/${userId}/deploy`, { release_id: release.body.id })).status).toBe(200);
    expect((await users.target.admin('POST', `/admin/sandboxes/${userId}/swap`, { reason: 'try the deployed release' })).status).toBe(200);
    expect(count('SELECT count(*) AS n FROM slot_releases WHERE user_id = ?', userId)).toBe(1);

    const answer = await users.target.admin<UserDeletion>('DELETE', `/admin/users/${userId}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ username: null, switches_removed: 1, sandboxes_removed: ['dev'] });
    for (const table of ['slot_releases', 'switches', 'route_pointers']) {
      expect(count(`SELECT count(*) AS n FROM ${table} WHERE user_id = ?`, userId), table).toBe(0);
    }
    const pointers = await users.target.admin<{ main: string; slots: { live: unknown; dev: unknown } }>('GET', `/admin/sandboxes/${userId}/pointers`);
    expect(pointers.body).toMatchObject({ main: 'live', slots: { live: null, dev: null } });
  });

  it('counts every recovery code the account had as removed, the used ones too', async () => {
    const { userId } = await users.register('gate-used-a-code');
    users.target.hypervisor.db.prepare('UPDATE auth_recovery_codes SET used_at = 1 WHERE id = (SELECT min(id) FROM auth_recovery_codes WHERE user_id = ?)').run(userId);
    const answer = await users.target.admin<UserDeletion>('DELETE', `/admin/users/${userId}`);
    expect(answer.body).toMatchObject({ passkeys_removed: 1, recovery_codes_removed: 10 });
    expect(count('SELECT count(*) AS n FROM auth_recovery_codes WHERE user_id = ?', userId)).toBe(0);
  });

  it('a second delete of the same user is 404 naming the user, and changes nothing', async () => {
    const { userId } = await users.register('gate-twice');
    expect((await users.target.admin('DELETE', `/admin/users/${userId}`)).status).toBe(200);
    const again = await users.target.admin<{ error: string }>('DELETE', `/admin/users/${userId}`);
    expect(again.status).toBe(404);
    expect(again.body.error).toContain(userId);
  });

  it('a malformed user id is 400 and deletes nothing outside the data root', async () => {
    const answer = await users.target.admin<{ error: string; rule: string }>('DELETE', '/admin/users/..%2F..%2Fetc');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatch(/lowercase letters, digits/);
  });

  it('is refused without the admin token (401) and with a user session instead (401)', async () => {
    const { userId, session } = await users.register('gate-not-by-users');
    const anonymous = await request(`${users.target.url}/admin/users/${userId}`, { method: 'DELETE' });
    await anonymous.body.dump();
    expect(anonymous.statusCode).toBe(401);
    const asUser = await request(`${users.target.url}/admin/users/${userId}`, { method: 'DELETE', headers: { cookie: `choiros_session=${session}` } });
    await asUser.body.dump();
    expect(asUser.statusCode).toBe(401);
    expect(count('SELECT count(*) AS n FROM auth_users WHERE id = ?', userId)).toBe(1);
  });

  it('lists users by username prefix, so a run finds the gate users it or an interrupted run left', async () => {
    const kept = await users.register('person-kept');
    const gate = await users.register('gate-listed');
    const listing = await users.target.admin<{ users: UserListing[] }>('GET', '/admin/users?prefix=gate-listed');
    expect(listing.body.users.map((user) => user.user_id)).toEqual([gate.userId]);
    const all = await users.target.admin<{ users: UserListing[] }>('GET', '/admin/users');
    expect(all.body.users.map((user) => user.user_id)).toContain(kept.userId);
  });

  it('lists the users of a prefix oldest first, each with the time its account was made', async () => {
    const before = Date.now();
    const first = await users.register('gate-order-first');
    const second = await users.register('gate-order-second');
    const after = Date.now();
    const listing = await users.target.admin<{ users: UserListing[] }>('GET', '/admin/users?prefix=gate-order-');
    expect(listing.body.users.map((user) => user.user_id)).toEqual([first.userId, second.userId]);
    for (const user of listing.body.users) {
      const made = Date.parse(user.created_at);
      expect(made, `${user.username} made at ${user.created_at}`).toBeGreaterThanOrEqual(before);
      expect(made, `${user.username} made at ${user.created_at}`).toBeLessThanOrEqual(after);
    }
  });

  it('audits a deletion made through a trusted reverse proxy with the operator\'s address from X-Forwarded-For, not the proxy\'s', async () => {
    const proxied = await startTestHypervisor({ HYPERVISOR_TRUSTED_PROXIES: '127.0.0.1' });
    try {
      const userId = 'gate-proxied-delete';
      mkdirSync(path.join(proxied.env.SANDBOX_DATA_ROOT as string, userId, 'live'), { recursive: true });
      const res = await request(`${proxied.url}/admin/users/${userId}`, { method: 'DELETE', headers: { authorization: `Bearer ${proxied.token}`, 'x-forwarded-for': '203.0.113.9' } });
      await res.body.dump();
      expect(res.statusCode).toBe(200);
      const audit = proxied.hypervisor.db.prepare("SELECT client, detail FROM auth_audit WHERE user_id = ? AND event = 'user_deleted'").all(userId);
      expect(audit.map((row) => row.client)).toEqual(['203.0.113.9']);
      // Only its data was left: no sandbox removed is recorded as none (null), not as an empty name.
      expect(JSON.parse(String(audit[0]?.detail))).toMatchObject({ sandboxes_removed: null, data_removed: true });
    } finally {
      await proxied.close();
      removeDir(proxied.dir);
    }
  });
});
