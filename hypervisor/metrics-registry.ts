import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The hypervisor's one Prometheus registry. Each module registers its own metrics on it in its own
 * file (sandboxes/metrics.ts, the proxy's, ...); GET /metrics (http/metrics.ts) exports them all.
 * It sits on the ground floor so any part can count without importing the HTTP layer.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });
