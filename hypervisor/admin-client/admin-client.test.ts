import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLoopbackAdminApi, type LoopbackAdminApi } from '../cli/testing/loopback-admin-api.ts';
import { AdminCallError } from './admin-call-error.ts';
import { AdminClient } from './admin-client.ts';

let api: LoopbackAdminApi;
beforeAll(async () => {
  api = await startLoopbackAdminApi();
});
beforeEach(() => api.reset());
afterAll(() => api.close());

/** The error a call rejected with. */
async function refusal(call: Promise<unknown>): Promise<AdminCallError> {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(AdminCallError);
  return error as AdminCallError;
}

describe('the admin client', () => {
  it('sends the bearer token, and a JSON body only when there is one', async () => {
    const client = new AdminClient({ url: api.url, token: 'sesame' });
    api.answers.set('GET /admin/sandboxes', { body: [] });
    api.answers.set('POST /admin/releases/prune', { body: { removed: [], kept: [], failed: [] } });
    await client.sandboxes();
    await client.pruneReleases();
    expect(api.received.map((r) => [r.request, r.authorization, r.body])).toEqual([
      ['GET /admin/sandboxes', 'Bearer sesame', undefined],
      ['POST /admin/releases/prune', 'Bearer sesame', undefined],
    ]);
  });

  it('resolves to the JSON of any 2xx, and throws the hypervisor\'s reason with the status otherwise', async () => {
    const client = new AdminClient({ url: api.url, token: 't' });
    api.answers.set('POST /admin/releases', { status: 201, body: { id: 3 } });
    expect(await client.createRelease({ runtime: 'process' })).toEqual({ id: 3 });
    api.answers.set('GET /admin/releases', { status: 300, body: { error: 'choose' } });
    expect(await refusal(client.releases())).toMatchObject({ status: 300, message: 'GET /admin/releases answered 300: choose' });
    api.answers.set('POST /admin/sandboxes/alice/live/stop', { status: 404, body: { error: 'there is no sandbox alice:live' } });
    expect(await refusal(client.stop('alice', 'live'))).toMatchObject({ status: 404, message: 'POST /admin/sandboxes/alice/live/stop answered 404: there is no sandbox alice:live' });
  });

  it('answer() hands back any status with its body', async () => {
    api.answers.set('GET /admin/users?prefix=x', { status: 401, body: { error: 'unauthorized' } });
    expect(await new AdminClient({ url: api.url, token: 't' }).answer('GET', '/admin/users?prefix=x')).toEqual({ status: 401, body: { error: 'unauthorized' } });
  });

  it('names the address and HYPERVISOR_URL when the hypervisor cannot be reached, with no status', async () => {
    const closed = await startLoopbackAdminApi();
    await closed.close();
    const error = await refusal(new AdminClient({ url: closed.url, token: 't' }).sandboxes());
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(new RegExp(`^cannot reach the hypervisor at ${closed.url} .*Set HYPERVISOR_URL`));
  });

  it('records the actor and a reason naming it on a switch; without one, "admin client" and no actor', async () => {
    api.answers.set('POST /admin/sandboxes/bob/swap', { body: {} });
    api.answers.set('POST /admin/sandboxes/bob/rollback', { body: {} });
    await new AdminClient({ url: api.url, token: 't' }, { actor: 'cli:root' }).swap('bob');
    await new AdminClient({ url: api.url, token: 't' }).swap('bob');
    await new AdminClient({ url: api.url, token: 't' }).rollback('bob', 'bad deploy', 4);
    expect(api.received.map((r) => r.body)).toEqual([
      { reason: 'cli:root: swap', actor: 'cli:root' },
      { reason: 'admin client: swap' },
      { reason: 'bad deploy', release_id: 4 },
    ]);
  });

  it('encodes user ids and the users prefix into the route', async () => {
    const client = new AdminClient({ url: api.url, token: 't' });
    api.answers.set('GET /admin/users?prefix=a%26b%2F', { body: { users: [{ user_id: 'u1' }] } });
    api.answers.set('DELETE /admin/users/a%2Fb', { body: {} });
    expect(await client.users('a&b/')).toEqual([{ user_id: 'u1' }]);
    await client.deleteUser('a/b');
    expect(api.received.map((r) => r.request)).toEqual(['GET /admin/users?prefix=a%26b%2F', 'DELETE /admin/users/a%2Fb']);
  });

  it("finds one sandbox by user and role in the hypervisor's list", async () => {
    api.answers.set('GET /admin/sandboxes', { body: [{ user_id: 'alice', role: 'live' }, { user_id: 'alice', role: 'dev' }, { user_id: 'bob', role: 'dev' }] });
    const client = new AdminClient({ url: api.url, token: 't' });
    expect(await client.sandbox('alice', 'dev')).toEqual({ user_id: 'alice', role: 'dev' });
    expect(await client.sandbox('bob', 'live')).toBeUndefined();
  });

  it('waits two minutes for an answer unless told otherwise (a switch health-gates)', () => {
    expect(new AdminClient({ url: api.url, token: 't' }).timeoutMs).toBe(120_000);
    expect(new AdminClient({ url: api.url, token: 't' }, { timeoutMs: 5_000 }).timeoutMs).toBe(5_000);
  });
});
