import type { WebAuthnCredential } from '@simplewebauthn/server';
import type { Database } from '../store/database.ts';

export interface Passkey extends WebAuthnCredential {
  userId: string;
}

export interface Passkeys {
  forUser(userId: string): Passkey[];
  find(credentialId: string): Passkey | null;
  add(passkey: Passkey, now?: number): void;
  recordUse(credentialId: string, counter: number, now?: number): void;
}

const toPasskey = (row: Record<string, unknown>): Passkey => ({
  id: String(row.credential_id),
  userId: String(row.user_id),
  publicKey: new Uint8Array(row.public_key as Uint8Array),
  counter: Number(row.counter),
  transports: JSON.parse(String(row.transports)) as string[],
});

export function createPasskeys(db: Database): Passkeys {
  const columns = 'credential_id, user_id, public_key, counter, transports';
  const byUser = db.prepare(`SELECT ${columns} FROM auth_passkeys WHERE user_id = ? ORDER BY created_at`);
  const byId = db.prepare(`SELECT ${columns} FROM auth_passkeys WHERE credential_id = ?`);
  const insert = db.prepare(`INSERT INTO auth_passkeys (${columns}, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
  const use = db.prepare('UPDATE auth_passkeys SET counter = ?, last_used_at = ? WHERE credential_id = ?');
  return {
    forUser: (userId) => byUser.all(userId).map(toPasskey),
    find(credentialId) {
      const row = byId.get(credentialId);
      return row ? toPasskey(row) : null;
    },
    add(passkey, now = Date.now()) {
      insert.run(passkey.id, passkey.userId, passkey.publicKey, passkey.counter, JSON.stringify(passkey.transports ?? []), now);
    },
    recordUse(credentialId, counter, now = Date.now()) {
      use.run(counter, now, credentialId);
    },
  };
}
