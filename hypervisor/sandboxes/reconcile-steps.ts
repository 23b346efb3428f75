import type { SandboxesConfig } from '../config.ts';
import { sandboxId, type SandboxKey } from '../domain/sandbox.ts';
import type { Logger } from '../log.ts';
import type { EntryWrites, SandboxEntry } from './entry.ts';
import { waitUntilHealthy } from './health-probe.ts';
import { sandboxRestarts } from './metrics.ts';
import type { ReconcileSteps } from './reconcile.ts';
import type { FoundInstance, RuntimeInstance, SandboxRuntime } from './runtime.ts';
import type { SandboxPatch, SandboxRecord } from './store.ts';

/** What reconcile's steps need from the manager. */
export interface ReconcileDeps {
  config: Pick<SandboxesConfig, 'readyTimeoutMs' | 'stopTimeoutSecs'>;
  log: Logger;
  entries: ReadonlyMap<string, SandboxEntry>;
  runtime(kind: SandboxRecord['spec']['runtime']): Promise<SandboxRuntime>;
  writes: Pick<EntryWrites, 'transition'>;
  /**
   * Sets the record to what really runs, whatever it said before the hypervisor stopped (so outside
   * the allowed-transition table, which governs the lifecycle, not corrections).
   */
  correct(entry: SandboxEntry, patch: SandboxPatch): void;
  /** Watches an adopted instance for crashes. */
  watch(entry: SandboxEntry, instance: RuntimeInstance): void;
  /** Starts the sandbox in the background (logged if it fails). */
  startInBackground(key: SandboxKey, reason: string): void;
}

/** The manager's side of reconcile: each step with its usual records, logging and metrics. */
export function reconcileSteps(deps: ReconcileDeps): ReconcileSteps {
  const entryOf = (record: SandboxRecord): SandboxEntry => deps.entries.get(sandboxId(record)) as SandboxEntry;
  return {
    records: () => [...deps.entries.values()].map((entry) => entry.record),
    runtime: (kind) => deps.runtime(kind),

    async adopt(record, runtime, found) {
      const entry = entryOf(record);
      const instance = runtime.attach(found);
      try {
        await waitUntilHealthy({ port: record.port, role: record.role, deadlineMs: Math.min(5_000, deps.config.readyTimeoutMs), exited: instance.exited });
      } catch {
        return false;
      }
      entry.instance = instance;
      entry.runningSince = Date.now();
      entry.lastActivity = Date.now();
      deps.correct(entry, { state: 'running', containerId: instance.containerId, pid: instance.pid, pidStart: instance.pidStart });
      deps.watch(entry, instance);
      deps.writes.transition(entry, 'sandbox.adopt', { reason: 'reconcile' });
      return true;
    },

    async removeStray(runtime: SandboxRuntime, found: FoundInstance, why: string) {
      await runtime.remove(found, deps.config.stopTimeoutSecs);
      deps.log.warn(
        {
          event: 'sandbox.stray_removed',
          user: found.key.userId,
          role: found.key.role,
          runtime: runtime.kind,
          ...(found.containerId ? { container_id: found.containerId } : {}),
          ...(found.pid ? { pid: found.pid } : {}),
          reason: why,
        },
        'sandbox.stray_removed',
      );
    },

    resume(record) {
      const entry = entryOf(record);
      sandboxRestarts.inc({ runtime: record.spec.runtime, role: record.role, reason: 'reconcile' });
      deps.correct(entry, { restarts: record.restarts + 1, state: 'stopped', containerId: record.containerId, pid: null, pidStart: null });
      deps.writes.transition(entry, 'sandbox.restart', { reason: 'reconcile' });
      deps.startInBackground(entry.key, 'reconcile');
    },

    settle(record) {
      const entry = entryOf(record);
      if (record.state !== 'stopped' && record.state !== 'failed') deps.correct(entry, { state: 'stopped', pid: null, pidStart: null });
    },
  };
}
