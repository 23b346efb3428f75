import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Auth } from '../auth/auth.ts';
import { isAdminPath } from '../http/admin.ts';
import type { Proxy } from './proxy.ts';
import { replyError } from './reply.ts';
import { refuseUpgrade } from '../http/refuse-upgrade.ts';

/**
 * Browsers send `Service-Worker: script` when fetching a service worker to install. Sandbox pages
 * share the hypervisor's origin, so a worker a sandbox installed could control /login and the other
 * auth pages; no sandbox script is ever served as one.
 */
const serviceWorkerRefusal = 'sandboxes cannot install service workers: they share the origin of the login pages. Serve the script some other way';

/**
 * The last stage of the hypervisor's pipeline: everything not answered earlier goes to the
 * caller's own sandboxes, and only with a user session. The user id comes from the session alone.
 * Admin paths never reach here with a session's authority: admin is bearer-only.
 */
export interface SessionGuard {
  handleRequest(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void>;
}

export function createSessionGuard({ auth, proxy }: { auth: Auth; proxy: Proxy }): SessionGuard {
  return {
    async handleRequest(req, res, url) {
      if (isAdminPath(url.pathname)) return replyError(res, 401, 'admin routes need the admin bearer token; a session grants nothing there');
      if (req.headers['service-worker'] !== undefined) return replyError(res, 403, serviceWorkerRefusal);
      const user = auth.sessionUser(req);
      if (!user) return auth.refuseUnauthenticated(req, res, url);
      const origin = auth.checkOrigin(req);
      if (!origin.allowed) return replyError(res, 403, origin.reason);
      await proxy.handleRequest(req, res, user, url);
    },
    async handleUpgrade(req, socket, head, url) {
      if (isAdminPath(url.pathname)) return refuseUpgrade(socket, 401, 'admin routes need the admin bearer token; a session grants nothing there');
      const user = auth.sessionUser(req);
      if (!user) return refuseUpgrade(socket, 401, 'authentication required: log in at /login');
      const origin = auth.checkOrigin(req);
      if (!origin.allowed) return refuseUpgrade(socket, 403, origin.reason);
      await proxy.handleUpgrade(req, socket, head, user, url);
    },
  };
}
