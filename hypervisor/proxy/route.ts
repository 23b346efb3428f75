import type { Route } from '../domain/route.ts';

export type RoutedPath = { kind: 'route'; route: Route; path: string } | { kind: 'redirect'; location: string };

/** Request targets that need no normalising: origin-form, plain characters, no dot segments. */
const plainTarget = /^\/(?!\/)[A-Za-z0-9\-_~!$&'()*+,;=:@/?]*(?:\.[A-Za-z0-9\-_~!$&'()*+,;=:@?]+)*$/;

function pathAndQuery(target: string | URL): { pathname: string; search: string } {
  if (typeof target === 'string' && plainTarget.test(target) && !target.includes('/.') && !/%2e/i.test(target)) {
    const query = target.indexOf('?');
    return query < 0 ? { pathname: target, search: '' } : { pathname: target.slice(0, query), search: target.slice(query) };
  }
  const url = typeof target === 'string' ? new URL(target, 'http://sandbox.invalid') : target;
  return { pathname: url.pathname, search: url.search };
}

/**
 * Maps a request target to a route and the path the sandbox sees. The target is normalised first
 * (dot segments resolved, absolute-form reduced to path and query), so what decides the route is
 * exactly what the sandbox receives. `/dev` alone redirects to `/dev/` so the desktop page's
 * relative URLs resolve under the prefix.
 */
export function routePath(target: string | URL): RoutedPath {
  const { pathname, search } = pathAndQuery(target);
  if (pathname === '/dev') return { kind: 'redirect', location: `/dev/${search}` };
  if (pathname.startsWith('/dev/')) return { kind: 'route', route: 'dev', path: pathname.slice(4) + search };
  return { kind: 'route', route: 'main', path: pathname + search };
}
