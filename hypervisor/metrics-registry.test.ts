import { describe, expect, it } from 'vitest';
import { metricsRegistry } from './metrics-registry.ts';

describe("the hypervisor's Prometheus registry", () => {
  it("carries the Node process's default metrics beside the modules' own", async () => {
    const text = await metricsRegistry.metrics();
    for (const name of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(text).toContain(`# TYPE ${name} `);
  });
});
