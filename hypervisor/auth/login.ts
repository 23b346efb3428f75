import type { IncomingMessage, ServerResponse } from 'node:http';
import { generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { expectedRelyingParty, startSession, type AuthContext } from './context.ts';
import { parseAuthenticationResponse, signedChallenge } from './credentials.ts';
import { usernameField } from './fields.ts';
import { HttpError } from '../http/errors.ts';
import { readJsonObject, sendJson } from '../http/json.ts';
import { beginAttempt } from './rate-limit.ts';

/** POST /auth/login/start: request options for the named account's passkeys (404 if it has none). */
export async function loginStart(context: AuthContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const username = usernameField(await readJsonObject(req));
  const user = context.users.findByUsername(username);
  const passkeys = user ? context.passkeys.forUser(user.id) : [];
  if (!user || passkeys.length === 0) throw new HttpError(404, `no account with a passkey is registered as "${username}": register at /register`);
  const options = await generateAuthenticationOptions({
    rpID: context.settings.rpId,
    allowCredentials: passkeys.map((p) => ({ id: p.id, transports: p.transports })),
    userVerification: 'required',
  });
  context.challenges.issue('login', options.challenge, { userId: user.id });
  sendJson(res, 200, { publicKey: options });
}

/**
 * POST /auth/login/finish: verifies the assertion against the challenge's account; a new session on
 * success. Failures are limited per client, never per account: a signature cannot be guessed, so an
 * account lock would protect nothing and would let anyone lock a user out. Each challenge is single
 * use, so one challenge is one try.
 */
export async function loginFinish(context: AuthContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const client = context.clientAddress(req);
  // Counted before the body and the signature check, so concurrent attempts each see the others.
  const attempt = beginAttempt('login', [[context.limits.loginByClient, client]]);
  const assertion = parseAuthenticationResponse(await readJsonObject(req));
  const challenge = signedChallenge(assertion.response.clientDataJSON);
  const intent = context.challenges.consume('login', challenge);

  const fail = (reason: string, userId: string | null, username: string | null): never => {
    context.audit.record({ event: 'login_failed', userId, username, client, detail: { reason } });
    throw new HttpError(401, `login failed: ${reason}`);
  };

  if (!intent) return fail('the login challenge is unknown, expired or already used; start again', null, null);
  const user = context.users.findById(intent.userId);
  if (!user) return fail('the account no longer exists', null, null);
  const passkey = context.passkeys.find(assertion.id);
  if (!passkey || passkey.userId !== user.id) return fail('this passkey is not registered for the account', user.id, user.username);

  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: challenge,
      ...expectedRelyingParty(context.settings),
      credential: passkey,
    });
  } catch (error) {
    return fail(`the passkey's answer did not verify (${(error as Error).message})`, user.id, user.username);
  }
  if (!verification.verified) return fail("the passkey's answer did not verify", user.id, user.username);

  attempt.succeeded();
  context.passkeys.recordUse(passkey.id, verification.authenticationInfo.newCounter);
  startSession(context, req, res, user.id, 'user');
  context.audit.record({ event: 'login', userId: user.id, username: user.username, client });
  sendJson(res, 200, { authenticated: true, user_id: user.id, username: user.username });
}
