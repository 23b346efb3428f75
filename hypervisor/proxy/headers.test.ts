import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { towardsClient, towardsSandbox } from './headers.ts';

/** A request as Node hands it over: header names lower-cased, values as the client wrote them. */
function requestWith(headers: Record<string, string>): IncomingMessage {
  return Object.assign(new IncomingMessage(new Socket()), { headers });
}

const identity = { userId: 'alice', role: 'live' as const };
const forwarding = { clientAddress: '127.0.0.1', proto: 'https' };

describe('headers named in Connection are hop-by-hop (RFC 9110 7.6.1), whatever their case there', () => {
  // A token list: the header names after a comma come with the space most clients put there.
  it.each([['X-Hop-Secret'], ['x-hop-secret'], ['X-HOP-SECRET, Keep-Alive'], ['keep-alive, X-Hop-Secret'], ['close ,  x-hop-secret ']])('towards the sandbox: Connection: %s drops x-hop-secret', (connection) => {
    const out = towardsSandbox(requestWith({ connection, 'x-hop-secret': 'for the proxy only', accept: 'text/html' }), identity, forwarding);
    expect(out).not.toHaveProperty('x-hop-secret');
    expect(out).toHaveProperty('accept', 'text/html');
  });

  it.each([['X-Upstream-Only'], ['x-upstream-only, Close'], ['Keep-Alive, X-Upstream-Only']])("towards the client: the sandbox's Connection: %s drops x-upstream-only", (connection) => {
    const out = towardsClient({ connection, 'x-upstream-only': 'between the sandbox and the proxy', 'content-type': 'text/plain' });
    expect(out).not.toHaveProperty('x-upstream-only');
    expect(out).toHaveProperty('content-type', 'text/plain');
  });
});

/** RFC 9110 7.6.1 and the proxy-era names still seen: they describe one connection, never the next. */
const hopByHopNames = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization'];

describe('hop-by-hop headers stop at the proxy, in both directions', () => {
  it.each(hopByHopNames)('towards the sandbox: %s is dropped', (name) => {
    const out = towardsSandbox(requestWith({ [name]: 'x', accept: 'text/html' }), identity, forwarding);
    expect(out).not.toHaveProperty(name);
    expect(out).toHaveProperty('accept', 'text/html');
  });

  it.each(hopByHopNames)('towards the client: %s is dropped', (name) => {
    const out = towardsClient({ [name]: 'x', 'content-type': 'text/plain' });
    expect(out).not.toHaveProperty(name);
    expect(out).toHaveProperty('content-type', 'text/plain');
  });

  it('towards the sandbox: Expect is dropped (the proxy answers 100-continue itself), and the host the client asked for is passed as X-Forwarded-Host', () => {
    const out = towardsSandbox(requestWith({ expect: '100-continue', host: 'choir.example', 'content-type': 'application/json' }), identity, forwarding);
    expect(out).not.toHaveProperty('expect');
    expect(out).toMatchObject({ 'content-type': 'application/json', 'x-forwarded-host': 'choir.example', 'x-forwarded-proto': 'https', 'x-choiros-user-id': 'alice' });
  });

  // An HTTP/1.0 client may send no Host: there is then no host to pass on, and the client's own claim is not one.
  it('towards the sandbox: without a Host, a client\'s own X-Forwarded-Host, Forwarded and X-Real-IP are dropped, never passed on', () => {
    const out = towardsSandbox(requestWith({ 'x-forwarded-host': 'evil.example', forwarded: 'host=evil.example', 'x-real-ip': '203.0.113.9', accept: 'text/html' }), identity, forwarding);
    expect(out).not.toHaveProperty('x-forwarded-host');
    expect(out).not.toHaveProperty('forwarded');
    expect(out).not.toHaveProperty('x-real-ip');
    expect(out).toMatchObject({ accept: 'text/html', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' });
  });
});
