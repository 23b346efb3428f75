import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Checks `Authorization: Bearer <admin token>`: 401 without a bearer token, 403 with a wrong one.
 * The comparison is constant-time over equal-length digests, so timing reveals nothing of the token.
 */
export function requireAdmin(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new HttpError(401, 'admin routes need an Authorization: Bearer <admin token> header', {}, { 'www-authenticate': 'Bearer realm="choiros-admin"' });
  }
  if (!timingSafeEqual(digest(match[1]), digest(token))) throw new HttpError(403, 'the admin token is wrong');
}
