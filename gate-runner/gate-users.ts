import { AdminCallError } from '../hypervisor/admin-client/admin-call-error.ts';
import { AdminClient } from '../hypervisor/admin-client/admin-client.ts';

/**
 * Every user a gate suite creates has a username with this prefix, so a run (or the next run, after
 * an interrupted one) can find and remove them, and nobody mistakes them for people.
 */
export const gateUserPrefix = 'gate-';

export interface GateUser {
  user_id: string;
  username: string;
  created_at: string;
}

export interface GateUserSweep {
  removed: GateUser[];
  /** Gate users that could not be removed, each with why: list them for a person to remove. */
  left: (GateUser & { error: string })[];
}

const adminAt = (url: string, token: string): AdminClient => new AdminClient({ url, token }, { timeoutMs: 30_000 });

/** The target's gate users (GET /admin/users?prefix=gate-). */
export async function listGateUsers(url: string, token: string): Promise<GateUser[]> {
  try {
    const users = await adminAt(url, token).users(gateUserPrefix);
    return users.filter((user) => user.username.startsWith(gateUserPrefix));
  } catch (error) {
    if (error instanceof AdminCallError) throw new Error(`${error.message} (at ${url}); check the target's admin token`, { cause: error });
    throw error;
  }
}

/** Deletes every gate user on the target (with sessions, sandboxes and data) and says which could not go. */
export async function sweepGateUsers(url: string, token: string): Promise<GateUserSweep> {
  const sweep: GateUserSweep = { removed: [], left: [] };
  const admin = adminAt(url, token);
  for (const user of await listGateUsers(url, token)) {
    try {
      await admin.deleteUser(user.user_id);
      sweep.removed.push(user);
    } catch (error) {
      // Already gone (404) is what the sweep wants; anything else is left for a person, with why.
      if (error instanceof AdminCallError && error.status === 404) sweep.removed.push(user);
      else sweep.left.push({ ...user, error: (error as Error).message });
    }
  }
  return sweep;
}

/** Markdown for a defect: the gate users still on the target and how to remove each. */
export function leftoverGateUsersMarkdown(left: readonly GateUser[], targetUrl: string): string {
  if (!left.length) return '';
  return [
    `## Gate users left on ${targetUrl}`,
    '',
    'The run did not remove these users (interrupted, or the target refused). Remove each with the admin API:',
    '',
    ...left.map((user) => `- \`${user.username}\` (\`${user.user_id}\`, created ${user.created_at}): \`curl -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" ${targetUrl}/admin/users/${user.user_id}\``),
    '',
  ].join('\n');
}
