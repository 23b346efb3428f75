import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClientAddress } from '../http/client-address.ts';
import type { Logger } from '../log.ts';
import type { Database } from '../store/database.ts';
import type { Audit } from './audit.ts';
import type { Challenges } from './challenges.ts';
import { clearedSessionCookie, readCookie, sessionCookie, sessionCookieName } from './cookies.ts';
import type { Passkeys } from './passkeys.ts';
import type { FailureLimiter } from './rate-limit.ts';
import type { RecoveryCodes } from './recovery-codes.ts';
import { sessionLifetimeMs, type Session, type SessionKind, type Sessions } from './sessions.ts';
import type { Users } from './users.ts';

/**
 * The relying party. `rpOrigin` is read on every use, so the hypervisor may pass an object whose
 * origin is only known once it listens (HYPERVISOR_PORT=0).
 */
export interface AuthSettings {
  readonly rpId: string;
  readonly rpName: string;
  readonly rpOrigin: string;
}

export interface AuthContext {
  db: Database;
  settings: AuthSettings;
  log: Logger;
  users: Users;
  passkeys: Passkeys;
  sessions: Sessions;
  challenges: Challenges;
  recoveryCodes: RecoveryCodes;
  audit: Audit;
  limits: {
    recoveryByAccount: FailureLimiter;
    recoveryByClient: FailureLimiter;
    loginByClient: FailureLimiter;
  };
  /** Where a request comes from (the socket's peer, or X-Forwarded-For from a trusted proxy). */
  clientAddress: ClientAddress;
}

export const securedByTls = (settings: AuthSettings): boolean => settings.rpOrigin.startsWith('https:');

/** What every passkey response must prove: this relying party, this origin, a verified user. */
export const expectedRelyingParty = (settings: AuthSettings) => ({
  expectedOrigin: settings.rpOrigin,
  expectedRPID: settings.rpId,
  requireUserVerification: true,
});

export interface CurrentSession extends Session {
  id: string;
}

export function currentSession(context: AuthContext, req: IncomingMessage): CurrentSession | null {
  const id = readCookie(req, sessionCookieName);
  if (!id) return null;
  const session = context.sessions.find(id);
  return session ? { ...session, id } : null;
}

/** Every sign-in gets a new id (no fixation): the old session, if any, ends here. */
export function startSession(context: AuthContext, req: IncomingMessage, res: ServerResponse, userId: string, kind: SessionKind): { expiresAt: number } {
  const previous = readCookie(req, sessionCookieName);
  if (previous) context.sessions.delete(previous);
  const { id, expiresAt } = context.sessions.create(userId, kind);
  res.setHeader('set-cookie', sessionCookie(id, { secure: securedByTls(context.settings), maxAgeSeconds: Math.floor(sessionLifetimeMs[kind] / 1000) }));
  return { expiresAt };
}

export function endSession(context: AuthContext, req: IncomingMessage, res: ServerResponse): CurrentSession | null {
  const session = currentSession(context, req);
  const id = readCookie(req, sessionCookieName);
  if (id) context.sessions.delete(id);
  res.setHeader('set-cookie', clearedSessionCookie(securedByTls(context.settings)));
  return session;
}
