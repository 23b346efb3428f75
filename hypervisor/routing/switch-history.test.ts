import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { migrateRouting } from './schema.ts';
import { SwitchHistory, type SwitchAttempt } from './switch-history.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'switch-history-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The history as a restarted hypervisor reads it: a new connection to the same SQLite file. */
function open(file: string): SwitchHistory {
  const db = openDatabase(`sqlite:${file}`);
  migrateRouting(db);
  return new SwitchHistory(db);
}

const attempt = (userId: string, reason: string, overrides: Partial<SwitchAttempt> = {}): SwitchAttempt => ({
  userId,
  action: 'swap',
  actor: 'admin:test',
  at: new Date().toISOString(),
  fromRole: 'live',
  fromRelease: null,
  toRole: 'dev',
  toRelease: null,
  reason,
  outcome: 'switched',
  error: null,
  ...overrides,
});

describe('the switch history', () => {
  it("lists one user's switches or everyone's, newest first, at most `limit`", () => {
    const file = path.join(dir, 'list.db');
    const history = open(file);
    for (const [user, reason] of [['alice', 'a1'], ['bob', 'b1'], ['alice', 'a2'], ['alice', 'a3'], ['bob', 'b2']] as const) history.add(attempt(user, reason));
    const reasons = (options: { userId?: string; limit?: number }): string[] => open(file).list(options).map((record) => `${record.userId}:${record.reason}`);
    expect(reasons({ userId: 'alice' })).toEqual(['alice:a3', 'alice:a2', 'alice:a1']);
    expect(reasons({ userId: 'alice', limit: 2 })).toEqual(['alice:a3', 'alice:a2']);
    expect(reasons({ limit: 3 })).toEqual(['bob:b2', 'alice:a3', 'alice:a2']);
    expect(reasons({})).toHaveLength(5);
  });

  it('lists the newest 100 when no limit is given: the oldest switches are the ones left out', () => {
    const history = open(path.join(dir, 'default-limit.db'));
    for (let i = 1; i <= 101; i += 1) history.add(attempt(i % 2 === 0 ? 'alice' : 'bob', `s${i}`));
    const listed = history.list().map((record) => record.reason);
    expect(listed).toHaveLength(100);
    expect([listed[0], listed.at(-1)], 'newest first, down to the second oldest').toEqual(['s101', 's2']);
  });

  it('keeps how a switch ended across reopening: releases, refusal error, drained and duration, including a drain that timed out', () => {
    const file = path.join(dir, 'fields.db');
    const switched = open(file).add(attempt('alice', 'promote 4', { action: 'promote', fromRelease: 3, toRelease: 4 }));
    const refused = open(file).add(attempt('alice', 'try 5', { fromRelease: 4, toRelease: 5, outcome: 'refused', error: 'health check answered 503' }), 41.5);
    open(file).finish(switched, false, 1234.5);
    expect(open(file).get(switched)).toMatchObject({ action: 'promote', fromRole: 'live', fromRelease: 3, toRole: 'dev', toRelease: 4, outcome: 'switched', error: null, drained: false, durationMs: 1234.5 });
    expect(open(file).get(refused)).toMatchObject({ fromRelease: 4, toRelease: 5, outcome: 'refused', error: 'health check answered 503', drained: null, durationMs: 41.5 });
    open(file).finish(switched, true, 20);
    expect(open(file).get(switched)).toMatchObject({ drained: true, durationMs: 20 });
  });
});
