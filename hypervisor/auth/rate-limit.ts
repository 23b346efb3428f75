import type { Database } from '../store/database.ts';
import { HttpError } from '../http/errors.ts';

export interface FailureLimit {
  /** Failures allowed inside the window before further attempts are refused. */
  max: number;
  windowMs: number;
}

export type Verdict = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Sliding-window failure counting in SQLite, so a restart does not hand an attacker a fresh budget.
 * A subject is an account (`account:<username>`) or a client address.
 */
export interface FailureLimiter {
  check(subject: string, now?: number): Verdict;
  fail(subject: string, now?: number): void;
}

export function createFailureLimiter(db: Database, scope: string, limit: FailureLimit): FailureLimiter {
  const recent = db.prepare('SELECT at FROM auth_failures WHERE scope = ? AND subject = ? AND at > ? ORDER BY at DESC LIMIT ?');
  const insert = db.prepare('INSERT INTO auth_failures (scope, subject, at) VALUES (?, ?, ?)');
  const prune = db.prepare('DELETE FROM auth_failures WHERE scope = ? AND at <= ?');
  return {
    check(subject, now = Date.now()) {
      const rows = recent.all(scope, subject, now - limit.windowMs, limit.max);
      if (rows.length < limit.max) return { allowed: true };
      const oldest = Number(rows[rows.length - 1]?.at);
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000)) };
    },
    fail(subject, now = Date.now()) {
      prune.run(scope, now - limit.windowMs);
      insert.run(scope, subject, now);
    },
  };
}

/** 429 with Retry-After when any of the verdicts refuses. */
export function refuseWhenLimited(verdicts: Verdict[], what: string): void {
  for (const verdict of verdicts) {
    if (!verdict.allowed) {
      throw new HttpError(429, `too many failed ${what} attempts: try again in ${verdict.retryAfterSeconds} s`, {}, { 'retry-after': String(verdict.retryAfterSeconds) });
    }
  }
}
