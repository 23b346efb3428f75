import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../metrics-registry.ts';
import type { Role } from '../domain/role.ts';

/** Counted in plain numbers on the hot path and handed to prom-client when metrics are collected. */
const unreported: Record<Role, number[]> = { live: [0, 0, 0, 0, 0, 0], dev: [0, 0, 0, 0, 0, 0] };

export const proxiedRequests = new Counter({
  name: 'choiros_proxy_requests_total',
  help: 'HTTP requests relayed to sandboxes, by the sandbox role and the status class answered (0xx: cut off)',
  labelNames: ['role', 'status_class'] as const,
  registers: [metricsRegistry],
  collect() {
    for (const role of ['live', 'dev'] as const) {
      unreported[role].forEach((count, statusClass) => {
        if (count > 0) this.inc({ role, status_class: `${statusClass}xx` }, count);
      });
      unreported[role].fill(0);
    }
  },
});

export const openWebSockets = new Gauge({
  name: 'choiros_proxy_websockets_open',
  help: 'WebSockets currently relayed to sandboxes, by sandbox role',
  labelNames: ['role'] as const,
  registers: [metricsRegistry],
});

/** Counts one answered request (status 0: the exchange was cut off). */
export function countRequest(role: Role, status: number): void {
  const statusClass = Math.min(5, Math.floor(status / 100));
  unreported[role][statusClass] = (unreported[role][statusClass] ?? 0) + 1;
}
