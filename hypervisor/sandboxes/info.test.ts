import { afterEach, describe, expect, it, vi } from 'vitest';
import { newEntry } from './entry.ts';
import { sandboxInfo } from './info.ts';
import type { SandboxRecord } from './store.ts';
import type { SandboxState } from './state.ts';

const record = (state: SandboxState): SandboxRecord => ({
  userId: 'alice',
  role: 'dev',
  port: 40_301,
  desired: 'running',
  state,
  spec: { runtime: 'process', image: 'process' },
  containerId: null,
  pid: 4242,
  pidStart: '1',
  restarts: 2,
  lastError: null,
  updatedAt: new Date().toISOString(),
});

/** An entry whose last request was `idleForS` seconds ago. */
function entry(state: SandboxState, idleForS: number) {
  const made = newEntry(record(state));
  made.lastActivity = Date.now() - idleForS * 1000;
  return made;
}

describe('what the manager reports about a sandbox', () => {
  it('idle_secs is whole seconds since the last request while it runs, and 0 when it does not', () => {
    const running = sandboxInfo(entry('running', 125), '/srv/choiros');
    expect(Number.isInteger(running.idleSecs), `idleSecs ${running.idleSecs} is whole seconds`).toBe(true);
    // Idle 125 s before the call; the test itself takes well under 10 minutes.
    expect(running.idleSecs).toBeGreaterThanOrEqual(125);
    expect(running.idleSecs).toBeLessThan(125 + 600);
    expect(sandboxInfo(entry('stopped', 125), '/srv/choiros').idleSecs, 'a stopped sandbox is not idling').toBe(0);
  });

  it("names its status, its record's fields and its data directory under the data root", () => {
    expect(sandboxInfo(entry('failed', 0), '/srv/choiros')).toMatchObject({ userId: 'alice', role: 'dev', port: 40_301, status: 'failed', state: 'failed', desired: 'running', pid: 4242, restarts: 2, dataDir: '/srv/choiros/alice/dev' });
    expect(sandboxInfo(entry('starting', 0), '/srv/choiros').status).toBe('stopped');
  });

  it('a sandbox just loaded or started has not been idle at all', () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    expect(sandboxInfo(newEntry(record('running')), '/srv/choiros').idleSecs).toBe(0);
  });

  it('idle_secs counts only whole seconds that have passed: 125.9 s idle is 125, never rounded up', () => {
    vi.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const idling = entry('running', 125.9);
    expect(sandboxInfo(idling, '/srv/choiros').idleSecs).toBe(125);
  });
});

afterEach(() => {
  vi.useRealTimers();
});
