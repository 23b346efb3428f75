/** The two routes a user has: `main` (the default, normally the live sandbox) and `dev` (/dev/...). */
export type Route = 'main' | 'dev';

export type RoutedPath = { kind: 'route'; route: Route; path: string } | { kind: 'redirect'; location: string };

/**
 * Maps a request target to a route and the path the sandbox sees. The target is normalised first
 * (dot segments resolved, absolute-form reduced to path and query), so what decides the route is
 * exactly what the sandbox receives. `/dev` alone redirects to `/dev/` so the desktop page's
 * relative URLs resolve under the prefix.
 */
export function routePath(target: string): RoutedPath {
  const url = new URL(target, 'http://sandbox.invalid');
  const { pathname, search } = url;
  if (pathname === '/dev') return { kind: 'redirect', location: `/dev/${search}` };
  if (pathname.startsWith('/dev/')) return { kind: 'route', route: 'dev', path: pathname.slice(4) + search };
  return { kind: 'route', route: 'main', path: pathname + search };
}
