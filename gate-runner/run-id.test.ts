import { describe, expect, it } from 'vitest';
import { newRunId } from './run-id.ts';

describe('a gate run id', () => {
  it('is the UTC time to the second, filesystem-safe, with a random suffix', () => {
    const id = newRunId(new Date('2026-02-20T09:05:07.123Z'));
    expect(id).toMatch(/^2026-02-20T09-05-07Z-[0-9a-f]{6}$/);
    expect(newRunId(new Date('2026-02-20T09:05:07Z'))).not.toBe(id);
  });

  it('sorts as the runs started', () => {
    const times = ['2026-02-20T09:59:59Z', '2026-02-20T10:00:00Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'];
    const ids = times.map((t) => newRunId(new Date(t)));
    expect([...ids].reverse().sort()).toEqual(ids);
  });
});
