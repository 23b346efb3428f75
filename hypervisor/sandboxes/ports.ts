import { createServer } from 'node:net';

/** Whether 127.0.0.1:port can be bound right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A loopback port that is free now and not reserved by another sandbox's record. The kernel picks
 * it (bind to port 0), so concurrent allocators on this machine never get the same one at once.
 */
export async function allocatePort(reserved: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await anyFreePort();
    if (!reserved.has(port)) return port;
  }
  throw new Error(`no free loopback port found after 50 attempts (${reserved.size} ports are reserved by sandboxes)`);
}
