import { describe, expect, it } from 'vitest';
import { healthGateDeadlineMs, minHealthGateMs, rollbackBoundMs } from './time-bounds.ts';

describe('the health gate deadline', () => {
  it('is what the deadline leaves after a quick start, and at least minHealthGateMs (never more than the whole deadline) after a slow one', () => {
    expect(healthGateDeadlineMs(10_000, 3_000)).toBe(7_000);
    expect(healthGateDeadlineMs(10_000, 9_500), 'a start that used nearly the whole deadline').toBe(minHealthGateMs);
    expect(healthGateDeadlineMs(10_000, 60_000), 'a start slower than the whole deadline').toBe(minHealthGateMs);
    expect(healthGateDeadlineMs(1_500, 5_000), 'a deadline shorter than minHealthGateMs').toBe(1_500);
  });
});

describe('the rollback bound', () => {
  const limits = { readyTimeoutMs: 30_000, stopTimeoutSecs: 10, healthDeadlineMs: 15_000, drainTimeoutMs: 5_000 };

  it('is the cold case: stop (seconds), runtime work, ready wait and the least gate, then the drain', () => {
    // 10 s stop + 2 s runtime work + 30 s ready + 2 s least gate, then 5 s drain.
    expect(rollbackBoundMs(limits, 2_000)).toBe(10_000 + 2_000 + 30_000 + minHealthGateMs + 5_000);
  });

  it('is never less than a whole health deadline plus the drain, for a start quicker than the deadline', () => {
    const quick = { readyTimeoutMs: 1_000, stopTimeoutSecs: 1, healthDeadlineMs: 60_000, drainTimeoutMs: 5_000 };
    expect(rollbackBoundMs(quick, 0)).toBe(60_000 + 5_000);
  });
});
