import type { RuntimeKind } from '../domain/runtime-kind.ts';
import type { SandboxStatus } from '../domain/sandbox.ts';
import { sendJson } from './json.ts';
import type { RequestHandler } from './server.ts';

export interface HealthSource {
  version: string;
  runtime: RuntimeKind;
  bootId: string;
  startedAt: number;
  counts(): Record<SandboxStatus, number>;
}

/** GET /health: {status, version, runtime, uptime_s, boot_id, sandboxes: {running, stopped, failed}}. */
export function healthRoute(source: HealthSource): RequestHandler {
  return async (req, res, url) => {
    if (url.pathname !== '/health' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
    sendJson(res, 200, {
      status: 'healthy',
      version: source.version,
      runtime: source.runtime,
      uptime_s: Math.floor((Date.now() - source.startedAt) / 1000),
      boot_id: source.bootId,
      sandboxes: source.counts(),
    });
    return true;
  };
}
