import { afterAll, describe, expect, it } from 'vitest';
import type { Role } from '../domain/role.ts';
import { sandboxId } from '../domain/sandbox.ts';
import { createLogger } from '../log.ts';
import { newEntry, type SandboxEntry } from './entry.ts';
import { reconcileSteps } from './reconcile-steps.ts';
import type { FoundInstance, SandboxRuntime } from './runtime.ts';
import type { SandboxPatch, SandboxRecord } from './store.ts';
import type { SandboxState } from './state.ts';
import { closeAnsweringSandboxes, sandboxAnswering } from './testing/sandbox-answering.ts';

function recorded(userId: string, state: SandboxState, desired: SandboxRecord['desired'], role: Role = 'live', port = 40_000): SandboxRecord {
  return { userId, role, port, desired, state, spec: { runtime: 'process', image: 'process' }, containerId: null, pid: 4242, pidStart: '1', restarts: 2, lastError: null, updatedAt: '' };
}

/** The manager's side as a log: corrections land on the entry, background starts and transitions are listed. */
function steps(records: SandboxRecord[]) {
  const entries = new Map<string, SandboxEntry>(records.map((record) => [sandboxId(record), newEntry(record)]));
  const started: string[] = [];
  const events: string[] = [];
  const logged: Array<Record<string, unknown>> = [];
  const made = reconcileSteps({
    config: { readyTimeoutMs: 1_000, stopTimeoutSecs: 1 },
    log: createLogger('reconcile-steps-test', { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) }),
    entries,
    runtime: () => Promise.reject(new Error('no runtime in this test')) as Promise<SandboxRuntime>,
    writes: { transition: (_entry, event, extra) => void events.push(`${event} ${extra?.reason ?? ''}`) },
    correct: (entry, patch: SandboxPatch) => void (entry.record = { ...entry.record, ...patch }),
    watch: () => undefined,
    startInBackground: (key, reason) => void started.push(`${sandboxId(key)} ${reason}`),
  });
  const record = (userId: string, role: Role = 'live'): SandboxRecord => (entries.get(`${userId}:${role}`) as SandboxEntry).record;
  return { made, record, started, events, logged };
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

// A hypervisor restarted while a user's dev sandbox ran: reconcile must take it over as the dev sandbox.
describe("reconcile's steps on a dev sandbox", () => {
  afterAll(closeAnsweringSandboxes);

  const found = (userId: string): FoundInstance => ({ key: { userId, role: 'dev' }, running: true, containerId: null, pid: 4242, pidStart: '1', image: null });
  const runtime = (removed: string[]) =>
    ({
      kind: 'process',
      attach: (instance: FoundInstance) => ({ runtime: 'process', containerId: null, pid: instance.pid, pidStart: instance.pidStart, exited: new Promise<string>(() => undefined) }),
      remove: async (instance: FoundInstance) => void removed.push(sandboxId(instance.key)),
    }) as unknown as SandboxRuntime;

  it('adopts a running dev sandbox that answers healthy as dev', async () => {
    const eve = recorded('eve', 'running', 'running', 'dev', await sandboxAnswering({ status: 'healthy', instance_role: 'dev' }));
    const { made, record, events } = steps([eve]);
    expect(await made.adopt(eve, runtime([]), found('eve'))).toBe(true);
    expect(record('eve', 'dev')).toMatchObject({ state: 'running', pid: 4242 });
    expect(events).toEqual(['sandbox.adopt reconcile']);
  });

  it('logs a removed stray with its own role', async () => {
    const removed: string[] = [];
    const { made, logged } = steps([]);
    await made.removeStray(runtime(removed), found('fay'), 'no record');
    expect(removed).toEqual(['fay:dev']);
    expect(logged.filter((line) => line.event === 'sandbox.stray_removed')).toEqual([expect.objectContaining({ user: 'fay', role: 'dev', reason: 'no record', pid: 4242 })]);
  });
});
