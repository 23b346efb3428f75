import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { publishFigures } from './cloudwatch/publishing.ts';
import { withListeningPort, type HypervisorConfig } from './config.ts';
import { adminRoutes } from './http/admin.ts';
import { sandboxAdminRoutes } from './http/admin-sandboxes.ts';
import { userAdminRoutes } from './http/admin-users.ts';
import { healthRoute } from './http/health.ts';
import { metricsRoute } from './http/metrics.ts';
import type { Route } from './http/router.ts';
import { createHttpServer, type Pipelines, type RequestHandler, type UpgradeHandler } from './http/server.ts';
import { createLogger, type Logger } from './log.ts';
import type { HypervisorContext } from './context.ts';
import { createUserGateway, type UserGateway } from './gateway.ts';
import { routingAdminRoutes } from './routing/admin-routes.ts';
import { Routing } from './routing/routing.ts';
import { managerSlots } from './routing/slot-control.ts';
import { SandboxManager } from './sandboxes/manager.ts';
import { openDatabase, type Database } from './store/database.ts';

export interface Hypervisor {
  url: string;
  port: number;
  bootId: string;
  db: Database;
  sandboxes: SandboxManager;
  log: Logger;
  config: HypervisorConfig;
  context: HypervisorContext;
  /** Stops accepting, lets requests in flight finish (briefly), closes the store. Sandboxes keep running unless stopSandboxes. */
  close(options?: { stopSandboxes?: boolean }): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
}

/** Admin API routes behind the bearer token: routing's (pointers, releases, swap, rollback) and the sandboxes'. */
function adminApi(context: HypervisorContext, routing: Routing, gateway: UserGateway): Route[] {
  // Routing's first: /admin/sandboxes/:userId/:role would otherwise take /admin/sandboxes/:userId/pointers.
  return [...routingAdminRoutes(routing), ...sandboxAdminRoutes(context.sandboxes), ...userAdminRoutes(context, gateway.auth, routing)];
}

/**
 * The request pipeline, in order: health and metrics (public), /admin (bearer token), then the
 * gateway: the auth routes and pages, then the session-guarded proxy into the user's sandboxes.
 * Whatever no handler takes gets a 404 JSON.
 */
function requestPipeline(context: HypervisorContext, gateway: UserGateway, routing: Routing): RequestHandler[] {
  return [
    healthRoute({
      version: context.config.server.version,
      runtime: context.config.sandboxes.runtime,
      bootId: context.bootId,
      startedAt: context.startedAt,
      counts: () => context.sandboxes.counts(),
    }),
    metricsRoute(),
    adminRoutes(context.config.admin.token, adminApi(context, routing, gateway)),
    ...gateway.request,
  ];
}

/** WebSocket upgrades, in order: only the gateway's (the session-guarded proxy) so far. */
function upgradePipeline(_context: HypervisorContext, gateway: UserGateway): UpgradeHandler[] {
  return [...gateway.upgrade];
}

const formatHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/**
 * Starts the hypervisor: opens the store, checks the runtime and reconciles the sandboxes, then
 * listens. Logs `hypervisor.listening` once it serves.
 */
export async function startHypervisor(config: HypervisorConfig, options: StartOptions = {}): Promise<Hypervisor> {
  const log = options.log ?? createLogger('hypervisor');
  const bootId = randomUUID();
  const startedAt = Date.now();
  const db = openDatabase(config.store.databaseUrl);
  const sandboxes = new SandboxManager({ db, config: config.sandboxes, log });
  try {
    await sandboxes.init();
  } catch (error) {
    await sandboxes.close();
    db.close();
    throw error;
  }

  let pipelines: Pipelines = { request: [], upgrade: [] };
  const server = createHttpServer(() => pipelines, log, config.connections);
  server.listen(config.server.port, config.server.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  } catch (error) {
    await sandboxes.close();
    db.close();
    throw new Error(`cannot listen on ${config.server.host}:${config.server.port} (HYPERVISOR_HOST/HYPERVISOR_PORT): ${(error as Error).message}`, { cause: error });
  }
  const port = (server.address() as AddressInfo).port;
  const cleanups: (() => void | Promise<void>)[] = [];
  const context: HypervisorContext = {
    config: withListeningPort(config, port),
    db,
    sandboxes,
    log,
    bootId,
    startedAt,
    port,
    onClose: (cleanup) => cleanups.push(cleanup),
  };
  // The proxy follows the durable route pointers; routing drains and closes through the proxy.
  const gateway = createUserGateway(context, (userId, route) => routing.resolve(userId, route));
  const routing = new Routing({
    db,
    slots: managerSlots(sandboxes),
    traffic: gateway.proxy,
    logger: log.child({ component: 'routing' }),
    options: { knownGoodRetain: config.routing.knownGoodRetain, protectedImages: [config.sandboxes.image] },
  });
  pipelines = { request: [...publishFigures(context), ...requestPipeline(context, gateway, routing)], upgrade: upgradePipeline(context, gateway) };

  const url = `http://${formatHost(config.server.host)}:${port}`;
  log.info({ event: 'hypervisor.admin_token', source: config.admin.source, ...(config.admin.tokenFile ? { file: config.admin.tokenFile } : {}) }, 'admin token ready');
  log.info({ event: 'hypervisor.listening', url, port, boot_id: bootId, runtime: config.sandboxes.runtime, version: config.server.version, instance: config.sandboxes.instanceId }, 'hypervisor listening');

  let closing: Promise<void> | undefined;
  const close = (closeOptions: { stopSandboxes?: boolean } = {}): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), 2_000);
      // Relayed WebSockets hold their connections open, and server.close() would wait for them.
      await gateway.proxy.closeAllWebSockets(1001, 'the hypervisor is shutting down');
      await stopped;
      clearTimeout(grace);
      for (const cleanup of cleanups.reverse()) await cleanup();
      await sandboxes.close(closeOptions);
      db.close();
    })();
    return closing;
  };
  return { url, port, bootId, db, sandboxes, log, config: context.config, context, close };
}
