import { describe, expect, it } from 'vitest';
import type { SlotRelease } from './slot-releases.ts';
import { pointersView } from './views.ts';

const slot = (role: SlotRelease['role'], releaseId: number): SlotRelease => ({ userId: 'ann', role, releaseId, state: 'ready', error: null, updatedAt: '2026-01-01T00:00:00.000Z' });

describe('the admin views of routing', () => {
  it("a user's pointers show each slot's release under its own role, whatever order the slots come in, and null for a slot that runs none", () => {
    const pointers = { main: 'dev', dev: 'live', updatedAt: '2026-01-01T00:00:00.000Z' } as const;
    const swapped = pointersView('ann', pointers, [slot('dev', 2), slot('live', 1)]);
    expect(swapped).toEqual({
      user_id: 'ann',
      main: 'dev',
      dev: 'live',
      updated_at: '2026-01-01T00:00:00.000Z',
      slots: { live: expect.objectContaining({ release_id: 1 }), dev: expect.objectContaining({ release_id: 2 }) },
    });
    expect(pointersView('ann', pointers, [undefined, slot('dev', 2)]).slots).toEqual({ live: null, dev: expect.objectContaining({ release_id: 2, state: 'ready' }) });
  });
});
