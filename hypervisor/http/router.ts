import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.ts';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters (`:name` segments), URL-decoded. */
  params: Readonly<Record<string, string>>;
}

export interface Route {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  /** A path with `:name` segments, for example /admin/sandboxes/:userId/:role/start. */
  path: string;
  handle(context: RouteContext): Promise<void>;
}

function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const segment = want[i] as string;
    const value = got[i] as string;
    if (segment.startsWith(':')) {
      if (value === '') return undefined;
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        throw new HttpError(400, `path segment ${JSON.stringify(value)} is not valid percent-encoding`);
      }
    } else if (segment !== value) {
      return undefined;
    }
  }
  return params;
}

/** Runs the route matching method and path; false when no path matches; 405 when only the method differs. */
export async function dispatch(routes: readonly Route[], req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.path, url.pathname);
    if (!params) continue;
    if (route.method !== req.method) {
      allowed.push(route.method);
      continue;
    }
    await route.handle({ req, res, url, params });
    return true;
  }
  if (allowed.length) throw new HttpError(405, `method ${req.method} is not allowed on ${url.pathname}: use ${allowed.join(', ')}`, {}, { allow: allowed.join(', ') });
  return false;
}
