import { describe, expect, it } from 'vitest';
import { sandboxId } from '../domain/sandbox.ts';
import { createLogger } from '../log.ts';
import { newEntry, type SandboxEntry } from './entry.ts';
import { reconcileSteps } from './reconcile-steps.ts';
import type { SandboxRuntime } from './runtime.ts';
import type { SandboxPatch, SandboxRecord } from './store.ts';
import type { SandboxState } from './state.ts';

function recorded(userId: string, state: SandboxState, desired: SandboxRecord['desired']): SandboxRecord {
  return { userId, role: 'live', port: 40_000, desired, state, spec: { runtime: 'process', image: 'process' }, containerId: null, pid: 4242, pidStart: '1', restarts: 2, lastError: null, updatedAt: '' };
}

/** The manager's side as a log: corrections land on the entry, background starts and transitions are listed. */
function steps(records: SandboxRecord[]) {
  const entries = new Map<string, SandboxEntry>(records.map((record) => [sandboxId(record), newEntry(record)]));
  const started: string[] = [];
  const events: string[] = [];
  const made = reconcileSteps({
    config: { readyTimeoutMs: 1_000, stopTimeoutSecs: 1 },
    log: createLogger('reconcile-steps-test', { write: () => undefined }),
    entries,
    runtime: () => Promise.reject(new Error('no runtime in this test')) as Promise<SandboxRuntime>,
    writes: { transition: (_entry, event, extra) => void events.push(`${event} ${extra?.reason ?? ''}`) },
    correct: (entry, patch: SandboxPatch) => void (entry.record = { ...entry.record, ...patch }),
    watch: () => undefined,
    startInBackground: (key, reason) => void started.push(`${sandboxId(key)} ${reason}`),
  });
  const record = (userId: string): SandboxRecord => (entries.get(`${userId}:live`) as SandboxEntry).record;
  return { made, record, started, events };
}

describe("reconcile's steps on the manager's records", () => {
  it('a sandbox that should run but does not is counted as one more restart, recorded stopped, logged and started again in the background', () => {
    const ann = recorded('ann', 'running', 'running');
    const { made, record, started, events } = steps([ann]);
    made.resume(ann);
    expect(record('ann')).toMatchObject({ restarts: 3, state: 'stopped', pid: null, pidStart: null });
    expect(events).toEqual(['sandbox.restart reconcile']);
    expect(started).toEqual(['ann:live reconcile']);
  });

  it('a sandbox that should not run is recorded stopped, unless it is already stopped or failed (its failure stays readable)', () => {
    const records = [recorded('ann', 'running', 'stopped'), recorded('bob', 'failed', 'stopped'), recorded('cy', 'stopped', 'stopped')];
    const { made, record } = steps(records);
    for (const each of records) made.settle(each);
    expect(['ann', 'bob', 'cy'].map((userId) => record(userId).state)).toEqual(['stopped', 'failed', 'stopped']);
    expect(record('ann').pid).toBeNull();
  });
});
