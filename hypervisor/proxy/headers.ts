import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Role } from '../domain/role.ts';

/** Hop-by-hop headers (RFC 9110 7.6.1) and the proxy-era ones that still circulate. */
const hopByHop = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization'];

/**
 * Never forwarded to a sandbox: credentials for the hypervisor (the sandbox is untrusted), the
 * forwarding headers we set ourselves (a client must not choose them), and `expect` (Node answers
 * 100-continue itself).
 */
const droppedTowardsSandbox = new Set([
  ...hopByHop,
  'cookie',
  'authorization',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'expect',
]);

/** A sandbox may not set cookies on the hypervisor's origin: it could shadow the session cookie. */
const droppedTowardsClient = new Set([...hopByHop, 'set-cookie']);

/**
 * Nor act on the rest of the origin's state, which it shares with the login pages (and the other
 * route's sandbox): each of these applies to the whole origin or host, not to the answer it came on.
 */
const originWideHeaders = [
  // Wipes the origin's cookies (the session's among them) and storage.
  'clear-site-data',
  // Lets a worker script claim the login pages' scope (belt and braces: the session guard refuses service-worker script fetches).
  'service-worker-allowed',
  // Pins HTTPS (includeSubDomains: for every subdomain too) for the host, as long as the sandbox says.
  'strict-transport-security',
  // Network Error Logging: the browser reports the origin's failed requests, login pages' included, where the sandbox says.
  'nel',
  // Names the origin's reporting endpoints (for NEL and others): the sandbox would receive reports about the login pages.
  'report-to',
  // The newer reporting-endpoint header: the same reports, sent where the sandbox says.
  'reporting-endpoints',
  // Sends the browser's later requests for the origin to another host or port the sandbox names.
  'alt-svc',
] as const;
for (const name of originWideHeaders) droppedTowardsClient.add(name);

const noTokens: ReadonlySet<string> = new Set();

/** Header names listed in Connection (they are hop-by-hop too); the usual values name none. */
function connectionTokens(value: string | string[] | undefined): ReadonlySet<string> {
  if (!value || value === 'keep-alive' || value === 'close') return noTokens;
  return new Set([value].flat().flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase()).filter(Boolean));
}

export interface Identity {
  userId: string;
  role: Role;
}

export interface Forwarding {
  clientAddress: string;
  proto: string;
}

/** Headers for the sandbox: the client's, minus credentials and hop-by-hop, plus who is asking. */
export function towardsSandbox(req: IncomingMessage, identity: Identity, forwarding: Forwarding): Record<string, string | string[]> {
  const named = connectionTokens(req.headers.connection);
  const out: Record<string, string | string[]> = {};
  const headers: IncomingHttpHeaders = req.headers;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || droppedTowardsSandbox.has(name) || name.startsWith('x-choiros-') || named.has(name)) continue;
    out[name] = value;
  }
  out['x-choiros-user-id'] = identity.userId;
  out['x-choiros-sandbox-role'] = identity.role;
  out['x-forwarded-for'] = forwarding.clientAddress;
  out['x-forwarded-proto'] = forwarding.proto;
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  return out;
}

/** Headers for the WebSocket leg to the sandbox: who is asking and the forwarding headers the HTTP leg sends (ws builds the handshake). */
export function identityHeaders(identity: Identity, forwarding: Forwarding, host: string | undefined): Record<string, string> {
  return {
    'x-choiros-user-id': identity.userId,
    'x-choiros-sandbox-role': identity.role,
    'x-forwarded-for': forwarding.clientAddress,
    'x-forwarded-proto': forwarding.proto,
    ...(host ? { 'x-forwarded-host': host } : {}),
  };
}

/** The sandbox's response headers for the client, minus hop-by-hop and those acting on the origin's state. */
export function towardsClient(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || droppedTowardsClient.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}
