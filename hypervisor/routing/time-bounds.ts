/**
 * The least time the health gate gets once its target runs. A switch or deploy shares one deadline
 * (healthDeadlineMs) between starting the target and gating it, but a start may take longer than
 * that deadline (it waits up to the sandbox ready timeout), and a gate left with ~0 ms would refuse
 * a target that is healthy.
 */
export const minHealthGateMs = 2_000;

/** How long the gate may take when `elapsedMs` of the operation's deadline went on starting the target. */
export function healthGateDeadlineMs(healthDeadlineMs: number, elapsedMs: number): number {
  return Math.max(Math.min(minHealthGateMs, healthDeadlineMs), healthDeadlineMs - elapsedMs);
}

export interface RollbackLimits {
  /** How long a start waits for the sandbox to answer healthy (SANDBOX_READY_TIMEOUT_SECS). */
  readyTimeoutMs: number;
  /** How long stopping what the standby slot ran may take (SANDBOX_STOP_TIMEOUT_SECS). */
  stopTimeoutSecs: number;
  healthDeadlineMs: number;
  drainTimeoutMs: number;
}

/**
 * The longest a rollback can take by the hypervisor's own limits, in the worst (cold) case: stop
 * what the standby ran, start the release and wait until it is ready, health-gate it (at least
 * minHealthGateMs, within healthDeadlineMs when the start was quick), then drain the old target.
 * `runtimeWorkMs` allows for what the runtime does that no hypervisor limit bounds (creating and
 * running a container).
 */
export function rollbackBoundMs(limits: RollbackLimits, runtimeWorkMs: number): number {
  const startMs = limits.stopTimeoutSecs * 1000 + runtimeWorkMs + limits.readyTimeoutMs;
  return Math.max(limits.healthDeadlineMs, startMs + Math.min(minHealthGateMs, limits.healthDeadlineMs)) + limits.drainTimeoutMs;
}
