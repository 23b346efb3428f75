import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import { transaction } from '../store/database.ts';
import type { RegistrationIntent } from './challenges.ts';
import { currentSession, expectedRelyingParty, startSession, type AuthContext, type CurrentSession } from './context.ts';
import { parseRegistrationResponse, signedChallenge } from './credentials.ts';
import { displayNameRule, stringField, usernameField } from './fields.ts';
import { HttpError } from '../http/errors.ts';
import { readJsonObject, sendJson } from '../http/json.ts';
import { newUserId, UsernameTakenError } from './users.ts';

/**
 * ES256, EdDSA, RS256: what passkey authenticators use. Named here so the library does not probe the
 * runtime for post-quantum algorithms (an experimental Web Crypto call that warns on every start).
 */
const supportedAlgorithmIDs = [-7, -8, -257];

const sessionDigest = (id: string): string => createHash('sha256').update(id).digest('base64url');

/**
 * How recent the sign-in of a user session must be to add a passkey with it. Sandbox pages share
 * the hypervisor's origin, so their script can call these routes with the user's session; without
 * this, any old session would let it plant a passkey of its own (a login that outlives the session).
 * A recovery session is short-lived and made for exactly this, so it may.
 */
export const freshSignInMs = 5 * 60_000;

function requireFreshSignIn(session: CurrentSession, now = Date.now()): void {
  if (session.kind === 'user' && now - session.createdAt > freshSignInMs) {
    throw new HttpError(403, `adding a passkey needs a sign-in from the last ${freshSignInMs / 60_000} minutes: log in again at /login, then add the passkey`);
  }
}

/**
 * POST /auth/register/start. A new username may be registered by anyone. An existing one only by
 * its owner freshly signed in (adding a passkey) or by a recovery session for that account: upstream
 * ChoirOS let anyone re-register an existing username, which handed over the account.
 */
export async function registerStart(context: AuthContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonObject(req);
  const username = usernameField(body);
  const displayNameGiven = body.display_name !== undefined && body.display_name !== null && body.display_name !== '';
  const session = currentSession(context, req);
  const existing = context.users.findByUsername(username);

  let intent: RegistrationIntent;
  if (existing) {
    if (!session || session.userId !== existing.id) throw new HttpError(409, new UsernameTakenError(username).message);
    requireFreshSignIn(session);
    intent = {
      userId: existing.id,
      username: existing.username,
      displayName: existing.displayName,
      webauthnUserId: existing.webauthnUserId,
      existing: true,
      sessionDigest: sessionDigest(session.id),
    };
  } else {
    intent = {
      userId: newUserId(),
      username,
      displayName: displayNameGiven ? stringField(body, 'display_name', displayNameRule) : username,
      webauthnUserId: randomBytes(32).toString('base64url'),
      existing: false,
      sessionDigest: null,
    };
  }

  const options = await generateRegistrationOptions({
    rpName: context.settings.rpName,
    rpID: context.settings.rpId,
    userName: intent.username,
    userDisplayName: intent.displayName,
    userID: Buffer.from(intent.webauthnUserId, 'base64url'),
    attestationType: 'none',
    excludeCredentials: existing ? context.passkeys.forUser(existing.id).map((p) => ({ id: p.id, transports: p.transports })) : [],
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
    supportedAlgorithmIDs,
  });
  context.challenges.issue('register', options.challenge, intent);
  sendJson(res, 200, { publicKey: options });
}

/** POST /auth/register/finish: stores the passkey, issues recovery codes with the first one, logs in. */
export async function registerFinish(context: AuthContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const credential = parseRegistrationResponse(await readJsonObject(req));
  const challenge = signedChallenge(credential.response.clientDataJSON);
  const intent = context.challenges.consume('register', challenge);
  if (!intent) throw new HttpError(400, 'registration challenge is unknown, expired or already used: start again with POST /auth/register/start');

  const session = currentSession(context, req);
  if (intent.sessionDigest && (!session || session.userId !== intent.userId || sessionDigest(session.id) !== intent.sessionDigest)) {
    throw new HttpError(403, 'adding a passkey must be finished in the session that started it: log in (or recover) again and retry');
  }
  if (intent.existing && session) requireFreshSignIn(session);

  let verification;
  try {
    verification = await verifyRegistrationResponse({
      response: credential,
      expectedChallenge: challenge,
      ...expectedRelyingParty(context.settings),
      supportedAlgorithmIDs,
    });
  } catch (error) {
    throw new HttpError(400, `passkey registration could not be verified: ${(error as Error).message}`);
  }
  if (!verification.verified) throw new HttpError(400, 'passkey registration could not be verified');
  const { credential: verified } = verification.registrationInfo;
  if (context.passkeys.find(verified.id)) throw new HttpError(409, 'this passkey is already registered: log in with it at /login');

  const isFirstPasskey = !intent.existing;
  // Hash the codes before the transaction, so the account, its passkey and its codes land together.
  const codes = isFirstPasskey ? await context.recoveryCodes.prepare() : null;
  try {
    transaction(context.db, () => {
      if (!intent.existing) {
        context.users.create({ id: intent.userId, username: intent.username, displayName: intent.displayName, webauthnUserId: intent.webauthnUserId });
      }
      context.passkeys.add({ ...verified, transports: verified.transports ?? credential.response.transports ?? [], userId: intent.userId });
      codes?.store(intent.userId);
    });
  } catch (error) {
    if (error instanceof UsernameTakenError) throw new HttpError(409, error.message);
    throw error;
  }

  const via = !intent.existing ? 'new_account' : session?.kind === 'recovery' ? 'recovery' : 'session';
  startSession(context, req, res, intent.userId, 'user');
  context.audit.record({ event: 'register', userId: intent.userId, username: intent.username, client: context.clientAddress(req), detail: { is_first_passkey: isFirstPasskey, via } });
  sendJson(res, 200, { recovery_codes: codes?.codes ?? [], is_first_passkey: isFirstPasskey, user_id: intent.userId, username: intent.username });
}
