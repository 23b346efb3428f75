import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Route } from '../domain/route.ts';
import { socketAddress, type ClientAddress } from '../http/client-address.ts';
import { refuseUpgrade } from '../http/refuse-upgrade.ts';
import type { Logger } from '../log.ts';
import type { Forwarding } from './headers.ts';
import { relayHttp } from './http-relay.ts';
import { defaultProxyLimits, type ProxyLimits } from './limits.ts';
import { countRequest, openWebSockets } from './metrics.ts';
import { replyError } from './reply.ts';
import { routePath } from './route.ts';
import type { Target, TargetResolver } from './target-resolver.ts';
import { Traffic } from './traffic.ts';
import { Upstreams } from './upstreams.ts';
import { WebSocketCaps } from './websocket-caps.ts';
import { WebSocketRelay } from './websocket-relay.ts';

export type { ProxyLimits } from './limits.ts';

/** Identity comes from the session only; nothing the client sends can change it. */
export interface ProxyUser {
  userId: string;
}

export interface ProxyOptions {
  /** Where each route of a user goes; asked once per request. */
  resolver: TargetResolver;
  log: Logger;
  limits?: Partial<ProxyLimits>;
  /** X-Forwarded-Proto towards sandboxes: the scheme clients used (https behind a TLS terminator). */
  forwardedProto?: () => string;
  /** X-Forwarded-For towards sandboxes: the client (behind trusted proxies, the one they name). */
  clientAddress?: ClientAddress;
}

export interface Proxy {
  /** `url`: the request target as the server already parsed it (saves parsing it again). */
  handleRequest(req: IncomingMessage, res: ServerResponse, user: ProxyUser, url?: URL): Promise<void>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, user: ProxyUser, url?: URL): Promise<void>;
  /** Requests in flight to a sandbox (`<user>:<role>`). */
  inFlight(sandboxId: string): number;
  /** Resolves true once nothing is in flight to the sandbox, false when the timeout passes first. */
  drained(sandboxId: string, timeoutMs: number): Promise<boolean>;
  /** Closes the sandbox's relayed WebSockets with `code` (e.g. 1012 service restart); returns how many. */
  closeWebSockets(sandboxId: string, code: number, reason: string): number;
  webSockets(sandboxId: string): number;
  /** Shutdown: closes every relayed WebSocket (they would hold the server open), dropping any that linger past `graceMs`. */
  closeAllWebSockets(code: number, reason: string, graceMs?: number): Promise<void>;
  close(): Promise<void>;
}

const retryAfter = (error: unknown): number => {
  const seconds = (error as { retryAfterSecs?: unknown }).retryAfterSecs;
  return typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : 5;
};

export function createProxy(options: ProxyOptions): Proxy {
  const limits: ProxyLimits = { ...defaultProxyLimits, ...options.limits };
  const { log } = options;
  const traffic = new Traffic();
  const upstreams = new Upstreams(limits);
  const webSockets = new WebSocketRelay(limits);
  const caps = new WebSocketCaps(limits);
  const forwarding = (req: IncomingMessage): Forwarding => ({
    clientAddress: (options.clientAddress ?? socketAddress)(req),
    proto: options.forwardedProto?.() ?? ('encrypted' in req.socket && req.socket.encrypted ? 'https' : 'http'),
  });

  type Unavailable = { unavailable: string; retryAfterSecs: number };
  const unavailable = (userId: string, route: Route, error: unknown): Unavailable => {
    log.warn({ event: 'proxy.sandbox_unavailable', user: userId, route, reason: (error as Error).message });
    return { unavailable: `your ${route === 'dev' ? 'dev' : 'live'} sandbox cannot be started right now: retry shortly`, retryAfterSecs: retryAfter(error) };
  };

  /** The resolver's answer: a target at once, or a promise of one (never rejecting: failures become Unavailable). */
  function target(userId: string, route: Route): Target | Unavailable | Promise<Target | Unavailable> {
    let resolved: Target | Promise<Target>;
    try {
      resolved = options.resolver.target(userId, route);
    } catch (error) {
      return unavailable(userId, route, error);
    }
    return resolved instanceof Promise ? resolved.catch((error: unknown) => unavailable(userId, route, error)) : resolved;
  }

  /** Relays a request whose target is known; `resolvingDone` ends its resolution once it counts as in flight. */
  function relay(req: IncomingMessage, res: ServerResponse, user: ProxyUser, resolved: Target, path: string, resolvingDone?: () => void): void {
    const end = traffic.begin(`${user.userId}:${resolved.role}`);
    resolvingDone?.();
    relayHttp({
      req,
      res,
      pool: upstreams.pool(resolved.port),
      port: resolved.port,
      path,
      identity: { userId: user.userId, role: resolved.role },
      forwarding: forwarding(req),
      limits,
      log,
      done(status) {
        end();
        countRequest(resolved.role, status);
      },
    });
  }

  return {
    async handleRequest(req, res, user, url) {
      const routed = routePath(url ?? req.url ?? '/');
      if (routed.kind === 'redirect') {
        res.writeHead(308, { location: routed.location, 'content-length': 0 });
        res.end();
        return;
      }
      const answer = target(user.userId, routed.route);
      if (!(answer instanceof Promise) && !('unavailable' in answer)) return relay(req, res, user, answer, routed.path);
      const resolvingDone = traffic.resolving(user.userId);
      const resolved = await answer;
      if ('unavailable' in resolved) {
        resolvingDone();
        replyError(res, 503, resolved.unavailable, { 'retry-after': String(resolved.retryAfterSecs) });
        return;
      }
      relay(req, res, user, resolved, routed.path, resolvingDone);
    },

    async handleUpgrade(req, socket, head, user, url) {
      const cap = caps.admit(user.userId, socket);
      if (!cap.admitted) {
        log.warn({ event: 'proxy.websocket_limit', user: user.userId, scope: cap.scope, limit: cap.limit, code: cap.code }, 'WebSocket refused: over the cap');
        webSockets.refuseWithClose(req, socket, head, cap.code, cap.reason);
        return;
      }
      const routed = routePath(url ?? req.url ?? '/');
      if (routed.kind === 'redirect') {
        refuseUpgrade(socket, 404, `no WebSocket at ${req.url}: use ${routed.location}`);
        return;
      }
      const resolved = await target(user.userId, routed.route);
      if ('unavailable' in resolved) {
        refuseUpgrade(socket, 503, resolved.unavailable, { 'retry-after': String(resolved.retryAfterSecs) });
        return;
      }
      const sandboxId = `${user.userId}:${resolved.role}`;
      webSockets.relay({
        req,
        socket,
        head,
        port: resolved.port,
        path: routed.path,
        identity: { userId: user.userId, role: resolved.role },
        forwarding: forwarding(req),
        limits,
        log,
        opened(relayed) {
          openWebSockets.labels(resolved.role).inc();
          const unregister = traffic.addWebSocket(sandboxId, relayed);
          const now = options.resolver.roleOf(user.userId, routed.route);
          if (now !== resolved.role) {
            log.info({ event: 'proxy.websocket_rerouted', user: user.userId, route: routed.route, from: resolved.role, to: now });
            relayed.close(1012, 'route switched');
          }
          return () => {
            openWebSockets.labels(resolved.role).dec();
            unregister();
          };
        },
        active: () => options.resolver.touch(user.userId, resolved.role),
      });
    },

    inFlight: (sandboxId) => traffic.inFlight(sandboxId),
    drained: (sandboxId, timeoutMs) => traffic.drained(sandboxId, timeoutMs),
    closeWebSockets: (sandboxId, code, reason) => traffic.closeWebSockets(sandboxId, code, reason),
    webSockets: (sandboxId) => traffic.webSockets(sandboxId),
    closeAllWebSockets: (code, reason, graceMs = 1_000) => traffic.closeAll(code, reason, graceMs),
    async close() {
      await traffic.closeAll(1001, 'the hypervisor is shutting down', 1_000);
      webSockets.close();
      await upstreams.close();
    },
  };
}
