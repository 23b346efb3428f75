import { expect } from 'vitest';
import type { AdminCaller } from '../../admin-client/admin-answers.ts';
import type { deployView, pointersView, promoteView, releaseView, rollbackView } from '../views.ts';

export type ReleaseAnswer = ReturnType<typeof releaseView>;
export type RollbackAnswer = ReturnType<typeof rollbackView>;
export type PointersAnswer = ReturnType<typeof pointersView>;

/** The admin API steps routing tests repeat, each checked for success. */
export function routingAdmin(admin: AdminCaller) {
  const ok = async <T>(method: 'GET' | 'POST', route: string, body?: unknown, status = 200): Promise<T> => {
    const answer = await admin<T>(method, route, body);
    expect(answer.status, `${method} ${route}: ${JSON.stringify(answer.body)}`).toBe(status);
    return answer.body;
  };
  return {
    createRelease: (body: { runtime: string; image?: string; config?: Record<string, string>; note?: string }) => ok<ReleaseAnswer>('POST', '/admin/releases', body, 201),
    deploy: (userId: string, releaseId: number) => ok<ReturnType<typeof deployView>>('POST', `/admin/sandboxes/${userId}/deploy`, { release_id: releaseId }),
    promote: (userId: string) => ok<ReturnType<typeof promoteView>>('POST', `/admin/sandboxes/${userId}/promote`, { reason: 'test promote' }),
    /** Deploy then promote: the release serves main and is known-good. */
    async release(userId: string, releaseId: number) {
      await this.deploy(userId, releaseId);
      const promoted = await this.promote(userId);
      expect(promoted.known_good, JSON.stringify(promoted)).toBe(true);
      return promoted;
    },
    pointers: (userId: string) => ok<PointersAnswer>('GET', `/admin/sandboxes/${userId}/pointers`),
  };
}
