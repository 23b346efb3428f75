import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execa, execaNode } from 'execa';
import { request } from 'undici';
import { hypervisorEnv, removeDir, startTestHypervisor, type TestHypervisor } from '../../fixtures/test-hypervisor.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { fromRoot, repoRoot } from '../paths.ts';
import { createUserSession } from './testing/user-traffic.ts';
import { routingAdmin, type ReleaseAnswer } from './testing/routing-admin.ts';
import { openDatabase } from '../store/database.ts';
import { SwitchHistory } from './switch-history.ts';

let hv: TestHypervisor;
let admin: ReturnType<typeof routingAdmin>;
let databaseUrl: string;
const started: string[] = [];

beforeAll(async () => {
  const { dir, env } = hypervisorEnv({ SANDBOX_RUNTIME: 'process', HYPERVISOR_KNOWN_GOOD_RETAIN: '2' });
  databaseUrl = env.HYPERVISOR_DATABASE_URL as string;
  hv = await startTestHypervisor({}, { dir, env });
  admin = routingAdmin(hv.admin);
});

afterAll(async () => {
  await hv?.close();
  if (hv) removeDir(hv.dir);
});

const cli = (...args: string[]) =>
  execaNode(fromRoot('hypervisor', 'main.ts'), args, { env: { HYPERVISOR_URL: hv.url, HYPERVISOR_ADMIN_TOKEN: hv.token }, extendEnv: false, reject: false });

describe('routing admin API', () => {
  it('sits behind the admin bearer token like every admin route', async () => {
    for (const [method, path] of [['GET', '/admin/releases'], ['POST', '/admin/rollback'], ['POST', '/admin/sandboxes/ann/swap'], ['GET', '/admin/sandboxes/ann/pointers']] as const) {
      const anonymous = await request(`${hv.url}${path}`, { method });
      expect(anonymous.statusCode, `${method} ${path}`).toBe(401);
      await anonymous.body.dump();
      const wrong = await request(`${hv.url}${path}`, { method, headers: { authorization: 'Bearer not-the-admin-token' } });
      expect(wrong.statusCode, `${method} ${path}`).toBe(403);
      await wrong.body.dump();
    }
    // A logged-in user's session grants nothing on admin routes.
    const { cookie } = createUserSession(databaseUrl);
    const withSession = await request(`${hv.url}/admin/releases`, { headers: { cookie } });
    expect(withSession.statusCode).toBe(401);
    await withSession.body.dump();
  });

  it('reports default pointers for a user never switched, and refuses a malformed user id', async () => {
    expect(await admin.pointers('fresh-user')).toEqual({ user_id: 'fresh-user', main: 'live', dev: 'dev', updated_at: null, slots: { live: null, dev: null } });
    const bad = await hv.admin<{ error: string }>('GET', '/admin/sandboxes/..%2Fetc/pointers');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/user id "..\/etc" is invalid/);
  });

  it('creates process releases with the checkout revision, lists them, marks known-good and keeps the last N retained', async () => {
    const revision = (await execa('git', ['rev-parse', 'HEAD'], { cwd: repoRoot })).stdout.trim();
    const made: ReleaseAnswer[] = [];
    for (const step of ['10', '20', '30']) made.push(await admin.createRelease({ runtime: 'process', config: { SANDBOX_CONDUCTOR_STEP_MS: step } }));
    expect(made[0]).toMatchObject({ runtime: 'process', image: '', image_ref: 'process', revision, status: 'candidate', known_good: false, config: { SANDBOX_CONDUCTOR_STEP_MS: '10' } });
    const marked: ReleaseAnswer[] = [];
    for (const release of made) {
      const answer = await hv.admin<ReleaseAnswer>('POST', `/admin/releases/${release.id}/known-good`, {});
      expect(answer.status).toBe(200);
      marked.push(answer.body);
    }
    expect(marked.at(-1), 'the answer for the newest one marked: known-good and among the last 2 retained').toMatchObject({ id: made[2]?.id, known_good: true, retained: true });
    const listed = await hv.admin<{ releases: ReleaseAnswer[]; retained: number[] }>('GET', '/admin/releases');
    expect(listed.body.retained).toEqual([made[2]?.id, made[1]?.id]);
    expect(listed.body.releases.find((r) => r.id === made[0]?.id)).toMatchObject({ known_good: true, retained: false });
  });

  it('refuses bad release input with what to do', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ runtime: 'docker' }, /release runtime must be one of process, podman; got "docker"/],
      [{ runtime: 'podman' }, /a podman release needs an image/],
      [{ runtime: 'podman', image: 'localhost/no-such-image:nope' }, /image "localhost\/no-such-image:nope" is not in podman's image store.*npm run image/],
      [{ runtime: 'process', config: { OPENAI_API_KEY: 'sk-x' } }, /sandbox config "OPENAI_API_KEY" is not allowed/],
      [{ runtime: 'process', config: { SANDBOX_CONDUCTOR_STEP_MS: 5 } }, /release config "SANDBOX_CONDUCTOR_STEP_MS" must be a string/],
      [{ runtime: 'process', colour: 'red' }, /unknown field\(s\) colour/],
      [{ runtime: 'podman', image: '--privileged' }, /image must be an image reference such as localhost\/choir-sandbox/],
      [{ runtime: 'podman', image: 'Local/Upper:1' }, /image must be an image reference/],
    ];
    for (const [body, message] of cases) {
      const answer = await hv.admin<{ error: string }>('POST', '/admin/releases', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error).toMatch(message);
    }
    const noSuch = await hv.admin<{ error: string; code: string }>('POST', '/admin/sandboxes/ann/deploy', { release_id: 9999 });
    expect(noSuch).toMatchObject({ status: 404, body: { code: 'release_not_found' } });
    const notAnId = await hv.admin<{ error: string }>('POST', '/admin/sandboxes/ann/deploy', { release_id: 'latest' });
    expect(notAnId.status).toBe(400);
    expect(notAnId.body.error).toMatch(/release_id must be a release id/);
    const candidate = await admin.createRelease({ runtime: 'process', note: 'never proven' });
    const unproven = await hv.admin<{ error: string; code: string }>('POST', '/admin/sandboxes/ann/rollback', { release_id: candidate.id });
    expect(unproven).toMatchObject({ status: 409, body: { code: 'no_known_good' } });
    expect(unproven.body.error).toMatch(new RegExp(`release ${candidate.id} is not known-good, so it is no rollback target`));
  });

  it('deploys, promotes and rolls back every user from the CLI, and records each switch', async () => {
    const first = await admin.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: '1.0.0-first' } });
    const second = await admin.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: '2.0.0-second' } });
    const users = [createUserSession(databaseUrl).userId, createUserSession(databaseUrl).userId];
    for (const userId of users) {
      started.push(userId);
      for (const release of [first, second]) {
        const deployed = await cli('deploy', '--user', userId, '--release', String(release.id));
        expect(deployed.exitCode, String(deployed.stderr)).toBe(0);
        expect(String(deployed.stdout)).toMatch(new RegExp(`release ${release.id} is healthy in the (live|dev) slot`));
        const promoted = await cli('promote', '--user', userId);
        expect(promoted.exitCode, String(promoted.stderr)).toBe(0);
        expect(String(promoted.stdout)).toMatch(new RegExp(`release ${release.id} serving after [\\d.]+ ms, known-good`));
      }
    }
    const all = await cli('rollback', '--all', '--reason', 'second is bad');
    expect(all.exitCode, String(all.stderr)).toBe(0);
    for (const userId of users) expect(String(all.stdout)).toMatch(new RegExp(`rolled back ${userId}: main -> (live|dev) slot, release ${first.id} \\(warm\\)`));
    const shown = await cli('pointers', '--user', users[0] ?? '');
    expect(shown.exitCode).toBe(0);
    expect(String(shown.stdout)).toMatch(/rollback by admin:cli:\S+: (live|dev) -> (live|dev) switched in [\d.]+ ms \(second is bad\)/);
    expect(String(shown.stdout)).toMatch(/promote by admin:cli:/);
    const metrics = await (await request(`${hv.url}/metrics`)).body.text();
    expect(metrics).toMatch(/choiros_route_switches_total\{action="rollback",outcome="switched"\} [1-9]/);
    expect(metrics).toMatch(/choiros_release_deploys_total\{outcome="ready"\} [1-9]/);
    for (const userId of started) for (const role of ['live', 'dev']) await hv.admin('POST', `/admin/sandboxes/${userId}/${role}/stop`);
  });

  it('the CLI says what is missing when it has no admin token or a bad argument', async () => {
    const noToken = await execaNode(fromRoot('hypervisor', 'main.ts'), ['rollback', '--user', 'ann'], { env: { HYPERVISOR_URL: hv.url }, extendEnv: false, reject: false });
    expect(noToken.exitCode).toBe(1);
    expect(String(noToken.stderr)).toMatch(/no admin token: set HYPERVISOR_ADMIN_TOKEN, or HYPERVISOR_ADMIN_TOKEN_FILE/);
    const both = await cli('rollback', '--user', 'ann', '--all');
    expect(both.exitCode).toBe(2);
    expect(String(both.stderr)).toMatch(/give exactly one of --user USER_ID or --all/);
    const noRelease = await cli('deploy', '--user', 'ann');
    expect(noRelease.exitCode).toBe(2);
    expect(String(noRelease.stderr)).toMatch(/--release is required\nusage: npm run hypervisor -- deploy --user USER_ID --release RELEASE_ID/);
    const unknownFlag = await cli('swap', '--user', 'ann', '--force');
    expect(unknownFlag.exitCode).toBe(2);
    expect(String(unknownFlag.stderr)).toMatch(/--force/);
    const refused = await cli('rollback', '--user', 'nobody-here', '--release', '9999');
    expect(refused.exitCode).toBe(1);
    expect(String(refused.stderr)).toMatch(/answered 404: release 9999 does not exist/);
  });
});

describe('routing admin API input bounds', () => {
  it('takes a switch history limit from 1 to 1000 and refuses others naming the range', async () => {
    expect((await hv.admin('GET', '/admin/switches?limit=1000')).status).toBe(200);
    expect((await hv.admin('GET', '/admin/sandboxes/ann/switches?limit=1')).status).toBe(200);
    for (const limit of ['0', '1001', '1.5', 'ten']) {
      const refused = await hv.admin<{ error: string }>('GET', `/admin/switches?limit=${limit}`);
      expect(refused.status, limit).toBe(400);
      expect(refused.body.error).toMatch(/limit must be a whole number from 1 to 1000/);
    }
  });

  it('lists the newest 100 switches when no limit is asked for', async () => {
    const db = openDatabase(databaseUrl);
    const history = new SwitchHistory(db);
    for (let n = 1; n <= 101; n += 1) {
      history.add({ userId: 'zed', action: 'swap', actor: 'admin:test', at: new Date().toISOString(), fromRole: 'live', fromRelease: null, toRole: 'dev', toRelease: null, reason: `z${n}`, outcome: 'refused', error: 'test' });
    }
    db.close();
    const listed = await hv.admin<{ switches: { reason: string }[] }>('GET', '/admin/sandboxes/zed/switches');
    expect(listed.body.switches).toHaveLength(100);
    expect(listed.body.switches[0]?.reason).toBe('z101');
    expect((await hv.admin<{ switches: unknown[] }>('GET', '/admin/sandboxes/zed/switches?limit=101')).body.switches).toHaveLength(101);
  });

  it("applies a user's switch history limit to that user's switches, whatever other users switched since", async () => {
    const db = openDatabase(databaseUrl);
    const history = new SwitchHistory(db);
    const add = (userId: string, reason: string) => history.add({ userId, action: 'swap', actor: 'admin:test', at: new Date().toISOString(), fromRole: 'live', fromRelease: null, toRole: 'dev', toRelease: null, reason, outcome: 'refused', error: 'test' });
    add('yan', 'yan-only');
    for (let n = 1; n <= 3; n += 1) add('xia', `xia-${n}`);
    db.close();
    const listed = await hv.admin<{ switches: { user_id: string; reason: string }[] }>('GET', '/admin/sandboxes/yan/switches?limit=2');
    expect(listed.body.switches.map((s) => [s.user_id, s.reason])).toEqual([['yan', 'yan-only']]);
  });

  it('refuses a release id that is not a positive whole number before looking it up', async () => {
    // A string is read as an id only when it is all digits (the CLI sends --release as text): not the exponent, hex or padded forms Number() would also take.
    for (const releaseId of [0, -1, 1.5, '1e4', '0x2710', ' 10000 ', '']) {
      const refused = await hv.admin<{ error: string }>('POST', '/admin/sandboxes/ann/deploy', { release_id: releaseId });
      expect(refused.status, JSON.stringify(releaseId)).toBe(400);
      expect(refused.body.error).toMatch(/release_id must be a release id \(a positive whole number/);
    }
  });

  it('takes a declared actor of up to 64 characters, trimmed, and refuses a longer one', async () => {
    const release = await admin.createRelease({ runtime: 'process', note: 'actor bounds' });
    expect((await hv.admin('POST', `/admin/releases/${release.id}/known-good`, { actor: 'a'.repeat(64) })).status).toBe(200);
    const long = await hv.admin<{ error: string }>('POST', `/admin/releases/${release.id}/known-good`, { actor: 'a'.repeat(65) });
    expect(long.status).toBe(400);
    expect(long.body.error).toMatch(/actor must be a non-empty string of at most 64 characters/);
    expect((await hv.admin('POST', `/admin/releases/${release.id}/known-good`, { actor: '  ops-bot  ' })).status).toBe(200);
    expect(hv.logs.some((line) => line.event === 'routing.known_good' && line.by === 'admin:ops-bot')).toBe(true);
  });
});

describe('HYPERVISOR_KNOWN_GOOD_RETAIN', () => {
  const base = { HYPERVISOR_ADMIN_TOKEN: 'a-long-enough-admin-token', HYPERVISOR_DATABASE_URL: 'sqlite::memory:' };
  it('defaults to 5 and names the variable when it is not a whole number from 1', () => {
    expect(loadConfig(base).routing.knownGoodRetain).toBe(5);
    expect(loadConfig({ ...base, HYPERVISOR_KNOWN_GOOD_RETAIN: '12' }).routing.knownGoodRetain).toBe(12);
    expect(() => loadConfig({ ...base, HYPERVISOR_KNOWN_GOOD_RETAIN: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, HYPERVISOR_KNOWN_GOOD_RETAIN: 'five' })).toThrow(/HYPERVISOR_KNOWN_GOOD_RETAIN="five" is invalid: use a whole number from 1 to 1000 \(default 5\)/);
  });
});

describe('POST /admin/rollback for every user', () => {
  let fresh: TestHypervisor;
  beforeAll(async () => {
    fresh = await startTestHypervisor({ SANDBOX_RUNTIME: 'process' });
  });
  afterAll(async () => {
    await fresh?.close();
    if (fresh) removeDir(fresh.dir);
  });

  it('answers 422 with every user\'s result when one user rolled back and another could not', async () => {
    const steps = routingAdmin(fresh.admin);
    const older = await steps.createRelease({ runtime: 'process', note: 'older' });
    const newer = await steps.createRelease({ runtime: 'process', note: 'newer' });
    // ann serves newer with older known-good behind it; ben serves older, the oldest known-good there is.
    await steps.release('ann', older.id);
    await steps.release('ann', newer.id);
    await steps.release('ben', older.id);
    const answer = await fresh.admin<{ results: { user_id: string; ok: boolean; code?: string }[] }>('POST', '/admin/rollback', { reason: 'partial' });
    expect(answer.status, JSON.stringify(answer.body)).toBe(422);
    expect(answer.body.results.map((r) => [r.user_id, r.ok, r.code])).toEqual([
      ['ann', true, undefined],
      ['ben', false, 'no_known_good'],
    ]);
    for (const userId of ['ann', 'ben']) for (const role of ['live', 'dev']) await fresh.admin('POST', `/admin/sandboxes/${userId}/${role}/stop`);
  });

  it('records a swap asked for with no reason under the reason "swap"', async () => {
    const steps = routingAdmin(fresh.admin);
    await steps.release('cy', (await steps.createRelease({ runtime: 'process', note: 'cy first' })).id);
    await steps.release('cy', (await steps.createRelease({ runtime: 'process', note: 'cy second' })).id);
    const swapped = await fresh.admin<{ switch: { action: string; reason: string } }>('POST', '/admin/sandboxes/cy/swap', {});
    expect(swapped.status, JSON.stringify(swapped.body)).toBe(200);
    expect(swapped.body.switch).toMatchObject({ action: 'swap', reason: 'swap' });
    for (const role of ['live', 'dev']) await fresh.admin('POST', `/admin/sandboxes/cy/${role}/stop`);
  });

  it('with release_id rolls each user back to that known-good release, not to the one before what main serves', async () => {
    const steps = routingAdmin(fresh.admin);
    const [oldest, middle, newest] = [await steps.createRelease({ runtime: 'process', note: 'dee oldest' }), await steps.createRelease({ runtime: 'process', note: 'dee middle' }), await steps.createRelease({ runtime: 'process', note: 'dee newest' })];
    for (const release of [oldest, middle, newest]) await steps.release('dee', release.id);
    const answer = await fresh.admin<{ results: { user_id: string; ok: boolean; release?: { id: number } }[] }>('POST', '/admin/rollback', { reason: 'to the oldest', release_id: oldest.id });
    expect(answer.body.results.find((r) => r.user_id === 'dee'), JSON.stringify(answer.body)).toMatchObject({ ok: true, release: { id: oldest.id } });
    for (const userId of answer.body.results.map((r) => r.user_id)) for (const role of ['live', 'dev']) await fresh.admin('POST', `/admin/sandboxes/${userId}/${role}/stop`);
  });
});
