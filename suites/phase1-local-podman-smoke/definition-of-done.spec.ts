import { test, expect } from '../../fixtures/gate-test.ts';
import { DesktopPage, roleShown } from '../../fixtures/desktop-page.ts';
import { underTraffic } from '../../fixtures/rollback-rehearsal.ts';
import { AdminCallError } from '../../hypervisor/admin-client/admin-call-error.ts';
import { attemptSwap, attemptSwitch, expectRefusedAndUnchanged, settled, swapAttemptEvidence } from '../../fixtures/refused-swap.ts';
import { openRouteSocket, type RouteSocket } from '../../fixtures/route-socket.ts';
import { releaseBaseOf } from '../../fixtures/release-base.ts';
import { holdRequest } from '../../fixtures/held-request.ts';
import { refusedDeploy } from '../../fixtures/refused-deploy.ts';
import { imagePin } from '../../fixtures/image-pin.ts';
import { runOperatorCli } from '../../fixtures/operator-cli.ts';
import { imageOfItsOwn } from '../../fixtures/image-of-its-own.ts';
import { promoteSummary, swapSummary } from '../../fixtures/operator-summary.ts';
import { sessionCookieHeader } from '../../fixtures/user-session.ts';
import { processTree } from '../../fixtures/sandbox-processes.ts';
import { loadConfig } from '../../hypervisor/config.ts';
import { defaultRoutingOptions, switchCloseCode } from '../../hypervisor/routing/context.ts';
import { rollbackBoundMs as boundOf } from '../../hypervisor/routing/time-bounds.ts';
import { expectSwitchLogsMatchRows, expectSwitchNamesSlotReleases, switchLogsCover } from '../../fixtures/switch-releases.ts';
import { whenLogged } from '../../fixtures/hypervisor-log.ts';
import { expectNewestKnownGoodRetained } from '../../fixtures/retained-releases.ts';
import { missingImage } from '../../fixtures/unstartable-sandbox.ts';

// The global definition of done, proved on the local target (Phase 5 proves it again in production).

// A rollback is bounded by the hypervisor's own limits (its defaults: the gate's hypervisor sets none
// of them higher): stop and start the standby, gate it, drain the old target, plus 10 s for podman's
// own work. Past that it must have failed, not hung.
// The number of known-good releases the hypervisor keeps (HYPERVISOR_KNOWN_GOOD_RETAIN): its default, the gate's hypervisor sets none.
const knownGoodRetain = loadConfig({ HYPERVISOR_ADMIN_TOKEN: 'only-for-the-default-limits' }).routing.knownGoodRetain;
const rollbackBoundMs = boundOf({ ...loadConfig({ HYPERVISOR_ADMIN_TOKEN: 'only-for-the-default-limits' }).sandboxes, ...defaultRoutingOptions }, 10_000);


test('One user can run `live` and `dev` sandboxes concurrently behind hypervisor.', async ({ target, page, desktop, signedInUser, evidence, podman }) => {
  const devPage = await page.context().newPage();
  const devDesktop = new DesktopPage(devPage);

  await test.step('the live desktop at / and the dev desktop at /dev/ are open side by side', async () => {
    await desktop.open(`${target.url}/`);
    await devDesktop.open(`${target.url}/dev/`);
    await expect(page.getByTestId('sandbox-role'), roleShown).toHaveText('live');
    await expect(devPage.getByTestId('sandbox-role'), roleShown).toHaveText('dev');
  });

  await test.step("both sandboxes run at once, in the hypervisor's view and in podman's", async () => {
    const live = await target.admin.sandbox(signedInUser.userId, 'live');
    const dev = await target.admin.sandbox(signedInUser.userId, 'dev');
    expect([live?.status, dev?.status]).toEqual(['running', 'running']);
    expect(live?.port).not.toBe(dev?.port);
    if (target.local) {
      expect((await podman.running(signedInUser.userId, 'live'))?.State).toBe('running');
      expect((await podman.running(signedInUser.userId, 'dev'))?.State).toBe('running');
    }
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
    const status = async (prefix: string, runId: string) => (await page.request.get(`${target.url}${prefix}/conductor/runs/${runId}`)).status();
    expect(await status('', runs.live)).toBe(200);
    expect(await status('/dev', runs.dev)).toBe(200);
    expect(await status('/dev', runs.live)).toBe(404);
    expect(await status('', runs.dev)).toBe(404);
  });
});

test('Hypervisor can route/swap between live/dev for rollback.', async ({ target, page, desktop, signedInUser, evidence, podman, hypervisorLog }) => {
  const user = signedInUser.userId;
  const runStatus = async (prefix: string, runId: string) => (await page.request.get(`${target.url}${prefix}/conductor/runs/${runId}`)).status();

  const runId = await test.step('the user has a run in live (at /) and a dev sandbox at /dev/', async () => {
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask('Gate: data in live before the swap');
    expect(outcome.status).toBe('completed');
    const dev = await page.request.get(`${target.url}/dev/health`);
    expect(await dev.json()).toMatchObject({ status: 'healthy', instance_role: 'dev' });
    return outcome.runId;
  });

  const pageHeaders = async (): Promise<Record<string, string>> => {
    return { cookie: await sessionCookieHeader(page, target.url), origin: target.url };
  };

  // Every WebSocket these steps open, closed however they end (also when opening the second one fails).
  const openSockets: RouteSocket[] = [];
  const opened = (socket: RouteSocket): RouteSocket => (openSockets.push(socket), socket);
  try {
    const sockets = await test.step('a WebSocket is open on each route: /ws reaches the live sandbox, /dev/ws the dev one', async () => {
      const headers = await pageHeaders();
      const main = opened(await openRouteSocket(`${target.url}/ws`, headers));
      const dev = opened(await openRouteSocket(`${target.url}/dev/ws`, headers));
      expect(await main.whichSandbox(), 'the sandbox behind /ws').toEqual({ role: 'live' });
      expect(await dev.whichSandbox(), 'the sandbox behind /dev/ws').toEqual({ role: 'dev' });
      return { main, dev };
    });

    await test.step('swap: / now serves the dev sandbox and /dev/ the live one, without a failed request', async () => {
      const before = await target.admin.pointers(user);
      const { result: swapped, traffic: report } = await underTraffic(page.request, `${target.url}/`, () => target.admin.swap(user, 'gate: swap to dev'));
      await evidence.json('1-swap', { swapped, serving: report });
      expect(swapped).toMatchObject({ main: 'dev', dev: 'live' });
      expectSwitchNamesSlotReleases(swapped.switch, { before, after: await target.admin.pointers(user) }, 'the swap');
      expect(report.failures).toEqual([]);
      expect(await runStatus('', runId)).toBe(404);
      expect(await runStatus('/dev', runId)).toBe(200);
      expect(await (await page.request.get(`${target.url}/dev/health`)).json()).toMatchObject({ instance_role: 'live' });
      expect(await target.admin.pointers(user)).toMatchObject({ main: 'dev', dev: 'live' });
    });

    await test.step(`the swap closed the WebSockets of both routes with ${switchCloseCode} (each route now reaches another sandbox); reconnected, /ws reaches dev and /dev/ws live`, async () => {
      // Asked after the swap answered: the hypervisor closes before it answers, so a close arrives before any reply.
      const before = { main: await sockets.main.whichSandbox(), dev: await sockets.dev.whichSandbox() };
      const headers = await pageHeaders();
      const again = { main: opened(await openRouteSocket(`${target.url}/ws`, headers)), dev: opened(await openRouteSocket(`${target.url}/dev/ws`, headers)) };
      const after = { main: await again.main.whichSandbox(), dev: await again.dev.whichSandbox() };
      await evidence.json('1b-websockets-across-the-swap', { opened_before_the_swap: before, reconnected: after });
      expect(before.main, 'the WebSocket opened on /ws before the swap (to live, which / no longer reaches)').toMatchObject({ closed: { code: switchCloseCode } });
      expect(before.dev, 'the WebSocket opened on /dev/ws before the swap (to dev, which /dev/ no longer reaches)').toMatchObject({ closed: { code: switchCloseCode } });
      expect(after, 'the sandboxes behind /ws and /dev/ws after reconnecting').toEqual({ main: { role: 'dev' }, dev: { role: 'live' } });
    });
  } finally {
    for (const socket of openSockets) socket.close();
  }

  await test.step('swapping back (the rollback) restores the live route and its data', async () => {
    const before = await target.admin.pointers(user);
    const { result: swapped, traffic: report } = await underTraffic(page.request, `${target.url}/`, () => target.admin.swap(user, 'gate: roll back to live'));
    await evidence.json('2-swap-back', { swapped, serving: report });
    expect(swapped).toMatchObject({ main: 'live', dev: 'dev' });
    expectSwitchNamesSlotReleases(swapped.switch, { before, after: await target.admin.pointers(user) }, 'the swap back');
    expect(report.failures).toEqual([]);
    expect(await runStatus('', runId)).toBe(200);
  });

  await test.step('both switches are recorded, durably', async () => {
    const { switches } = await target.admin.switches(user);
    await evidence.json('3-switch-history', switches);
    const swaps = switches.filter((s) => s.action === 'swap' && s.outcome === 'switched');
    expect(swaps).toHaveLength(2);
    // Newest first: who asked, why, from which slot to which, and that the old target drained.
    expect(swaps, 'the two swaps as the history records them').toEqual([
      expect.objectContaining({ user_id: user, actor: 'admin:gate', reason: 'gate: roll back to live', from: { role: 'dev', release_id: null }, to: { role: 'live', release_id: null }, error: null, drained: true, duration_ms: expect.any(Number) }),
      expect.objectContaining({ user_id: user, actor: 'admin:gate', reason: 'gate: swap to dev', from: { role: 'live', release_id: null }, to: { role: 'dev', release_id: null }, error: null, drained: true, duration_ms: expect.any(Number) }),
    ]);
    expect(await target.admin.pointers(user)).toMatchObject({ main: 'live', dev: 'dev' });
  });

  // The admin API's promise (hypervisor/routing/README.md): GET /admin/switches, every user's, `?limit=` newest first.
  await test.step("GET /admin/switches lists every user's switches newest first: ids descending, ?limit=N answers the N newest, and this user's switches in the order its own history gives", async () => {
    const all = await target.admin.answer<{ switches: Array<{ id: number; user_id: string }> }>('GET', '/admin/switches?limit=1000');
    const two = await target.admin.answer<{ switches: Array<{ id: number; user_id: string }> }>('GET', '/admin/switches?limit=2');
    const own = (await target.admin.switches(user)).switches.map((s) => s.id);
    await evidence.json('3a-every-users-switch-history', { all: all.body, limit_2: two.body, this_users: own });
    expect(all.status, 'GET /admin/switches?limit=1000').toBe(200);
    expect(two.status, 'GET /admin/switches?limit=2').toBe(200);
    const ids = all.body.switches.map((s) => s.id);
    expect(ids.length, 'switches listed (this user has swapped twice)').toBeGreaterThanOrEqual(2);
    expect(ids, 'the ids as listed: newest (highest) first').toEqual([...ids].sort((a, b) => b - a));
    expect(two.body.switches.map((s) => s.id), 'limit=2: the two newest of every user').toEqual(ids.slice(0, 2));
    expect(all.body.switches.filter((s) => s.user_id === user).map((s) => s.id), "this user's switches among every user's, against GET /admin/sandboxes/USER/switches").toEqual(own);
  });

  await test.step("the history's duration of a swap is that swap's, in milliseconds: the duration the swap answered with, at least the time until the new main served (its serving_after_ms), at most the admin call the gate timed, recorded inside that call", async () => {
    // The history's at has millisecond precision and durations tenths: a few ms either way.
    const slackMs = 5;
    const timed: { reason: string; calledAt: number; answeredAt: number; answer: Awaited<ReturnType<typeof target.admin.swap>> }[] = [];
    for (const reason of ['gate: a timed swap to dev', 'gate: a timed swap back to live']) {
      const calledAt = Date.now();
      const answer = await target.admin.swap(user, reason);
      timed.push({ reason, calledAt, answeredAt: Date.now(), answer });
    }
    const recorded = (await target.admin.switches(user, 2)).switches;
    await evidence.json('3c-timed-switch-durations', { timed, recorded });
    for (const { reason, calledAt, answeredAt, answer } of timed) {
      const entry = recorded.find((s) => s.reason === reason);
      expect(entry, `the history row of "${reason}"`).toBeDefined();
      const duration = entry?.duration_ms ?? Number.NaN;
      const at = Date.parse(entry?.at ?? '');
      expect(duration, `"${reason}": the history's duration_ms against the duration_ms the swap answered with`).toBeCloseTo(answer.duration_ms ?? Number.NaN, 0);
      expect(duration, `"${reason}": the history's duration_ms against the swap's serving_after_ms ${answer.serving_after_ms}`).toBeGreaterThanOrEqual((answer.serving_after_ms ?? Number.POSITIVE_INFINITY) - slackMs);
      expect(duration, `"${reason}": the history's duration_ms against the ${answeredAt - calledAt} ms the admin call took`).toBeLessThanOrEqual(answeredAt - calledAt + slackMs);
      expect(at, `"${reason}": the history's at (${entry?.at}) inside the admin call`).toBeGreaterThanOrEqual(calledAt - slackMs);
      expect(at, `"${reason}": the history's at (${entry?.at}) inside the admin call`).toBeLessThanOrEqual(answeredAt + slackMs);
    }
    expect(await target.admin.pointers(user)).toMatchObject({ main: 'live', dev: 'dev' });
  });

  await test.step("the operator's CLI swaps as the admin API does: `swap --user X --json` flips main, and `pointers --user X --history 1 --json` shows the admin API's pointers and the swap as the newest history row (action, outcome, from, to); a missing --user exits 2 naming it; swapped back by the CLI without --json, whose summary names where main and dev point as the admin API then does", async () => {
    const before = await target.admin.pointers(user);
    const swapped = await runOperatorCli(target.admin, ['swap', '--user', user, '--reason', 'gate: the operator swaps']);
    const after = await target.admin.pointers(user);
    const newest = (await target.admin.switches(user, 1)).switches;
    const shown = await runOperatorCli(target.admin, ['pointers', '--user', user, '--history', '1']);
    const usage = await runOperatorCli(target.admin, ['swap', '--reason', 'gate: no user named']);
    await evidence.json('1c-operator-cli-swap', { swap: swapped, pointers: shown, usage_error: usage, admin_api: { before, after, newest_switch: newest } });
    expect(swapped.exitCode, `${swapped.commandLine}: ${swapped.stderr}`).toBe(0);
    expect(swapped.json, 'the CLI swap answer').toMatchObject({ user_id: user, main: before.dev, dev: before.main });
    expect(after, 'the pointers after the CLI swap (GET /admin/sandboxes/USER/pointers)').toMatchObject({ main: before.dev, dev: before.main });
    expect(newest, 'the newest switch (GET .../switches?limit=1)').toEqual([
      expect.objectContaining({ action: 'swap', outcome: 'switched', actor: expect.stringMatching(/^admin:cli:/), reason: 'gate: the operator swaps', from: expect.objectContaining({ role: before.main }), to: expect.objectContaining({ role: before.dev }) }),
    ]);
    expect(shown.exitCode, `${shown.commandLine}: ${shown.stderr}`).toBe(0);
    expect(shown.json, 'pointers --history 1 as the CLI prints it, against the admin API').toEqual({ ...after, switches: newest });
    expect(usage.exitCode, usage.commandLine).toBe(2);
    expect(usage.stderr, 'the usage error names the missing flag').toContain('--user');
    const back = await runOperatorCli(target.admin, ['swap', '--user', user, '--reason', 'gate: the operator swaps back'], { json: false });
    const afterBack = await target.admin.pointers(user);
    const [swappedBack] = (await target.admin.switches(user, 1)).switches;
    await evidence.json('1d-operator-cli-swap-summary', { run: back, read: swapSummary(back.stdout), admin_api: { pointers: afterBack, newest_switch: swappedBack } });
    expect(back.exitCode, `${back.commandLine}: ${back.stderr}`).toBe(0);
    expect(afterBack, 'the pointers after the CLI swapped back').toMatchObject({ main: before.main, dev: before.dev });
    expect(swapSummary(back.stdout), `the summary \`swap\` printed (${back.stdout.trim()}), against GET .../pointers after it`).toEqual({ user_id: user, main: afterBack.main, dev: afterBack.dev, serving_after_ms: expect.any(Number) });
    expect(swapSummary(back.stdout)?.serving_after_ms, "the summary's serving after N ms: within the swap's duration_ms in the history").toBeLessThanOrEqual(swappedBack?.duration_ms ?? -1);
  });

  await test.step('a request in flight on main when the swap is asked completes whole, and the swap answers only after it', async () => {
    const cookie = await sessionCookieHeader(page, target.url);
    // The held request and the swap travel on two connections: when the request reaches the hypervisor
    // after the swap, it goes to the new main and the attempt proves nothing either way, so it is tried again.
    for (let attempt = 1; ; attempt += 1) {
      const order: string[] = [];
      // Half its body sent: in flight to live (main) until released, with nothing slow in the sandbox.
      const held = holdRequest(`${target.url}/conductor/execute`, { cookie, origin: target.url }, JSON.stringify({ objective: 'Gate: a request in flight across the swap', desktop_id: 'gate-drain' }));
      try {
        await held.sent;
        await page.waitForTimeout(200);
        const answered = held.answer.then((answer) => (order.push('held request answered'), answer));
        const swapping = target.admin.swap(user, 'gate: swap with a request in flight').then((swapped) => (order.push('swap answered'), swapped));
        await expect.poll(async () => (await target.admin.pointers(user)).main, { message: 'the swap moved main to dev' }).toBe('dev');
        order.push('main switched');
        held.release();
        const [answer, swapped] = await Promise.all([answered, swapping]);
        expect(answer.status, `the held request's answer: ${answer.body}`).toBe(202);
        expect(JSON.parse(answer.body), 'the whole body of the held answer').toMatchObject({ run_id: expect.any(String) });
        const { run_id: heldRun } = JSON.parse(answer.body) as { run_id: string };
        const onOldMain = (await runStatus('/dev', heldRun)) === 200;
        await evidence.json(`3b-swap-with-a-request-in-flight-${attempt}`, { order, held: answer, served_by_old_main: onOldMain, swapped });
        if (!onOldMain && attempt < 3) {
          expect(await target.admin.swap(user, 'gate: back to live, the held request arrived after the swap')).toMatchObject({ main: 'live', dev: 'dev' });
          continue;
        }
        expect(onOldMain, 'the held request was served by the old main (live, now at /dev/), in one of 3 attempts').toBe(true);
        expect(order, 'the swap waits for what was in flight on the old main').toEqual(['main switched', 'held request answered', 'swap answered']);
        expect(swapped).toMatchObject({ main: 'dev', dev: 'live', drained: true });
        expect(await target.admin.swap(user, 'gate: back to live after the drain check')).toMatchObject({ main: 'live', dev: 'dev' });
        return;
      } finally {
        held.abort();
      }
    }
  });

  if (target.local) {
    await test.step('a swap to a dev sandbox that runs but does not answer healthy is refused and changes nothing', async () => {
      const dev = await podman.inspect(user, 'dev');
      expect(dev.State.Running, 'the dev container runs').toBe(true);
      const attempt = await attemptSwap(target.admin, user, 'gate: swap to a frozen dev', async (swap) => {
        // Frozen, not dead: podman and the hypervisor still see it running, but it answers nothing.
        const frozen = processTree(dev.State.Pid);
        for (const pid of frozen) process.kill(pid, 'SIGSTOP');
        try {
          expect(await target.admin.sandbox(user, 'dev')).toMatchObject({ status: 'running' });
          expect((await podman.inspect(user, 'dev')).State.Running).toBe(true);
          return await swap();
        } finally {
          for (const pid of frozen) process.kill(pid, 'SIGCONT');
        }
      });
      await evidence.json('4-refused-swap', swapAttemptEvidence(attempt));
      expectRefusedAndUnchanged(attempt);
      expect(await runStatus('', runId), 'the live run is still served at /').toBe(200);
    });
  }

  await test.step('a swap to a dev sandbox that runs and answers /health with 200, but not "healthy", is refused and changes nothing', async () => {
    // The workload's diagnostic release setting (hypervisor/workload/README.md): its first /health answer
    // (the start's readiness check) says healthy, every later one "degraded" with HTTP 200.
    await target.admin.start(user, 'dev', { config: { SANDBOX_HEALTHY_ANSWERS: '1' } });
    try {
      expect(await target.admin.sandbox(user, 'dev'), 'the dev sandbox runs').toMatchObject({ status: 'running' });
      const devHealth = await page.request.get(`${target.url}/dev/health`);
      const devSays = (await devHealth.json()) as { status: string; instance_role: string };
      expect(devHealth.status(), 'GET /dev/health answers').toBe(200);
      expect(devSays).toMatchObject({ instance_role: 'dev' });
      expect(devSays.status, 'the dev sandbox no longer says healthy').not.toBe('healthy');
      const attempt = await attemptSwap(target.admin, user, 'gate: swap to a degraded dev');
      await evidence.json('5-refused-swap-degraded', { dev_health: devSays, ...swapAttemptEvidence(attempt) });
      expectRefusedAndUnchanged(attempt);
      expect(await runStatus('', runId), 'the live run is still served at /').toBe(200);
      expect(await (await page.request.get(`${target.url}/dev/health`)).json(), '/dev/ still reaches the dev sandbox').toMatchObject({ instance_role: 'dev' });
    } finally {
      // Back to an ordinary dev sandbox (an empty config replaces the recorded one).
      await target.admin.start(user, 'dev', { config: {} });
    }
  });

  await test.step('a promote to a release whose /health says healthy but whose API (GET /conductor/runs, the smoke request) answers 500 with JSON is refused and changes nothing', async () => {
    // The workload's diagnostic release setting (hypervisor/workload/README.md): the deploy's smoke
    // request gets the run list, every later GET /conductor/runs a 500 with a JSON error.
    const release = await target.admin.createRelease({ ...(await releaseBaseOf(target.admin, user)), config: { SANDBOX_RUNS_OK_ANSWERS: '1' }, note: 'gate: its API answers 500 after the deploy' });
    try {
      expect(await target.admin.deploy(user, release.id), 'the deploy (its smoke request answered 200)').toMatchObject({ role: 'dev' });
      const devRuns = await page.request.get(`${target.url}/dev/conductor/runs?limit=1`);
      const devRunsBody: unknown = await devRuns.json();
      expect(devRuns.status(), 'GET /dev/conductor/runs now answers').toBe(500);
      expect(devRunsBody, 'with a JSON error').toMatchObject({ error: expect.any(String) });
      expect(await (await page.request.get(`${target.url}/dev/health`)).json(), '/dev/health').toMatchObject({ status: 'healthy', instance_role: 'dev' });
      const attempt = await attemptSwitch(target.admin, user, () => settled(target.admin.promote(user, 'gate: promote a release whose API answers 500')));
      await evidence.json('6-refused-promote-api-error', { release, dev_runs: { status: devRuns.status(), body: devRunsBody }, ...swapAttemptEvidence(attempt) });
      expectRefusedAndUnchanged(attempt, 'promote');
      expect(await runStatus('', runId), 'the live run is still served at /').toBe(200);
    } finally {
      // Back to an ordinary dev sandbox (an empty config replaces the release's).
      await target.admin.start(user, 'dev', { config: {} });
    }
  });

  await test.step('a promote after the dev slot was started on something other than the release deployed there is refused with 409 and changes nothing: only what was deployed and checked is promoted and becomes known-good', async () => {
    // The dev slot's recorded release is the one deployed above; the step before started dev again with another config.
    const deployed = (await target.admin.pointers(user)).slots.dev;
    expect(deployed, 'the release recorded for the dev slot').toMatchObject({ state: 'ready' });
    const attempt = await attemptSwitch(target.admin, user, () => settled(target.admin.promote(user, 'gate: promote what dev no longer runs')));
    const release = (await target.admin.releases()).releases.find((r) => r.id === deployed?.release_id);
    await evidence.json('7-refused-promote-of-what-dev-no-longer-runs', { release, ...swapAttemptEvidence(attempt) });
    expect(attempt.answer, 'the promote answer').toBeInstanceOf(AdminCallError);
    expect((attempt.answer as AdminCallError).status, (attempt.answer as Error).message).toBe(409);
    expect((attempt.answer as AdminCallError).message, 'the refusal says what to do').toContain('Deploy the release again');
    expect(attempt.pointers.after, 'pointers and slots after the refused promote').toEqual(attempt.pointers.before);
    expect(attempt.history.after, 'the switch history after the refused promote').toEqual(attempt.history.before);
    expect(release, 'the release deployed to dev').toMatchObject({ known_good: false });
  });

  await test.step("a promote of a release deployed to dev (by the operator's CLI: `deploy --user X --release ID --json` answers that release healthy in the standby slot, as the pointers then show) records, in its answer, the history and the routing.switch log, the releases the slots ran before and after", async () => {
    const release = await target.admin.createRelease({ ...(await releaseBaseOf(target.admin, user)), config: { SANDBOX_VERSION: 'gate-promoted-in-the-swap-line' }, note: 'gate: promoted by the swap line' });
    const deployed = await runOperatorCli(target.admin, ['deploy', '--user', user, '--release', String(release.id)]);
    const before = await target.admin.pointers(user);
    await evidence.json('8a-operator-cli-deploy', { run: deployed, pointers: before });
    expect(deployed.exitCode, `${deployed.commandLine}: ${deployed.stderr}`).toBe(0);
    expect(deployed.json, 'the CLI deploy answer').toMatchObject({ user_id: user, role: before.dev, release: { id: release.id }, health: { version: 'gate-promoted-in-the-swap-line' } });
    expect(before.slots[before.dev], 'the standby slot after the CLI deploy (GET .../pointers)').toMatchObject({ release_id: release.id, state: 'ready' });
    const promoted = await target.admin.promote(user, 'gate: promote a deployed release');
    const after = await target.admin.pointers(user);
    const { switches } = await target.admin.switches(user);
    await evidence.json('8-promote-names-the-slot-releases', { release, promoted, pointers: { before, after }, newest_switch: switches[0] });
    expect(after.slots[after.main], 'the slot main serves after the promote').toMatchObject({ release_id: release.id });
    expectSwitchNamesSlotReleases(promoted.switch, { before, after }, 'the promote answer');
    expectSwitchNamesSlotReleases(switches[0], { before, after }, 'the promote in the history');
    // The log is read on the local target only (a deployed target's log is not in this process's reach).
    if (target.local) expectSwitchLogsMatchRows(switches, await whenLogged(async () => (await hypervisorLog.lines()).flatMap((l) => (l.entry ? [l.entry] : [])), (read) => switchLogsCover(switches, read, user)), user);
  });

  await test.step("the operator's CLI records the reason a promote is given (`promote --user X --reason TEXT`: the newest switch row is that promote, to the deployed release, saying TEXT, by admin:cli:<login>); its summary without --json names the slot main then points to, the release and known-good, as the admin API then does", async () => {
    const release = await target.admin.createRelease({ ...(await releaseBaseOf(target.admin, user)), config: { SANDBOX_VERSION: 'gate-promoted-by-the-cli' }, note: 'gate: promoted by the CLI with a reason' });
    await target.admin.deploy(user, release.id);
    const reason = 'gate: the operator says why it promotes';
    const promoted = await runOperatorCli(target.admin, ['promote', '--user', user, '--reason', reason], { json: false });
    const newest = (await target.admin.switches(user, 1)).switches;
    const pointers = await target.admin.pointers(user);
    const listed = (await target.admin.releases()).releases.find((r) => r.id === release.id);
    await evidence.json('8b-operator-cli-promote-reason', { release, promoted, read: promoteSummary(promoted.stdout), newest_switch: newest, pointers, listed });
    expect(promoted.exitCode, `${promoted.commandLine}: ${promoted.stderr}`).toBe(0);
    expect(promoteSummary(promoted.stdout), `the summary \`promote\` printed (${promoted.stdout.trim()}), against GET .../pointers and GET /admin/releases after it`).toEqual({ user_id: user, main: pointers.main, release_id: release.id, serving_after_ms: expect.any(Number), known_good: listed?.known_good });
    expect(pointers.slots[pointers.main], 'the slot main serves after the CLI promote').toMatchObject({ release_id: release.id });
    expect(newest, 'the newest switch (GET .../switches?limit=1) after the CLI promote').toEqual([
      expect.objectContaining({ action: 'promote', outcome: 'switched', actor: expect.stringMatching(/^admin:cli:/), reason, to: expect.objectContaining({ release_id: release.id }) }),
    ]);
  });
});

test('Prior known-good config/image can be restored in bounded time.', async ({ target, page, desktop, signedInUser, evidence, userId }) => {
  const user = signedInUser.userId;
  const image = target.requireLocal('creating releases of the local sandbox image').image;

  const knownGood = await test.step('release K (image + config) serves the user and becomes known-good', async () => {
    const release = await target.admin.createRelease({ runtime: 'podman', image, config: { SANDBOX_VERSION: 'gate-known-good' }, note: 'gate: K' });
    const pin = await imagePin(image);
    expect(pin.revision, `the source revision label of ${image}`).toMatch(/\S/);
    expect(release, 'K pins the image by the id podman resolves its reference to, with its source revision').toMatchObject({ image: pin.id, image_ref: image, revision: pin.revision });
    await target.admin.deploy(user, release.id);
    const promoted = await target.admin.promote(user, 'gate: promote K');
    expect(promoted).toMatchObject({ known_good: true, health: { version: 'gate-known-good' } });
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask('Gate: data written while K serves');
    expect(outcome.status).toBe('completed');
    return { release, runId: outcome.runId };
  });

  const newer = await test.step('a newer release B (another config) replaces it on the live route', async () => {
    const release = await target.admin.createRelease({ runtime: 'podman', image, config: { SANDBOX_VERSION: 'gate-newer', SANDBOX_CONDUCTOR_STEP_MS: '10' }, note: 'gate: B' });
    await target.admin.deploy(user, release.id);
    const promoted = await target.admin.promote(user, 'gate: promote B');
    expect(promoted).toMatchObject({ release: { id: release.id }, health: { version: 'gate-newer' } });
    return release;
  });

  await test.step('one rollback restores K within the bound, and the route keeps serving', async () => {
    let elapsedMs = 0;
    const before = await target.admin.pointers(user);
    const { result: rolledBack, traffic: report } = await underTraffic(page.request, `${target.url}/`, async () => {
      const started = performance.now();
      const answer = await target.admin.rollback(user, 'gate: restore the known-good release');
      elapsedMs = performance.now() - started;
      return answer;
    });
    evidence.timing('rollback', elapsedMs);
    await evidence.json('rollback', { answer: rolledBack, elapsed_ms: Math.round(elapsedMs), bound_ms: rollbackBoundMs, serving: report });
    expect(rolledBack).toMatchObject({ release: { id: knownGood.release.id, known_good: true }, health: { version: 'gate-known-good' } });
    expect(rolledBack.duration_ms).toEqual(expect.any(Number));
    expect(rolledBack, 'the rollback names the release it left').toMatchObject({ mode: 'warm', from_release: newer.id });
    expect(rolledBack.switch, 'the rollback as the switch history records it').toMatchObject({ action: 'rollback', actor: 'admin:gate', reason: 'gate: restore the known-good release', outcome: 'switched', from: { release_id: newer.id }, to: { release_id: knownGood.release.id } });
    expectSwitchNamesSlotReleases(rolledBack.switch, { before, after: await target.admin.pointers(user) }, 'the rollback');
    expect(elapsedMs).toBeLessThan(rollbackBoundMs);
    expect(report.failures).toEqual([]);
  });

  await test.step('K serves again, with the data it had', async () => {
    const run = await page.request.get(`${target.url}/conductor/runs/${knownGood.runId}`);
    expect(run.status()).toBe(200);
    expect(await run.json()).toMatchObject({ status: 'completed' });
    const pointers = await target.admin.pointers(user);
    expect(pointers.slots[pointers.main]).toMatchObject({ release_id: knownGood.release.id, state: 'ready' });
  });

  await test.step("the operator's CLI rolls back to the release it names: `rollback --user X --release B --json` (B is newer than K, so the default rollback from K never picks it) answers B, exit 0, and the pointers show B on main; an unknown release is refused with exit 1, the hypervisor's reason on stderr, and nothing changes", async () => {
    const before = await target.admin.pointers(user);
    expect(before.slots[before.main], 'main serves K before the CLI rollback').toMatchObject({ release_id: knownGood.release.id });
    const chosen = await runOperatorCli(target.admin, ['rollback', '--user', user, '--release', String(newer.id), '--reason', 'gate: the operator rolls back to B']);
    const after = await target.admin.pointers(user);
    await evidence.json('operator-cli-rollback', { run: chosen, pointers: { before, after } });
    expect(chosen.exitCode, `${chosen.commandLine}: ${chosen.stderr}`).toBe(0);
    expect(chosen.json, 'the CLI answer names the release it was told').toMatchObject({ user_id: user, release: { id: newer.id } });
    expect(after.slots[after.main], 'the slot main serves after the CLI rollback (GET /admin/sandboxes/USER/pointers)').toMatchObject({ release_id: newer.id });

    const unknown = Math.max(...(await target.admin.releases()).releases.map((r) => r.id)) + 1000;
    const historyBefore = (await target.admin.switches(user)).switches;
    const refused = await runOperatorCli(target.admin, ['rollback', '--user', user, '--release', String(unknown)]);
    await evidence.json('operator-cli-refused-rollback', { run: refused, pointers: await target.admin.pointers(user) });
    expect(refused.exitCode, refused.commandLine).toBe(1);
    expect(refused.stderr, "the hypervisor's reason").toContain(`release ${unknown} does not exist`);
    expect(await target.admin.pointers(user), 'pointers and slots after the refused CLI rollback').toEqual(after);
    expect((await target.admin.switches(user)).switches, 'the switch history after the refused CLI rollback').toEqual(historyBefore);

    // Back to K for the steps that follow (the admin API, by id: another line's known-good release may sit between K and B).
    expect(await target.admin.rollback(user, 'gate: back to K after the CLI rollback', knownGood.release.id)).toMatchObject({ release: { id: knownGood.release.id } });
  });

  // The CLI's documented flags (hypervisor/routing/README.md): `rollback --user USER_ID | --all [--release ID] [--reason TEXT]`.
  await test.step("the operator's CLI records the reason it is given (`rollback --user X --release B --reason TEXT`: the switch row says TEXT, by admin:cli:<login>), and refuses --user and --all together with exit 2, rolling nothing back", async () => {
    const reason = 'gate: the operator says why';
    const given = await runOperatorCli(target.admin, ['rollback', '--user', user, '--release', String(newer.id), '--reason', reason, '--json']);
    const newest = (await target.admin.switches(user, 1)).switches;
    const before = await target.admin.pointers(user);
    const historyBefore = (await target.admin.switches(user)).switches;
    const both = await runOperatorCli(target.admin, ['rollback', '--user', user, '--all', '--release', String(knownGood.release.id), '--reason', 'gate: --user and --all together']);
    const after = await target.admin.pointers(user);
    const historyAfter = (await target.admin.switches(user)).switches;
    await evidence.json('operator-cli-rollback-reason-and-usage', { given, newest_switch: newest, user_and_all: both, pointers: { before, after } });
    expect(given.exitCode, `${given.commandLine}: ${given.stderr}`).toBe(0);
    expect(newest, 'the newest switch (GET .../switches?limit=1) after the CLI rollback').toEqual([
      expect.objectContaining({ action: 'rollback', outcome: 'switched', actor: expect.stringMatching(/^admin:cli:/), reason, to: expect.objectContaining({ release_id: newer.id }) }),
    ]);
    expect(both.exitCode, `${both.commandLine}: ${both.stderr}`).toBe(2);
    expect(both.stderr, 'the usage error names the choice').toContain('--all');
    expect(after, 'pointers and slots after the refused --user --all').toEqual(before);
    expect(historyAfter, 'the switch history after the refused --user --all').toEqual(historyBefore);
    expect(await target.admin.rollback(user, 'gate: back to K after the CLI rollback with a reason', knownGood.release.id)).toMatchObject({ release: { id: knownGood.release.id } });
  });

  await test.step('an explicit rollback to a release that was never known-good is refused and changes nothing', async () => {
    // Deployed to the standby slot (it serves there healthily) but never promoted: not proven on main, so no rollback target.
    const unproven = await target.admin.createRelease({ runtime: 'podman', image, config: { SANDBOX_VERSION: 'gate-never-known-good' }, note: 'gate: never promoted' });
    await target.admin.deploy(user, unproven.id);
    const listed = async () => (await target.admin.releases()).releases.find((r) => r.id === unproven.id);
    expect(await listed(), 'the deployed release before the rollback').toMatchObject({ known_good: false });
    const before = await target.admin.pointers(user);
    const historyBefore = (await target.admin.switches(user)).switches;
    const refused = await target.admin.rollback(user, 'gate: roll back to a release never known-good', unproven.id).then(
      (answer) => answer,
      (error: unknown) => error,
    );
    const after = await target.admin.pointers(user);
    const historyAfter = (await target.admin.switches(user)).switches;
    const served = (await (await page.request.get(`${target.url}/desktop/health`)).json()) as { version?: string };
    await evidence.json('refused-rollback-to-unproven', { release: unproven, answer: refused instanceof Error ? refused.message : refused, pointers: { before, after }, served_version: served.version, new_switches: historyAfter.slice(0, historyAfter.length - historyBefore.length) });
    expect(refused, 'the rollback answer').toBeInstanceOf(AdminCallError);
    expect((refused as AdminCallError).status).toBe(409);
    expect((refused as AdminCallError).message).toContain(`release ${unproven.id} is not known-good`);
    expect(after, 'pointers and slots after the refused rollback').toEqual(before);
    expect(after.slots[after.main]).toMatchObject({ release_id: knownGood.release.id });
    expect(historyAfter.slice(0, historyAfter.length - historyBefore.length).filter((s) => s.outcome === 'switched'), 'switches recorded by the refused rollback').toEqual([]);
    expect(served.version, 'the release main serves').toBe('gate-known-good');
    expect(await listed(), 'the release after the refused rollback').toMatchObject({ known_good: false });
  });

  await test.step('a cold rollback (the standby slot runs another release) starts the known-good B there and serves it, reported ready; rolled back to K and to B again, each is a warm switch', async () => {
    // The standby slot runs the never-promoted release deployed above, so B must be started there first.
    const beforeCold = await target.admin.pointers(user);
    const cold = await target.admin.rollback(user, 'gate: cold rollback to B', newer.id);
    const afterCold = await target.admin.pointers(user);
    expectSwitchNamesSlotReleases(cold.switch, { before: beforeCold, after: afterCold }, 'the cold rollback');
    const served = (await (await page.request.get(`${target.url}/desktop/health`)).json()) as { version?: string };
    await evidence.json('cold-rollback', { answer: cold, pointers: afterCold, served_version: served.version });
    expect(cold, 'the rollback to B, with another release in the standby slot').toMatchObject({ mode: 'cold', release: { id: newer.id, known_good: true } });
    expect(served.version, 'the release main serves after the cold rollback').toBe('gate-newer');
    expect(afterCold.slots[afterCold.main], 'the slot main serves after the cold rollback').toMatchObject({ release_id: newer.id, state: 'ready' });
    // K waits warm in the standby slot; then B's slot, started cold, is the standby and must count as warm too.
    const toKnownGood = await target.admin.rollback(user, 'gate: back to K', knownGood.release.id);
    const toNewerAgain = await target.admin.rollback(user, 'gate: to B again, started cold before', newer.id);
    const afterWarm = await target.admin.pointers(user);
    await evidence.json('rollbacks-after-the-cold-one', { to_k: toKnownGood, to_b_again: toNewerAgain, pointers: afterWarm });
    expect(toKnownGood, 'the rollback to K, which the standby slot runs').toMatchObject({ mode: 'warm', release: { id: knownGood.release.id } });
    expect(toNewerAgain, 'the rollback to B, whose slot was started by the cold rollback').toMatchObject({ mode: 'warm', release: { id: newer.id } });
    expect(afterWarm.slots[afterWarm.main], 'the slot main serves at the end').toMatchObject({ release_id: newer.id, state: 'ready' });
  });

  // On an image of its own (the sandbox image, another id), so the prune step after it can see its image removed; removed below if prune left it.
  const refusedImage = await imageOfItsOwn(image);
  const refused = await test.step("a release whose API fails the deploy check is refused with 422: its slot is stopped and recorded refused, the release is marked refused (the operator's CLI lists it so, as GET /admin/releases answers: `releases list --json`), and main keeps serving B", async () => {
    // The workload's diagnostic release setting (hypervisor/workload/README.md): /health says healthy, GET /conductor/runs (the deploy's smoke request) answers 500.
    const failing = await target.admin.createRelease({ runtime: 'podman', image: refusedImage.reference, config: { SANDBOX_VERSION: 'gate-fails-its-deploy', SANDBOX_RUNS_OK_ANSWERS: '0' }, note: 'gate: fails its deploy check' });
    const deployed = await refusedDeploy(target.admin, user, failing.id);
    const served = (await (await page.request.get(`${target.url}/desktop/health`)).json()) as { version?: string };
    // Listed here, while this release is refused: the prune step below marks it pruned, and a listing that left refused releases out would show nowhere else.
    const listed = await runOperatorCli(target.admin, ['releases', 'list']);
    const answered = await target.admin.releases();
    await evidence.json('refused-deploy', { created: failing, ...deployed, served_version: served.version, operator_cli_list: listed, admin_api_list: answered });
    expect(deployed.answer, 'the deploy answer').toBeInstanceOf(AdminCallError);
    expect((deployed.answer as AdminCallError).status, (deployed.answer as Error).message).toBe(422);
    expect((deployed.answer as AdminCallError).message, 'the refusal names the release').toContain(`release ${failing.id}`);
    const { before, after } = deployed.pointers;
    expect([after.main, after.dev], 'the routes after the refused deploy').toEqual([before.main, before.dev]);
    expect(after.slots[after.main], 'the slot main serves').toEqual(before.slots[before.main]);
    expect(after.slots[after.dev], 'the standby slot the release was tried in').toMatchObject({ release_id: failing.id, state: 'refused', error: expect.stringContaining('/conductor/runs') });
    expect(deployed.standby, 'the standby sandbox after the refusal').toMatchObject({ status: 'stopped' });
    expect(deployed.release, 'the release after the refusal').toMatchObject({ status: 'refused', known_good: false });
    expect(listed.exitCode, `${listed.commandLine}: ${listed.stderr}`).toBe(0);
    expect(listed.json, 'releases list --json against GET /admin/releases, the refused release in both').toEqual(answered);
    expect(answered.releases.find((r) => r.id === failing.id), 'the refused release in GET /admin/releases').toMatchObject({ status: 'refused' });
    expect(served.version, 'the release main serves').toBe('gate-newer');
    return failing;
  });

  await test.step("the operator's CLI `releases prune` removes the image of the refused release once no slot runs it (newer than every known-good release, yet judged: no candidate to keep), marks it pruned, and keeps the known-good releases and what the user's slots run, their images in the store", async () => {
    try {
      // K deployed to the standby slot replaces the refused release there: no slot of any user names it any more.
      await target.admin.deploy(user, knownGood.release.id);
      const pointers = await target.admin.pointers(user);
      const running = [pointers.slots.live?.release_id, pointers.slots.dev?.release_id].filter((id): id is number => id !== undefined);
      const newestKnownGood = Math.max(...(await target.admin.releases()).releases.filter((r) => r.known_good).map((r) => r.id));
      const pruned = await runOperatorCli(target.admin, ['releases', 'prune']);
      const after = (await target.admin.releases()).releases;
      const answer = pruned.json as { removed?: Array<{ release: number }>; kept?: Array<{ release: number; why: string }>; failed?: Array<{ release: number; error: string }> };
      const removedIds = (answer.removed ?? []).map((r) => r.release);
      const statusOf = (id: number | undefined) => after.find((r) => r.id === id)?.status;
      const imageOf = (id: number | undefined) => after.find((r) => r.id === id)?.image;
      await evidence.json('operator-cli-prune', { refused_release: refused, newest_known_good: newestKnownGood, slots_run: running, run: pruned, refused_image_in_store: await refusedImage.inStore(), releases_after: after });
      expect(pruned.exitCode, `${pruned.commandLine}: ${pruned.stderr}`).toBe(0);
      expect(refused.id, 'the refused release is newer than every known-good one (so only its being refused, not its age, decides)').toBeGreaterThan(newestKnownGood);
      expect(answer.failed?.filter((f) => f.release === refused.id), 'prune failures for the refused release').toEqual([]);
      expect(removedIds, `the releases whose images prune removed: the refused ${refused.id} among them (kept: ${JSON.stringify(answer.kept?.find((k) => k.release === refused.id))})`).toContain(refused.id);
      expect(statusOf(refused.id), 'the refused release after the prune').toBe('pruned');
      expect(await refusedImage.inStore(), `${refusedImage.reference} in podman's store after the prune`).toBe(false);
      for (const id of [knownGood.release.id, newer.id, ...running]) {
        expect(removedIds, `prune removed release ${id} (known-good, or run by a slot of the user)`).not.toContain(id);
        expect(statusOf(id), `release ${id} after the prune`).not.toBe('pruned');
        expect((await imagePin(imageOf(id) ?? '(no image)')).id, `the image of release ${id}, still in podman's store`).toBe(imageOf(id));
      }
    } finally {
      await refusedImage.dispose();
    }
  });

  await test.step("the operator's CLI creates a release with the image, settings and note its flags name (`releases create --runtime podman --image REF --config NAME=VALUE ... --note TEXT --json`), marks it known-good (`releases known-good --release ID --json`) and lists the releases as GET /admin/releases answers (`releases list --json`)", async () => {
    // A value holding "=" shows a NAME=VALUE split at the wrong "=".
    const settings = { SANDBOX_VERSION: 'gate-created=by-the-cli', SANDBOX_CONDUCTOR_STEP_MS: '50' };
    const note = 'gate: created and marked known-good by the CLI';
    const created = await runOperatorCli(target.admin, ['releases', 'create', '--runtime', 'podman', '--image', image, ...Object.entries(settings).flatMap(([name, value]) => ['--config', `${name}=${value}`]), '--note', note]);
    expect(created.exitCode, `${created.commandLine}: ${created.stderr}`).toBe(0);
    const release = created.json as { id: number };
    expect(created.json, 'the CLI answer to releases create').toMatchObject({ id: expect.any(Number), runtime: 'podman', image_ref: image, config: settings, note, status: expect.any(String) });
    const marked = await runOperatorCli(target.admin, ['releases', 'known-good', '--release', String(release.id)]);
    const listed = await runOperatorCli(target.admin, ['releases', 'list']);
    const answered = await target.admin.releases();
    await evidence.json('operator-cli-releases', { created, marked, listed, admin_api: answered });
    expect(marked.exitCode, `${marked.commandLine}: ${marked.stderr}`).toBe(0);
    expect(marked.json, 'the CLI answer').toMatchObject({ id: release.id, known_good: true });
    expect(answered.releases.find((r) => r.id === release.id), 'the release in GET /admin/releases').toMatchObject({ known_good: true, image_ref: image, config: settings, note });
    expect(listed.exitCode, `${listed.commandLine}: ${listed.stderr}`).toBe(0);
    expect(listed.json, 'releases list --json against GET /admin/releases').toEqual(answered);
    // What the operator mistypes is named, with exit 2 (a usage error), not taken for something else.
    const unknownAction = await runOperatorCli(target.admin, ['releases', 'frobnicate']);
    const unknownCommand = await runOperatorCli(target.admin, ['frobnicate']);
    await evidence.json('operator-cli-mistyped', { unknown_action: unknownAction, unknown_command: unknownCommand });
    expect({ exitCode: unknownAction.exitCode, stderr: unknownAction.stderr }, unknownAction.commandLine).toEqual({ exitCode: 2, stderr: expect.stringContaining('unknown releases action "frobnicate"') });
    expect({ exitCode: unknownCommand.exitCode, stderr: unknownCommand.stderr }, unknownCommand.commandLine).toEqual({ exitCode: 2, stderr: expect.stringMatching(/unknown command "frobnicate"[\s\S]*rollback/) });
  });

  await test.step(`GET /admin/releases marks exactly the newest ${knownGoodRetain} known-good releases (HYPERVISOR_KNOWN_GOOD_RETAIN) retained, so their images outlive a prune`, async () => {
    // K and B are known-good; marking a few more (cheap: no sandbox starts) makes the list longer than the retain, so one too few or too many shows.
    const { releases } = await target.admin.releases();
    const missing = knownGoodRetain + 1 - releases.filter((r) => r.known_good && r.status !== 'pruned').length;
    for (let i = 0; i < missing; i += 1) {
      const extra = await target.admin.createRelease({ runtime: 'podman', image, config: { SANDBOX_VERSION: `gate-retention-${i}` }, note: 'gate: retention count' });
      await target.admin.markKnownGood(extra.id);
    }
    const listed = await target.admin.releases();
    await evidence.json('retained-releases', { retain: knownGoodRetain, releases: listed });
    expectNewestKnownGoodRetained(listed, knownGoodRetain);
  });

  // The admin API's error contract (hypervisor/routing/README.md): `{error, code}`, each code with its one status.
  await test.step('the admin API names why it refused in its documented `code`: an unknown release 404 release_not_found, a rollback to a release never known-good 409 no_known_good, an invalid release 400 invalid_input, nothing deployed to promote 409 no_release; nothing changes', async () => {
    const { releases } = await target.admin.releases();
    const unknownRelease = Math.max(...releases.map((r) => r.id)) + 1000;
    const unproven = releases.find((r) => !r.known_good);
    expect(unproven, 'a release never known-good (the explicit rollback step made one)').toBeDefined();
    const before = await target.admin.pointers(user);
    const rollback = await target.admin.answer('POST', `/admin/sandboxes/${user}/rollback`, { release_id: unknownRelease, reason: 'gate: a release that does not exist' });
    const notKnownGood = await target.admin.answer('POST', `/admin/sandboxes/${user}/rollback`, { release_id: unproven?.id, reason: 'gate: a release never known-good' });
    const markUnknown = await target.admin.answer('POST', `/admin/releases/${unknownRelease}/known-good`);
    const invalid = await target.admin.answer('POST', '/admin/releases', { runtime: 'podman', note: 'gate: a podman release without an image' });
    const promote = await target.admin.answer('POST', `/admin/sandboxes/${userId}/promote`, { reason: 'gate: nothing deployed' });
    await evidence.json('refusal-codes', { unknown_release: unknownRelease, rollback, not_known_good: { release: unproven?.id, answer: notKnownGood }, mark_known_good: markUnknown, release_without_image: invalid, promote_with_nothing_deployed: promote });
    expect(rollback, `POST /admin/sandboxes/USER/rollback to release ${unknownRelease}, which does not exist`).toEqual({ status: 404, body: expect.objectContaining({ code: 'release_not_found', error: expect.stringContaining(`release ${unknownRelease} does not exist`) }) });
    expect(notKnownGood, `POST /admin/sandboxes/USER/rollback to release ${String(unproven?.id)}, never known-good`).toEqual({ status: 409, body: expect.objectContaining({ code: 'no_known_good' }) });
    expect(markUnknown, `POST /admin/releases/${unknownRelease}/known-good`).toEqual({ status: 404, body: expect.objectContaining({ code: 'release_not_found' }) });
    expect(invalid, 'POST /admin/releases, a podman release without an image').toEqual({ status: 400, body: expect.objectContaining({ code: 'invalid_input', error: expect.stringContaining('needs an image') }) });
    expect(promote, 'POST /admin/sandboxes/USER/promote, nothing deployed').toEqual({ status: 409, body: expect.objectContaining({ code: 'no_release' }) });
    expect(await target.admin.pointers(user), 'the pointers after the refused rollback').toEqual(before);
  });

  await test.step(`a release naming an image podman's store does not hold (${missingImage}) or a setting outside the release allowlist is refused with 400 saying what to do, and no release is created; a promote for a user with nothing deployed is refused with 409 naming the deploy to do first`, async () => {
    const before = await target.admin.releases();
    const missing = await target.admin.answer('POST', '/admin/releases', { runtime: 'podman', image: missingImage, note: 'gate: an image no store holds' });
    const outside = await target.admin.answer('POST', '/admin/releases', { runtime: 'podman', image, config: { OPENAI_API_KEY: 'sk-gate-not-allowed' }, note: 'gate: a setting outside the allowlist' });
    const promoted = await target.admin.answer('POST', `/admin/sandboxes/${userId}/promote`, { reason: 'gate: nothing deployed' });
    const after = await target.admin.releases();
    await evidence.json('refused-releases-and-promote', { missing_image: missing, setting_outside_the_allowlist: outside, promote_with_nothing_deployed: promoted, releases_before: before.releases.length, releases_after: after.releases.length });
    expect(missing, `POST /admin/releases naming ${missingImage}`).toEqual({ status: 400, body: expect.objectContaining({ error: expect.stringMatching(/not in podman's image store[\s\S]*npm run image/) }) });
    expect(outside, 'POST /admin/releases whose config sets OPENAI_API_KEY').toEqual({ status: 400, body: expect.objectContaining({ error: expect.stringContaining('"OPENAI_API_KEY" is not allowed') }) });
    expect(after.releases.map((r) => r.id), 'the release ids after the refused creations').toEqual(before.releases.map((r) => r.id));
    expect(promoted, `POST /admin/sandboxes/${userId}/promote, nothing deployed for that user`).toEqual({ status: 409, body: expect.objectContaining({ error: expect.stringMatching(/nothing to promote[\s\S]*Deploy a release/) }) });
  });

  // hypervisor/routing/releases.ts: the first time a release served healthily is the time that counts; the known-good list (rollback's choice, retention) is ordered by it.
  await test.step("a release's known_good_at is the first time it was known-good: marking K and B known-good again (the admin API, the operator's `releases known-good`) and promoting K again (deployed anew) move no known-good release's known_good_at", async () => {
    const knownAt = (releases: readonly { id: number; known_good_at: string | null }[]) => Object.fromEntries(releases.filter((r) => r.known_good_at !== null).map((r) => [r.id, r.known_good_at]));
    const before = knownAt((await target.admin.releases()).releases);
    expect(Object.keys(before), 'K and B are known-good before they are marked again').toEqual(expect.arrayContaining([String(knownGood.release.id), String(newer.id)]));
    const marked = await target.admin.markKnownGood(knownGood.release.id);
    const markedByCli = await runOperatorCli(target.admin, ['releases', 'known-good', '--release', String(newer.id)]);
    await target.admin.deploy(user, knownGood.release.id);
    const promoted = await target.admin.promote(user, 'gate: promote K, known-good already, again');
    const after = knownAt((await target.admin.releases()).releases);
    await evidence.json('known-good-at-kept', { before, marked, marked_by_cli: markedByCli, promoted, after });
    expect(marked, `POST /admin/releases/${knownGood.release.id}/known-good, K known-good already`).toMatchObject({ id: knownGood.release.id, known_good: true, known_good_at: before[knownGood.release.id] });
    expect(markedByCli.exitCode, `${markedByCli.commandLine}: ${markedByCli.stderr}`).toBe(0);
    expect(markedByCli.json, '`releases known-good` of B, known-good already').toMatchObject({ id: newer.id, known_good: true, known_good_at: before[newer.id] });
    expect(promoted, 'the promote of K again').toMatchObject({ release: { id: knownGood.release.id }, known_good: true });
    // Releases other lines make known-good meanwhile only join the list; none known-good before moves.
    expect(Object.fromEntries(Object.keys(before).map((id) => [id, after[id]])), 'known_good_at of every release known-good before, after (GET /admin/releases)').toEqual(before);
  });
});
