import { createAuth, type Auth } from './auth/auth.ts';
import type { HypervisorContext } from './context.ts';
import type { RequestHandler, UpgradeHandler } from './http/server.ts';
import { createProxy, type Proxy } from './proxy/proxy.ts';
import { createSessionGuard } from './proxy/session-guard.ts';
import { fixedRoles, sandboxTargets, type RoleOf } from './sandbox-targets.ts';
import { clientAddressFrom } from './http/client-address.ts';

/**
 * The user-facing end of the hypervisor: the auth routes and pages, then the session-guarded proxy
 * into the user's own sandboxes. Its handlers go last in the request and upgrade pipelines; the
 * proxy is exposed for route switches (drain, close WebSockets).
 */
export interface UserGateway {
  auth: Auth;
  proxy: Proxy;
  request: RequestHandler[];
  upgrade: UpgradeHandler[];
}

/** `roleOf`: where each route points (routing's durable pointers; fixed main -> live, dev -> dev without them). */
export function createUserGateway(context: HypervisorContext, roleOf: RoleOf = fixedRoles): UserGateway {
  const { config, db, sandboxes } = context;
  const log = context.log.child({ component: 'gateway' });
  // Clients reach the hypervisor at the relying party's origin (https behind a TLS terminator).
  const forwardedProto = new URL(config.webauthn.rpOrigin).protocol.slice(0, -1);
  const clientAddress = clientAddressFrom(config.connections.trustedProxies);
  const auth = createAuth({ db, config: config.webauthn, log, clientAddress });
  const proxy = createProxy({
    resolver: sandboxTargets(sandboxes, roleOf),
    log,
    forwardedProto: () => forwardedProto,
    clientAddress,
    limits: { maxWebSocketsPerUser: config.connections.webSocketsPerUser, maxWebSockets: config.connections.webSocketsTotal },
  });
  const guard = createSessionGuard({ auth, proxy });
  context.onClose(() => proxy.close());
  return {
    auth,
    proxy,
    request: [
      (req, res, url) => auth.handle(req, res, url),
      async (req, res, url) => {
        await guard.handleRequest(req, res, url);
        return true;
      },
    ],
    upgrade: [
      async (req, socket, head, url) => {
        await guard.handleUpgrade(req, socket, head, url);
        return true;
      },
    ],
  };
}
