import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { createChallenges } from './challenges.ts';
import { migrateAuth } from './schema.ts';

const minute = 60_000;

function challenges() {
  const db = openDatabase('sqlite::memory:');
  migrateAuth(db);
  return createChallenges(db);
}

describe('WebAuthn challenges', () => {
  it('are answerable for 5 minutes from issue and not after', () => {
    const t0 = 1_700_000_000_000;
    const store = challenges();
    store.issue('login', 'fresh', { userId: 'u1' }, t0);
    store.issue('login', 'stale', { userId: 'u1' }, t0);
    expect(store.consume('login', 'fresh', t0 + 5 * minute - 1)).toEqual({ userId: 'u1' });
    expect(store.consume('login', 'stale', t0 + 5 * minute), 'a challenge answered 5 minutes after it was issued').toBeNull();
  });

  it('are single use and answer only the purpose they were issued for', () => {
    const store = challenges();
    store.issue('login', 'for-login', { userId: 'u1' });
    expect(store.consume('register', 'for-login'), 'a login challenge presented to register/finish').toBeNull();
    expect(store.consume('login', 'for-login')).toEqual({ userId: 'u1' });
    expect(store.consume('login', 'for-login'), 'the same challenge answered again').toBeNull();
  });
});
