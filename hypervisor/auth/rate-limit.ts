import type { Database } from '../store/database.ts';
import { HttpError } from '../http/errors.ts';

export interface FailureLimit {
  /** Failures allowed inside the window before further attempts are refused. */
  max: number;
  windowMs: number;
}

export type Reservation = { allowed: true; id: number } | { allowed: false; retryAfterSeconds: number };

/**
 * Sliding-window failure counting in SQLite, so a restart does not hand an attacker a fresh budget.
 * A subject is an account (`account:<username>`) or a client address.
 *
 * An attempt is counted as a failure the moment it is let in (`reserve`), before any slow work
 * (hashing, signature checks): the check and the count are one synchronous step, so concurrent
 * attempts each see the others. An attempt that succeeds is taken back (`release`).
 */
export interface FailureLimiter {
  reserve(subject: string, now?: number): Reservation;
  release(id: number): void;
}

export function createFailureLimiter(db: Database, scope: string, limit: FailureLimit): FailureLimiter {
  const recent = db.prepare('SELECT at FROM auth_failures WHERE scope = ? AND subject = ? AND at > ? ORDER BY at DESC LIMIT ?');
  const insert = db.prepare('INSERT INTO auth_failures (scope, subject, at) VALUES (?, ?, ?)');
  const remove = db.prepare('DELETE FROM auth_failures WHERE rowid = ?');
  const prune = db.prepare('DELETE FROM auth_failures WHERE scope = ? AND at <= ?');
  return {
    reserve(subject, now = Date.now()) {
      const rows = recent.all(scope, subject, now - limit.windowMs, limit.max);
      if (rows.length >= limit.max) {
        const oldest = Number(rows[rows.length - 1]?.at);
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + limit.windowMs - now) / 1000)) };
      }
      prune.run(scope, now - limit.windowMs);
      return { allowed: true, id: Number(insert.run(scope, subject, now).lastInsertRowid) };
    },
    release(id) {
      remove.run(id);
    },
  };
}

/** An attempt let in by every limiter it is counted by: a failure unless it is declared a success. */
export interface Attempt {
  /** The attempt succeeded: it no longer counts against any of its subjects. */
  succeeded(): void;
}

/**
 * Counts one attempt against each (limiter, subject) pair, or refuses it with 429 and Retry-After
 * when any of them has no budget left (counting it nowhere then).
 */
export function beginAttempt(what: string, counted: ReadonlyArray<readonly [FailureLimiter, string]>, now = Date.now()): Attempt {
  const held: Array<() => void> = [];
  for (const [limiter, subject] of counted) {
    const reservation = limiter.reserve(subject, now);
    if (!reservation.allowed) {
      for (const release of held) release();
      throw new HttpError(429, `too many failed ${what} attempts: try again in ${reservation.retryAfterSeconds} s`, {}, { 'retry-after': String(reservation.retryAfterSeconds) });
    }
    held.push(() => limiter.release(reservation.id));
  }
  return {
    succeeded() {
      for (const release of held.splice(0)) release();
    },
  };
}
