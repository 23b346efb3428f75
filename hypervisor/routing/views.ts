import type { DeployResult, PromoteResult } from './deploy.ts';
import type { Release } from './releases.ts';
import type { RollbackResult } from './rollback.ts';
import type { Pointers } from './route-pointers.ts';
import type { SlotRelease } from './slot-releases.ts';
import type { SwitchRecord } from './switch-history.ts';
import type { SwitchResult } from './switch.ts';

/** The admin API's JSON shapes (snake_case, like the contract's). */
const ms = (value: number | null): number | null => (value === null ? null : Math.round(value * 10) / 10);

export function releaseView(release: Release, retained: ReadonlySet<number> = new Set()) {
  return {
    id: release.id,
    runtime: release.runtime,
    image: release.image,
    image_ref: release.imageRef,
    config: release.config,
    revision: release.revision,
    note: release.note,
    created_at: release.createdAt,
    status: release.status,
    known_good: release.knownGoodAt !== null,
    known_good_at: release.knownGoodAt,
    retained: retained.has(release.id),
  };
}

const slotView = (slot: SlotRelease | undefined) => (slot ? { release_id: slot.releaseId, state: slot.state, error: slot.error, updated_at: slot.updatedAt } : null);

export function pointersView(userId: string, pointers: Pointers, slots: ReadonlyArray<SlotRelease | undefined>) {
  return {
    user_id: userId,
    main: pointers.main,
    dev: pointers.dev,
    updated_at: pointers.updatedAt,
    slots: { live: slotView(slots.find((slot) => slot?.role === 'live')), dev: slotView(slots.find((slot) => slot?.role === 'dev')) },
  };
}

export function switchView(record: SwitchRecord) {
  return {
    id: record.id,
    user_id: record.userId,
    action: record.action,
    actor: record.actor,
    at: record.at,
    from: { role: record.fromRole, release_id: record.fromRelease },
    to: { role: record.toRole, release_id: record.toRelease },
    reason: record.reason,
    outcome: record.outcome,
    error: record.error,
    drained: record.drained,
    duration_ms: ms(record.durationMs),
  };
}

export function switchResultView(result: SwitchResult) {
  return {
    user_id: result.record.userId,
    main: result.after.main,
    dev: result.after.dev,
    serving_after_ms: ms(result.servingAfterMs),
    duration_ms: ms(result.durationMs),
    drained: result.drained,
    health: { version: result.health.version, instance_role: result.health.instanceRole, smoke: result.health.smoke },
    switch: switchView(result.record),
  };
}

export function deployView(result: DeployResult) {
  return {
    user_id: result.userId,
    role: result.role,
    port: result.port,
    duration_ms: ms(result.durationMs),
    health: { version: result.health.version, instance_role: result.health.instanceRole, smoke: result.health.smoke },
    release: releaseView(result.release),
  };
}

export function promoteView(result: PromoteResult) {
  return { ...switchResultView(result), release: releaseView(result.release), known_good: result.knownGood, known_good_error: result.knownGoodError };
}

export function rollbackView(result: RollbackResult) {
  return { ...switchResultView(result), mode: result.mode, release: releaseView(result.release), from_release: result.from ? result.from.id : null };
}
