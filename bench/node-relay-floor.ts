import { createServer } from 'node:http';
import { Pool } from 'undici';

/**
 * The floor of the stack the proxy is built on: Node's HTTP server towards the client, an undici
 * keep-alive Pool towards the sandbox, and nothing else (no session, no route lookup, no limits, no
 * header policy beyond dropping the cookie and naming a user). The proxy bench runs it beside the
 * hypervisor and nginx, so each run shows how much of the gap to nginx is the stack's and how much
 * is the hypervisor's own.
 *
 * `node bench/node-relay-floor.ts SANDBOX_PORT`; prints {"port":N} once it listens on 127.0.0.1.
 */
const raw = process.argv[2] ?? '';
const upstreamPort = Number(raw);
if (!/^\d+$/.test(raw) || upstreamPort < 1 || upstreamPort > 65_535) {
  console.error(`node-relay-floor: SANDBOX_PORT "${raw}" is not a port; pass the sandbox's port (1-65535) as the only argument`);
  process.exit(2);
}

const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 256, pipelining: 1, keepAliveTimeout: 4_000 });

const server = createServer((req, res) => {
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined && name !== 'cookie' && name !== 'connection') headers[name] = value;
  }
  headers['x-choiros-user-id'] = 'floor';
  pool.dispatch(
    { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: null },
    {
      onRequestStart() {},
      onResponseStart(_controller, statusCode, responseHeaders) {
        delete responseHeaders.connection;
        delete responseHeaders['keep-alive'];
        res.writeHead(statusCode, responseHeaders);
      },
      onResponseData(_controller, chunk) {
        res.write(chunk);
      },
      onResponseEnd() {
        res.end();
      },
      onResponseError(_controller, error) {
        res.destroy(error);
      },
    },
  );
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }));
});
process.on('SIGTERM', () => {
  server.close();
  void pool.close().then(() => process.exit(0));
  server.closeAllConnections();
});
