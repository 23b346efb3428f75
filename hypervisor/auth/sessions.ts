import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../store/database.ts';

export type SessionKind = 'user' | 'recovery';

export interface Session {
  userId: string;
  username: string;
  kind: SessionKind;
  /** When the sign-in that made it happened (epoch ms). */
  createdAt: number;
  expiresAt: number;
}

export const sessionLifetimeMs: Record<SessionKind, number> = {
  user: 7 * 24 * 3600_000,
  // A recovery session only lets its holder register a new passkey, and only for a short while.
  recovery: 10 * 60_000,
};

/** Ids are 256 random bits; only their digest is stored, so a database leak yields no live session. */
const digest = (id: string): string => createHash('sha256').update(id).digest('base64url');

export interface Sessions {
  create(userId: string, kind: SessionKind, now?: number): { id: string; expiresAt: number };
  find(id: string, now?: number): Session | null;
  delete(id: string): void;
  deleteExpired(now?: number): void;
  /** Ends every session of the user (the user is being deleted); the count ended. */
  deleteForUser(userId: string): number;
}

/**
 * Every proxied request looks its session up, so lookups are cached in memory for a few seconds.
 * Deleting a session (logout, rotation) goes through this object and evicts it at once; the TTL only
 * bounds how long a deletion made by another process could go unnoticed.
 */
const cacheTtlMs = 5_000;
const cacheLimit = 10_000;

export function createSessions(db: Database): Sessions {
  const cache = new Map<string, { session: Session; until: number }>();
  const insert = db.prepare('INSERT INTO auth_sessions (id_hash, user_id, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare(
    'SELECT s.user_id, u.username, s.kind, s.created_at, s.expires_at FROM auth_sessions s JOIN auth_users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?',
  );
  const remove = db.prepare('DELETE FROM auth_sessions WHERE id_hash = ?');
  const removeExpired = db.prepare('DELETE FROM auth_sessions WHERE expires_at <= ?');
  const removeForUser = db.prepare('DELETE FROM auth_sessions WHERE user_id = ?');
  return {
    create(userId, kind, now = Date.now()) {
      // Sign-ins are rare next to lookups: a good moment to drop expired rows (cached ones check expiry themselves).
      removeExpired.run(now);
      const id = randomBytes(32).toString('base64url');
      const expiresAt = now + sessionLifetimeMs[kind];
      insert.run(digest(id), userId, kind, now, expiresAt);
      return { id, expiresAt };
    },
    find(id, now = Date.now()) {
      const cached = cache.get(id);
      if (cached && cached.until > now && cached.session.expiresAt > now) return cached.session;
      if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
      const row = select.get(digest(id), now);
      if (!row) {
        cache.delete(id);
        return null;
      }
      const session: Session = {
        userId: String(row.user_id),
        username: String(row.username),
        kind: row.kind as SessionKind,
        createdAt: Number(row.created_at),
        expiresAt: Number(row.expires_at),
      };
      if (cache.size >= cacheLimit) cache.clear();
      cache.set(id, { session, until: now + cacheTtlMs });
      return session;
    },
    delete(id) {
      cache.delete(id);
      remove.run(digest(id));
    },
    deleteExpired(now = Date.now()) {
      cache.clear();
      removeExpired.run(now);
    },
    deleteForUser(userId) {
      for (const [id, cached] of cache) if (cached.session.userId === userId) cache.delete(id);
      return Number(removeForUser.run(userId).changes);
    },
  };
}
