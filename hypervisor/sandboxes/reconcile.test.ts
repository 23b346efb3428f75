import { describe, expect, it } from 'vitest';
import type { RuntimeKind } from '../domain/runtime-kind.ts';
import { reconcile, type ReconcileSteps } from './reconcile.ts';
import type { FoundInstance, SandboxRuntime } from './runtime.ts';
import type { SandboxRecord } from './store.ts';

type Found = Omit<FoundInstance, 'key' | 'image'> & { id: string };

function record(id: string, fields: Partial<SandboxRecord> & Pick<SandboxRecord, 'desired'> & { runtime: RuntimeKind }): SandboxRecord {
  const [userId = '', role = 'live'] = id.split(':');
  const { runtime, ...rest } = fields;
  return {
    userId,
    role: role === 'dev' ? 'dev' : 'live',
    port: 40_000,
    state: 'running',
    spec: { runtime, image: 'img' },
    containerId: null,
    pid: null,
    pidStart: null,
    restarts: 0,
    lastError: null,
    updatedAt: '',
    ...rest,
  };
}

/**
 * The manager's side, as a log of what reconcile asked for: each runtime finds what `found` lists
 * for its kind, and adopting answers `healthy` for the ids listed there.
 */
function run(records: SandboxRecord[], found: Partial<Record<RuntimeKind, Found[]>>, healthy: string[], configured: RuntimeKind = 'podman'): Promise<string[]> {
  const asked: string[] = [];
  const name = (instance: FoundInstance): string => `${instance.key.userId}:${instance.key.role}/${instance.containerId ?? instance.pid ?? '-'}`;
  const runtime = (kind: RuntimeKind): SandboxRuntime => ({
    kind,
    find: () => {
      asked.push(`find ${kind}`);
      return Promise.resolve(
        (found[kind] ?? []).map(({ id, ...rest }) => {
          const [userId = '', role] = id.split(':');
          return { ...rest, key: { userId, role: role === 'dev' ? 'dev' : 'live' }, image: 'img' };
        }),
      );
    },
    check: () => Promise.reject(new Error('not used by reconcile')),
    launch: () => Promise.reject(new Error('not used by reconcile')),
    stop: () => Promise.reject(new Error('not used by reconcile')),
    attach: () => {
      throw new Error('not used by reconcile');
    },
    remove: () => Promise.reject(new Error('not used by reconcile')),
    logTail: () => Promise.resolve(''),
    close: () => Promise.resolve(),
  });
  const steps: ReconcileSteps = {
    records: () => records,
    runtime: (kind) => Promise.resolve(runtime(kind)),
    adopt: (sandbox, _runtime, instance) => {
      asked.push(`adopt ${name(instance)}`);
      return Promise.resolve(healthy.includes(`${sandbox.userId}:${sandbox.role}`));
    },
    removeStray: (_runtime, instance, why) => {
      asked.push(`remove ${name(instance)} (${why})`);
      return Promise.resolve();
    },
    resume: (sandbox) => asked.push(`resume ${sandbox.userId}:${sandbox.role}`),
    settle: (sandbox) => asked.push(`settle ${sandbox.userId}:${sandbox.role}`),
  };
  return reconcile(steps, configured).then(() => asked);
}

describe('reconcile at start', () => {
  it('adopts the recorded container that runs healthy, removes a second one for the same sandbox, and starts nothing again', async () => {
    const records = [record('alice:live', { runtime: 'podman', desired: 'running', containerId: 'c1' })];
    const found = { podman: [{ id: 'alice:live', running: true, containerId: 'c1', pid: null, pidStart: null }, { id: 'alice:live', running: true, containerId: 'c2', pid: null, pidStart: null }] };
    expect(await run(records, found, ['alice:live'])).toEqual(['find podman', 'adopt alice:live/c1', 'remove alice:live/c2 (not the recorded instance)']);
  });

  it('removes a recorded sandbox that is not healthy, then starts it again', async () => {
    const records = [record('alice:live', { runtime: 'podman', desired: 'running', containerId: 'c1' })];
    const found = { podman: [{ id: 'alice:live', running: true, containerId: 'c1', pid: null, pidStart: null }] };
    expect(await run(records, found, [])).toEqual(['find podman', 'adopt alice:live/c1', 'remove alice:live/c1 (not healthy when the hypervisor started)', 'resume alice:live']);
  });

  it('removes what has no record and what is recorded as stopped, and records the stopped one as such', async () => {
    const records = [record('bob:dev', { runtime: 'podman', desired: 'stopped', containerId: 'c3' })];
    const found = { podman: [{ id: 'carol:live', running: true, containerId: 'c9', pid: null, pidStart: null }, { id: 'bob:dev', running: true, containerId: 'c3', pid: null, pidStart: null }] };
    expect(await run(records, found, ['bob:dev', 'carol:live'])).toEqual(['find podman', 'remove carol:live/c9 (no record)', 'remove bob:dev/c3 (recorded as stopped)', 'settle bob:dev']);
  });

  it("keeps the recorded container that has stopped (its history stays in podman ps -a) and starts the sandbox again when it should run", async () => {
    const records = [record('alice:live', { runtime: 'podman', desired: 'running', containerId: 'c1' }), record('alice:dev', { runtime: 'podman', desired: 'stopped', containerId: 'c4' })];
    const found = { podman: [{ id: 'alice:live', running: false, containerId: 'c1', pid: null, pidStart: null }, { id: 'alice:dev', running: false, containerId: 'c4', pid: null, pidStart: null }] };
    expect(await run(records, found, ['alice:live'])).toEqual(['find podman', 'resume alice:live', 'settle alice:dev']);
  });

  it('removes a stopped container that is not the recorded one, or has no record at all', async () => {
    const records = [record('alice:live', { runtime: 'podman', desired: 'running', containerId: 'c1' })];
    const found = { podman: [{ id: 'alice:live', running: false, containerId: 'c0', pid: null, pidStart: null }, { id: 'frank:dev', running: false, containerId: 'c8', pid: null, pidStart: null }] };
    expect(await run(records, found, ['alice:live'])).toEqual(['find podman', 'remove alice:live/c0 (not the recorded instance)', 'remove frank:dev/c8 (no record)', 'resume alice:live']);
  });

  it('never adopts a process whose pid was reused by another process (another start time)', async () => {
    const records = [record('dave:live', { runtime: 'process', desired: 'running', pid: 4242, pidStart: '1000' })];
    const found = { process: [{ id: 'dave:live', running: true, containerId: null, pid: 4242, pidStart: '2000' }] };
    expect(await run(records, found, ['dave:live'], 'process')).toEqual(['find process', 'remove dave:live/4242 (not the recorded instance)', 'resume dave:live']);
  });

  it("asks the configured runtime and every recorded sandbox's runtime, each once, and never takes one runtime's instance for a record of the other", async () => {
    const records = [record('erin:live', { runtime: 'process', desired: 'running', pid: 7, pidStart: '1' })];
    const found = { podman: [{ id: 'erin:live', running: true, containerId: null, pid: 7, pidStart: '1' }] };
    expect(await run(records, found, ['erin:live'], 'podman')).toEqual(['find podman', 'remove erin:live/7 (not the recorded instance)', 'find process', 'resume erin:live']);
  });
});
