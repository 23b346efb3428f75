import type { Database } from '../store/database.ts';
import type { Logger } from '../log.ts';

export type AuditEvent = 'register' | 'login' | 'login_failed' | 'recovery_used' | 'recovery_failed' | 'logout' | 'user_deleted';

export interface AuditEntry {
  event: AuditEvent;
  userId?: string | null;
  username?: string | null;
  client?: string | null;
  /** Facts only (reasons, counts, kinds); never a code, a session id, a challenge or a key. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface Audit {
  record(entry: AuditEntry, now?: number): void;
}

export function createAudit(db: Database, log: Logger): Audit {
  const insert = db.prepare('INSERT INTO auth_audit (at, event, user_id, username, client, detail) VALUES (?, ?, ?, ?, ?, ?)');
  return {
    record(entry, now = Date.now()) {
      insert.run(now, entry.event, entry.userId ?? null, entry.username ?? null, entry.client ?? null, JSON.stringify(entry.detail ?? {}));
      log.info({ event: `auth.${entry.event}`, user: entry.userId ?? null, username: entry.username ?? null, client: entry.client ?? null, ...entry.detail });
    },
  };
}
