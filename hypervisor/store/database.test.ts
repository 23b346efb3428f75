import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
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

  it('names the variable and the accepted forms for a bad URL', () => {
    expect(() => openDatabase('postgres://x')).toThrow(/HYPERVISOR_DATABASE_URL="postgres:\/\/x".*sqlite:PATH/);
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
});
