import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../store/database.ts';
import { RoutePointers } from './route-pointers.ts';
import { migrateRouting } from './schema.ts';

const dirs: string[] = [];
const freshDatabaseUrl = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pointers-'));
  dirs.push(dir);
  return `sqlite:${path.join(dir, 'h.db')}`;
};

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function open(url: string): RoutePointers {
  const db = openDatabase(url);
  migrateRouting(db);
  return new RoutePointers(db);
}

describe('route pointers', () => {
  it('default to main -> live and dev -> dev for a user never switched', () => {
    const pointers = open('sqlite::memory:');
    expect(pointers.get('ann')).toMatchObject({ main: 'live', dev: 'dev', updatedAt: null });
    expect(pointers.resolve('ann', 'main')).toBe('live');
    expect(pointers.resolve('ann', 'dev')).toBe('dev');
  });

  it('keep a switch across a restart (a new process opening the same SQLite file)', () => {
    const url = freshDatabaseUrl();
    open(url).point('ann', 'dev', () => undefined);
    const reopened = open(url);
    expect(reopened.get('ann')).toMatchObject({ main: 'dev', dev: 'live' });
    expect(reopened.get('bob')).toMatchObject({ main: 'live', dev: 'dev' });
    expect(reopened.users()).toEqual(['ann']);
  });

  it('leave the pointers as they were when the work inside the switch fails', () => {
    const url = freshDatabaseUrl();
    const pointers = open(url);
    expect(() =>
      pointers.point('ann', 'dev', () => {
        throw new Error('history insert failed');
      }),
    ).toThrow('history insert failed');
    expect(pointers.get('ann')).toMatchObject({ main: 'live', dev: 'dev' });
    expect(open(url).get('ann')).toMatchObject({ main: 'live', dev: 'dev' });
  });

  it('serve a switch and a forgotten user at once from the same object, whatever it read before, and only for that user', () => {
    const pointers = open('sqlite::memory:');
    for (const user of ['ann', 'bob']) expect(pointers.resolve(user, 'main'), 'read (and cached) before the switch').toBe('live');
    pointers.point('ann', 'dev', () => undefined);
    pointers.point('bob', 'dev', () => undefined);
    expect([pointers.resolve('ann', 'main'), pointers.resolve('ann', 'dev')]).toEqual(['dev', 'live']);
    pointers.forget('ann');
    expect(pointers.get('ann'), "the deleted user's pointers read as the defaults").toMatchObject({ main: 'live', dev: 'dev', updatedAt: null });
    expect(pointers.users()).toEqual(['bob']);
    expect(pointers.resolve('bob', 'main'), "another user's switch stays").toBe('dev');
  });

  it('refuse pointers that a hand edit left naming the same slot, saying what to fix', () => {
    const db = openDatabase('sqlite::memory:');
    migrateRouting(db);
    const at = new Date().toISOString();
    db.prepare("INSERT INTO route_pointers VALUES ('ann', 'main', 'live', ?), ('ann', 'dev', 'live', ?)").run(at, at);
    expect(() => new RoutePointers(db).get('ann')).toThrow(/route pointers of user "ann" are inconsistent.*fix the route_pointers rows/);
  });
});
