import type { Database } from '../store/database.ts';

export type ChallengePurpose = 'register' | 'login';

/** What register/start decided, carried to register/finish with the challenge. */
export interface RegistrationIntent {
  userId: string;
  username: string;
  displayName: string;
  webauthnUserId: string;
  /** Whether the account exists already (adding a passkey) or register/finish creates it. */
  existing: boolean;
  /** Digest of the session that asked to add a passkey; finish must come from the same session. */
  sessionDigest: string | null;
}

export interface LoginIntent {
  userId: string;
}

interface Payloads {
  register: RegistrationIntent;
  login: LoginIntent;
}

export const challengeLifetimeMs = 5 * 60_000;

/**
 * WebAuthn challenges, single use: consuming one deletes it in the same statement, so a replayed
 * response finds nothing, and an expired one is never returned.
 */
export interface Challenges {
  issue<P extends ChallengePurpose>(purpose: P, challenge: string, payload: Payloads[P], now?: number): void;
  consume<P extends ChallengePurpose>(purpose: P, challenge: string, now?: number): Payloads[P] | null;
}

export function createChallenges(db: Database): Challenges {
  const insert = db.prepare('INSERT INTO auth_challenges (challenge, purpose, payload, expires_at) VALUES (?, ?, ?, ?)');
  const take = db.prepare('DELETE FROM auth_challenges WHERE challenge = ? AND purpose = ? RETURNING payload, expires_at');
  const prune = db.prepare('DELETE FROM auth_challenges WHERE expires_at <= ?');
  return {
    issue(purpose, challenge, payload, now = Date.now()) {
      prune.run(now);
      insert.run(challenge, purpose, JSON.stringify(payload), now + challengeLifetimeMs);
    },
    consume<P extends ChallengePurpose>(purpose: P, challenge: string, now = Date.now()) {
      const row = take.get(challenge, purpose);
      if (!row || Number(row.expires_at) <= now) return null;
      return JSON.parse(String(row.payload)) as Payloads[P];
    },
  };
}
