import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { waitFor } from '../../fixtures/test-hypervisor.ts';
import { metricsRegistry } from '../metrics-registry.ts';
import { closedPort, startFront, testUserHeader, type Front } from './testing/front.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';
import { startFloodingSandbox } from './testing/flooding-sandbox.ts';

/** A client WebSocket through the proxy that queues what it receives, so no message is missed. */
async function connectThrough(front: Front, path: string, { user = 'alice', protocols = [] as string[] } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${front.port}${path}`, protocols, { headers: { [testUserHeader]: user, 'x-choiros-user-id': 'bob', cookie: 'choiros_session=secret' }, autoPong: false });
  const inbox: Array<{ data: RawData; isBinary: boolean }> = [];
  const waiting: Array<() => void> = [];
  ws.on('message', (data, isBinary) => {
    inbox.push({ data, isBinary });
    waiting.shift()?.();
  });
  await once(ws, 'open');
  return {
    ws,
    async next(): Promise<{ data: RawData; isBinary: boolean }> {
      if (inbox.length === 0) await new Promise<void>((resolve) => waiting.push(resolve));
      return inbox.shift()!;
    },
  };
}

describe('WebSocket relay to the user\'s sandboxes', () => {
  let live: Upstream;
  let dev: Upstream;
  let front: Front;
  beforeAll(async () => {
    [live, dev] = await Promise.all([startUpstream('alice-live'), startUpstream('alice-dev')]);
    front = await startFront({
      'alice:main': { port: live.port, role: 'live' },
      'alice:dev': { port: dev.port, role: 'dev' },
      'carol:main': { port: await closedPort(), role: 'live' },
    });
  });
  afterAll(async () => {
    await front.close();
    await Promise.all([live.close(), dev.close()]);
  });

  it('closes (1012) a WebSocket whose route was switched while it was opening, so the client reconnects to the new target', async () => {
    // dave's target was resolved as live, but by the time the socket opened main pointed to dev.
    const switched = await startFront({ 'dave:main': { port: live.port, role: 'live' } }, undefined, () => 'dev');
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${switched.port}/ws`, { headers: { [testUserHeader]: 'dave' } });
      const [code, reason] = (await once(ws, 'close')) as [number, Buffer];
      expect([code, reason.toString()]).toEqual([1012, 'route switched']);
      expect(switched.logLines.some((line) => line.includes('"event":"proxy.websocket_rerouted"'))).toBe(true);
    } finally {
      await switched.close();
    }
  });

  it("counts a WebSocket's activity for the sandbox its route resolved to (dev, main having been swapped to it), not for the route's name", async () => {
    const swapped = await startFront({ 'erin:main': { port: dev.port, role: 'dev' } });
    try {
      const client = await connectThrough(swapped, '/ws', { user: 'erin' });
      await client.next();
      const touched = swapped.touched.filter((entry) => entry.startsWith('erin:'));
      expect(touched.length, 'the resolution, then the open WebSocket').toBeGreaterThanOrEqual(2);
      expect(new Set(touched)).toEqual(new Set(['erin:dev']));
      client.ws.close(1000);
      await once(client.ws, 'close');
    } finally {
      await swapped.close();
    }
  });

  it('relays text and binary frames both ways, including what the sandbox sends on connect', async () => {
    const client = await connectThrough(front, '/ws');
    const greeting = await client.next();
    expect([greeting.isBinary, JSON.parse(greeting.data.toString())]).toEqual([false, { type: 'pong', sandbox: 'alice-live' }]);
    client.ws.send(JSON.stringify({ type: 'subscribe', desktop_id: 'd1' }));
    const text = await client.next();
    expect([text.isBinary, text.data.toString()]).toEqual([false, '{"type":"subscribe","desktop_id":"d1"}']);
    client.ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    const binary = await client.next();
    expect([binary.isBinary, [...(binary.data as Buffer)]]).toEqual([true, [0, 1, 2, 255]]);
    client.ws.close(1000);
    await once(client.ws, 'close');
  });

  it('sends identity headers on the sandbox leg, never the client\'s cookie or forged identity', async () => {
    const client = await connectThrough(front, '/dev/ws?desktop=1');
    await client.next();
    const seen = dev.upgrades[dev.upgrades.length - 1]!;
    expect(seen.url).toBe('/ws?desktop=1');
    expect(seen.headers['x-choiros-user-id']).toBe('alice');
    expect(seen.headers['x-choiros-sandbox-role']).toBe('dev');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host'], 'the Host the client asked for, as on the HTTP leg').toBe(`127.0.0.1:${front.port}`);
    expect(seen.headers.cookie).toBeUndefined();
    expect(seen.headers[testUserHeader]).toBeUndefined();
    client.ws.close();
    await once(client.ws, 'close');
  });

  it('relays pings and pongs both ways', async () => {
    const client = await connectThrough(front, '/ws');
    await client.next();
    const server = live.sockets[live.sockets.length - 1]!;
    const pong = once(client.ws, 'pong');
    client.ws.ping(Buffer.from('are-you-there'));
    expect(String((await pong)[0])).toBe('are-you-there');
    const ping = once(client.ws, 'ping');
    server.ping(Buffer.from('from-sandbox'));
    expect(String((await ping)[0])).toBe('from-sandbox');
    const pongAtSandbox = once(server, 'pong');
    client.ws.pong(Buffer.from('answer'));
    expect(String((await pongAtSandbox)[0])).toBe('answer');
    client.ws.close();
    await once(client.ws, 'close');
  });

  it('passes the close code from the sandbox to the client', async () => {
    const client = await connectThrough(front, '/ws');
    await client.next();
    client.ws.send('close:4001:run finished');
    const [code, reason] = await once(client.ws, 'close');
    expect([code, String(reason)]).toEqual([4001, 'run finished']);
  });

  it('passes the close code from the client to the sandbox', async () => {
    const client = await connectThrough(front, '/ws');
    await client.next();
    const server = live.sockets[live.sockets.length - 1]!;
    const closed = once(server, 'close');
    client.ws.close(4002, 'tab closed');
    const [code, reason] = await closed;
    expect([code, String(reason)]).toEqual([4002, 'tab closed']);
  });

  it('closes the client when the sandbox connection is lost', async () => {
    const client = await connectThrough(front, '/ws');
    await client.next();
    live.sockets[live.sockets.length - 1]!.terminate();
    const [code] = await once(client.ws, 'close');
    expect(code).toBe(1014);
  });

  it('logs proxy.websocket_closed once per relayed WebSocket, naming the side that closed first and its code', async () => {
    const closedLines = (): Array<Record<string, unknown>> =>
      front.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === 'proxy.websocket_closed' && entry.user === 'alice');
    await waitFor('earlier sockets to unregister', () => (front.proxy.webSockets('alice:live') === 0 ? true : undefined), 5_000);
    const before = closedLines().length;
    const byClient = await connectThrough(front, '/ws');
    await byClient.next();
    byClient.ws.close(4003, 'done here');
    await once(byClient.ws, 'close');
    await waitFor('the client-closed socket to unregister', () => (front.proxy.webSockets('alice:live') === 0 ? true : undefined), 5_000);
    const bySandbox = await connectThrough(front, '/ws');
    await bySandbox.next();
    bySandbox.ws.send('close:4004:sandbox done');
    await once(bySandbox.ws, 'close');
    await waitFor('the sandbox-closed socket to unregister', () => (front.proxy.webSockets('alice:live') === 0 ? true : undefined), 5_000);
    expect(closedLines().slice(before).map((entry) => [entry.closed_by, entry.code, entry.role])).toEqual([
      ['client', 4003, 'live'],
      ['sandbox', 4004, 'live'],
    ]);
  });

  it('passes a close without a status code on as one without a code (1005), not as an abnormal close', async () => {
    const client = await connectThrough(front, '/ws');
    await client.next();
    const server = live.sockets[live.sockets.length - 1]!;
    const closed = once(server, 'close');
    client.ws.close();
    const [code] = await closed;
    expect(code).toBe(1005);
  });

  it('closes the sandbox leg with 1001 (going away) when a route switch closes the client with 1012', async () => {
    const client = await connectThrough(front, '/ws');
    await client.next();
    const server = live.sockets[live.sockets.length - 1]!;
    const closed = once(server, 'close');
    front.proxy.closeWebSockets('alice:live', 1012, 'route switched');
    const [code] = await closed;
    expect(code).toBe(1001);
    await once(client.ws, 'close');
  });

  it('counts open relayed WebSockets by sandbox role in choiros_proxy_websockets_open, and uncounts them once closed', async () => {
    const open = async (role: string): Promise<number> =>
      (await metricsRegistry.getSingleMetric('choiros_proxy_websockets_open')!.get()).values.find((v) => v.labels.role === role)?.value ?? 0;
    // Earlier tests' sockets unregister once both legs have closed; count from after that.
    await waitFor('earlier sockets to unregister', () => (front.proxy.webSockets('alice:live') + front.proxy.webSockets('alice:dev') === 0 ? true : undefined), 5_000);
    const [live0, dev0] = [await open('live'), await open('dev')];
    const onDev = await connectThrough(front, '/dev/ws');
    const onLive = await connectThrough(front, '/ws');
    await Promise.all([onDev.next(), onLive.next()]);
    expect([await open('live'), await open('dev')]).toEqual([live0 + 1, dev0 + 1]);
    onDev.ws.close(1000);
    await once(onDev.ws, 'close');
    await waitFor('the closed socket to be uncounted', async () => ((await open('dev')) === dev0 ? true : undefined), 5_000);
    expect(await open('live'), 'the other role keeps its count').toBe(live0 + 1);
    onLive.ws.close(1000);
    await once(onLive.ws, 'close');
  });

  // The test sandbox speaks only choir.v1: whatever its place in the offer, that is the one the client is told.
  it.each([[['choir.v1', 'other']], [['other', 'choir.v1']]])('negotiates the subprotocol the sandbox chooses, not the first offered: %j', async (protocols) => {
    const client = await connectThrough(front, '/ws', { protocols });
    expect(client.ws.protocol).toBe('choir.v1');
    client.ws.close();
    await once(client.ws, 'close');
  });

  it('closes a sandbox\'s WebSockets with a clean code for a route switch, and counts them', async () => {
    const a = await connectThrough(front, '/ws');
    const b = await connectThrough(front, '/ws');
    const onDev = await connectThrough(front, '/dev/ws');
    expect(front.proxy.webSockets('alice:live')).toBe(2);
    const closedA = once(a.ws, 'close');
    const closedB = once(b.ws, 'close');
    expect(front.proxy.closeWebSockets('alice:live', 1012, 'route switched')).toBe(2);
    const [[codeA, reasonA], [codeB]] = await Promise.all([closedA, closedB]);
    expect([codeA, String(reasonA), codeB]).toEqual([1012, 'route switched', 1012]);
    // The relay unregisters a socket once both of its legs have closed.
    await waitFor('the closed sockets to be unregistered', () => (front.proxy.webSockets('alice:live') === 0 ? true : undefined), 5_000);
    expect(front.proxy.webSockets('alice:dev')).toBe(1);
    onDev.ws.close();
    await once(onDev.ws, 'close');
  });

  it('refuses (400, naming the header) an upgrade whose Sec-WebSocket-Protocol repeats a subprotocol or is not a token', async () => {
    for (const [header, says] of [
      ['a, a', /offers a subprotocol twice/],
      ['choir.v1, bad protocol', /offers "bad protocol", which is not a valid subprotocol token/],
    ] as const) {
      const upgradesBefore = live.upgrades.length;
      const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: 'alice', 'sec-websocket-protocol': header } });
      const [, response] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      expect(response.statusCode).toBe(400);
      expect((JSON.parse(Buffer.concat(chunks).toString()) as { error: string }).error).toMatch(new RegExp(`^Sec-WebSocket-Protocol ${says.source}`));
      expect(live.upgrades.length).toBe(upgradesBefore);
      const abandoned = once(ws, 'error');
      ws.terminate();
      await abandoned;
    }
    expect(front.logLines.some((line) => line.includes('"event":"proxy.websocket_refused"'))).toBe(true);
  });

  it('slows a fast sandbox down to a client that stops reading (backpressure), then delivers every message in order', async () => {
    const messageBytes = 64 * 1024;
    const totalBytes = 64 * 1024 * 1024;
    const sandbox = await startFloodingSandbox({ totalBytes, messageBytes, fullBytes: 4 * 1024 * 1024, stuckMs: 1_000 });
    const relay = await startFront({ 'erin:main': { port: sandbox.port, role: 'live' } });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws`, { headers: { [testUserHeader]: 'erin' } });
      const received: number[] = [];
      ws.on('message', (data: Buffer) => received.push(data.readUInt32BE(0)));
      await once(ws, 'open');
      ws.pause();
      // With the client not reading, only the buffers along the way (socket buffers and the relay's
      // high-water mark) can take the flood; without backpressure the relay would take all 64 MiB.
      const flood = await sandbox.flooded;
      expect(flood.stuck).toBe(true);
      expect(flood.sentMessages * messageBytes).toBeLessThan(totalBytes / 2);
      ws.resume();
      await expect.poll(() => received.length, { timeout: 20_000 }).toBe(flood.sentMessages);
      expect(received).toEqual(Array.from({ length: flood.sentMessages }, (_, i) => i));
      ws.close();
      await once(ws, 'close');
    } finally {
      await relay.close();
      await sandbox.close();
    }
  });

  it('a route switch closes a WebSocket promptly even while backpressure has paused the sandbox side', async () => {
    const sandbox = await startFloodingSandbox({ totalBytes: 64 * 1024 * 1024, messageBytes: 64 * 1024, fullBytes: 4 * 1024 * 1024, stuckMs: 1_000 });
    const relay = await startFront({ 'erin:main': { port: sandbox.port, role: 'live' } });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/ws`, { headers: { [testUserHeader]: 'erin' } });
      await once(ws, 'open');
      ws.pause();
      expect((await sandbox.flooded).stuck).toBe(true);
      expect(relay.proxy.closeWebSockets('erin:live', 1012, 'route switched')).toBe(1);
      // ws gives an unanswered close handshake 30 s; the relay must not wait for that.
      await expect.poll(() => relay.proxy.webSockets('erin:live'), { timeout: 5_000 }).toBe(0);
      ws.terminate();
    } finally {
      await relay.close();
      await sandbox.close();
    }
  });

  it('answers the upgrade with 502 when the sandbox refuses the connection', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: 'carol' } });
    const [, response] = await once(ws, 'unexpected-response');
    expect(response.statusCode).toBe(502);
    // Abandoning a handshake the server refused: ws reports it as an error, then closes.
    const abandoned = once(ws, 'error');
    ws.terminate();
    expect(String((await abandoned)[0])).toMatch(/closed before the connection was established/);
  });
});

describe('WebSocket relay with its default limits', () => {
  it('waits 10 s (ms, not s) for the sandbox to accept a WebSocket: one accepting after 300 ms is relayed', async () => {
    const sandbox = createHttpServer();
    const accepting = new WebSocketServer({ noServer: true });
    sandbox.on('upgrade', (req, socket, head) => {
      setTimeout(() => accepting.handleUpgrade(req, socket, head, (ws) => ws.send('accepted late')), 300);
    });
    await new Promise<void>((resolve) => sandbox.listen(0, '127.0.0.1', resolve));
    const front = await startFront({ 'alice:main': { port: (sandbox.address() as AddressInfo).port, role: 'live' } });
    try {
      const client = await connectThrough(front, '/ws');
      expect((await client.next()).data.toString()).toBe('accepted late');
      client.ws.close();
    } finally {
      await front.close();
      for (const ws of accepting.clients) ws.terminate();
      await new Promise<void>((resolve) => sandbox.close(() => resolve()));
    }
  });

  it('relays a message of exactly 16 MiB (binary, not 16 MB) and closes a client sending one byte more with 1009', async () => {
    const upstream = await startUpstream('default-ws-limits');
    const front = await startFront({ 'alice:main': { port: upstream.port, role: 'live' } });
    try {
      const limit = 16 * 1024 * 1024;
      const client = await connectThrough(front, '/ws');
      await client.next();
      client.ws.send(Buffer.alloc(limit, 1));
      expect((await client.next()).data, 'a message at the limit is relayed').toHaveLength(limit);
      client.ws.send(Buffer.alloc(limit + 1, 2));
      const [code] = await once(client.ws, 'close');
      expect(code).toBe(1009);
    } finally {
      await front.close();
      await upstream.close();
    }
  });
});

describe('WebSocket relay limits', () => {
  const maxWebSocketMessageBytes = 1024;
  let live: Upstream;
  let front: Front;
  /** A sandbox that takes the connection and never answers the upgrade. */
  const silent = createServer((socket: Socket) => void silentSockets.push(socket));
  const silentSockets: Socket[] = [];
  beforeAll(async () => {
    live = await startUpstream('frank-live');
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    front = await startFront(
      {
        'frank:main': { port: live.port, role: 'live' },
        'grace:main': { port: (silent.address() as AddressInfo).port, role: 'live' },
        'ivan:main': new Error('podman is not answering'),
      },
      { maxWebSocketMessageBytes, webSocketHandshakeTimeoutMs: 300 },
    );
  });
  afterAll(async () => {
    await front.close();
    await live.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('closes a client that sends a message over the limit with 1009, and the message never reaches the sandbox', async () => {
    const client = await connectThrough(front, '/ws', { user: 'frank' });
    await client.next();
    const server = live.sockets[live.sockets.length - 1]!;
    const reachedSandbox: number[] = [];
    server.on('message', (data: Buffer) => reachedSandbox.push(data.length));
    client.ws.send(Buffer.alloc(maxWebSocketMessageBytes, 1));
    expect((await client.next()).data, 'a message at the limit is relayed').toHaveLength(maxWebSocketMessageBytes);
    client.ws.send(Buffer.alloc(maxWebSocketMessageBytes + 1, 2));
    const [code] = await once(client.ws, 'close');
    expect(code).toBe(1009);
    expect(reachedSandbox).toEqual([maxWebSocketMessageBytes]);
  });

  it('closes a client with 1009 when the sandbox sends a message over the limit, and the message never reaches the client', async () => {
    const client = await connectThrough(front, '/ws', { user: 'frank' });
    await client.next();
    const server = live.sockets[live.sockets.length - 1]!;
    server.send(Buffer.alloc(maxWebSocketMessageBytes, 3));
    expect((await client.next()).data, 'a message at the limit is relayed').toHaveLength(maxWebSocketMessageBytes);
    const closed = once(client.ws, 'close').then(([code]) => `closed with ${String(code)}`);
    server.send(Buffer.alloc(maxWebSocketMessageBytes + 1, 4));
    const first = await Promise.race([closed, client.next().then(({ data }) => `relayed ${(data as Buffer).length} bytes`)]);
    expect(first).toBe('closed with 1009');
  });

  it('closes the sandbox leg once the client is closed for a message over the limit, and once the client connection is lost', async () => {
    for (const end of ['message over the limit', 'connection lost'] as const) {
      const client = await connectThrough(front, '/ws', { user: 'frank' });
      await client.next();
      const server = live.sockets[live.sockets.length - 1]!;
      const closed = once(server, 'close');
      if (end === 'connection lost') client.ws.terminate();
      else client.ws.send(Buffer.alloc(maxWebSocketMessageBytes + 1, 5));
      const [code, reason] = (await closed) as [number, Buffer];
      // The client left without a close the relay could read: "bad gateway" for WebSockets, as on the client leg.
      expect([end, code, reason.toString()]).toEqual([end, 1014, 'the other side of the relay closed abnormally']);
    }
  });

  it('answers the upgrade with 504 when the sandbox does not accept the WebSocket in time', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${front.port}/ws`, { headers: { [testUserHeader]: 'grace' } });
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
    expect(response.statusCode).toBe(504);
    const abandoned = once(ws, 'error');
    ws.terminate();
    await abandoned;
  });

  it('refuses an upgrade whose sandbox cannot start with 503 and Retry-After, and one for /dev (no slash) with 404 naming /dev/', async () => {
    const refusal = async (path: string, user: string) => {
      const ws = new WebSocket(`ws://127.0.0.1:${front.port}${path}`, { headers: { [testUserHeader]: user } });
      const [, response] = (await once(ws, 'unexpected-response')) as [unknown, import('node:http').IncomingMessage];
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      const abandoned = once(ws, 'error');
      ws.terminate();
      await abandoned;
      return { status: response.statusCode, retryAfter: response.headers['retry-after'], body: Buffer.concat(chunks).toString() };
    };
    expect(await refusal('/ws', 'ivan')).toMatchObject({ status: 503, retryAfter: '5' });
    const bare = await refusal('/dev', 'frank');
    expect(bare.status).toBe(404);
    expect(bare.body).toMatch(/use \/dev\//);
  });
});
