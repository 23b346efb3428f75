import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { migrateAuth } from './schema.ts';
import { createUsers, newUserId, UsernameTakenError, type User } from './users.ts';

function users() {
  const db = openDatabase('sqlite::memory:');
  migrateAuth(db);
  return createUsers(db);
}

const user = (username: string, id = newUserId()): User => ({ id, username, displayName: username, webauthnUserId: `handle-${username}-${id}` });

describe('the user store', () => {
  it('finds a created user by username (in any case) and by id, and nobody else', () => {
    const store = users();
    const alice = user('alice');
    store.create(alice);
    expect(store.findByUsername('alice')).toEqual(alice);
    expect(store.findById(alice.id)).toEqual(alice);
    // Usernames are one name whatever their case (the column is COLLATE NOCASE), so no look-alike account.
    expect(store.findByUsername('ALICE')).toEqual(alice);
    expect(store.findByUsername('bob')).toBeNull();
    expect(store.findById(newUserId())).toBeNull();
  });

  it('keeps the display name apart from the username, and makes user ids of "u" and 16 lowercase hex digits (safe as sandbox ids)', () => {
    const store = users();
    const ada = { ...user('ada'), displayName: 'Ada Lovelace' };
    store.create(ada);
    expect(store.findByUsername('ada')?.displayName).toBe('Ada Lovelace');
    const ids = Array.from({ length: 50 }, newUserId);
    for (const id of ids) expect(id).toMatch(/^u[0-9a-f]{16}$/);
    expect(new Set(ids).size).toBe(50);
  });

  it('refuses a second account under a taken username as UsernameTakenError (register/finish answers it 409), even when both registrations passed the check at start', () => {
    const store = users();
    store.create(user('alice'));
    expect(() => store.create(user('Alice')), 'the same name in other case').toThrow(UsernameTakenError);
    // Two sign-ups of a new name may both find it free at register/start; the database's unique
    // constraint decides at finish, and the loser must hear "taken, log in", not an internal error.
    let refusal: unknown;
    try {
      store.create(user('alice'));
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(UsernameTakenError);
    expect((refusal as Error).message).toBe('username "alice" is already registered: log in at /login, or use a recovery code at /recovery to add a passkey');
    expect(store.findByUsername('alice')).not.toBeNull();
  });

  it('passes on any other failure as it is: a clash of user ids is not a taken username', () => {
    const store = users();
    const alice = user('alice');
    store.create(alice);
    expect(() => store.create(user('bob', alice.id))).toThrow(/UNIQUE constraint failed: auth_users\.id/);
    expect(() => store.create(user('bob', alice.id))).not.toThrow(UsernameTakenError);
  });
});
