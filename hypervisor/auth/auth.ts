import type { IncomingMessage, ServerResponse } from 'node:http';
import { socketAddress, type ClientAddress } from '../http/client-address.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import { createAudit } from './audit.ts';
import { createChallenges } from './challenges.ts';
import { currentSession, endSession, type AuthContext, type AuthSettings } from './context.ts';
import { clientWentAway, logClientAborted } from '../http/client-gone.ts';
import { HttpError } from '../http/errors.ts';
import { sendError, sendJson } from '../http/json.ts';
import { dispatch, type Route } from '../http/router.ts';
import { loginFinish, loginStart } from './login.ts';
import { checkOrigin } from './origin.ts';
import { assetPaths, isPagePath, pagePaths, serveAsset, servePage } from './pages.ts';
import { createPasskeys } from './passkeys.ts';
import { createFailureLimiter, type FailureLimit } from './rate-limit.ts';
import { recover } from './recovery.ts';
import { createRecoveryCodes } from './recovery-codes.ts';
import { registerFinish, registerStart } from './register.ts';
import { migrateAuth } from './schema.ts';
import { createSessions } from './sessions.ts';
import { createUsers } from './users.ts';

export type { AuthSettings } from './context.ts';

/** Who a request acts for. Only a full user session yields one; a recovery session does not. */
export interface SessionUser {
  userId: string;
  username: string;
}

export interface FailureLimits {
  recoveryByAccount: FailureLimit;
  recoveryByClient: FailureLimit;
  /** Failed logins per client; there is no per-account login limit (see login.ts). */
  loginByClient: FailureLimit;
}

const fifteenMinutes = 15 * 60_000;
export const defaultFailureLimits: FailureLimits = {
  recoveryByAccount: { max: 5, windowMs: fifteenMinutes },
  recoveryByClient: { max: 20, windowMs: fifteenMinutes },
  loginByClient: { max: 50, windowMs: fifteenMinutes },
};

export interface AuthOptions {
  db: Database;
  config: AuthSettings;
  log: Logger;
  limits?: Partial<FailureLimits>;
  /** Where requests come from; the socket's peer unless trusted proxies are configured. */
  clientAddress?: ClientAddress;
}

export interface Auth {
  /** Serves /auth/*, /login, /register and /recovery; false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  sessionUser(req: IncomingMessage): SessionUser | null;
  /** The answer for a request without a session: 303 to /login for a browser, 401 JSON otherwise. */
  refuseUnauthenticated(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** CSRF guard for proxied requests and WebSocket upgrades (see origin.ts). */
  checkOrigin(req: IncomingMessage): ReturnType<typeof checkOrigin>;
  /** Ends every session of a user at once, cached ones included (the user is being deleted). */
  endSessionsOf(userId: string): number;
}

type AuthHandler = (context: AuthContext, req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/** The auth API's POST routes; each checks the request's Origin first (CSRF). */
const postRoutes: Record<string, AuthHandler> = {
  '/auth/register/start': registerStart,
  '/auth/register/finish': registerFinish,
  '/auth/login/start': loginStart,
  '/auth/login/finish': loginFinish,
  '/auth/recovery': recover,
  '/auth/logout': (context, req, res) => {
    const session = endSession(context, req, res);
    if (session) context.audit.record({ event: 'logout', userId: session.userId, username: session.username, client: context.clientAddress(req), detail: { kind: session.kind } });
    res.writeHead(303, { location: '/login', 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  },
};

function me(context: AuthContext, req: IncomingMessage, res: ServerResponse): void {
  const session = currentSession(context, req);
  if (session?.kind === 'user') {
    sendJson(res, 200, { authenticated: true, user_id: session.userId, username: session.username });
  } else if (session?.kind === 'recovery') {
    sendJson(res, 200, { authenticated: false, user_id: null, username: null, recovery: { username: session.username, expires_at: new Date(session.expiresAt).toISOString() } });
  } else {
    sendJson(res, 200, { authenticated: false, user_id: null, username: null });
  }
}

const wantsHtml = (req: IncomingMessage): boolean => /\btext\/html\b/.test(req.headers.accept ?? '');

/** GET and HEAD of one path, answered alike (HEAD without the body). */
const readable = (path: string, answer: (res: ServerResponse, method: string, req: IncomingMessage) => void): Route[] =>
  (['GET', 'HEAD'] as const).map((method) => ({ method, path, handle: async ({ req, res }) => answer(res, method, req) }));

/** The pages, their assets, /auth/me and the auth API, as routes for the shared router (http/router.ts). */
function authRoutes(context: AuthContext): Route[] {
  return [
    ...pagePaths.flatMap((path) => readable(path, (res, method) => servePage(res, path, method))),
    ...assetPaths.flatMap((path) => readable(path, (res, method) => void serveAsset(res, path, method))),
    ...readable('/auth/me', (res, _method, req) => me(context, req, res)),
    ...Object.entries(postRoutes).map(([path, handler]): Route => ({
      method: 'POST',
      path,
      handle: async ({ req, res }) => {
        // Read per request: the origin is settled only once the server listens (port 0 in tests).
        const origin = checkOrigin(req, context.settings.rpOrigin, { requireOrigin: true });
        if (!origin.allowed) throw new HttpError(403, origin.reason);
        await handler(context, req, res);
      },
    })),
  ];
}

export function createAuth({ db, config, log, limits = {}, clientAddress = socketAddress }: AuthOptions): Auth {
  migrateAuth(db);
  const failureLimits = { ...defaultFailureLimits, ...limits };
  const context: AuthContext = {
    db,
    settings: config,
    log,
    users: createUsers(db),
    passkeys: createPasskeys(db),
    sessions: createSessions(db),
    challenges: createChallenges(db),
    recoveryCodes: createRecoveryCodes(db),
    audit: createAudit(db, log),
    limits: {
      recoveryByAccount: createFailureLimiter(db, 'recovery:account', failureLimits.recoveryByAccount),
      recoveryByClient: createFailureLimiter(db, 'recovery:client', failureLimits.recoveryByClient),
      loginByClient: createFailureLimiter(db, 'login:client', failureLimits.loginByClient),
    },
    clientAddress,
  };
  context.sessions.deleteExpired();

  const routes = authRoutes(context);

  return {
    async handle(req, res, url) {
      const { pathname } = url;
      if (!isPagePath(pathname) && pathname !== '/auth' && !pathname.startsWith('/auth/')) return false;
      try {
        if (!(await dispatch(routes, req, res, url))) throw new HttpError(404, `no auth route ${pathname}`);
      } catch (error) {
        if (clientWentAway(req)) {
          logClientAborted(log, req, pathname, error);
          return true;
        }
        if (!(error instanceof HttpError)) {
          log.error({ event: 'auth.error', path: pathname, err: error }, 'auth route failed');
          if (!res.headersSent) sendJson(res, 500, { error: 'internal error in the auth service; see the hypervisor log (event auth.error)' });
          else res.destroy();
          return true;
        }
        // A refused request body may still be arriving; closing keeps a client from streaming on.
        if (!req.complete) res.setHeader('connection', 'close');
        if (!res.headersSent) sendError(res, error);
      }
      return true;
    },
    sessionUser(req) {
      const session = currentSession(context, req);
      return session?.kind === 'user' ? { userId: session.userId, username: session.username } : null;
    },
    refuseUnauthenticated(req, res, url) {
      if (wantsHtml(req)) {
        const next = url.pathname === '/' ? '' : `?next=${encodeURIComponent(url.pathname + url.search)}`;
        res.writeHead(303, { location: `/login${next}`, 'cache-control': 'no-store', 'content-length': 0 });
        res.end();
        return;
      }
      sendJson(res, 401, { error: 'authentication required: log in at /login', login: '/login' });
    },
    checkOrigin: (req) => checkOrigin(req, config.rpOrigin, { requireOrigin: false }),
    endSessionsOf: (userId) => context.sessions.deleteForUser(userId),
  };
}
