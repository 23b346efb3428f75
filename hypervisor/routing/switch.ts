import { errorMessage } from '../error-message.ts';
import type { Role } from '../domain/role.ts';
import { sandboxId } from '../domain/sandbox.ts';
import { switchCloseCode, type RoutingContext } from './context.ts';
import { RoutingError } from './errors.ts';
import { routeSwitches, routeSwitchSeconds } from './metrics.ts';
import type { HealthReport } from './health-gate.ts';
import type { Pointers } from './route-pointers.ts';
import type { SwitchAction, SwitchRecord } from './switch-history.ts';
import { healthGateDeadlineMs } from './time-bounds.ts';

export interface SwitchRequest {
  userId: string;
  action: SwitchAction;
  actor: string;
  reason: string;
  /** Require a smoke request as well as /health before switching. */
  smoke?: boolean;
  /** When the whole operation started, so a switch reports the caller's full wait. */
  startedAt?: number;
}

export interface SwitchResult {
  before: Pointers;
  after: Pointers;
  health: HealthReport;
  /** From the call to the new target serving main (the pointer switch committed). */
  servingAfterMs: number;
  drained: boolean;
  durationMs: number;
  record: SwitchRecord;
}


/**
 * Points a user's main route at the slot dev points to now, and dev at the old main: health-check
 * the new target (a failure changes nothing), switch both pointers and record it in one transaction,
 * close WebSockets on both slots so clients reconnect to their route's new target, then drain the old
 * target. Callers hold the user's lock.
 */
export async function switchMain(ctx: RoutingContext, request: SwitchRequest): Promise<SwitchResult> {
  const startedAt = request.startedAt ?? performance.now();
  const { userId } = request;
  const before = ctx.pointers.get(userId);
  const target: Role = before.dev;
  const attempt = {
    userId,
    action: request.action,
    actor: request.actor,
    reason: request.reason,
    fromRole: before.main,
    fromRelease: ctx.slotReleases.get(userId, before.main)?.releaseId ?? null,
    toRole: target,
    toRelease: ctx.slotReleases.get(userId, target)?.releaseId ?? null,
  };

  let health: HealthReport;
  try {
    const { port } = await ctx.slots.ensureRunning({ userId, role: target });
    const remaining = healthGateDeadlineMs(ctx.options.healthDeadlineMs, performance.now() - startedAt);
    health = await ctx.healthGate(port, { deadlineMs: remaining, smoke: request.smoke ?? false });
  } catch (error) {
    const why = `${target} slot of user "${userId}" failed its check, so main still points to ${before.main}: ${errorMessage(error)}`;
    ctx.history.add({ ...attempt, at: new Date().toISOString(), outcome: 'refused', error: why }, performance.now() - startedAt);
    routeSwitches.inc({ action: request.action, outcome: 'refused' });
    ctx.logger.warn({ event: 'routing.switch_refused', user: userId, action: request.action, from: before.main, to: target, error: why }, why);
    throw new RoutingError('health_check_failed', why, { cause: error });
  }

  const { after, result: recordId } = ctx.pointers.point(userId, target, () =>
    ctx.history.add({ ...attempt, at: new Date().toISOString(), outcome: 'switched', error: null }),
  );
  const servingAfterMs = performance.now() - startedAt;
  routeSwitches.inc({ action: request.action, outcome: 'switched' });
  routeSwitchSeconds.observe({ action: request.action }, servingAfterMs / 1000);

  const oldMain = sandboxId({ userId, role: before.main });
  const closed = ctx.traffic.closeWebSockets(oldMain, switchCloseCode, 'route switched') + ctx.traffic.closeWebSockets(sandboxId({ userId, role: target }), switchCloseCode, 'route switched');
  const drained = await ctx.traffic.drained(oldMain, ctx.options.drainTimeoutMs);
  const durationMs = performance.now() - startedAt;
  ctx.history.finish(recordId, drained, durationMs);
  ctx.logger.info(
    {
      event: 'routing.switch',
      user: userId,
      action: request.action,
      actor: request.actor,
      reason: request.reason,
      from: before.main,
      to: after.main,
      from_release: attempt.fromRelease,
      to_release: attempt.toRelease,
      websockets_closed: closed,
      drained,
      serving_after_ms: Math.round(servingAfterMs * 10) / 10,
      duration_ms: Math.round(durationMs * 10) / 10,
    },
    `main route of ${userId} now points to ${after.main}`,
  );
  const record = ctx.history.get(recordId);
  if (!record) throw new Error(`switch ${recordId} of user "${userId}" is missing from the history`);
  return { before, after, health, servingAfterMs, drained, durationMs, record };
}

/** Swap with no release involved: exchanges what main and dev point to, health-gated. */
export async function swap(ctx: RoutingContext, userId: string, actor: string, reason: string): Promise<SwitchResult> {
  return ctx.lock.run(userId, () => switchMain(ctx, { userId, action: 'swap', actor, reason }));
}
