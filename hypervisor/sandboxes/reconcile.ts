import type { FoundInstance, SandboxRuntime } from './runtime.ts';
import type { SandboxRecord } from './store.ts';
import type { RuntimeKind } from '../domain/runtime-kind.ts';
import { sandboxId } from '../domain/sandbox.ts';

/** What reconcile needs from the manager; the manager does each step with its usual logging. */
export interface ReconcileSteps {
  records(): SandboxRecord[];
  runtime(kind: RuntimeKind): Promise<SandboxRuntime>;
  /** Health-checks a running sandbox that matches its record and takes it over; false if it is not healthy. */
  adopt(record: SandboxRecord, runtime: SandboxRuntime, found: FoundInstance): Promise<boolean>;
  removeStray(runtime: SandboxRuntime, found: FoundInstance, why: string): Promise<void>;
  /** Starts again (in the background) a sandbox that should run but does not. */
  resume(record: SandboxRecord): void;
  /** Records that a sandbox which should not run is stopped. */
  settle(record: SandboxRecord): void;
}

/** The recorded instance itself, not another one for the same (user, role). */
function isRecordedInstance(record: SandboxRecord, found: FoundInstance): boolean {
  return record.spec.runtime === 'podman' ? found.containerId === record.containerId : found.pid === record.pid && found.pidStart === record.pidStart;
}

/**
 * Makes what runs match what is recorded, after a hypervisor (re)start: running sandboxes that match
 * their record are adopted; anything else of this instance (no record, a duplicate, one that should be
 * stopped) is removed; what should run but does not is started again. Other instances' sandboxes are
 * never seen (runtimes only find this instance's).
 */
export async function reconcile(steps: ReconcileSteps, configuredRuntime: RuntimeKind): Promise<void> {
  const records = steps.records();
  const byId = new Map(records.map((record) => [sandboxId(record), record]));
  const adopted = new Set<string>();
  const kinds = new Set<RuntimeKind>([configuredRuntime, ...records.map((record) => record.spec.runtime)]);
  for (const kind of kinds) {
    const runtime = await steps.runtime(kind);
    for (const found of await runtime.find()) {
      const id = sandboxId(found.key);
      const record = byId.get(id);
      const recorded = record !== undefined && record.spec.runtime === kind && isRecordedInstance(record, found);
      if (found.running && recorded && record.desired === 'running' && !adopted.has(id)) {
        if (await steps.adopt(record, runtime, found)) {
          adopted.add(id);
          continue;
        }
        await steps.removeStray(runtime, found, 'not healthy when the hypervisor started');
        continue;
      }
      // A stopped container that is the recorded one stays, so `podman ps -a` keeps showing its history.
      if (!found.running && recorded) continue;
      const why = !record ? 'no record' : record.desired === 'running' ? 'not the recorded instance' : 'recorded as stopped';
      await steps.removeStray(runtime, found, why);
    }
  }
  for (const record of records) {
    if (adopted.has(sandboxId(record))) continue;
    if (record.desired === 'running') steps.resume(record);
    else steps.settle(record);
  }
}
