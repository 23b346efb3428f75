import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runOperatorCli, type OperatorEndpoint } from '../../fixtures/operator-cli.ts';
import { commandNames } from './dispatch.ts';
import { startLoopbackAdminApi, type LoopbackAdminApi } from './testing/loopback-admin-api.ts';

/**
 * What an operator reads without --json: each command's summary says what the admin API answered.
 * The loopback admin API answers `METHOD url` with what `answer` gave it; the tests say what it holds.
 */
let api: LoopbackAdminApi;
let endpoint: OperatorEndpoint;
const answer = (request: string, body: unknown): void => void api.answers.set(request, { body });

beforeAll(async () => {
  api = await startLoopbackAdminApi();
  endpoint = { url: api.url, token: 'human-output-test-token' };
});

afterAll(() => api.close());

beforeEach(() => api.reset());

/** The CLI's stdout lines as an operator reads them (no --json), after checking it exited 0. */
async function read(...args: string[]): Promise<string[]> {
  // A misspelt command would read the usage text; the CLI's own list also tells `vitest related` these tests run the commands.
  expect(commandNames, 'a command the CLI dispatches').toContain(args[0]);
  const result = await runOperatorCli(endpoint, args, { json: false });
  expect(result.exitCode, result.stderr).toBe(0);
  return result.stdout.trimEnd().split('\n');
}

const at = '2026-12-01T10:00:00.000Z';
const switchEntry = { id: 1, user_id: 'alice', actor: 'admin:cli:op', at, drained: true };

describe('the operator CLI without --json prints what the admin API answered', () => {
  it("pointers: where each route points and since when, each slot's own release and state, and the last 10 switches by default", async () => {
    answer('GET /admin/sandboxes/alice/pointers', {
      user_id: 'alice',
      main: 'dev',
      dev: 'live',
      updated_at: at,
      slots: { live: { release_id: 3, state: 'ready', error: null, updated_at: at }, dev: { release_id: 4, state: 'refused', error: 'never healthy', updated_at: at } },
    });
    answer('GET /admin/sandboxes/alice/switches?limit=10', {
      switches: [
        { ...switchEntry, id: 2, action: 'rollback', from: { role: 'live', release_id: 4 }, to: { role: 'dev', release_id: 3 }, reason: 'bad deploy', outcome: 'switched', error: null, duration_ms: 12.5 },
        { ...switchEntry, action: 'swap', from: { role: 'live', release_id: 4 }, to: { role: 'dev', release_id: 3 }, reason: 'try dev', outcome: 'refused', error: 'health check answered 503', duration_ms: null },
      ],
    });
    expect(await read('pointers', '--user', 'alice')).toEqual([
      `alice: main -> dev, dev -> live (since ${at})`,
      '  live slot: release 3 (ready)',
      '  dev slot:  release 4 (refused)',
      `  ${at} rollback by admin:cli:op: live -> dev switched in 12.5 ms (bad deploy)`,
      `  ${at} swap by admin:cli:op: live -> dev refused (try dev): health check answered 503`,
    ]);
    expect(api.received.map((r) => r.request)).toEqual(['GET /admin/sandboxes/alice/pointers', 'GET /admin/sandboxes/alice/switches?limit=10']);
  });

  it('pointers for a user never switched: the default routes, no release on either slot, no switches', async () => {
    answer('GET /admin/sandboxes/bob/pointers', { user_id: 'bob', main: 'live', dev: 'dev', updated_at: null, slots: { live: null, dev: null } });
    answer('GET /admin/sandboxes/bob/switches?limit=10', { switches: [] });
    expect(await read('pointers', '--user', 'bob')).toEqual(['bob: main -> live, dev -> dev (defaults)', '  live slot: no release recorded', '  dev slot:  no release recorded']);
  });

  it('releases: one line per release with its id, runtime, image, status, and known-good (retained) only where the API says so', async () => {
    const release = { image: '', config: {}, revision: null, note: null, created_at: at, known_good_at: null };
    answer('GET /admin/releases', {
      releases: [
        { ...release, id: 12, runtime: 'podman', image_ref: 'localhost/choir-sandbox:0.2.0', status: 'serving', known_good: true, known_good_at: at, retained: true },
        { ...release, id: 11, runtime: 'podman', image_ref: 'localhost/choir-sandbox:0.1.9', status: 'pruned', known_good: true, known_good_at: at, retained: false },
        { ...release, id: 10, runtime: 'process', image_ref: 'process', status: 'refused', known_good: false, retained: false },
      ],
      retained: [12],
    });
    const lines = await read('releases');
    expect(lines).toHaveLength(3);
    expect(lines[0]?.split(/\s+/).filter(Boolean)).toEqual(['12', 'podman', 'localhost/choir-sandbox:0.2.0', 'serving', 'known-good', '(retained)']);
    expect(lines[1]?.split(/\s+/).filter(Boolean)).toEqual(['11', 'podman', 'localhost/choir-sandbox:0.1.9', 'pruned', 'known-good']);
    expect(lines[2]?.split(/\s+/).filter(Boolean)).toEqual(['10', 'process', 'process', 'refused']);

    answer('GET /admin/releases', { releases: [], retained: [] });
    expect(await read('releases')).toEqual(['no releases yet']);
  });

  it('deploy, swap and promote: the slot and release each answer names, and whether the promoted release is known-good yet', async () => {
    const release = { id: 4, runtime: 'podman', image_ref: 'localhost/choir-sandbox:0.2.0', status: 'serving' };
    answer('POST /admin/sandboxes/alice/deploy', { user_id: 'alice', role: 'dev', port: 40_001, duration_ms: 812.5, release });
    expect(await read('deploy', '--user', 'alice', '--release', '4')).toEqual(['alice: release 4 is healthy in the dev slot (812.5 ms); promote it with: npm run hypervisor -- promote --user alice']);

    answer('POST /admin/sandboxes/alice/swap', { user_id: 'alice', main: 'dev', dev: 'live', serving_after_ms: 2.5 });
    expect(await read('swap', '--user', 'alice')).toEqual(['alice: main -> dev slot, dev -> live slot, serving after 2.5 ms']);

    answer('POST /admin/sandboxes/alice/promote', { user_id: 'alice', main: 'dev', dev: 'live', serving_after_ms: 3, release, known_good: false, known_good_error: 'it served no healthy check yet' });
    expect(await read('promote', '--user', 'alice')).toEqual(['alice: main -> dev slot, release 4 serving after 3 ms, not known-good yet (it served no healthy check yet)']);
    answer('POST /admin/sandboxes/alice/promote', { user_id: 'alice', main: 'live', dev: 'dev', serving_after_ms: 3, release, known_good: true, known_good_error: null });
    expect(await read('promote', '--user', 'alice')).toEqual(['alice: main -> live slot, release 4 serving after 3 ms, known-good']);
  });
});
