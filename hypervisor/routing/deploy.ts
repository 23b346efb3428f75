import { errorMessage } from '../error-message.ts';
import type { Role } from '../domain/role.ts';
import type { RoutingContext } from './context.ts';
import { RoutingError } from './errors.ts';
import type { HealthReport } from './health-gate.ts';
import { releaseDeploys } from './metrics.ts';
import { releaseSpec, runsRelease, type Release } from './releases.ts';
import { switchMain, type SwitchResult } from './switch.ts';
import { healthGateDeadlineMs } from './time-bounds.ts';

export interface DeployResult {
  userId: string;
  /** The slot the release now runs in: the one main does not point to. */
  role: Role;
  release: Release;
  port: number;
  health: HealthReport;
  durationMs: number;
}


/**
 * Starts a release in the user's standby slot (the one main does not point to) and health-gates it
 * with a smoke request. A release that does not come up healthy is refused and stopped; main is
 * never touched, so it keeps serving either way.
 */
export async function deploy(ctx: RoutingContext, userId: string, releaseId: number, actor: string): Promise<DeployResult> {
  const release = ctx.releases.require(releaseId);
  return ctx.lock.run(userId, async () => {
    const startedAt = performance.now();
    const pointers = ctx.pointers.get(userId);
    const role = pointers.dev;
    const key = { userId, role };
    ctx.slotReleases.record(userId, role, release.id, 'starting');
    ctx.logger.info({ event: 'routing.deploy_requested', user: userId, role, release: release.id, actor }, `deploying release ${release.id} to ${userId}'s ${role} slot`);
    let port: number;
    let health: HealthReport;
    try {
      port = (await ctx.slots.start(key, releaseSpec(release))).port;
      const remaining = healthGateDeadlineMs(ctx.options.healthDeadlineMs, performance.now() - startedAt);
      health = await ctx.healthGate(port, { deadlineMs: remaining, smoke: true });
    } catch (error) {
      const why = `release ${release.id} was refused for user "${userId}" (${role} slot): ${errorMessage(error)}. main still points to ${pointers.main}`;
      ctx.slotReleases.record(userId, role, release.id, 'refused', why);
      if (release.status === 'candidate') ctx.releases.setStatus(release.id, 'refused');
      await ctx.slots.stop(key).catch((stopError: unknown) => ctx.logger.warn({ event: 'routing.deploy_stop_failed', user: userId, role, error: errorMessage(stopError) }, 'could not stop a refused release'));
      releaseDeploys.inc({ outcome: 'refused' });
      ctx.logger.warn({ event: 'routing.deploy_refused', user: userId, role, release: release.id, actor, error: why }, why);
      throw new RoutingError(error instanceof RoutingError ? error.code : 'start_failed', why, { cause: error });
    }
    ctx.slotReleases.record(userId, role, release.id, 'ready');
    releaseDeploys.inc({ outcome: 'ready' });
    if (release.status === 'candidate' || release.status === 'refused') ctx.releases.setStatus(release.id, 'staged');
    const durationMs = performance.now() - startedAt;
    ctx.logger.info({ event: 'routing.deploy', user: userId, role, release: release.id, actor, port, duration_ms: Math.round(durationMs) }, `release ${release.id} is ready in ${userId}'s ${role} slot`);
    return { userId, role, release: ctx.releases.require(release.id), port, health, durationMs };
  });
}

export interface PromoteResult extends SwitchResult {
  release: Release;
  /** Whether the release served healthily after the switch (health + smoke) and is now known-good. */
  knownGood: boolean;
  knownGoodError: string | null;
}

/**
 * Promote = swap, for a release deployed to the standby slot. Once it serves main, one more health
 * and smoke check proves it served healthily and marks it known-good.
 */
export async function promote(ctx: RoutingContext, userId: string, actor: string, reason: string): Promise<PromoteResult> {
  return ctx.lock.run(userId, async () => {
    const startedAt = performance.now();
    const pointers = ctx.pointers.get(userId);
    const staged = ctx.slotReleases.get(userId, pointers.dev);
    if (!staged || staged.state !== 'ready') {
      const what = staged ? `release ${staged.releaseId} there is ${staged.state}${staged.error ? ` (${staged.error})` : ''}` : 'no release was deployed there';
      throw new RoutingError('no_release', `nothing to promote for user "${userId}": ${what}. Deploy a release to the ${pointers.dev} slot first (POST /admin/sandboxes/${userId}/deploy)`);
    }
    const release = ctx.releases.require(staged.releaseId);
    const spec = ctx.slots.status({ userId, role: pointers.dev })?.spec;
    if (spec && !runsRelease(spec, release)) {
      throw new RoutingError('no_release', `nothing to promote for user "${userId}": the ${pointers.dev} slot was started on something other than release ${release.id} since it was deployed. Deploy the release again (POST /admin/sandboxes/${userId}/deploy)`);
    }
    const switched = await switchMain(ctx, { userId, action: 'promote', actor, reason, smoke: true, startedAt });
    ctx.releases.setStatus(staged.releaseId, 'serving');
    let knownGood = false;
    let knownGoodError: string | null = null;
    try {
      const { port } = await ctx.slots.ensureRunning({ userId, role: switched.after.main });
      await ctx.healthGate(port, { deadlineMs: ctx.options.healthDeadlineMs, smoke: true });
      ctx.releases.markKnownGood(staged.releaseId);
      knownGood = true;
      ctx.logger.info({ event: 'routing.known_good', user: userId, release: staged.releaseId, by: 'promote' }, `release ${staged.releaseId} served healthily and is known-good`);
    } catch (error) {
      knownGoodError = errorMessage(error);
      ctx.logger.warn({ event: 'routing.known_good_check_failed', user: userId, release: staged.releaseId, error: knownGoodError }, 'a promoted release did not pass its known-good check');
    }
    return { ...switched, release: ctx.releases.require(staged.releaseId), knownGood, knownGoodError };
  });
}
