import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runOperatorCli, type OperatorEndpoint } from '../../fixtures/operator-cli.ts';
import { commandNames } from './dispatch.ts';
import { startLoopbackAdminApi, type LoopbackAdminApi, type ReceivedAdminRequest } from './testing/loopback-admin-api.ts';

const token = 'operator-flags-test-token';
/** What the loopback admin API answers next: a status and a JSON body per route, or 200 and an answer shaped like the hypervisor's. */
let refusal: { status: number; error: string; body?: unknown } | undefined;
let api: LoopbackAdminApi;
let endpoint: OperatorEndpoint;

const pointers = { user_id: 'alice', main: 'live', dev: 'dev', updated_at: null, slots: { live: null, dev: null } };

function answerFor(request: ReceivedAdminRequest): unknown {
  if (request.url.includes('/switches')) return { switches: [] };
  if (request.url.endsWith('/pointers')) return pointers;
  if (request.url === '/admin/rollback') return { results: [] };
  if (request.url === '/admin/releases') return { releases: [], retained: [] };
  // Enough of a switch, deploy or release answer for the CLI's one-line summary.
  return { user_id: 'alice', main: 'live', dev: 'dev', release: { id: 1 }, echoed: request.body ?? null };
}

beforeAll(async () => {
  api = await startLoopbackAdminApi((request) => (refusal ? { status: refusal.status, body: refusal.body ?? { error: refusal.error } } : { body: answerFor(request) }));
  endpoint = { url: api.url, token };
});

afterAll(() => api.close());

beforeEach(() => {
  api.reset();
  refusal = undefined;
});

const run = (...args: string[]) => runOperatorCli(endpoint, args);

describe('the operator CLI refuses missing or contradictory flags with exit 2, naming the flag, before any admin call', () => {
  it.each([
    [['rollback'], '--user'],
    [['rollback', '--user', 'alice', '--all'], '--all'],
    [['swap'], '--user'],
    [['pointers'], '--user'],
    [['deploy', '--user', 'alice'], '--release'],
    [['deploy', '--release', '3'], '--user'],
    [['promote'], '--user'],
    [['releases', 'known-good'], '--release'],
    [['releases', 'create'], '--runtime'],
    [['swap', '--user', 'alice', '--releas', '3'], '--releas'],
  ])('%j', async (args, flag) => {
    const result = await run(...args);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toContain(flag);
    expect(result.stderr).toContain('usage: npm run hypervisor --');
    expect(api.received, 'admin requests made').toEqual([]);
  });
});

// Every command the CLI dispatches, from its own list, so a new command is held to this too; the
// import also tells `vitest related` that these tests run each command (in a child process).
it.each(commandNames.filter((name) => name !== 'serve'))('%s refuses an unknown flag with exit 2, naming it, before any admin call', async (name) => {
  const result = await run(name, '--bogus-flag');
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stderr).toContain("Unknown option '--bogus-flag'");
  expect(result.stderr).toContain(`usage: npm run hypervisor -- ${name}`);
  expect(api.received, 'admin requests made').toEqual([]);
});

describe("the operator CLI's flags reach the admin request", () => {
  it('rollback --user --release --reason: POST /admin/sandboxes/USER/rollback with release_id, reason and the cli actor, the token from HYPERVISOR_ADMIN_TOKEN_FILE', async () => {
    const result = await run('rollback', '--user', 'alice', '--release', '7', '--reason', 'bad deploy');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(api.received).toHaveLength(1);
    expect(api.received[0]).toMatchObject({ method: 'POST', url: '/admin/sandboxes/alice/rollback', authorization: `Bearer ${token}` });
    expect(Number(api.received[0]?.body?.release_id), 'release_id in the body').toBe(7);
    expect(api.received[0]?.body).toMatchObject({ reason: 'bad deploy', actor: expect.stringMatching(/^cli:/) });
    expect(result.json, 'the printed answer is the admin API answer').toMatchObject({ user_id: 'alice', echoed: api.received[0]?.body });
  });

  it('rollback --user without --release sends no release_id (the hypervisor picks the previous known-good)', async () => {
    expect((await run('rollback', '--user', 'alice')).exitCode).toBe(0);
    expect(api.received[0]?.url).toBe('/admin/sandboxes/alice/rollback');
    expect(api.received[0]?.body).not.toHaveProperty('release_id');
  });

  it('rollback --all --release: POST /admin/rollback with release_id', async () => {
    expect((await run('rollback', '--all', '--release', '4', '--reason', 'everyone back')).exitCode).toBe(0);
    expect(api.received[0]).toMatchObject({ method: 'POST', url: '/admin/rollback' });
    expect(Number(api.received[0]?.body?.release_id)).toBe(4);
    expect(api.received[0]?.body).toMatchObject({ reason: 'everyone back' });
  });

  it('rollback --all answered 422 (some user could not be rolled back): exit 1, every user named on stderr, the failed one as FAILED with its error', async () => {
    const rolled = { ok: true, user_id: 'alice', main: 'dev', release: { id: 3 }, mode: 'warm', serving_after_ms: 4, drained: true };
    refusal = { status: 422, error: '', body: { results: [rolled, { ok: false, user_id: 'bob', error: 'no known-good release before release 3', code: 'no_release' }] } };
    const result = await run('rollback', '--all');
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain('rolled back alice: main -> dev slot, release 3');
    expect(result.stderr).toContain('FAILED bob: no known-good release before release 3');
    expect(result.json, 'with --json the 422 answer itself is on stdout, every user in it').toEqual(refusal.body);
  });

  it('swap --user --reason: POST /admin/sandboxes/USER/swap with the reason', async () => {
    expect((await run('swap', '--user', 'bob', '--reason', 'try dev')).exitCode).toBe(0);
    expect(api.received[0]).toMatchObject({ method: 'POST', url: '/admin/sandboxes/bob/swap', body: { reason: 'try dev' } });
  });

  it('pointers --user --history N: the pointers, then the switches with ?limit=N', async () => {
    const result = await run('pointers', '--user', 'alice', '--history', '3');
    expect(result.exitCode, result.stderr).toBe(0);
    expect(api.received.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /admin/sandboxes/alice/pointers', 'GET /admin/sandboxes/alice/switches?limit=3']);
    expect(result.json).toEqual({ ...pointers, switches: [] });
  });

  it('deploy --user --release: release_id in the body; promote --reason: the reason', async () => {
    expect((await run('deploy', '--user', 'alice', '--release', '5')).exitCode).toBe(0);
    expect(api.received[0]).toMatchObject({ method: 'POST', url: '/admin/sandboxes/alice/deploy' });
    expect(Number(api.received[0]?.body?.release_id)).toBe(5);
    expect((await run('promote', '--user', 'alice', '--reason', 'ship it')).exitCode).toBe(0);
    expect(api.received[1]).toMatchObject({ method: 'POST', url: '/admin/sandboxes/alice/promote', body: { reason: 'ship it' } });
  });

  it('releases known-good --release: POST /admin/releases/ID/known-good; releases (list): GET /admin/releases', async () => {
    expect((await run('releases', 'known-good', '--release', '9')).exitCode).toBe(0);
    expect((await run('releases')).exitCode).toBe(0);
    expect(api.received.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /admin/releases/9/known-good', 'GET /admin/releases']);
  });

  it("a refusal exits 1 with the hypervisor's reason on stderr and nothing on stdout", async () => {
    refusal = { status: 409, error: 'release 7 is not known-good, so it is no rollback target' };
    const result = await run('rollback', '--user', 'alice', '--release', '7');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('answered 409: release 7 is not known-good, so it is no rollback target');
    expect(result.stdout).toBe('');
  });
});
