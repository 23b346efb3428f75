import { afterAll, beforeAll, expect } from 'vitest';
import { removeDir, startTestHypervisor, type TestHypervisor } from '../../../fixtures/test-hypervisor.ts';
import { registerWithPasskey, type AuthTarget } from './auth-client.ts';
import { createSoftwarePasskey } from './software-passkey.ts';

export interface HypervisorWithUsers {
  /** The hypervisor, started in this file's beforeAll. */
  readonly target: TestHypervisor;
  /** Its auth endpoint and relying party origin, for auth-client calls. */
  readonly auth: AuthTarget;
  /** Registers `username` with a fresh software passkey; resolves to the user id and session. */
  register(username: string): Promise<{ userId: string; session: string }>;
}

/**
 * One in-process hypervisor for a test file that registers users (the admin users API, the gate
 * runner's user sweep): started before the file's tests, closed and removed after them.
 */
export function hypervisorWithUsers(): HypervisorWithUsers {
  let started: { target: TestHypervisor; auth: AuthTarget } | undefined;
  beforeAll(async () => {
    const target = await startTestHypervisor();
    started = { target, auth: { url: target.url, origin: target.hypervisor.config.webauthn.rpOrigin } };
  });
  afterAll(async () => {
    if (!started) return;
    await started.target.close();
    removeDir(started.target.dir);
  });
  const running = (): { target: TestHypervisor; auth: AuthTarget } => {
    if (!started) throw new Error('the hypervisor starts in beforeAll: use it inside a test, not while the file is collected');
    return started;
  };
  return {
    get target() {
      return running().target;
    },
    get auth() {
      return running().auth;
    },
    async register(username) {
      const { auth } = running();
      const reply = await registerWithPasskey(auth, { username, passkey: createSoftwarePasskey({ origin: auth.origin, rpId: 'localhost' }) });
      expect(reply.status).toBe(200);
      return { userId: String(reply.body.user_id), session: reply.session as string };
    },
  };
}
