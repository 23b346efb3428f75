import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { getJson } from '../hypervisor/auth/testing/auth-client.ts';
import { hypervisorWithUsers } from '../hypervisor/auth/testing/hypervisor-with-users.ts';
import { gateUserPrefix, leftoverGateUsersMarkdown, listGateUsers, sweepGateUsers } from './gate-users.ts';
import { deleteRefusingFront, listeningFront } from './testing/delete-refusing-front.ts';

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

  it('counts a user already gone when its delete arrives (404) as removed, not as left for a person', async () => {
    await users.register(`${gateUserPrefix}raced-1`);
    // Between the sweep's listing and its delete another sweep (another run's) removes the user: this front deletes
    // each user itself just before passing the sweep's own DELETE on, which the hypervisor then answers 404.
    const front = createServer((req, res) => {
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const forward = (method: string) => fetch(new URL(req.url ?? '/', users.target.url), { method, headers: { authorization: req.headers.authorization ?? '' }, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
        if (req.method === 'DELETE') await forward('DELETE');
        const answer = await forward(req.method ?? 'GET');
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      })().catch((error: unknown) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `the front could not reach the hypervisor: ${String(error)}` }));
      });
    });
    const frontUrl = await listeningFront(front);

    const sweep = await sweepGateUsers(frontUrl, users.target.token);

    expect(sweep.removed.map((user) => user.username)).toEqual(['gate-raced-1']);
    expect(sweep.left).toEqual([]);
  });

  it('leaves a user the target refused to delete (not 404) for a person, with why, and does not count it as removed', async () => {
    await users.register(`${gateUserPrefix}refused-1`);
    const frontUrl = await deleteRefusingFront(users.target.url);

    const sweep = await sweepGateUsers(frontUrl, users.target.token);

    expect(sweep.removed).toEqual([]);
    expect(sweep.left).toEqual([expect.objectContaining({ username: 'gate-refused-1', error: expect.stringContaining('503') })]);
    expect((await listGateUsers(users.target.url, users.target.token)).map((user) => user.username)).toEqual(['gate-refused-1']);
    await sweepGateUsers(users.target.url, users.target.token);
  });

  it('leaves people alone on a target that ignores the prefix and lists every user', async () => {
    const person = (await users.register('grace')).session;
    await users.register(`${gateUserPrefix}unfiltered-1`);
    // A front that drops the query string, as a target whose admin API predates ?prefix= would: it lists everyone.
    const front = createServer((req, res) => {
      void (async () => {
        const answer = await fetch(new URL(new URL(req.url ?? '/', users.target.url).pathname, users.target.url), { method: req.method, headers: { authorization: req.headers.authorization ?? '' } });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      })();
    });
    const frontUrl = await listeningFront(front);

    const sweep = await sweepGateUsers(frontUrl, users.target.token);

    expect(sweep.removed.map((user) => user.username)).toEqual(['gate-unfiltered-1']);
    expect((await getJson(users.auth, '/auth/me', person)).body).toMatchObject({ authenticated: true, username: 'grace' });
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
