import type { IncomingMessage } from 'node:http';

export const sessionCookieName = 'choiros_session';

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  // Walks the `;`-separated pairs in place: every proxied request reads its session cookie.
  for (let start = 0; start <= header.length; ) {
    const semicolon = header.indexOf(';', start);
    const end = semicolon < 0 ? header.length : semicolon;
    const eq = header.indexOf('=', start);
    if (eq >= 0 && eq < end && header.slice(start, eq).trim() === name) return header.slice(eq + 1, end).trim();
    start = end + 1;
  }
  return undefined;
}

export interface CookieAttributes {
  secure: boolean;
  maxAgeSeconds: number;
}

/** HttpOnly and SameSite=Lax always; Secure whenever the relying party is served over https. */
export function sessionCookie(value: string, { secure, maxAgeSeconds }: CookieAttributes): string {
  return [`${sessionCookieName}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return sessionCookie('', { secure, maxAgeSeconds: 0 });
}
