import type { SandboxKey } from '../domain/sandbox.ts';
import type { RuntimeInstance } from './runtime.ts';
import type { SandboxPatch, SandboxRecord } from './store.ts';
import type { SandboxTransition, TransitionEvent } from './transitions.ts';

/** What the manager keeps about one sandbox: its durable record and what lives only in memory. */
export interface SandboxEntry {
  key: SandboxKey;
  record: SandboxRecord;
  instance: RuntimeInstance | undefined;
  lastActivity: number;
  runningSince: number | undefined;
  crashesInARow: number;
  backoffTimer: NodeJS.Timeout | undefined;
}

export function newEntry(record: SandboxRecord): SandboxEntry {
  return { key: { userId: record.userId, role: record.role }, record, instance: undefined, lastActivity: Date.now(), runningSince: undefined, crashesInARow: 0, backoffTimer: undefined };
}

/** How the manager's parts (supervisor, reaper, reconcile) change an entry: recorded and logged the manager's way. */
export interface EntryWrites {
  /** Writes through to SQLite; a state change must be in the allowed-transition table. */
  persist(entry: SandboxEntry, patch: SandboxPatch): void;
  /** One JSON log line and one `transition` event. */
  transition(entry: SandboxEntry, event: TransitionEvent, extra?: Partial<SandboxTransition>): void;
}
