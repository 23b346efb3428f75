import { describe, expect, it } from 'vitest';
import { crashesInARowAfter, maxBackoffMs, restartDelayMs, stableAfterMs } from './restart-policy.ts';

describe('crash restart policy', () => {
  it('backs off exponentially from the base delay, up to a cap', () => {
    expect([1, 2, 3, 4].map((n) => restartDelayMs(n, 500))).toEqual([500, 1000, 2000, 4000]);
    expect(restartDelayMs(20, 500)).toBe(maxBackoffMs);
  });

  it('counts crashes in a row, starting afresh after a stable run', () => {
    const now = 1_000_000;
    expect(crashesInARowAfter(2, now - 1_000, now)).toBe(3);
    expect(crashesInARowAfter(2, now - stableAfterMs - 1, now)).toBe(1);
    expect(crashesInARowAfter(0, undefined, now)).toBe(1);
  });

  it('caps the backoff at 30 s, and counts a run as stable after a minute (milliseconds, not seconds)', () => {
    expect(restartDelayMs(6, 500)).toBe(16_000);
    expect(restartDelayMs(7, 500)).toBe(30_000);
    expect(restartDelayMs(7, 20_000)).toBe(30_000);
    const now = 10_000_000;
    expect(crashesInARowAfter(2, now - 59_000, now)).toBe(3);
    expect(crashesInARowAfter(2, now - 61_000, now)).toBe(1);
  });
});
