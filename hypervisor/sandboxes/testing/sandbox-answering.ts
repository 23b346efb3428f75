import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const servers: Server[] = [];

/** A sandbox-like server on a loopback port, answering as `handle` does; its port. */
export async function sandboxServing(handle: RequestListener): Promise<number> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/** A sandbox-like server whose GET /health answers `body` with `statusCode` (200 unless told); its port. */
export function sandboxAnswering(body: Record<string, string>, statusCode = 200): Promise<number> {
  return sandboxServing((req, res) => {
    if (req.url === '/health') res.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    else res.writeHead(404).end();
  });
}

/** Closes every server this file's tests started, with any request they left hanging (the test file's afterAll). */
export async function closeAnsweringSandboxes(): Promise<void> {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
}
