import { DatabaseSync } from 'node:sqlite';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';

export type Database = DatabaseSync;

/**
 * Opens HYPERVISOR_DATABASE_URL (`sqlite:PATH` or `sqlite::memory:`), in WAL mode so readers never
 * block the writer. One file holds every module's tables; each module migrates its own.
 */
export function openDatabase(url: string): Database {
  const match = /^sqlite:(.+)$/.exec(url);
  if (!match?.[1]) {
    throw new Error(`HYPERVISOR_DATABASE_URL="${url}" is not a SQLite URL: use sqlite:PATH (for example sqlite:./data/hypervisor.db) or sqlite::memory:`);
  }
  const file = match[1].replace(/^\/\/(?=\/)/, '');
  if (file !== ':memory:') {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Owner-only: it holds sessions and credentials. SQLite gives -wal and -shm the database's mode.
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  if (file !== ':memory:') for (const companion of [`${file}-wal`, `${file}-shm`]) if (existsSync(companion)) chmodSync(companion, 0o600);
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (module TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (module, version))');
  return db;
}

/**
 * Applies a module's migrations in order, each once, each in a transaction. `steps[i]` is version i+1;
 * append new steps, never edit old ones.
 */
export function migrate(db: Database, module: string, steps: readonly string[]): void {
  const applied = db.prepare('SELECT version FROM schema_migrations WHERE module = ?').all(module).map((row) => Number(row.version));
  steps.forEach((sql, index) => {
    const version = index + 1;
    if (applied.includes(version)) return;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (module, version, applied_at) VALUES (?, ?, ?)').run(module, version, new Date().toISOString());
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw new Error(`migration ${module} v${version} failed: ${(error as Error).message}`, { cause: error });
    }
  });
}

/** Runs `work` in one IMMEDIATE transaction: all of it lands, or none. */
export function transaction<T>(db: Database, work: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = work();
    db.exec('COMMIT');
    return result;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}
