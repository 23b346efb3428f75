import { transaction, type Database } from '../store/database.ts';
import { parseRole, type Role } from '../domain/role.ts';
import type { Route } from '../domain/route.ts';

/** Which slot each route of one user points to. main and dev always point to different slots. */
export interface Pointers {
  main: Role;
  dev: Role;
  updatedAt: string | null;
}

const defaults: Pointers = { main: 'live', dev: 'dev', updatedAt: null };

/** The slot a route does not point to: the standby behind the other route. */
export const otherSlot = (role: Role): Role => (role === 'live' ? 'dev' : 'live');

/**
 * Durable route pointers (ChoirOS's `main -> role:live`, `dev -> role:dev`). Both rows change in one
 * transaction, so a crash leaves the pointers as they were before a switch or after it, never split.
 * Reads are served from memory: this process is the only writer, and the proxy reads on every request.
 */
export class RoutePointers {
  readonly #db: Database;
  readonly #cache = new Map<string, Pointers>();

  constructor(db: Database) {
    this.#db = db;
  }

  get(userId: string): Pointers {
    const cached = this.#cache.get(userId);
    if (cached) return cached;
    const read = this.#read(userId);
    this.#cache.set(userId, read);
    return read;
  }

  /** The slot a route of this user resolves to, for the proxy. */
  resolve(userId: string, route: Route): Role {
    return this.get(userId)[route];
  }

  /** Users with stored pointers (users never switched still have the defaults). */
  users(): string[] {
    return this.#db.prepare('SELECT DISTINCT user_id FROM route_pointers ORDER BY user_id').all().map((row) => String(row.user_id));
  }

  /**
   * Points main at `main` (and dev at the other slot). `alsoInside` runs in the same transaction, so
   * the switch and its history row land together or not at all.
   */
  point<T>(userId: string, main: Role, alsoInside: (before: Pointers, after: Pointers) => T): { before: Pointers; after: Pointers; result: T } {
    const outcome = transaction(this.#db, () => {
      const before = this.#read(userId);
      const at = new Date().toISOString();
      const after: Pointers = { main, dev: otherSlot(main), updatedAt: at };
      const upsert = this.#db.prepare(
        'INSERT INTO route_pointers (user_id, route, role, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, route) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at',
      );
      upsert.run(userId, 'main', after.main, at);
      upsert.run(userId, 'dev', after.dev, at);
      return { before, after, result: alsoInside(before, after) };
    });
    this.#cache.set(userId, outcome.after);
    return outcome;
  }

  /** Deletes the user's pointers (the user is being deleted); they read as the defaults afterwards. */
  forget(userId: string): void {
    this.#db.prepare('DELETE FROM route_pointers WHERE user_id = ?').run(userId);
    this.#cache.delete(userId);
  }

  #read(userId: string): Pointers {
    const rows = this.#db.prepare('SELECT route, role, updated_at FROM route_pointers WHERE user_id = ?').all(userId);
    if (rows.length === 0) return { ...defaults };
    const main = rows.find((row) => row.route === 'main');
    const dev = rows.find((row) => row.route === 'dev');
    if (!main || !dev || main.role === dev.role) {
      // Cannot happen through point(); a hand-edited database is refused rather than half-followed.
      throw new Error(`route pointers of user "${userId}" are inconsistent (${JSON.stringify(rows)}): fix the route_pointers rows so main and dev name different slots`);
    }
    return { main: parseRole(String(main.role)), dev: parseRole(String(dev.role)), updatedAt: String(main.updated_at) };
  }
}

