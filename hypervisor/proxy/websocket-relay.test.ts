import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { WebSocket, type RawData } from 'ws';
import { closedPort, startFront, testUserHeader, type Front } from './testing/front.ts';
import { startUpstream, type Upstream } from './testing/upstream.ts';

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

  it('negotiates the subprotocol the sandbox chooses', async () => {
    const client = await connectThrough(front, '/ws', { protocols: ['choir.v1', 'other'] });
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
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(front.proxy.webSockets('alice:live')).toBe(0);
    expect(front.proxy.webSockets('alice:dev')).toBe(1);
    onDev.ws.close();
    await once(onDev.ws, 'close');
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
