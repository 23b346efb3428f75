import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { RequestHandler } from './server.ts';

/**
 * The hypervisor's one Prometheus registry. Each module registers its own metrics on it in its own
 * file (sandboxes/metrics.ts, the proxy's, ...); GET /metrics exports them all.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export function metricsRoute(): RequestHandler {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/metrics' || req.method !== 'GET') return false;
    const body = await metricsRegistry.metrics();
    res.writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store' });
    res.end(body);
    return true;
  };
}
