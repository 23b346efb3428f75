import { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../metrics-registry.ts';
import { sandboxStates, type SandboxState } from './state.ts';
import { roles, type Role } from '../domain/role.ts';

/** Every manager in this process reports its sandboxes here (tests may run several hypervisors at once). */
const sources = new Set<() => Iterable<{ state: SandboxState; role: Role }>>();

export function reportSandboxes(source: () => Iterable<{ state: SandboxState; role: Role }>): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

new Gauge({
  name: 'choiros_sandboxes',
  help: 'Sandboxes known to the hypervisor, by lifecycle state and role',
  labelNames: ['state', 'role'] as const,
  registers: [metricsRegistry],
  collect() {
    const counts = new Map<string, number>();
    for (const source of sources) for (const { state, role } of source()) counts.set(`${state}/${role}`, (counts.get(`${state}/${role}`) ?? 0) + 1);
    for (const state of sandboxStates) for (const role of roles) this.set({ state, role }, counts.get(`${state}/${role}`) ?? 0);
  },
});

export const sandboxStartSeconds = new Histogram({
  name: 'choiros_sandbox_start_duration_seconds',
  help: 'From start requested to healthy (or failed)',
  labelNames: ['runtime', 'role', 'outcome'] as const,
  buckets: [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
  registers: [metricsRegistry],
});

export const sandboxStopSeconds = new Histogram({
  name: 'choiros_sandbox_stop_duration_seconds',
  help: 'From stop requested to the sandbox gone',
  labelNames: ['runtime', 'role'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
  registers: [metricsRegistry],
});

export const sandboxRestarts = new Counter({
  name: 'choiros_sandbox_restarts_total',
  help: 'Sandbox restarts, by why (crash, admin, reconcile)',
  labelNames: ['runtime', 'role', 'reason'] as const,
  registers: [metricsRegistry],
});
