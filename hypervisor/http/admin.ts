import type { RequestHandler } from './server.ts';
import { requireAdmin } from './admin-auth.ts';
import { sendJson } from './json.ts';
import { dispatch, type Route } from './router.ts';

export const isAdminPath = (pathname: string): boolean => pathname === '/admin' || pathname.startsWith('/admin/');

/**
 * Everything under /admin: the bearer token is checked before anything else (so unauthenticated
 * callers learn nothing, not even which admin routes exist), then the routes are tried in order.
 */
export function adminRoutes(token: string, routes: readonly Route[]): RequestHandler {
  return async (req, res, url) => {
    if (!isAdminPath(url.pathname)) return false;
    requireAdmin(req, token);
    if (!(await dispatch(routes, req, res, url))) sendJson(res, 404, { error: 'no such admin route', path: url.pathname });
    return true;
  };
}
