import { describe, expect, it } from 'vitest';
import { getJson } from '../hypervisor/auth/testing/auth-client.ts';
import { hypervisorWithUsers } from '../hypervisor/auth/testing/hypervisor-with-users.ts';
import { gateUserPrefix, leftoverGateUsersMarkdown, listGateUsers, sweepGateUsers } from './gate-users.ts';

const users = hypervisorWithUsers();

describe('gate users left on a target', () => {
  it('are found by their prefix and removed, people are left alone', async () => {
    const person = (await users.register('ada')).session;
    await users.register(`${gateUserPrefix}interrupted-1`);
    await users.register(`${gateUserPrefix}interrupted-2`);
    expect((await listGateUsers(users.target.url, users.target.token)).map((user) => user.username)).toEqual(['gate-interrupted-1', 'gate-interrupted-2']);

    const sweep = await sweepGateUsers(users.target.url, users.target.token);

    expect(sweep.removed.map((user) => user.username)).toEqual(['gate-interrupted-1', 'gate-interrupted-2']);
    expect(sweep.left).toEqual([]);
    expect(await listGateUsers(users.target.url, users.target.token)).toEqual([]);
    expect((await getJson(users.auth, '/auth/me', person)).body).toMatchObject({ authenticated: true, username: 'ada' });
  });

  it('a wrong admin token is an error saying to check it', async () => {
    await expect(listGateUsers(users.target.url, 'wrong-token-of-some-length')).rejects.toThrow(/answered 403.*check the target's admin token/);
  });

  it('are listed for removal, with the command for each, when they could not be removed', () => {
    const text = leftoverGateUsersMarkdown([{ user_id: 'u0123456789abcdef', username: 'gate-x', created_at: '2026-02-20T10:00:00.000Z' }], 'https://choir.example.com');
    expect(text).toContain('curl -X DELETE -H "Authorization: Bearer $ADMIN_TOKEN" https://choir.example.com/admin/users/u0123456789abcdef');
    expect(leftoverGateUsersMarkdown([], 'https://choir.example.com')).toBe('');
  });
});
