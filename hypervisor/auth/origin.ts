import type { IncomingMessage } from 'node:http';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

export type OriginVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Cross-site request forgery guard. Auth routes demand an Origin equal to the relying party's
 * (browsers always send one on POST). Proxied requests and WebSocket upgrades refuse a foreign
 * Origin and a cross-site fetch; a client that sends neither is not a browser and carries no
 * victim's cookie.
 */
export function checkOrigin(req: IncomingMessage, rpOrigin: string, { requireOrigin }: { requireOrigin: boolean }): OriginVerdict {
  const isUpgrade = req.headers.upgrade !== undefined;
  if (safeMethods.has(req.method ?? 'GET') && !isUpgrade) return { allowed: true };
  const origin = req.headers.origin;
  if (origin === undefined) {
    if (requireOrigin) return { allowed: false, reason: `origin missing: ${req.method} requests must carry Origin: ${rpOrigin}` };
    if (req.headers['sec-fetch-site'] === 'cross-site') return { allowed: false, reason: 'cross-site request refused' };
    return { allowed: true };
  }
  if (origin !== rpOrigin) return { allowed: false, reason: `origin not allowed: "${origin}" is not ${rpOrigin}` };
  return { allowed: true };
}
