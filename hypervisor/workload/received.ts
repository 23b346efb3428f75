import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http/errors.ts';
import { sendJson } from '../http/json.ts';

/**
 * What reached this sandbox, as the sandbox saw it: whether each credential header arrived (never its
 * value), the identity headers' values and the forwarding headers' values. A gate reads it through the proxy on any target that runs
 * this workload, so "no credential reaches a sandbox, the identity is the session's" is checked where
 * it matters, not inferred from the proxy's code.
 */
export const receivedPath = '/diagnostics/received';

const credentialHeaders = ['cookie', 'authorization', 'proxy-authorization'] as const;
const identityHeaders = ['x-choiros-user-id', 'x-choiros-sandbox-role'] as const;
/** Who asked, by which scheme and host, as the proxy in front says: its own values, never a client's. */
const forwardingHeaders = ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'forwarded', 'x-real-ip'] as const;

export interface ReceivedReport {
  credentials: Record<(typeof credentialHeaders)[number], 'present' | 'absent'>;
  /** The identity headers' values as received (null when absent; repeated headers as Node joins them). */
  identity: Record<(typeof identityHeaders)[number], string | null>;
  /** The forwarding headers' values as received, alike. */
  forwarding: Record<(typeof forwardingHeaders)[number], string | null>;
}

export function receivedReport(req: IncomingMessage): ReceivedReport {
  const header = (name: string): string | null => {
    const value = req.headers[name];
    return value === undefined ? null : [value].flat().join(', ');
  };
  return {
    credentials: Object.fromEntries(credentialHeaders.map((name) => [name, req.headers[name] === undefined ? 'absent' : 'present'])) as ReceivedReport['credentials'],
    identity: Object.fromEntries(identityHeaders.map((name) => [name, header(name)])) as ReceivedReport['identity'],
    forwarding: Object.fromEntries(forwardingHeaders.map((name) => [name, header(name)])) as ReceivedReport['forwarding'],
  };
}

export function sendReceived(req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') throw new HttpError(405, `${req.method} is not allowed here; use GET`);
  sendJson(res, 200, receivedReport(req));
}
