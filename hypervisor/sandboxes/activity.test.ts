import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { removeDir, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import type { SandboxKey } from '../domain/sandbox.ts';

// What resets a sandbox's idle timer (the reaper stops it SANDBOX_IDLE_TIMEOUT_SECS after the last
// activity): a proxied request, on the fast path for a running sandbox as on the slow one. Only the
// clock is faked, so the sandbox process and the HTTP around it are real.
describe('sandbox activity', () => {
  let hv: TestHypervisor;
  const key: SandboxKey = { userId: 'busy-by-http', role: 'live' };
  const idleSecs = () => hv.hypervisor.sandboxes.get(key)?.idleSecs;

  beforeAll(async () => {
    hv = await startTestHypervisor({ SANDBOX_RUNTIME: 'process' });
    await hv.hypervisor.sandboxes.start(key);
  });
  afterAll(async () => {
    vi.useRealTimers();
    await hv?.close();
    if (hv) removeDir(hv.dir);
  });

  it("the proxy's fast path (the port of a running sandbox) counts as activity and resets the idle time", () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    vi.setSystemTime(Date.now() + 120_000);
    expect(idleSecs()).toBeGreaterThanOrEqual(120);
    expect(hv.hypervisor.sandboxes.runningPort(key)).toEqual(expect.any(Number));
    expect(idleSecs()).toBe(0);
  });

  it('a touch (a relayed WebSocket message) does too', () => {
    vi.setSystemTime(Date.now() + 120_000);
    expect(idleSecs()).toBeGreaterThanOrEqual(120);
    hv.hypervisor.sandboxes.touch(key);
    expect(idleSecs()).toBe(0);
  });
});
