import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { migrateAuth } from './schema.ts';
import { createSessions } from './sessions.ts';
import { createUsers, newUserId } from './users.ts';

const minute = 60_000;
const day = 24 * 60 * minute;

function sessionsWithUsers(...usernames: string[]) {
  const db = openDatabase('sqlite::memory:');
  migrateAuth(db);
  const users = createUsers(db);
  const ids = usernames.map((username) => {
    const id = newUserId();
    users.create({ id, username, displayName: username, webauthnUserId: `handle-${username}` });
    return id;
  });
  return { db, ids };
}

describe('sessions', () => {
  it('a user session lives 7 days and a recovery session 10 minutes, each found until then and not after', () => {
    const { db, ids } = sessionsWithUsers('alice');
    const [alice = ''] = ids;
    const t0 = 1_700_000_000_000;
    const sessions = createSessions(db);
    const user = sessions.create(alice, 'user', t0);
    const recovery = sessions.create(alice, 'recovery', t0);
    expect(user.expiresAt - t0).toBe(7 * day);
    expect(recovery.expiresAt - t0).toBe(10 * minute);
    // A fresh lookup object each time: what the database says, not what a cache remembers.
    expect(createSessions(db).find(recovery.id, t0 + 10 * minute - 1)).toMatchObject({ userId: alice, username: 'alice', kind: 'recovery', createdAt: t0 });
    expect(createSessions(db).find(recovery.id, t0 + 10 * minute), 'a recovery session past its 10 minutes').toBeNull();
    expect(createSessions(db).find(user.id, t0 + 7 * day - 1)).toMatchObject({ kind: 'user', expiresAt: t0 + 7 * day });
    expect(createSessions(db).find(user.id, t0 + 7 * day), 'a user session past its 7 days').toBeNull();
  });

  it("deleting a user's sessions ends all of theirs, cached or not, and nobody else's", () => {
    const { db, ids } = sessionsWithUsers('alice', 'bob');
    const [alice = '', bob = ''] = ids;
    const sessions = createSessions(db);
    const aliceSessions = [sessions.create(alice, 'user'), sessions.create(alice, 'recovery')];
    const bobs = sessions.create(bob, 'user');
    for (const { id } of [...aliceSessions, bobs]) expect(sessions.find(id), 'found (and cached) before the deletion').not.toBeNull();
    expect(sessions.deleteForUser(alice)).toBe(2);
    for (const { id } of aliceSessions) expect(sessions.find(id), "alice's session after her sessions were deleted").toBeNull();
    expect(sessions.find(bobs.id)).toMatchObject({ userId: bob });
  });

  it('a session is not found from its expiry on, even one looked up (and cached) a moment before', () => {
    const { db, ids } = sessionsWithUsers('alice');
    const [alice = ''] = ids;
    const t0 = 1_700_000_000_000;
    const sessions = createSessions(db);
    const recovery = sessions.create(alice, 'recovery', t0);
    expect(sessions.find(recovery.id, recovery.expiresAt - 1_000), 'found (and cached) a second before it expires').toMatchObject({ kind: 'recovery' });
    expect(sessions.find(recovery.id, recovery.expiresAt), 'the same lookup object at the expiry').toBeNull();
  });

  it('logout ends a session at once, even one just looked up (and cached)', () => {
    const { db, ids } = sessionsWithUsers('alice');
    const [alice = ''] = ids;
    const sessions = createSessions(db);
    const session = sessions.create(alice, 'user');
    const kept = sessions.create(alice, 'user');
    expect(sessions.find(session.id), 'found (and cached) before the logout').not.toBeNull();
    sessions.delete(session.id);
    expect(sessions.find(session.id), 'the session just logged out').toBeNull();
    expect(createSessions(db).find(session.id), 'the session just logged out, in the database').toBeNull();
    expect(sessions.find(kept.id), "the user's other session").toMatchObject({ userId: alice });
  });

  it('a session another process deleted goes unnoticed for at most 5 seconds of caching', () => {
    const { db, ids } = sessionsWithUsers('alice');
    const [alice = ''] = ids;
    const t0 = 1_700_000_000_000;
    const here = createSessions(db);
    const session = here.create(alice, 'user', t0);
    expect(here.find(session.id, t0), 'found (and cached) here').not.toBeNull();
    createSessions(db).delete(session.id);
    expect(here.find(session.id, t0 + 5_000), 'five seconds after the lookup, asked again').toBeNull();
  });

  it('caches at most 10 000 sessions: one more starts the cache afresh, so a session deleted elsewhere is not served from memory past that', () => {
    const { db, ids } = sessionsWithUsers('alice');
    const [alice = ''] = ids;
    const now = 1_000_000;
    const sessions = createSessions(db);
    const created = Array.from({ length: 10_001 }, () => sessions.create(alice, 'user', now).id);
    const first = created[0] ?? '';
    expect(sessions.find(first, now), 'found and cached').not.toBeNull();
    // Another process (a second hypervisor instance, a CLI) logs the first session out.
    createSessions(db).delete(first);
    for (const id of created.slice(1)) sessions.find(id, now);
    expect(sessions.find(first, now), 'past 10 000 cached sessions the first is looked up again, and is gone').toBeNull();
  });

  it('an expired session is dropped from the database from its expiry on, at the next sign-in or sweep, and a live one is kept', () => {
    const { db, ids } = sessionsWithUsers('alice');
    const [alice = ''] = ids;
    const t0 = 1_700_000_000_000;
    const sessions = createSessions(db);
    const rows = (): number => Number(db.prepare('SELECT count(*) AS n FROM auth_sessions').get()?.n);
    sessions.create(alice, 'recovery', t0);
    sessions.create(alice, 'user', t0);
    sessions.create(alice, 'user', t0 + 10 * minute);
    expect(rows(), 'the recovery session expired at this sign-in: its row is gone, both user sessions stay').toBe(2);
    sessions.deleteExpired(t0 + 7 * day);
    expect(rows(), 'the first user session expired at this sweep, the later one has not').toBe(1);
  });
});
