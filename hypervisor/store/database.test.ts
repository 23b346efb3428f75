import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrate, openDatabase, transaction } from './database.ts';

describe('database', () => {
  it('opens a real SQLite file in WAL mode and applies each migration once', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'db-')), 'nested', 'h.db');
    const db = openDatabase(`sqlite:${file}`);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    const steps = ['CREATE TABLE t (x INTEGER)', 'ALTER TABLE t ADD COLUMN y TEXT'];
    migrate(db, 'demo', steps);
    migrate(db, 'demo', steps);
    db.prepare('INSERT INTO t (x, y) VALUES (1, ?)').run('a');
    db.close();
    const again = openDatabase(`sqlite:${file}`);
    expect(again.prepare('SELECT x, y FROM t').all()).toEqual([{ x: 1, y: 'a' }]);
  });

  // A deleted user's passkeys and recovery codes go by ON DELETE CASCADE, which SQLite applies only with foreign keys on.
  it('enforces foreign keys: a child row goes with its parent, and one without a parent is refused', () => {
    const db = openDatabase(`sqlite:${path.join(mkdtempSync(path.join(tmpdir(), 'db-')), 'fk.db')}`);
    db.exec('CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE)');
    db.exec('INSERT INTO parent (id) VALUES (1); INSERT INTO child (parent_id) VALUES (1)');
    db.exec('DELETE FROM parent WHERE id = 1');
    expect(db.prepare('SELECT count(*) AS n FROM child').get()).toEqual({ n: 0 });
    expect(() => db.exec('INSERT INTO child (parent_id) VALUES (2)')).toThrow(/FOREIGN KEY/);
    db.close();
  });

  it('names the variable and the accepted forms for a bad URL', () => {
    expect(() => openDatabase('postgres://x')).toThrow(/HYPERVISOR_DATABASE_URL="postgres:\/\/x".*sqlite:PATH/);
    expect(() => openDatabase(`file:sqlite:${path.join(tmpdir(), 'choiros-not-a-sqlite-url.db')}`), 'sqlite: must start the URL').toThrow(/is not a SQLite URL/);
  });

  it('rolls back a failed transaction as a whole', () => {
    const db = openDatabase('sqlite::memory:');
    db.exec('CREATE TABLE t (x INTEGER UNIQUE)');
    expect(() =>
      transaction(db, () => {
        db.prepare('INSERT INTO t VALUES (1)').run();
        db.prepare('INSERT INTO t VALUES (1)').run();
      }),
    ).toThrow();
    expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 0 });
  });

  // It holds sessions, passkeys and recovery code hashes: the file and its -wal and -shm are the owner's only.
  it('keeps the database file, its -wal and its -shm readable by their owner only, also a file that existed with a wider mode', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'db-')), 'h.db');
    const db = openDatabase(`sqlite:${file}`);
    db.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
    for (const companion of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(companion), companion).toBe(true);
      expect(statSync(companion).mode & 0o777, companion).toBe(0o600);
    }
    db.close();
    chmodSync(file, 0o644);
    openDatabase(`sqlite:${file}`).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('leaves no trace of a failed migration, names the module and version, and applies none after it', () => {
    const db = openDatabase('sqlite::memory:');
    const steps = ['CREATE TABLE t (x INTEGER)', 'CREATE TABLE half (y INTEGER); INSERT INTO missing VALUES (1)', 'CREATE TABLE later (z INTEGER)'];
    expect(() => migrate(db, 'demo', steps)).toThrow(/^migration demo v2 failed: no such table: missing/);
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((row) => row.name);
    expect(tables).toEqual(['schema_migrations', 't']);
    expect(db.prepare('SELECT module, version FROM schema_migrations').all()).toEqual([{ module: 'demo', version: 1 }]);
    migrate(db, 'demo', ['CREATE TABLE t (x INTEGER)', 'CREATE TABLE half (y INTEGER)', 'CREATE TABLE later (z INTEGER)']);
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').all().map((row) => row.version)).toEqual([1, 2, 3]);
  });

  it("keeps each module's versions apart: one module's v1 is not another's", () => {
    const db = openDatabase('sqlite::memory:');
    migrate(db, 'first', ['CREATE TABLE a (x INTEGER)']);
    migrate(db, 'second', ['CREATE TABLE b (x INTEGER)']);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b')").get()).toEqual({ n: 2 });
  });
});
