import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import { clientWentAway, logClientAborted } from './client-gone.ts';
import { defaultConnectionLimits, guardConnections, timeoutOptions, type ConnectionLimits } from './connection-guard.ts';
import { HttpError } from './errors.ts';
import { sendError, sendJson } from './json.ts';
import { refuseUpgrade } from './refuse-upgrade.ts';

/** Handles the request and returns true, or returns false to let the next handler try. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

/** The same for WebSocket upgrades: true once the socket is taken care of. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => Promise<boolean>;

export interface Pipelines {
  request: readonly RequestHandler[];
  upgrade: readonly UpgradeHandler[];
}

function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return undefined;
  try {
    return new URL(target, 'http://hypervisor.invalid');
  } catch {
    return undefined;
  }
}

/**
 * The HTTP server: each request goes through the request pipeline in order, each upgrade through the
 * upgrade pipeline; nothing matched is a 404 JSON. Errors become JSON: HttpError with its status,
 * anything else a 500 that is logged (the client sees no internals).
 */
export function createHttpServer(pipelines: () => Pipelines, log: Logger, limits: ConnectionLimits = defaultConnectionLimits): Server {
  const server = createServer(timeoutOptions(limits), (req, res) => {
    guard.track(res);
    void (async () => {
      const url = requestUrl(req);
      if (!url) return sendJson(res, 400, { error: `bad request target ${JSON.stringify(req.url)}` });
      try {
        for (const handler of pipelines().request) if (await handler(req, res, url)) return;
        sendJson(res, 404, { error: 'not found', path: url.pathname });
      } catch (error) {
        if (clientWentAway(req)) {
          logClientAborted(log, req, url.pathname, error);
        } else if (res.headersSent) {
          log.error({ event: 'http.error_after_headers', path: url.pathname, error: (error as Error).message }, 'request failed after the response began');
          res.destroy();
        } else if (error instanceof HttpError) {
          sendError(res, error);
        } else {
          log.error({ event: 'http.error', method: req.method, path: url.pathname, error: (error as Error).message, stack: (error as Error).stack }, 'request failed');
          sendJson(res, 500, { error: 'internal error' });
        }
      }
    })();
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void (async () => {
      socket.on('error', () => socket.destroy());
      const url = requestUrl(req);
      if (!url) return refuseUpgrade(socket, 400, 'bad request target');
      try {
        for (const handler of pipelines().upgrade) if (await handler(req, socket, head, url)) return;
        refuseUpgrade(socket, 404, 'not found');
      } catch (error) {
        log.error({ event: 'http.upgrade_error', path: url.pathname, error: (error as Error).message }, 'upgrade failed');
        // Its headers too: a client told 429 or 401 needs the Retry-After or WWW-Authenticate with it.
        if (error instanceof HttpError) refuseUpgrade(socket, error.status, error.message, { ...error.headers });
        else refuseUpgrade(socket, 500, 'internal error');
      }
    })();
  });
  const guard = guardConnections(server, limits, log);
  return server;
}
