import { isIP } from 'node:net';
import { ConfigError, readInteger, readString, type Env } from './env-values.ts';

/** What one client may hold open and how long it may take to send a request. */
export interface ConnectionsConfig {
  /** Peers whose X-Forwarded-For is believed (a reverse proxy in front, e.g. Caddy); none by default. */
  trustedProxies: string[];
  /** Time for a client to send a request's headers; then 408. */
  headersTimeoutMs: number;
  /** Time for a client to send a whole request, body included; then 408. */
  requestTimeoutMs: number;
  /** Concurrent connections from one client address (trusted proxies are not capped: they carry many clients). */
  connectionsPerClient: number;
  /** Open proxied WebSockets per user, across both sandboxes; the next is closed with 1008. */
  webSocketsPerUser: number;
  /** Open proxied WebSockets in all; the next is closed with 1013 (try again later). */
  webSocketsTotal: number;
}

function readAddressList(env: Env, name: string): string[] {
  const raw = readString(env, name);
  if (raw === undefined) return [];
  const addresses = raw.split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = addresses.find((address) => isIP(address) === 0);
  if (bad !== undefined) {
    throw new ConfigError(name, raw, `"${bad}" is not an IP address: list the reverse proxies' addresses, comma-separated (for example 127.0.0.1,::1); default none`);
  }
  return addresses;
}

export function connectionsSection(env: Env): ConnectionsConfig {
  const headersTimeoutMs = readInteger(env, 'HYPERVISOR_HEADERS_TIMEOUT_SECS', 30, 1, 3600) * 1000;
  const requestTimeoutMs = readInteger(env, 'HYPERVISOR_REQUEST_TIMEOUT_SECS', 60, 1, 3600) * 1000;
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError('HYPERVISOR_REQUEST_TIMEOUT_SECS', String(requestTimeoutMs / 1000), `use at least HYPERVISOR_HEADERS_TIMEOUT_SECS (${headersTimeoutMs / 1000}): the whole request includes its headers`);
  }
  return {
    trustedProxies: readAddressList(env, 'HYPERVISOR_TRUSTED_PROXIES'),
    headersTimeoutMs,
    requestTimeoutMs,
    connectionsPerClient: readInteger(env, 'HYPERVISOR_CONNECTIONS_PER_CLIENT', 256, 1, 1_000_000),
    webSocketsPerUser: readInteger(env, 'HYPERVISOR_WEBSOCKETS_PER_USER', 64, 1, 1_000_000),
    webSocketsTotal: readInteger(env, 'HYPERVISOR_WEBSOCKETS_TOTAL', 10_000, 1, 10_000_000),
  };
}
