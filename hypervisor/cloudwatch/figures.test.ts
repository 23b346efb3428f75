import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsRegistry } from '../metrics-registry.ts';
import { countRequest } from '../proxy/metrics.ts';
import { sandboxRestarts } from '../sandboxes/metrics.ts';
import type { Figure, FigureName } from './figure-names.ts';
import { figureReader } from './figures.ts';
import { diskHeadroomPercent } from './headroom.ts';
import { LatencyWindow } from './latency.ts';

let dataRoot: string | undefined;
afterEach(() => (dataRoot ? rm(dataRoot, { recursive: true, force: true }) : undefined));

const byName = (figures: readonly Figure[]): Partial<Record<FigureName, number>> => Object.fromEntries(figures.map((f) => [f.name, f.value]));

// The hypervisor's own registry and counters, counted the way the proxy and supervisor count.
async function reader(counts = { running: 3, stopped: 2, failed: 1 }) {
  dataRoot = await mkdtemp(path.join(tmpdir(), 'choiros-cw-figures-'));
  const latency = new LatencyWindow();
  return { latency, read: figureReader({ registry: metricsRegistry, sandboxCounts: () => counts, latency, dataRoot }) };
}

describe('the key figures read each interval (figures.ts)', () => {
  it('publishes the sandbox counts by status, each under its own name', async () => {
    const { read } = await reader({ running: 3, stopped: 2, failed: 1 });
    expect(byName(await read())).toMatchObject({ SandboxesRunning: 3, SandboxesStopped: 2, SandboxesFailed: 1 });
  });

  it('publishes counters as what happened in the interval: restarts of every reason, and only 5xx and cut-off answers as errors', async () => {
    const { read } = await reader();
    await read(); // Whatever other tests in this process counted before is the baseline.
    for (const status of [200, 204, 302, 404, 401, 500, 503, 0]) countRequest('live', status);
    // Every restart counts, whatever its reason (Phase 5 reads admin and crash restarts in SandboxRestarts).
    for (const reason of ['crash', 'admin', 'reconcile']) sandboxRestarts.inc({ runtime: 'process', role: 'live', reason });
    expect(byName(await read())).toMatchObject({ ProxiedRequests: 8, ProxiedErrors: 3, SandboxRestarts: 3 });
    countRequest('dev', 502);
    expect(byName(await read())).toMatchObject({ ProxiedRequests: 1, ProxiedErrors: 1, SandboxRestarts: 0 });
  });

  it('publishes RequestLatencyP99 only for an interval in which requests were answered, and headroom in percent', async () => {
    const { latency, read } = await reader();
    const quiet = byName(await read());
    expect(quiet.RequestLatencyP99).toBeUndefined();
    for (const name of ['MemoryHeadroom', 'DiskHeadroom'] as const) {
      expect(quiet[name], name).toBeGreaterThan(0);
      expect(quiet[name], name).toBeLessThanOrEqual(100);
    }
    latency.record(12.5);
    expect(byName(await read()).RequestLatencyP99).toBe(12.5);
  });

  it('publishes DiskHeadroom of the file system holding the sandbox data root, not of another one', async () => {
    // /dev/shm (tmpfs, nearly empty) and the root file system differ by far more than the tolerance.
    dataRoot = await mkdtemp(path.join('/dev/shm', 'choiros-cw-figures-'));
    const read = figureReader({ registry: metricsRegistry, sandboxCounts: () => ({ running: 0, stopped: 0, failed: 0 }), latency: new LatencyWindow(), dataRoot });
    const published = byName(await read()).DiskHeadroom ?? NaN;
    expect(Math.abs(published - (await diskHeadroomPercent(dataRoot)))).toBeLessThan(3);
  });
});
