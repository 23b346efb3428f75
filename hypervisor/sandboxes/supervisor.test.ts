import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KeyedLock } from '../keyed-lock.ts';
import { newEntry, type SandboxEntry } from './entry.ts';
import type { RuntimeInstance } from './runtime.ts';
import { CrashSupervisor } from './supervisor.ts';
import type { SandboxTransition } from './transitions.ts';

/** A process that runs until the test makes it crash. */
interface CrashableInstance extends RuntimeInstance {
  crash(how: string): void;
}

function crashableInstance(pid: number): CrashableInstance {
  let crash: (how: string) => void = () => undefined;
  const exited = new Promise<string>((resolve) => (crash = resolve));
  return { runtime: 'process', containerId: null, pid, pidStart: null, exited, crash: (how) => crash(how) };
}

/**
 * The supervisor with the manager's side played out in memory: a launch runs a new instance and
 * watches it, writes land on the entry, and every transition and failure is recorded.
 */
function supervised(restartLimit: number, restartBackoffMs: number) {
  const entry: SandboxEntry = newEntry({ userId: 'ann', role: 'live', port: 20_001, desired: 'running', state: 'stopped', spec: { runtime: 'process', image: 'process', config: {} }, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null, updatedAt: new Date().toISOString() });
  const transitions: Array<Partial<SandboxTransition>> = [];
  const failures: string[] = [];
  let pid = 1000;
  /** How many launches from now on fail to become healthy. */
  let failingLaunches = 0;
  const supervisor: CrashSupervisor = new CrashSupervisor({
    config: { restartLimit, restartBackoffMs },
    writes: {
      persist: (target, patch) => void (target.record = { ...target.record, ...patch }),
      transition: (_target, event, extra = {}) => void transitions.push({ event, ...extra }),
    },
    lock: new KeyedLock(),
    launch: async (target) => {
      if (failingLaunches > 0) {
        failingLaunches -= 1;
        throw new Error('did not become healthy');
      }
      const instance = crashableInstance((pid += 1));
      target.instance = instance;
      target.runningSince = Date.now();
      target.record = { ...target.record, state: 'running', pid: instance.pid };
      supervisor.watch(target, instance);
    },
    fail: (target, error) => {
      target.record = { ...target.record, state: 'failed', lastError: error.message };
      failures.push(error.message);
    },
    logTail: async () => 'last log line',
    track: (work) => void work.catch(() => undefined),
    closed: () => false,
  });
  const crash = async (): Promise<void> => {
    (entry.instance as CrashableInstance).crash('exit code 1');
    await vi.advanceTimersByTimeAsync(0);
  };
  const restarts = () => transitions.filter((transition) => transition.event === 'sandbox.restart');
  const failNextLaunches = (count: number): void => void (failingLaunches = count);
  return { entry, supervisor, transitions, failures, crash, restarts, failNextLaunches };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

async function launched(restartLimit: number, restartBackoffMs: number) {
  const harness = supervised(restartLimit, restartBackoffMs);
  const instance = crashableInstance(999);
  harness.entry.instance = instance;
  harness.entry.record = { ...harness.entry.record, state: 'running' };
  harness.supervisor.watch(harness.entry, instance);
  return harness;
}

describe('crash supervisor', () => {
  it('restarts a crashed sandbox up to the restart limit, backing off base then twice base, and marks it failed at the next crash', async () => {
    const { entry, supervisor, failures, crash, restarts } = await launched(2, 100);
    await crash();
    expect(entry.record.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(100);
    await crash();
    await vi.advanceTimersByTimeAsync(200);
    expect(entry.record.state).toBe('running');
    expect(restarts().map(({ attempt, delay_ms }) => ({ attempt, delay_ms }))).toEqual([
      { attempt: 1, delay_ms: 100 },
      { attempt: 2, delay_ms: 200 },
    ]);
    expect(entry.record.restarts).toBe(2);
    expect(supervisor.gaveUp(entry)).toBe(false);

    await crash();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(restarts()).toHaveLength(2);
    expect(entry.record.state).toBe('failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('crashed 3 times in a row (restart limit 2)');
    expect(supervisor.gaveUp(entry)).toBe(true);
    expect(supervisor.gaveUpReason(entry), 'what a request past the limit is refused with').toContain('crashed 3 times in a row (restart limit 2)');
  });

  it('a crash restart that fails to start counts as another crash in a row: the backoff grows and the sandbox is failed at the limit, not retried for ever', async () => {
    const { entry, failures, crash, restarts, failNextLaunches } = await launched(2, 100);
    failNextLaunches(10);
    await crash();
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(200);
    expect(entry.record.state).toBe('failed');
    expect(restarts().map((restart) => restart.delay_ms)).toEqual([100, 200]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('crashed 3 times in a row (restart limit 2)');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(restarts(), 'no restart once failed').toHaveLength(2);
  });

  it('with a restart limit of 0, fails a sandbox at its first crash without restarting it', async () => {
    const { entry, failures, crash, restarts } = await launched(0, 100);
    await crash();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(restarts()).toEqual([]);
    expect(entry.record.state).toBe('failed');
    expect(failures).toHaveLength(1);
  });

  it('does not restart before the backoff has passed', async () => {
    const { entry, crash, restarts } = await launched(5, 400);
    await crash();
    await vi.advanceTimersByTimeAsync(399);
    expect(restarts()).toEqual([]);
    expect(entry.record.state).toBe('backoff');
    await vi.advanceTimersByTimeAsync(1);
    expect(restarts()).toHaveLength(1);
  });

  it('a start that takes over a pending restart counts as that restart, once; the backoff timer then restarts nothing', async () => {
    const { entry, supervisor, crash, restarts } = await launched(5, 100);
    supervisor.takeOver(entry);
    expect(restarts()).toEqual([]);
    await crash();
    supervisor.takeOver(entry);
    expect(restarts()).toHaveLength(1);
    expect(entry.record.restarts).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(restarts()).toHaveLength(1);
  });

  it('an end while the sandbox is not running (being stopped) is no crash', async () => {
    const { entry, transitions, crash } = await launched(5, 100);
    entry.record = { ...entry.record, state: 'stopping' };
    await crash();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(transitions).toEqual([]);
    expect(entry.record.state).toBe('stopping');
  });
});
