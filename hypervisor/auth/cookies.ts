import type { IncomingMessage } from 'node:http';

export const sessionCookieName = 'choiros_session';

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
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
