import type { Database } from '../store/database.ts';
import { parseRole, type Role } from '../domain/role.ts';

export type SwitchAction = 'swap' | 'promote' | 'rollback';
/** switched: the pointers moved; refused: the new target failed its check and nothing changed. */
export type SwitchOutcome = 'switched' | 'refused';

/** One switch attempt: who, when, from, to, why, how long, and how it ended. */
export interface SwitchRecord {
  id: number;
  userId: string;
  action: SwitchAction;
  actor: string;
  at: string;
  fromRole: Role;
  fromRelease: number | null;
  toRole: Role;
  toRelease: number | null;
  reason: string;
  outcome: SwitchOutcome;
  error: string | null;
  /** Whether the old target's in-flight requests finished before the drain timeout; null until known. */
  drained: boolean | null;
  durationMs: number | null;
}

export type SwitchAttempt = Omit<SwitchRecord, 'id' | 'drained' | 'durationMs'>;

const toRecord = (row: Record<string, unknown>): SwitchRecord => ({
  id: Number(row.id),
  userId: String(row.user_id),
  action: row.action as SwitchAction,
  actor: String(row.actor),
  at: String(row.at),
  fromRole: parseRole(String(row.from_role)),
  fromRelease: row.from_release === null ? null : Number(row.from_release),
  toRole: parseRole(String(row.to_role)),
  toRelease: row.to_release === null ? null : Number(row.to_release),
  reason: String(row.reason),
  outcome: row.outcome as SwitchOutcome,
  error: row.error === null ? null : String(row.error),
  drained: row.drained === null ? null : Number(row.drained) === 1,
  durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
});

/** The switch history. A `switched` row is written in the same transaction as the pointers. */
export class SwitchHistory {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  add(attempt: SwitchAttempt, durationMs: number | null = null): number {
    const row = this.#db
      .prepare(
        'INSERT INTO switches (user_id, action, actor, at, from_role, from_release, to_role, to_release, reason, outcome, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      )
      .get(
        attempt.userId,
        attempt.action,
        attempt.actor,
        attempt.at,
        attempt.fromRole,
        attempt.fromRelease,
        attempt.toRole,
        attempt.toRelease,
        attempt.reason,
        attempt.outcome,
        attempt.error,
        durationMs,
      );
    return Number(row?.id);
  }

  /** Completes a switched row once the old target has drained (or the drain timed out). */
  finish(id: number, drained: boolean, durationMs: number): void {
    this.#db.prepare('UPDATE switches SET drained = ?, duration_ms = ? WHERE id = ?').run(drained ? 1 : 0, durationMs, id);
  }

  get(id: number): SwitchRecord | undefined {
    const row = this.#db.prepare('SELECT * FROM switches WHERE id = ?').get(id);
    return row ? toRecord(row) : undefined;
  }

  /** Newest first; one user's or everyone's. */
  list(options: { userId?: string; limit?: number } = {}): SwitchRecord[] {
    const limit = options.limit ?? 100;
    const rows = options.userId
      ? this.#db.prepare('SELECT * FROM switches WHERE user_id = ? ORDER BY id DESC LIMIT ?').all(options.userId, limit)
      : this.#db.prepare('SELECT * FROM switches ORDER BY id DESC LIMIT ?').all(limit);
    return rows.map(toRecord);
  }
}
