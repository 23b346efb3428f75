import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clearedSessionCookie, readCookie, sessionCookie, sessionCookieName } from './cookies.ts';

const withCookie = (cookie: string): IncomingMessage => ({ headers: { cookie } }) as IncomingMessage;

describe('the session cookie', () => {
  it('is read by its exact name among the others, never from a cookie whose name merely contains it', () => {
    expect(readCookie(withCookie(`theme=dark; ${sessionCookieName}=abc; lang=en`), sessionCookieName)).toBe('abc');
    expect(readCookie(withCookie(`x${sessionCookieName}=planted; ${sessionCookieName}_old=stale`), sessionCookieName)).toBeUndefined();
    expect(readCookie(withCookie(`x${sessionCookieName}=planted;${sessionCookieName}=real`), sessionCookieName)).toBe('real');
    expect(readCookie(withCookie('theme=dark'), sessionCookieName)).toBeUndefined();
  });

  it('keeps a value that contains "=" whole, and takes the last pair of a header with no trailing ";"', () => {
    expect(readCookie(withCookie(`a=b=c; ${sessionCookieName}=v=1`), sessionCookieName)).toBe('v=1');
    expect(readCookie(withCookie('a=1; b=2'), 'b')).toBe('2');
  });

  it('is HttpOnly and SameSite=Lax with its lifetime as Max-Age, Secure only on https, and cleared with Max-Age=0', () => {
    const attributes = (cookie: string) => cookie.split('; ').slice(1);
    expect(attributes(sessionCookie('id', { secure: false, maxAgeSeconds: 600 })).sort()).toEqual(['HttpOnly', 'Max-Age=600', 'Path=/', 'SameSite=Lax']);
    expect(attributes(sessionCookie('id', { secure: true, maxAgeSeconds: 600 }))).toContain('Secure');
    expect(clearedSessionCookie(true)).toMatch(new RegExp(`^${sessionCookieName}=; `));
    expect(attributes(clearedSessionCookie(true))).toEqual(expect.arrayContaining(['Max-Age=0', 'Secure', 'HttpOnly']));
  });
});
