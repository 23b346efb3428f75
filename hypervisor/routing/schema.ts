import { migrate, type Database } from '../store/database.ts';

/**
 * Routing's tables. Releases are global (an image plus the config and runtime it runs with);
 * pointers, slot assignments and switches are per user. Append steps, never edit old ones.
 */
const steps = [
  `CREATE TABLE releases (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     runtime TEXT NOT NULL CHECK (runtime IN ('podman', 'process')),
     image TEXT NOT NULL,
     image_ref TEXT NOT NULL,
     config TEXT NOT NULL,
     revision TEXT,
     note TEXT,
     created_at TEXT NOT NULL,
     known_good_at TEXT,
     status TEXT NOT NULL CHECK (status IN ('candidate', 'staged', 'serving', 'refused', 'pruned'))
   );
   CREATE TABLE route_pointers (
     user_id TEXT NOT NULL,
     route TEXT NOT NULL CHECK (route IN ('main', 'dev')),
     role TEXT NOT NULL CHECK (role IN ('live', 'dev')),
     updated_at TEXT NOT NULL,
     PRIMARY KEY (user_id, route)
   );
   CREATE TABLE slot_releases (
     user_id TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('live', 'dev')),
     release_id INTEGER NOT NULL REFERENCES releases (id),
     state TEXT NOT NULL CHECK (state IN ('starting', 'ready', 'refused')),
     error TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (user_id, role)
   );
   CREATE TABLE switches (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     user_id TEXT NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('swap', 'promote', 'rollback')),
     actor TEXT NOT NULL,
     at TEXT NOT NULL,
     from_role TEXT NOT NULL,
     from_release INTEGER,
     to_role TEXT NOT NULL,
     to_release INTEGER,
     reason TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('switched', 'refused')),
     error TEXT,
     drained INTEGER,
     duration_ms REAL
   );
   CREATE INDEX switches_by_user ON switches (user_id, id);`,
];

export function migrateRouting(db: Database): void {
  migrate(db, 'routing', steps);
}
