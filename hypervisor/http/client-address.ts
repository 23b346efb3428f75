import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** The address a request comes from, as limits, audit rows and X-Forwarded-For towards sandboxes see it. */
export type ClientAddress = (req: IncomingMessage) => string;

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) is 127.0.0.1. */
export const plainAddress = (address: string): string => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

export const socketAddress = (req: IncomingMessage): string => plainAddress(req.socket.remoteAddress ?? 'unknown');

/**
 * With no trusted proxies, the socket's peer. Behind trusted proxies (HYPERVISOR_TRUSTED_PROXIES,
 * e.g. the Caddy of Phase 4), X-Forwarded-For is read from the right, skipping trusted hops: the
 * first untrusted hop is the client. Each proxy appends the peer it saw, so whatever a client wrote
 * there itself sits further left and is never reached; a peer that is not a trusted proxy is
 * believed about nothing but its own address.
 */
export function clientAddressFrom(trustedProxies: readonly string[]): ClientAddress {
  if (trustedProxies.length === 0) return socketAddress;
  const trusted = new Set(trustedProxies.map(plainAddress));
  return (req) => {
    const peer = socketAddress(req);
    if (!trusted.has(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = [header ?? []].flat().join(',').split(',').map((hop) => plainAddress(hop.trim())).filter(Boolean);
    let nearest = peer;
    for (const hop of hops.reverse()) {
      // A proxy wrote every hop from here rightwards; a malformed one ends what can be believed.
      if (isIP(hop) === 0) return nearest;
      if (!trusted.has(hop)) return hop;
      nearest = hop;
    }
    return nearest;
  };
}

