import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { waitFor } from '../../fixtures/test-hypervisor.ts';
import { createLogger } from '../log.ts';
import { defaultConnectionLimits, guardConnections } from './connection-guard.ts';
import { pipelinesOnLoopback } from './testing/pipelines-on-loopback.ts';
import { rawConnection, untilClosed, type RawConnection } from './testing/raw-connection.ts';

/** The first answer to a keep-alive request on the connection (the connection stays open). */
async function answerOf(socket: RawConnection): Promise<string> {
  socket.write('GET / HTTP/1.1\r\nhost: localhost\r\n\r\n');
  // A refused connection may have its 503 in before the request is even written.
  if (!socket.received()) await Promise.race([once(socket, 'data'), once(socket, 'close')]);
  return socket.received();
}

describe('connection guard: answers for requests that never parse, and one log line per burst of refused connections', () => {
  const logLines: Array<{ event?: string; client?: string }> = [];
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer({ maxHeaderSize: 1024 }, (_req, res) => res.end('ok'));
    guardConnections(server, { ...defaultConnectionLimits, connectionsPerClient: 2 }, createLogger('guard-test', { write: (line: string) => void logLines.push(JSON.parse(line) as { event?: string }) }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** A new connection from `client` once the guard serves it again (it is held open: it counts towards the limit). */
  function servedAgain(client: string, what: string): Promise<RawConnection> {
    return waitFor(
      what,
      async () => {
        const socket = await rawConnection(port, client);
        if (/^HTTP\/1\.1 200 /.test(await answerOf(socket))) return socket;
        socket.destroy();
        return undefined;
      },
      10_000,
    );
  }

  it('answers request headers over the size limit with 431 and a request it cannot parse with 400, closing each', async () => {
    const large = await rawConnection(port);
    large.write(`GET / HTTP/1.1\r\nhost: localhost\r\nx-padding: ${'a'.repeat(4096)}\r\n\r\n`);
    const answer = await untilClosed(large);
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(answer).toMatch(/\r\n\r\n\{"error":"the request headers are too large"\}$/);
    const garbled = await rawConnection(port);
    garbled.write('NOT HTTP AT ALL\r\n\r\n');
    expect(await untilClosed(garbled)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  });

  it('serves a client up to its connection limit and refuses the next (503), logging http.connection_limit once per burst of refusals and again for a later burst', async () => {
    const client = '127.0.0.7';
    const limitLines = (): number => logLines.filter((line) => line.event === 'http.connection_limit' && line.client === client).length;
    const held = [await rawConnection(port, client), await rawConnection(port, client)];
    for (const socket of held) expect(await answerOf(socket), 'a connection at the limit is served').toMatch(/^HTTP\/1\.1 200 /);
    for (let i = 0; i < 3; i += 1) expect(await untilClosed(await rawConnection(port, client))).toMatch(/^HTTP\/1\.1 503 /);
    expect(limitLines(), 'three refused connections in one burst').toBe(1);
    for (const socket of held) socket.destroy();
    // Served again once the server has seen the held connections close.
    await waitFor(
      'a connection from the client served once its held connections closed',
      async () => {
        const socket = await rawConnection(port, client);
        socket.write('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
        return /^HTTP\/1\.1 200 /.test(await untilClosed(socket)) ? true : undefined;
      },
      10_000,
    );
    const again = [await rawConnection(port, client), await rawConnection(port, client)];
    expect(await untilClosed(await rawConnection(port, client))).toMatch(/^HTTP\/1\.1 503 /);
    expect(limitLines(), 'a second burst').toBe(2);
    for (const socket of again) socket.destroy();
  });

  it('starts a new burst once the client is back under its limit, even with connections still open: the next refusal is logged again', async () => {
    const client = '127.0.0.8';
    const limitLines = (): number => logLines.filter((line) => line.event === 'http.connection_limit' && line.client === client).length;
    const [first, second] = [await rawConnection(port, client), await rawConnection(port, client)];
    for (const socket of [first, second]) expect(await answerOf(socket)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await untilClosed(await rawConnection(port, client))).toMatch(/^HTTP\/1\.1 503 /);
    expect(limitLines()).toBe(1);
    first.destroy();
    // Held open once served: with `second` it puts the client at its limit again.
    const third = await servedAgain(client, 'a connection from the client served once one of its two closed');
    expect(await untilClosed(await rawConnection(port, client))).toMatch(/^HTTP\/1\.1 503 /);
    expect(limitLines(), 'the refusal after the client went under its limit (one connection still open)').toBe(2);
    for (const socket of [second, third]) socket.destroy();
  });

  it('gives a connection its place back however it ends: connections reset by the client (no FIN) free the client for new ones', async () => {
    const client = '127.0.0.9';
    const held = [await rawConnection(port, client), await rawConnection(port, client)];
    for (const socket of held) expect(await answerOf(socket)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await untilClosed(await rawConnection(port, client))).toMatch(/^HTTP\/1\.1 503 /);
    for (const socket of held) socket.resetAndDestroy();
    const served = await servedAgain(client, 'a connection from the client served once its held connections were reset');
    served.destroy();
  });
});

describe('connection guard: a protocol error on a connection whose answer has begun', () => {
  let served: Awaited<ReturnType<typeof pipelinesOnLoopback>>;
  let finish: () => void = () => undefined;
  beforeAll(async () => {
    served = await pipelinesOnLoopback(
      {
        request: [
          async (_req, res) => {
            res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '20' });
            res.write('first half');
            // The rest is written only after the test has sent its garbage.
            await new Promise<void>((resolve) => (finish = resolve));
            res.end('secondhalf');
            return true;
          },
        ],
        upgrade: [],
      },
      createLogger('guard-test', { write: () => undefined }),
    );
  });
  afterAll(async () => {
    finish();
    await served.close();
  });

  it('never writes a second status line into an answer in progress: the connection is cut instead', async () => {
    const socket = await rawConnection(served.port);
    socket.write('GET /slow HTTP/1.1\r\nhost: localhost\r\n\r\n');
    await waitFor('the first half of the answer', () => (socket.received().includes('first half') ? true : undefined), 10_000);
    socket.write('NOT HTTP AT ALL\r\n\r\n');
    const received = await untilClosed(socket);
    expect(received.match(/HTTP\/1\.1 \d{3}/g), received).toEqual(['HTTP/1.1 200']);
  });
});

describe('connection guard: trusted proxies on a dual-stack server', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    guardConnections(server, { ...defaultConnectionLimits, connectionsPerClient: 1, trustedProxies: ['127.0.0.9'] }, createLogger('guard-test', { write: () => undefined }));
    // Listening on :: an IPv4 peer arrives as ::ffff:127.0.0.9, the way HYPERVISOR_TRUSTED_PROXIES never writes it.
    await new Promise<void>((resolve) => server.listen(0, '::', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('exempts a trusted proxy written as plain IPv4 from the per-client cap when it connects as an IPv4-mapped address', async () => {
    const held = [await rawConnection(port, '127.0.0.9'), await rawConnection(port, '127.0.0.9'), await rawConnection(port, '127.0.0.9')];
    for (const socket of held) expect(await answerOf(socket)).toMatch(/^HTTP\/1\.1 200 /);
    for (const socket of held) socket.destroy();
  });
});
