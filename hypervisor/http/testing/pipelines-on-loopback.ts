import type { AddressInfo } from 'node:net';
import type { Logger } from '../../log.ts';
import { createHttpServer, type Pipelines } from '../server.ts';

/** The hypervisor's HTTP server with these pipelines on 127.0.0.1, for tests that speak to it over real sockets. */
export async function pipelinesOnLoopback(pipelines: Pipelines, log: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const server = createHttpServer(() => pipelines, log);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
