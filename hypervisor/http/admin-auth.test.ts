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

  it('owns /admin and the paths under /admin/ only: /administrator and /admin-panel are the user\'s, for the proxy', () => {
    expect(['/admin', '/admin/', '/admin/sandboxes'].map(isAdminPath)).toEqual([true, true, true]);
    expect(['/administrator', '/admin-panel', '/adminx', '/desk/admin'].map(isAdminPath)).toEqual([false, false, false, false]);
  });
});
