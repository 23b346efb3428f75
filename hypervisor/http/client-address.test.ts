import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientAddressFrom, plainAddress, type ClientAddress } from './client-address.ts';

/** A real server on 127.0.0.1 that answers with the client address each reader sees, by name. */
const readers = new Map<string, ClientAddress>([
  ['direct', clientAddressFrom([])],
  ['behind-local-proxy', clientAddressFrom(['127.0.0.1', '10.0.0.2'])],
  ['mapped-trust', clientAddressFrom(['::ffff:127.0.0.1'])],
  ['other-proxy', clientAddressFrom(['10.0.0.1'])],
]);
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const reader = readers.get(new URL(req.url ?? '/', 'http://x').searchParams.get('reader') ?? '');
    res.end(reader ? reader(req) : 'no such reader');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function seenAs(reader: string, forwardedFor?: string): Promise<string> {
  const res = await fetch(`${base}/?reader=${reader}`, { headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } });
  return res.text();
}

describe('client address', () => {
  it('with no trusted proxies is the socket peer, whatever X-Forwarded-For says', async () => {
    expect(await seenAs('direct')).toBe('127.0.0.1');
    expect(await seenAs('direct', '203.0.113.7')).toBe('127.0.0.1');
  });

  it('behind a trusted proxy is the rightmost untrusted hop: what a client wrote itself further left is never reached', async () => {
    expect(await seenAs('behind-local-proxy', '203.0.113.7')).toBe('203.0.113.7');
    expect(await seenAs('behind-local-proxy', '6.6.6.6, 203.0.113.7')).toBe('203.0.113.7');
    expect(await seenAs('behind-local-proxy', '6.6.6.6, 203.0.113.7, 10.0.0.2')).toBe('203.0.113.7');
    expect(await seenAs('behind-local-proxy', '::ffff:198.51.100.9')).toBe('198.51.100.9');
  });

  it('behind a trusted proxy stops believing at a malformed hop, and is the nearest trusted hop when every hop is trusted', async () => {
    expect(await seenAs('behind-local-proxy', '203.0.113.7, not-an-address, 10.0.0.2')).toBe('10.0.0.2');
    expect(await seenAs('behind-local-proxy', 'not-an-address')).toBe('127.0.0.1');
    expect(await seenAs('behind-local-proxy', '10.0.0.2')).toBe('10.0.0.2');
    expect(await seenAs('behind-local-proxy')).toBe('127.0.0.1');
  });

  it('believes X-Forwarded-For only from a peer that is a trusted proxy (written either way, plain or IPv4-mapped)', async () => {
    expect(await seenAs('other-proxy', '203.0.113.7')).toBe('127.0.0.1');
    expect(await seenAs('mapped-trust', '203.0.113.7')).toBe('203.0.113.7');
  });

  it('reads an IPv4-mapped IPv6 address as the plain IPv4 address, and leaves other IPv6 addresses alone', () => {
    expect(plainAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(plainAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(plainAddress('::ffff:7f00:1')).toBe('::ffff:7f00:1');
    expect(plainAddress('2001:db8::1')).toBe('2001:db8::1');
  });
});
