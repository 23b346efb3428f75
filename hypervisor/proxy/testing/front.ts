import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createLogger } from '../../log.ts';
import type { Role } from '../../domain/role.ts';
import type { Route } from '../../domain/route.ts';
import { createProxy, type Proxy, type ProxyLimits } from '../proxy.ts';
import type { Target } from '../target-resolver.ts';

/** Who the front server acts for: a stand-in for the session, picked by the test per request. */
export const testUserHeader = 'x-test-session-user';

export interface Front {
  url: string;
  port: number;
  proxy: Proxy;
  logLines: string[];
  touched: string[];
  close(): Promise<void>;
}

/**
 * The proxy on a real loopback server, resolving each user's routes from `targets`
 * (`<user>:<route>` -> target, or an Error to throw). The user comes from a test header that the
 * proxy itself must never forward.
 */
export async function startFront(targets: Record<string, Target | Error>, limits?: Partial<ProxyLimits>, roleOf?: (userId: string, route: Route) => Role): Promise<Front> {
  const logLines: string[] = [];
  const touched: string[] = [];
  const lookup = (userId: string, route: Route): Target => {
    const target = targets[`${userId}:${route}`];
    if (!target) throw new Error(`no sandbox for ${userId}:${route}`);
    if (target instanceof Error) throw target;
    return target;
  };
  const proxy = createProxy({
    log: createLogger('proxy-test', { write: (line: string) => void logLines.push(line) }),
    ...(limits ? { limits } : {}),
    resolver: {
      // Asynchronous, as a sandbox started on demand answers; resolving counts as activity.
      async target(userId, route) {
        const target = lookup(userId, route);
        touched.push(`${userId}:${target.role}`);
        return target;
      },
      roleOf: roleOf ?? ((userId, route) => lookup(userId, route).role),
      touch: (userId, role) => void touched.push(`${userId}:${role}`),
    },
  });
  const userOf = (headers: Record<string, string | string[] | undefined>): string => String(headers[testUserHeader] ?? 'alice');
  const server: Server = createServer((req, res) => {
    const userId = userOf(req.headers);
    delete req.headers[testUserHeader];
    void proxy.handleRequest(req, res, { userId });
  });
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    const userId = userOf(req.headers);
    delete req.headers[testUserHeader];
    void proxy.handleUpgrade(req, socket, head, { userId });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proxy,
    logLines,
    touched,
    async close() {
      await proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
