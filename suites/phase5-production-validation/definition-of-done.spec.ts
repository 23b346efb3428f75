import { test, expect } from '../../fixtures/production-test.ts';
import { DesktopPage, roleShown } from '../../fixtures/desktop-page.ts';
import { releaseBaseOf } from '../../fixtures/release-base.ts';
import { underTraffic } from '../../fixtures/rollback-rehearsal.ts';
import { loadConfig } from '../../hypervisor/config.ts';
import { defaultRoutingOptions } from '../../hypervisor/routing/context.ts';
import { rollbackBoundMs as boundOf } from '../../hypervisor/routing/time-bounds.ts';

// The global definition of done, proved again against Phase 5's target (the deployed host, or the
// Phase 4 host stand-in through Caddy's TLS), with gate users removed at the end.

// A rollback is bounded by the hypervisor's own limits (its defaults: the gate's hypervisor sets none
// of them higher): stop and start the standby, gate it, drain the old target, plus 10 s for the runtime's
// own work. Past that it must have failed, not hung.
const rollbackBoundMs = boundOf({ ...loadConfig({ HYPERVISOR_ADMIN_TOKEN: 'only-for-the-default-limits' }).sandboxes, ...defaultRoutingOptions }, 10_000);


test('One user can run `live` and `dev` sandboxes concurrently behind hypervisor.', async ({ hostTarget: target, hostRequests: request, page, passkey, desktop, gateUsers, evidence }) => {
  void passkey;
  await evidence.provenOn(target.provenOn);
  const signedInUser = await gateUsers.register(page);
  const devPage = await page.context().newPage();
  const devDesktop = new DesktopPage(devPage);

  await test.step('the live desktop at / and the dev desktop at /dev/ are open side by side', async () => {
    await desktop.open(`${target.url}/`);
    await devDesktop.open(`${target.url}/dev/`);
    await expect(page.getByTestId('sandbox-role'), roleShown).toHaveText('live');
    await expect(devPage.getByTestId('sandbox-role'), roleShown).toHaveText('dev');
  });

  await test.step("both sandboxes run at once, in the hypervisor's view", async () => {
    const live = await target.admin.sandbox(signedInUser.userId, 'live');
    const dev = await target.admin.sandbox(signedInUser.userId, 'dev');
    expect([live?.status, dev?.status]).toEqual(['running', 'running']);
    expect(live?.port).not.toBe(dev?.port);
    await evidence.json('sandboxes', { live, dev });
  });

  const runs = await test.step('a task runs in each of them at the same time', async () => {
    const [live, dev] = await Promise.all([desktop.runTask('Gate: a task in live'), devDesktop.runTask('Gate: a task in dev')]);
    expect([live.status, dev.status]).toEqual(['completed', 'completed']);
    await evidence.screenshot(page, 'live-desktop');
    await evidence.screenshot(devPage, 'dev-desktop');
    return { live: live.runId, dev: dev.runId };
  });

  await test.step('each role keeps its own runs', async () => {
    const status = async (prefix: string, runId: string) => (await request.get(`${target.url}${prefix}/conductor/runs/${runId}`)).status();
    expect(await status('', runs.live)).toBe(200);
    expect(await status('/dev', runs.dev)).toBe(200);
    expect(await status('/dev', runs.live)).toBe(404);
    expect(await status('', runs.dev)).toBe(404);
  });
});

test('Hypervisor can route/swap between live/dev for rollback.', async ({ hostTarget: target, hostRequests: request, page, passkey, desktop, gateUsers, evidence }) => {
  void passkey;
  await evidence.provenOn(target.provenOn);
  const user = (await gateUsers.register(page)).userId;
  const runStatus = async (prefix: string, runId: string) => (await request.get(`${target.url}${prefix}/conductor/runs/${runId}`)).status();

  const runId = await test.step('the user has a run in live (at /) and a dev sandbox at /dev/', async () => {
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask('Gate: data in live before the swap');
    expect(outcome.status).toBe('completed');
    const dev = await request.get(`${target.url}/dev/health`);
    expect(dev.json()).toMatchObject({ status: 'healthy', instance_role: 'dev' });
    return outcome.runId;
  });

  await test.step('swap: / now serves the dev sandbox and /dev/ the live one, without a failed request', async () => {
    const { result: swapped, traffic: report } = await underTraffic(request, `${target.url}/`, () => target.admin.swap(user, 'gate: swap to dev'));
    await evidence.json('1-swap', { swapped, serving: report });
    expect(swapped).toMatchObject({ main: 'dev', dev: 'live' });
    expect(report.failures).toEqual([]);
    expect(await runStatus('', runId)).toBe(404);
    expect(await runStatus('/dev', runId)).toBe(200);
    expect((await request.get(`${target.url}/dev/health`)).json()).toMatchObject({ instance_role: 'live' });
    expect(await target.admin.pointers(user)).toMatchObject({ main: 'dev', dev: 'live' });
  });

  await test.step('swapping back (the rollback) restores the live route and its data', async () => {
    const { result: swapped, traffic: report } = await underTraffic(request, `${target.url}/`, () => target.admin.swap(user, 'gate: roll back to live'));
    await evidence.json('2-swap-back', { swapped, serving: report });
    expect(swapped).toMatchObject({ main: 'live', dev: 'dev' });
    expect(report.failures).toEqual([]);
    expect(await runStatus('', runId)).toBe(200);
  });

  await test.step('both switches are recorded, durably', async () => {
    const { switches } = await target.admin.switches(user);
    await evidence.json('3-switch-history', switches);
    expect(switches.filter((s) => s.action === 'swap' && s.outcome === 'switched')).toHaveLength(2);
    expect(await target.admin.pointers(user)).toMatchObject({ main: 'live', dev: 'dev' });
  });
});

test('Prior known-good config/image can be restored in bounded time.', async ({ hostTarget: target, hostRequests: request, page, passkey, desktop, gateUsers, evidence }) => {
  void passkey;
  await evidence.provenOn(target.provenOn);
  const user = (await gateUsers.register(page)).userId;
  // The runtime (and podman's image) the host runs the user's sandbox with: what it reports, no podman assumed.
  const base = await releaseBaseOf(target.admin, user);

  const knownGood = await test.step('release K (image + config) serves the user and becomes known-good', async () => {
    const release = await target.admin.createRelease({ ...base, config: { SANDBOX_VERSION: 'gate-known-good' }, note: 'gate: K' });
    await target.admin.deploy(user, release.id);
    const promoted = await target.admin.promote(user, 'gate: promote K');
    expect(promoted).toMatchObject({ known_good: true, health: { version: 'gate-known-good' } });
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask('Gate: data written while K serves');
    expect(outcome.status).toBe('completed');
    return { release, runId: outcome.runId };
  });

  await test.step('a newer release B (another config) replaces it on the live route', async () => {
    const release = await target.admin.createRelease({ ...base, config: { SANDBOX_VERSION: 'gate-newer', SANDBOX_CONDUCTOR_STEP_MS: '10' }, note: 'gate: B' });
    await target.admin.deploy(user, release.id);
    const promoted = await target.admin.promote(user, 'gate: promote B');
    expect(promoted).toMatchObject({ release: { id: release.id }, health: { version: 'gate-newer' } });
  });

  await test.step('one rollback restores K within the bound, and the route keeps serving', async () => {
    let elapsedMs = 0;
    const { result: rolledBack, traffic: report } = await underTraffic(request, `${target.url}/`, async () => {
      const started = performance.now();
      const answer = await target.admin.rollback(user, 'gate: restore the known-good release');
      elapsedMs = performance.now() - started;
      return answer;
    });
    evidence.timing('rollback', elapsedMs);
    await evidence.json('rollback', { answer: rolledBack, elapsed_ms: Math.round(elapsedMs), bound_ms: rollbackBoundMs, serving: report });
    expect(rolledBack).toMatchObject({ release: { id: knownGood.release.id, known_good: true }, health: { version: 'gate-known-good' } });
    expect(rolledBack.duration_ms).toEqual(expect.any(Number));
    expect(elapsedMs).toBeLessThan(rollbackBoundMs);
    expect(report.failures).toEqual([]);
  });

  await test.step('K serves again, with the data it had', async () => {
    const run = await request.get(`${target.url}/conductor/runs/${knownGood.runId}`);
    expect(run.status()).toBe(200);
    expect(run.json()).toMatchObject({ status: 'completed' });
    const pointers = await target.admin.pointers(user);
    expect(pointers.slots[pointers.main]).toMatchObject({ release_id: knownGood.release.id, state: 'ready' });
  });
});
