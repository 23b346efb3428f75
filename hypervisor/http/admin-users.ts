import type { HypervisorContext } from '../context.ts';
import { createAudit } from '../auth/audit.ts';
import type { Auth } from '../auth/auth.ts';
import { clientAddressFrom } from './client-address.ts';
import type { Routing } from '../routing/routing.ts';
import { InvalidUserIdError, parseUserId, userIdPattern, userIdRule } from '../sandboxes/user-id.ts';
import { HttpError } from './errors.ts';
import { sendJson } from './json.ts';
import type { Route } from './router.ts';
import { deleteUser, type UserDeletionDeps } from './user-deletion.ts';

export interface UserListing {
  user_id: string;
  username: string;
  created_at: string;
}

function userIdFrom(params: Readonly<Record<string, string>>): string {
  try {
    return parseUserId(params.userId ?? '');
  } catch (error) {
    if (error instanceof InvalidUserIdError) throw new HttpError(400, error.message, { user_id: error.userId, rule: userIdRule, pattern: userIdPattern.source });
    throw error;
  }
}

/**
 * GET /admin/users?prefix=P lists accounts (those whose username starts with P), so a gate run can
 * find the users it or an interrupted run before it made; DELETE /admin/users/:userId deletes one
 * with its sessions, sandboxes and data, audited.
 */
export function userAdminRoutes(context: HypervisorContext, auth: Pick<Auth, 'endSessionsOf'>, routing: Pick<Routing, 'pointers'>): Route[] {
  // Behind a configured reverse proxy (Caddy) the audit names the operator's address, not the proxy's.
  const clientAddress = clientAddressFrom(context.config.connections.trustedProxies);
  const deps: UserDeletionDeps = {
    db: context.db,
    dataRoot: context.config.sandboxes.dataRoot,
    endSessionsOf: (userId) => auth.endSessionsOf(userId),
    removeSandbox: (key) => context.sandboxes.remove(key),
    pointers: routing.pointers,
    audit: createAudit(context.db, context.log.child({ component: 'admin' })),
  };
  return [
    {
      method: 'GET',
      path: '/admin/users',
      handle: async ({ res, url }) => {
        const prefix = url.searchParams.get('prefix') ?? '';
        const rows = context.db
          .prepare('SELECT id, username, created_at FROM auth_users WHERE substr(username, 1, length(?)) = ? ORDER BY created_at, id')
          .all(prefix, prefix);
        const users: UserListing[] = rows.map((row) => ({ user_id: String(row.id), username: String(row.username), created_at: new Date(Number(row.created_at)).toISOString() }));
        sendJson(res, 200, { users });
      },
    },
    {
      method: 'DELETE',
      path: '/admin/users/:userId',
      handle: async ({ req, res, params }) => {
        const userId = userIdFrom(params);
        const deletion = await deleteUser(deps, userId, { client: clientAddress(req) });
        if (!deletion) throw new HttpError(404, `there is no user ${userId}, nor any session, sandbox or data of theirs: list users with GET /admin/users?prefix=`);
        sendJson(res, 200, deletion);
      },
    },
  ];
}
