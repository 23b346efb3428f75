import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { defaultProxyLimits } from './limits.ts';
import { Upstreams } from './upstreams.ts';

describe('Upstreams (one keep-alive pool per sandbox port)', () => {
  let server: Server;
  let port: number;
  const connections: Socket[] = [];
  beforeAll(async () => {
    server = createServer((_req, res) => res.end('ok'));
    server.on('connection', (socket: Socket) => connections.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("reuses a sandbox port's connections for requests one after another, and closes them on close()", async () => {
    const upstreams = new Upstreams(defaultProxyLimits);
    const requests = 5;
    for (let i = 0; i < requests; i++) {
      const { body } = await upstreams.pool(port).request({ path: '/health', method: 'GET' });
      expect(await body.text()).toBe('ok');
    }
    // undici may open a second connection while the first is being handed back; never one per request.
    expect(connections.length, `connections the sandbox accepted for ${requests} requests in turn`).toBeLessThan(requests);
    const closed = Promise.all(connections.map((socket) => once(socket, 'close')));
    await upstreams.close();
    await closed;
    expect(connections.every((socket) => socket.destroyed)).toBe(true);
  });
});
