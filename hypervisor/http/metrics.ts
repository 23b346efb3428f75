import type { IncomingMessage, ServerResponse } from 'node:http';
import { metricsRegistry } from '../metrics-registry.ts';
import type { RequestHandler } from './server.ts';

/** GET /metrics: everything registered on the hypervisor's registry. */
export function metricsRoute(): RequestHandler {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (url.pathname !== '/metrics' || req.method !== 'GET') return false;
    const body = await metricsRegistry.metrics();
    res.writeHead(200, { 'content-type': metricsRegistry.contentType, 'cache-control': 'no-store' });
    res.end(body);
    return true;
  };
}
