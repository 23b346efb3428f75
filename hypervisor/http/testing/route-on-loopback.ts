import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestHandler } from '../server.ts';

/** One of the hypervisor's request handlers served alone on 127.0.0.1 (404 for what it does not take), for a test to call over real HTTP. */
export async function routeOnLoopback(handler: RequestHandler): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void handler(req, res, new URL(req.url ?? '/', 'http://hypervisor.invalid')).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
