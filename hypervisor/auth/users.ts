import { randomBytes } from 'node:crypto';
import type { Database } from '../store/database.ts';

export interface User {
  id: string;
  username: string;
  displayName: string;
  /** The WebAuthn user handle: random, so it reveals nothing about the account. */
  webauthnUserId: string;
}

export class UsernameTakenError extends Error {
  constructor(username: string) {
    super(`username "${username}" is already registered: log in at /login, or use a recovery code at /recovery to add a passkey`);
    this.name = 'UsernameTakenError';
  }
}

/**
 * User ids double as sandbox ids (data directories, container names), so they are generated here in
 * a shape that is safe everywhere: `u` and 16 lowercase hex digits. The username is only a label.
 */
export const newUserId = (): string => `u${randomBytes(8).toString('hex')}`;

export interface Users {
  findByUsername(username: string): User | null;
  findById(id: string): User | null;
  create(user: User, now?: number): void;
}

const toUser = (row: Record<string, unknown>): User => ({
  id: String(row.id),
  username: String(row.username),
  displayName: String(row.display_name),
  webauthnUserId: String(row.webauthn_user_id),
});

export function createUsers(db: Database): Users {
  const byName = db.prepare('SELECT id, username, display_name, webauthn_user_id FROM auth_users WHERE username = ?');
  const byId = db.prepare('SELECT id, username, display_name, webauthn_user_id FROM auth_users WHERE id = ?');
  const insert = db.prepare('INSERT INTO auth_users (id, username, display_name, webauthn_user_id, created_at) VALUES (?, ?, ?, ?, ?)');
  return {
    findByUsername(username) {
      const row = byName.get(username);
      return row ? toUser(row) : null;
    },
    findById(id) {
      const row = byId.get(id);
      return row ? toUser(row) : null;
    },
    create(user, now = Date.now()) {
      try {
        insert.run(user.id, user.username, user.displayName, user.webauthnUserId, now);
      } catch (error) {
        if (/UNIQUE constraint failed: auth_users\.username/.test((error as Error).message)) throw new UsernameTakenError(user.username);
        throw error;
      }
    },
  };
}
