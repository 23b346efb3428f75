import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../http/metrics.ts';

export const proxiedRequests = new Counter({
  name: 'choiros_proxy_requests_total',
  help: 'HTTP requests relayed to sandboxes, by the sandbox role and the status class answered',
  labelNames: ['role', 'status_class'] as const,
  registers: [metricsRegistry],
});

export const openWebSockets = new Gauge({
  name: 'choiros_proxy_websockets_open',
  help: 'WebSockets currently relayed to sandboxes, by sandbox role',
  labelNames: ['role'] as const,
  registers: [metricsRegistry],
});

const counters = new Map<string, { inc(): void }>();

/** Counts one answered request; the labelled children are cached because this runs per request. */
export function countRequest(role: string, status: number): void {
  const key = `${role}:${Math.floor(status / 100)}`;
  let counter = counters.get(key);
  if (!counter) {
    counter = proxiedRequests.labels(role, `${Math.floor(status / 100)}xx`);
    counters.set(key, counter);
  }
  counter.inc();
}
