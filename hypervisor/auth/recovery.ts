import type { IncomingMessage, ServerResponse } from 'node:http';
import { startSession, type AuthContext } from './context.ts';
import { recoveryCodeRule, stringField, usernameField } from './fields.ts';
import { HttpError } from '../http/errors.ts';
import { readJsonObject, sendJson } from '../http/json.ts';
import { beginAttempt } from './rate-limit.ts';

const invalid = 'invalid username or code';

/**
 * POST /auth/recovery. A valid unused code opens a short recovery session whose one power is
 * registering a new passkey for this account (upstream ChoirOS set a flag nobody read). Failures
 * are counted per account and per client, and the answer never says which of the two was wrong.
 */
export async function recover(context: AuthContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonObject(req);
  const username = usernameField(body);
  const code = stringField(body, 'code', recoveryCodeRule);
  const client = context.clientAddress(req);
  const account = `account:${username.toLowerCase()}`;
  // Counted before the slow hash, so concurrent wrong codes each see the others.
  const attempt = beginAttempt('recovery', [
    [context.limits.recoveryByAccount, account],
    [context.limits.recoveryByClient, client],
  ]);

  const user = context.users.findByUsername(username);
  const { redeemed, remaining } = await context.recoveryCodes.redeem(user?.id ?? null, code);
  if (!user || !redeemed) {
    context.audit.record({ event: 'recovery_failed', userId: user?.id ?? null, username, client });
    throw new HttpError(401, invalid);
  }

  attempt.succeeded();
  const { expiresAt } = startSession(context, req, res, user.id, 'recovery');
  context.audit.record({ event: 'recovery_used', userId: user.id, username: user.username, client, detail: { remaining_codes: remaining } });
  sendJson(res, 200, { recovered: true, username: user.username, expires_at: new Date(expiresAt).toISOString(), remaining_codes: remaining });
}
