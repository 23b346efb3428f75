import { errorMessage } from '../error-message.ts';
import type { RoutingContext } from './context.ts';
import { RoutingError } from './errors.ts';
import { routeSwitches } from './metrics.ts';
import { releaseSpec, runsRelease, type Release } from './releases.ts';
import { switchMain, type SwitchResult } from './switch.ts';

/** warm: the standby slot already ran the release, so rollback is a pointer switch; cold: it was started first. */
export type RollbackMode = 'warm' | 'cold';

export interface RollbackResult extends SwitchResult {
  mode: RollbackMode;
  release: Release;
  /** The release main served before, when it was one. */
  from: Release | undefined;
}

export interface RollbackRequest {
  userId: string;
  actor: string;
  reason: string;
  /** Roll back to this known-good release instead of the previous one. */
  releaseId?: number;
}


function chooseTarget(ctx: RoutingContext, request: RollbackRequest, current: Release | undefined): Release {
  if (request.releaseId !== undefined) {
    const chosen = ctx.releases.require(request.releaseId);
    if (!chosen.knownGoodAt) {
      throw new RoutingError('no_known_good', `release ${chosen.id} is not known-good, so it is no rollback target: mark it (POST /admin/releases/${chosen.id}/known-good) or pick a known-good one (GET /admin/releases)`);
    }
    if (chosen.status === 'pruned') throw new RoutingError('no_known_good', `release ${chosen.id} was pruned (its image is gone): pick a retained known-good release (GET /admin/releases)`);
    return chosen;
  }
  const previous = ctx.releases.previousKnownGood(current);
  if (!previous) {
    const from = current ? `older than release ${current.id}, which main serves now` : 'at all';
    throw new RoutingError('no_known_good', `user "${request.userId}" has no known-good release to roll back to (none ${from}): mark one known-good (POST /admin/releases/{id}/known-good) or promote one that serves healthily`);
  }
  return previous;
}

/**
 * Rolls a user's main route back to the previous known-good release. If the standby slot already
 * runs it healthily this is a pointer switch; otherwise the release is started there first. Main is
 * never stopped or restarted, so a failed rollback leaves it serving; data directories belong to the
 * slots and are mounted into whichever release runs there, so no run or document is touched.
 */
export async function rollback(ctx: RoutingContext, request: RollbackRequest): Promise<RollbackResult> {
  const { userId } = request;
  return ctx.lock.run(userId, async () => {
    const startedAt = performance.now();
    const pointers = ctx.pointers.get(userId);
    const serving = ctx.slotReleases.get(userId, pointers.main);
    const from = serving ? ctx.releases.get(serving.releaseId) : undefined;
    const release = chooseTarget(ctx, request, from);
    const standby = { userId, role: pointers.dev };
    const standbyRelease = ctx.slotReleases.get(userId, pointers.dev);
    const standbyNow = ctx.slots.status(standby);
    const warm = standbyRelease?.releaseId === release.id && standbyRelease.state === 'ready' && standbyNow?.status === 'running' && runsRelease(standbyNow.spec, release);
    const mode: RollbackMode = warm ? 'warm' : 'cold';
    ctx.logger.info({ event: 'routing.rollback_requested', user: userId, mode, release: release.id, from_release: from?.id ?? null, actor: request.actor }, `rolling ${userId} back to release ${release.id} (${mode})`);
    try {
      if (!warm) {
        ctx.slotReleases.record(userId, pointers.dev, release.id, 'starting');
        try {
          await ctx.slots.start(standby, releaseSpec(release));
        } catch (error) {
          const why = `release ${release.id} did not start in the ${pointers.dev} slot: ${errorMessage(error)}`;
          ctx.slotReleases.record(userId, pointers.dev, release.id, 'refused', why);
          ctx.history.add(
            {
              userId,
              action: 'rollback',
              actor: request.actor,
              at: new Date().toISOString(),
              fromRole: pointers.main,
              fromRelease: from?.id ?? null,
              toRole: pointers.dev,
              toRelease: release.id,
              reason: request.reason,
              outcome: 'refused',
              error: why,
            },
            performance.now() - startedAt,
          );
          routeSwitches.inc({ action: 'rollback', outcome: 'refused' });
          throw new RoutingError('start_failed', why, { cause: error });
        }
        ctx.slotReleases.record(userId, pointers.dev, release.id, 'ready');
      }
      const switched = await switchMain(ctx, { userId, action: 'rollback', actor: request.actor, reason: request.reason, startedAt });
      return { ...switched, mode, release, from };
    } catch (error) {
      const why = `rollback of user "${userId}" to release ${release.id} failed, main still serves the ${pointers.main} slot${from ? ` (release ${from.id})` : ''}: ${errorMessage(error)}`;
      ctx.logger.error({ event: 'routing.rollback_failed', user: userId, mode, release: release.id, error: why }, why);
      throw new RoutingError(error instanceof RoutingError ? error.code : 'start_failed', why, { cause: error });
    }
  });
}
