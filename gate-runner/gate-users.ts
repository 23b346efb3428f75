import { request } from 'undici';

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

async function admin(url: string, token: string, method: 'GET' | 'DELETE', route: string): Promise<{ status: number; text: string }> {
  const res = await request(`${url}${route}`, { method, headers: { authorization: `Bearer ${token}` }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  return { status: res.statusCode, text: await res.body.text() };
}

/** The target's gate users (GET /admin/users?prefix=gate-). */
export async function listGateUsers(url: string, token: string): Promise<GateUser[]> {
  const answer = await admin(url, token, 'GET', `/admin/users?prefix=${encodeURIComponent(gateUserPrefix)}`);
  if (answer.status !== 200) throw new Error(`GET ${url}/admin/users answered ${answer.status}: ${answer.text.slice(0, 300)}; check the target's admin token`);
  return (JSON.parse(answer.text) as { users: GateUser[] }).users.filter((user) => user.username.startsWith(gateUserPrefix));
}

/** Deletes every gate user on the target (with sessions, sandboxes and data) and says which could not go. */
export async function sweepGateUsers(url: string, token: string): Promise<GateUserSweep> {
  const sweep: GateUserSweep = { removed: [], left: [] };
  for (const user of await listGateUsers(url, token)) {
    const answer = await admin(url, token, 'DELETE', `/admin/users/${encodeURIComponent(user.user_id)}`).catch((error: unknown) => ({ status: 0, text: (error as Error).message }));
    if (answer.status === 200 || answer.status === 404) sweep.removed.push(user);
    else sweep.left.push({ ...user, error: `DELETE /admin/users/${user.user_id} answered ${answer.status}: ${answer.text.slice(0, 200)}` });
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
