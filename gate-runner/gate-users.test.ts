import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, registerWithPasskey, type AuthTarget } from '../hypervisor/auth/testing/auth-client.ts';
import { createSoftwarePasskey } from '../hypervisor/auth/testing/software-passkey.ts';
import { removeDir, startTestHypervisor, type TestHypervisor } from '../fixtures/test-hypervisor.ts';
import { gateUserPrefix, leftoverGateUsersMarkdown, listGateUsers, sweepGateUsers } from './gate-users.ts';

let target: TestHypervisor;
let auth: AuthTarget;

beforeAll(async () => {
  target = await startTestHypervisor();
  auth = { url: target.url, origin: target.hypervisor.config.webauthn.rpOrigin };
});

afterAll(async () => {
  await target.close();
  removeDir(target.dir);
});

async function register(username: string): Promise<string> {
  const reply = await registerWithPasskey(auth, { username, passkey: createSoftwarePasskey({ origin: auth.origin, rpId: 'localhost' }) });
  expect(reply.status).toBe(200);
  return reply.session as string;
}

describe('gate users left on a target', () => {
  it('are found by their prefix and removed, people are left alone', async () => {
    const person = await register('ada');
    await register(`${gateUserPrefix}interrupted-1`);
    await register(`${gateUserPrefix}interrupted-2`);
    expect((await listGateUsers(target.url, target.token)).map((user) => user.username)).toEqual(['gate-interrupted-1', 'gate-interrupted-2']);

    const sweep = await sweepGateUsers(target.url, target.token);

    expect(sweep.removed.map((user) => user.username)).toEqual(['gate-interrupted-1', 'gate-interrupted-2']);
    expect(sweep.left).toEqual([]);
    expect(await listGateUsers(target.url, target.token)).toEqual([]);
    expect((await getJson(auth, '/auth/me', person)).body).toMatchObject({ authenticated: true, username: 'ada' });
  });

  it('a wrong admin token is an error saying to check it', async () => {
    await expect(listGateUsers(target.url, 'wrong-token-of-some-length')).rejects.toThrow(/answered 403.*check the target's admin token/);
  });

  it('are listed for removal, with the command for each, when they could not be removed', () => {
    const text = leftoverGateUsersMarkdown([{ user_id: 'u0123456789abcdef', username: 'gate-x', created_at: '2026-02-20T10:00:00.000Z' }], 'https://choir.example.com');
    expect(text).toContain('curl -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" https://choir.example.com/admin/users/u0123456789abcdef');
    expect(leftoverGateUsersMarkdown([], 'https://choir.example.com')).toBe('');
  });
});
