import { describe, expect, it } from 'vitest';
import { openDatabase } from '../store/database.ts';
import { HttpError } from '../http/errors.ts';
import { beginAttempt, createFailureLimiter, type Reservation } from './rate-limit.ts';
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

  it('an attempt refused (429 with Retry-After) by one of its limiters is counted by none of them', () => {
    const { db, limiter: byAccount } = limiter('login-by-account');
    const byClient = createFailureLimiter(db, 'login-by-client', window);
    const t0 = 3_000_000;
    for (let i = 0; i < window.max; i += 1) byClient.reserve('client:198.51.100.7', t0 + i);
    let refusal: unknown;
    try {
      beginAttempt('login', [[byAccount, 'account:alice'], [byClient, 'client:198.51.100.7']], t0 + 10);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(HttpError);
    expect(refusal).toMatchObject({ status: 429, headers: { 'retry-after': '60' } });
    const budget = Array.from({ length: window.max + 1 }, (_, i) => byAccount.reserve('account:alice', t0 + 20 + i).allowed);
    expect(budget, "the refused attempt took nothing from the account's budget").toEqual([...Array<boolean>(window.max).fill(true), false]);
  });
  it('an attempt that succeeds gives its place back to every limiter it was counted by; one never declared a success stays counted', () => {
    const { db, limiter: byAccount } = limiter('recovery-by-account');
    const byClient = createFailureLimiter(db, 'recovery-by-client', window);
    const t0 = 4_000_000;
    const counted = [[byAccount, 'account:alice'], [byClient, 'client:198.51.100.7']] as const;
    for (let i = 0; i < window.max * 2; i += 1) beginAttempt('recovery', counted, t0 + i).succeeded();
    expect(byAccount.reserve('account:alice', t0 + 10).allowed, 'successes, however many, take nothing from the account').toBe(true);
    expect(byClient.reserve('client:198.51.100.7', t0 + 10).allowed, 'nor from the client').toBe(true);

    beginAttempt('recovery', counted, t0 + 20);
    beginAttempt('recovery', counted, t0 + 21);
    expect(() => beginAttempt('recovery', counted, t0 + 22), 'two failures and the one reserved above fill the budget of 3').toThrow(HttpError);
  });
});
