import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isAdminPath } from './admin.ts';
import { requireAdmin } from './admin-auth.ts';
import { HttpError } from './errors.ts';

// requireAdmin reads only the Authorization header.
const withAuthorization = (authorization: string | undefined): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization } }) as unknown as IncomingMessage;
const statusOf = (authorization: string | undefined): number | 'allowed' => {
  try {
    requireAdmin(withAuthorization(authorization), 'the-admin-token');
    return 'allowed';
  } catch (error) {
    if (error instanceof HttpError) return error.status;
    throw error;
  }
};

describe('the admin API guard', () => {
  it('takes the Bearer scheme in any case (RFC 9110: auth schemes are case-insensitive); 401 without a token, 403 with a wrong one', () => {
    expect(['Bearer', 'bearer', 'BEARER'].map((scheme) => statusOf(`${scheme} the-admin-token`))).toEqual(['allowed', 'allowed', 'allowed']);
    expect([statusOf(undefined), statusOf('Basic dXNlcjpwYXNz'), statusOf('Bearer wrong-token')]).toEqual([401, 401, 403]);
  });

  it('takes only the whole token: one character more or less is 403, a second word or another scheme before Bearer is 401, and a 401 names the Bearer scheme', () => {
    expect([statusOf('Bearer the-admin-token2'), statusOf('Bearer the-admin-toke'), statusOf('Bearer  the-admin-token  ')]).toEqual([403, 403, 'allowed']);
    expect([statusOf('Bearer the-admin-token extra'), statusOf('Basic Bearer the-admin-token'), statusOf('Bearer')]).toEqual([401, 401, 401]);
    let refusal: unknown;
    try {
      requireAdmin(withAuthorization(undefined), 'the-admin-token');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toMatchObject({ status: 401, headers: { 'www-authenticate': 'Bearer realm="choiros-admin"' } });
  });

  it('owns /admin and the paths under /admin/ only: /administrator and /admin-panel are the user\'s, for the proxy', () => {
    expect(['/admin', '/admin/', '/admin/sandboxes'].map(isAdminPath)).toEqual([true, true, true]);
    expect(['/administrator', '/admin-panel', '/adminx', '/desk/admin'].map(isAdminPath)).toEqual([false, false, false, false]);
  });
});
