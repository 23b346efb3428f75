import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { createFailureLimiter, type Reservation } from './rate-limit.ts';
import { migrateAuth } from './schema.ts';

const second = 1_000;
const window = { max: 3, windowMs: 60 * second };

function limiter(scope = 'recovery-by-account') {
  const db = openDatabase('sqlite::memory:');
  migrateAuth(db);
  return { db, limiter: createFailureLimiter(db, scope, window) };
}

const refusedFor = (reservation: Reservation): number | 'allowed' => (reservation.allowed ? 'allowed' : reservation.retryAfterSeconds);

describe('failure limits: a sliding window counted in SQLite', () => {
  it('refuses past the budget with Retry-After naming when the oldest counted failure leaves the window, and lets the next attempt in then', () => {
    const { limiter: failures } = limiter();
    const t0 = 1_000_000;
    for (const at of [t0, t0 + 10 * second, t0 + 20 * second]) expect(failures.reserve('account:alice', at).allowed).toBe(true);
    expect(refusedFor(failures.reserve('account:alice', t0 + 30 * second)), 'the oldest failure (t0) leaves the window at t0 + 60 s').toBe(30);
    expect(refusedFor(failures.reserve('account:alice', t0 + 59 * second))).toBe(1);
    expect(failures.reserve('account:alice', t0 + 60 * second).allowed, 'once the oldest is out of the window, the budget has room again').toBe(true);
    expect(refusedFor(failures.reserve('account:alice', t0 + 61 * second)), 'the next oldest (t0 + 10 s) leaves at t0 + 70 s').toBe(9);
  });

  it('counts each subject and each scope on its own, and an attempt taken back (a success) no longer counts', () => {
    const { db, limiter: byAccount } = limiter('recovery-by-account');
    const byClient = createFailureLimiter(db, 'recovery-by-client', window);
    const t0 = 2_000_000;
    for (let i = 0; i < 3; i += 1) byAccount.reserve('account:alice', t0 + i);
    expect(byAccount.reserve('account:alice', t0 + 5).allowed).toBe(false);
    expect(byAccount.reserve('account:bob', t0 + 5).allowed, "another account's budget").toBe(true);
    expect(byClient.reserve('account:alice', t0 + 5).allowed, "another scope's budget for the same subject").toBe(true);

    const { limiter: fresh } = limiter();
    const held = [fresh.reserve('account:carol', t0), fresh.reserve('account:carol', t0 + 1), fresh.reserve('account:carol', t0 + 2)];
    const first = held[0];
    if (!first?.allowed) throw new Error('the first attempt was refused');
    fresh.release(first.id);
    expect(fresh.reserve('account:carol', t0 + 3).allowed, 'a released attempt frees its place in the budget').toBe(true);
    expect(fresh.reserve('account:carol', t0 + 4).allowed).toBe(false);
  });
});
