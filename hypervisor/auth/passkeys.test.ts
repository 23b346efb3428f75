import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { createPasskeys } from './passkeys.ts';
import { migrateAuth } from './schema.ts';
import { createUsers } from './users.ts';

function passkeysOf(userId: string) {
  const db = openDatabase('sqlite::memory:');
  migrateAuth(db);
  createUsers(db).create({ id: userId, username: 'ada', displayName: 'Ada', webauthnUserId: 'handle-ada' });
  return { db, passkeys: createPasskeys(db) };
}

const key = (id: string, userId: string, counter = 0) => ({ id, userId, publicKey: new Uint8Array([1, 2, 3]), counter, transports: ['internal' as const] });

describe('the passkey store', () => {
  it("lists a user's passkeys in the order they were added, and finds one by its credential id", () => {
    const { passkeys } = passkeysOf('u1');
    passkeys.add(key('second-added', 'u1'), 2_000);
    passkeys.add(key('first-added', 'u1'), 1_000);
    expect(passkeys.forUser('u1').map((p) => p.id)).toEqual(['first-added', 'second-added']);
    expect(passkeys.find('first-added')).toEqual({ ...key('first-added', 'u1'), publicKey: new Uint8Array([1, 2, 3]) });
    expect(passkeys.find('nobody')).toBeNull();
  });

  it('records a use: the signature counter the authenticator reported and when', () => {
    const { db, passkeys } = passkeysOf('u1');
    passkeys.add(key('k', 'u1', 3), 1_000);
    passkeys.recordUse('k', 4, 1_700_000_000_000);
    expect(passkeys.find('k')?.counter).toBe(4);
    expect({ ...db.prepare("SELECT counter, last_used_at FROM auth_passkeys WHERE credential_id = 'k'").get() }).toEqual({ counter: 4, last_used_at: 1_700_000_000_000 });
  });
});
