import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { openDatabase } from '../store/database.ts';
import { createAudit } from './audit.ts';
import { migrateAuth } from './schema.ts';

function auditWithLog() {
  const db = openDatabase('sqlite::memory:');
  migrateAuth(db);
  const lines: Array<Record<string, unknown>> = [];
  const audit = createAudit(db, createLogger('audit-test', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }));
  const rows = () => db.prepare('SELECT at, event, user_id, username, client, detail FROM auth_audit ORDER BY id').all().map((row) => ({ ...row }));
  return { audit, lines, rows };
}

describe('the auth audit', () => {
  it('stores each entry as a row at the time given, an entry without detail as {} and what it omits as null', () => {
    const { audit, rows } = auditWithLog();
    audit.record({ event: 'login', userId: 'u0123456789abcdef', username: 'alice', client: '203.0.113.9' }, 1_700_000_000_000);
    audit.record({ event: 'recovery_failed', username: 'mallory', detail: { reason: 'wrong code', tries: 2 } }, 1_700_000_000_001);
    expect(rows()).toEqual([
      { at: 1_700_000_000_000, event: 'login', user_id: 'u0123456789abcdef', username: 'alice', client: '203.0.113.9', detail: '{}' },
      { at: 1_700_000_000_001, event: 'recovery_failed', user_id: null, username: 'mallory', client: null, detail: '{"reason":"wrong code","tries":2}' },
    ]);
  });

  it('logs each entry as one info line, event auth.<event>, with the user, username, client and the detail\'s facts', () => {
    const { audit, lines } = auditWithLog();
    audit.record({ event: 'logout', userId: 'u0123456789abcdef', username: 'alice', client: '127.0.0.1', detail: { kind: 'user' } });
    expect(lines).toEqual([expect.objectContaining({ level: 30, event: 'auth.logout', user: 'u0123456789abcdef', username: 'alice', client: '127.0.0.1', kind: 'user' })]);
  });
});
