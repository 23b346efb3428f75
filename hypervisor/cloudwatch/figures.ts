import type { Registry } from 'prom-client';
import type { SandboxStatus } from '../domain/sandbox.ts';
import type { Figure } from './figure-names.ts';
import { diskHeadroomPercent, memoryHeadroomPercent } from './headroom.ts';
import type { LatencyWindow } from './latency.ts';

export interface FigureSources {
  registry: Registry;
  sandboxCounts(): Record<SandboxStatus, number>;
  latency: LatencyWindow;
  dataRoot: string;
}

async function counterTotal(registry: Registry, name: string, include: (labels: Partial<Record<string, string | number>>) => boolean = () => true): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((sample) => include(sample.labels)).reduce((sum, sample) => sum + sample.value, 0);
}

/**
 * Reads the key figures once per interval. Counters are published as what happened in the interval
 * (the difference since the last reading), gauges as they are now.
 */
export function figureReader(sources: FigureSources): () => Promise<Figure[]> {
  // One hypervisor per process in production: its counters started at zero with it.
  let previous = { restarts: 0, requests: 0, errors: 0 };
  return async () => {
    const now = {
      restarts: await counterTotal(sources.registry, 'choiros_sandbox_restarts_total'),
      requests: await counterTotal(sources.registry, 'choiros_proxy_requests_total'),
      // A 5xx or a cut-off exchange (0xx) is an error the user saw.
      errors: await counterTotal(sources.registry, 'choiros_proxy_requests_total', (labels) => labels.status_class === '5xx' || labels.status_class === '0xx'),
    };
    const since = previous;
    previous = now;
    const counts = sources.sandboxCounts();
    const p99 = sources.latency.takeP99();
    return [
      { name: 'SandboxesRunning', value: counts.running },
      { name: 'SandboxesStopped', value: counts.stopped },
      { name: 'SandboxesFailed', value: counts.failed },
      { name: 'SandboxRestarts', value: now.restarts - since.restarts },
      { name: 'ProxiedRequests', value: now.requests - since.requests },
      { name: 'ProxiedErrors', value: now.errors - since.errors },
      ...(p99 === undefined ? [] : [{ name: 'RequestLatencyP99' as const, value: p99 }]),
      { name: 'MemoryHeadroom', value: await memoryHeadroomPercent() },
      { name: 'DiskHeadroom', value: await diskHeadroomPercent(sources.dataRoot) },
    ];
  };
}
