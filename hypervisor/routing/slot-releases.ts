import type { Database } from '../store/database.ts';
import { parseRole, type Role } from '../domain/role.ts';

/** starting: the slot is being started on the release; ready: it passed the health gate; refused: it did not. */
export type SlotState = 'starting' | 'ready' | 'refused';

export interface SlotRelease {
  userId: string;
  role: Role;
  releaseId: number;
  state: SlotState;
  error: string | null;
  updatedAt: string;
}

const toSlotRelease = (row: Record<string, unknown>): SlotRelease => ({
  userId: String(row.user_id),
  role: parseRole(String(row.role)),
  releaseId: Number(row.release_id),
  state: row.state as SlotState,
  error: row.error === null ? null : String(row.error),
  updatedAt: String(row.updated_at),
});

/**
 * Which release each user's live and dev slot was last put on. The manager knows what a sandbox runs
 * (image, runtime, config); this knows which release that was, so rollback can tell a warm standby.
 */
export class SlotReleases {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  get(userId: string, role: Role): SlotRelease | undefined {
    const row = this.#db.prepare('SELECT * FROM slot_releases WHERE user_id = ? AND role = ?').get(userId, role);
    return row ? toSlotRelease(row) : undefined;
  }

  record(userId: string, role: Role, releaseId: number, state: SlotState, error: string | null = null): void {
    this.#db
      .prepare(
        'INSERT INTO slot_releases (user_id, role, release_id, state, error, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id, role) DO UPDATE SET release_id = excluded.release_id, state = excluded.state, error = excluded.error, updated_at = excluded.updated_at',
      )
      .run(userId, role, releaseId, state, error, new Date().toISOString());
  }

  list(): SlotRelease[] {
    return this.#db.prepare('SELECT * FROM slot_releases ORDER BY user_id, role').all().map(toSlotRelease);
  }

  users(): string[] {
    return this.#db.prepare('SELECT DISTINCT user_id FROM slot_releases ORDER BY user_id').all().map((row) => String(row.user_id));
  }
}
