import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newEntry, type SandboxEntry } from './entry.ts';
import { startIdleReaper } from './idle-reaper.ts';
import type { SandboxState } from './state.ts';

let nextPort = 20_000;
const sandbox = (userId: string, state: SandboxState): SandboxEntry =>
  newEntry({ userId, role: 'live', port: nextPort++, desired: 'running', state, spec: { runtime: 'process', image: 'process', config: {} }, containerId: null, pid: null, pidStart: null, restarts: 0, lastError: null, updatedAt: new Date().toISOString() });

/** Runs a reaper over the entries on the fake clock; records which sandboxes it asked to stop, and with what limit. */
function reaper(idleTimeoutSecs: number, entries: SandboxEntry[]): { stops: Array<{ userId: string; limitMs: number }>; stop: () => void } {
  const stops: Array<{ userId: string; limitMs: number }> = [];
  const stop = startIdleReaper({ idleTimeoutSecs, entries: () => entries, stopIfIdle: (entry, limitMs) => stops.push({ userId: entry.key.userId, limitMs }) });
  return { stops, stop };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('idle reaper', () => {
  it('stops a running sandbox idle for the idle timeout (in seconds), not before, and within a quarter of it after', () => {
    const idle = sandbox('idle', 'running');
    const { stops, stop } = reaper(8, [idle]);
    // Last active between two checks, so the bound holds whenever the activity came.
    vi.advanceTimersByTime(1_000);
    idle.lastActivity = Date.now();
    vi.advanceTimersByTime(7_999);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(2_001);
    expect(stops[0]).toEqual({ userId: 'idle', limitMs: 8_000 });
    stop();
  });

  it('checks at least every 30 s, so a long timeout is honoured within 30 s of passing', () => {
    const idle = sandbox('idle', 'running');
    const { stops, stop } = reaper(3_600, [idle]);
    vi.advanceTimersByTime(1_000);
    idle.lastActivity = Date.now();
    vi.advanceTimersByTime(3_600_000 - 1);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(30_001);
    expect(stops.map((s) => s.userId)).toEqual(['idle']);
    stop();
  });

  it('leaves alone a sandbox with recent activity and one that is not running', () => {
    const busy = sandbox('busy', 'running');
    const entries = [busy, sandbox('stopped', 'stopped'), sandbox('failed', 'failed'), sandbox('backoff', 'backoff'), sandbox('starting', 'starting')];
    const { stops, stop } = reaper(4, entries);
    for (let second = 0; second < 20; second += 1) {
      busy.lastActivity = Date.now();
      vi.advanceTimersByTime(1_000);
    }
    expect(stops).toEqual([]);
    stop();
  });

  it('with a timeout of 0 never stops anything, and once stopped checks no more', () => {
    const idle = sandbox('idle', 'running');
    const off = reaper(0, [idle]);
    vi.advanceTimersByTime(24 * 3_600_000);
    expect(off.stops).toEqual([]);
    const stopped = reaper(1, [idle]);
    stopped.stop();
    vi.advanceTimersByTime(60_000);
    expect(stopped.stops).toEqual([]);
  });
});
