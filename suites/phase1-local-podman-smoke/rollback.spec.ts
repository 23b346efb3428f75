import { test, expect } from '../../fixtures/gate-test.ts';
import { startServingProbe } from '../../fixtures/serving-probe.ts';
import { registerWithPasskey } from '../../fixtures/user-session.ts';
import { secretsByName } from '../../fixtures/local-hypervisor.ts';
import { whenLogged, type LogEvent } from '../../fixtures/hypervisor-log.ts';
import { environOfTree, leakedSecrets, processesOfSandbox, processTree, processUid } from '../../fixtures/sandbox-processes.ts';
import { contractEnvNames } from '../../hypervisor/sandboxes/env.ts';
import { isSameProcessAlive, processStartTime } from '../../hypervisor/sandboxes/proc.ts';
import { rollbackEveryUser } from '../../fixtures/rollback-all.ts';
import { runOperatorCli } from '../../fixtures/operator-cli.ts';
import { lineNumbersIn, newestLineNumbers, reportedLogLines, startFailingAfterManyLines, writtenLogLines } from '../../fixtures/failed-start-log-tail.ts';

// A process sandbox gets the contract's variables and nothing else: no PATH, no HOME, nothing inherited.
const allowedProcessEnv = new Set<string>(contractEnvNames);

// What a restarted hypervisor can decide for a sandbox it finds: adopt it, or end it and start another.
const reconcileDecisions = new Set(['sandbox.adopt', 'sandbox.restart', 'sandbox.start', 'sandbox.ready', 'sandbox.stray_removed', 'sandbox.stop']);

interface RunbookStep {
  step: string;
  how: string;
  observed: string;
}

const runbook = (steps: readonly RunbookStep[]): string =>
  [
    '# Fallback to direct-process sandbox mode (verified by the Phase 1 gate)',
    '',
    'Use when podman cannot run sandboxes. Sandboxes then run as child processes of the hypervisor,',
    'with the same environment allowlist and the same per-user, per-role data directories.',
    '',
    '| step | how | observed in this run |',
    '|---|---|---|',
    ...steps.map((s) => `| ${s.step} | ${s.how} | ${s.observed.replace(/\|/g, '\\|')} |`),
    '',
  ].join('\n');

test('Document and verify fallback to direct-process sandbox mode.', async ({ target, podman, page, passkey, desktop, evidence, processHypervisor }) => {
  // Only its setup is needed: the virtual authenticator on `page` that registerWithPasskey uses.
  void passkey;
  const steps: RunbookStep[] = [];
  const { hypervisor: fallback, admin: fallbackAdmin } = processHypervisor;
  let fallbackUser = '';

  const processPid = await test.step('a hypervisor started with SANDBOX_RUNTIME=process serves the same user flow', async () => {
    const user = await registerWithPasskey(page, fallback.url);
    fallbackUser = user.userId;
    await desktop.open(`${fallback.url}/`);
    const outcome = await desktop.runTask('Gate fallback: the same flow without podman');
    expect(outcome.status).toBe('completed');
    await evidence.screenshot(page, 'process-mode-task');
    expect(await fallbackAdmin.sandbox(user.userId, 'live')).toMatchObject({ status: 'running' });
    const isReady = (e: LogEvent) => e.event === 'sandbox.ready' && e.user === user.userId;
    // The ready line can reach the log file after the answers that show the sandbox running.
    const ready = (await whenLogged(fallback.logEvents, (read) => read.some(isReady))).find(isReady);
    expect(ready).toMatchObject({ runtime: 'process', role: 'live', pid: expect.any(Number) });
    steps.push({ step: 'Start the hypervisor in process mode', how: '`SANDBOX_RUNTIME=process node hypervisor/main.ts`', observed: `registered ${user.username}, task ${outcome.status}, sandbox pid ${String(ready?.pid)}` });
    return Number(ready?.pid);
  });

  await test.step("in process mode the sandbox runs unprivileged, its real environment the allowlist, without the hypervisor's secrets", async () => {
    const environs = environOfTree(processPid);
    await evidence.json('process-sandbox-environ', environs.map((p) => ({ pid: p.pid, command: p.command, names: Object.keys(p.env).sort() })));
    for (const p of environs) expect(Object.keys(p.env).filter((name) => !allowedProcessEnv.has(name)), `variables outside the allowlist in pid ${p.pid}`).toEqual([]);
    expect(leakedSecrets(environs, secretsByName(fallback.secrets)), "the hypervisor's secrets in the sandbox's environment").toEqual([]);
    // A root hypervisor runs process sandboxes as an unprivileged user (README), so they cannot read its database or token.
    if (process.getuid?.() === 0) expect(processUid(processPid), `the uid of sandbox process ${processPid}`).toBeGreaterThan(0);
    steps.push({ step: 'Check the environment', how: `\`tr '\\0' '\\n' < /proc/${processPid}/environ\``, observed: `only ${[...new Set(environs.flatMap((p) => Object.keys(p.env)))].sort().join(', ')}` });
  });

  // The podman counterpart is the lifecycle line's; process sandboxes are found again by pid, start time and environment.
  await test.step('in process mode a restarted hypervisor adopts the sandbox still running: the same process keeps serving, no restart is counted, no second process runs', async () => {
    const key = { userId: fallbackUser, role: 'live' } as const;
    const before = await fallbackAdmin.sandbox(key.userId, key.role);
    const startedAt = processStartTime(processPid) ?? null;
    const firstBoot = fallback.bootId;
    const loggedBeforeRestart = (await fallback.logEvents()).length;
    await fallback.restart();
    expect(fallback.bootId, 'a new hypervisor process').not.toBe(firstBoot);
    // Reconcile runs before the restarted hypervisor serves: what it decided is in the file once its listening line is.
    const restartedLog = await whenLogged(fallback.logEvents, (read) => read.some((e) => e.event === 'hypervisor.listening' && e.boot_id === fallback.bootId));
    const decided = restartedLog.slice(loggedBeforeRestart).filter((e) => e.user === key.userId && e.role === key.role && reconcileDecisions.has(String(e.event)));
    // Through the hypervisor with the user's session, as the user reaches it: not redirected, answered by the sandbox.
    const served = await page.request.get(`${fallback.url}/conductor/runs`, { maxRedirects: 0 });
    const after = await fallbackAdmin.sandbox(key.userId, key.role);
    const carriers = processesOfSandbox(fallback.dataRoot, key);
    await evidence.json('process-sandbox-adopted', { pid: processPid, before, after, restarted_events: decided, served_status: served.status(), processes_of_the_sandbox: carriers });
    expect(decided.map((e) => e.event), "the restarted hypervisor's decisions for the running sandbox").toEqual(['sandbox.adopt']);
    expect(after, 'the sandbox after the hypervisor restart: the same pid, no restart counted').toMatchObject({ status: 'running', pid: processPid, restarts: before?.restarts });
    expect(isSameProcessAlive(processPid, startedAt), `sandbox process ${processPid}, started before the hypervisor restart`).toBe(true);
    expect(served.status(), 'GET /conductor/runs as the user after the hypervisor restart').toBe(200);
    const adoptedTree = new Set(processTree(processPid));
    expect(carriers.filter((pid) => !adoptedTree.has(pid)), `processes of ${key.userId}'s live sandbox besides the adopted ${processPid} and its children`).toEqual([]);
    steps.push({ step: 'Restart the hypervisor', how: 'SIGTERM the hypervisor, then start it again with the same settings (its sandboxes keep running)', observed: `sandbox pid ${processPid} adopted (sandbox.adopt), still serving, restarts ${String(after?.restarts)}` });
  });

  await test.step('in process mode a stop through the admin API ends the sandbox process, logged with its pid', async () => {
    const user = (await fallbackAdmin.sandboxes()).find((s) => s.pid === processPid);
    expect(user, `the sandbox of pid ${processPid} in the admin API`).toBeDefined();
    const stopped = await fallbackAdmin.stop(user?.user_id ?? '', 'live');
    const isStop = (e: LogEvent) => e.event === 'sandbox.stop' && e.user === user?.user_id;
    // The stop's line can reach the log file just after the admin stop has answered.
    const stop = (await whenLogged(fallback.logEvents, (read) => read.some(isStop))).filter(isStop).at(-1);
    await evidence.json('process-sandbox-stop', { stopped, logged: stop, pid_alive_after: isSameProcessAlive(processPid, null) });
    expect(stopped, 'the stop answer').toMatchObject({ status: 'stopped', pid: null });
    expect(isSameProcessAlive(processPid, null), `sandbox process ${processPid} after the stop`).toBe(false);
    expect(stop, 'the stop in the log').toMatchObject({ runtime: 'process', role: 'live', pid: processPid, reason: 'admin' });
    steps.push({ step: 'Stop a sandbox', how: `\`POST /admin/sandboxes/${user?.user_id}/live/stop\``, observed: `pid ${processPid} ended, sandbox.stop logged` });
  });

  await test.step('in process mode no container is created', async () => {
    const containers = await podman.psFor(fallback.instanceId);
    expect(containers).toEqual([]);
    steps.push({ step: 'Check podman is not used', how: `\`podman ps --all --filter label=choiros.instance=${fallback.instanceId}\``, observed: 'no containers' });
  });

  const user = await test.step('on the podman target a user has data in their live sandbox', async () => {
    const registered = await registerWithPasskey(page, target.url);
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask('Gate fallback: data written while live runs on podman');
    expect(outcome.status).toBe('completed');
    expect((await podman.running(registered.userId, 'live'))?.State).toBe('running');
    const document = (await (await page.request.get(`${target.url}/conductor/runs/${outcome.runId}/document`)).json()) as { sha256: string };
    return { ...registered, runId: outcome.runId, documentSha256: document.sha256 };
  });

  const release = await test.step('the live route moves to a process release and keeps serving', async () => {
    const created = await target.admin.createRelease({ runtime: 'process', note: 'gate: fallback to direct-process mode' });
    steps.push({ step: 'Create a process release', how: '`POST /admin/releases {"runtime":"process"}`', observed: `release ${created.id}` });
    const probe = startServingProbe(page.request, `${target.url}/`);
    // Deploy goes to the standby slot; twice, so that the live slot itself (and its data) ends on the process release.
    for (const round of [1, 2]) {
      const deployed = await target.admin.deploy(user.userId, created.id);
      const promoted = await target.admin.promote(user.userId, `gate: fallback round ${round}`);
      expect(promoted.release.id).toBe(created.id);
      steps.push({ step: `Deploy and promote (round ${round})`, how: `\`POST /admin/sandboxes/${user.userId}/deploy {"release_id":${created.id}}\`, then \`/promote\``, observed: `${deployed.role} slot started as a process, main -> ${promoted.main}, serving after ${String(promoted.serving_after_ms)} ms` });
    }
    const report = await probe.stop();
    await evidence.json('serving-during-switch', report);
    expect(report.total).toBeGreaterThan(5);
    expect(report.failures).toEqual([]);
    steps.push({ step: 'Keep serving', how: 'GET / with the user\'s session throughout', observed: `${report.total} requests, ${report.failures.length} failures` });
    return created;
  });

  await test.step("the live slot now runs as a process, no longer as a container", async () => {
    const pointers = await target.admin.pointers(user.userId);
    expect(pointers).toMatchObject({ main: 'live', slots: { live: { release_id: release.id, state: 'ready' } } });
    expect(await podman.running(user.userId, 'live')).toBeUndefined();
    expect(await target.admin.sandbox(user.userId, 'live')).toMatchObject({ status: 'running' });
    const local = target.requireLocal("reading the process sandbox's environment");
    const isProcessReady = (e: LogEvent) => e.event === 'sandbox.ready' && e.user === user.userId && e.role === 'live' && e.runtime === 'process';
    // The ready line can reach the log file after the answers that show the slot running.
    const ready = (await whenLogged(local.logEvents, (read) => read.some(isProcessReady))).filter(isProcessReady).at(-1);
    const environs = environOfTree(Number(ready?.pid));
    for (const p of environs) expect(Object.keys(p.env).filter((name) => !allowedProcessEnv.has(name)), `variables outside the allowlist in pid ${p.pid}`).toEqual([]);
    expect(leakedSecrets(environs, secretsByName(local.secrets)), "the hypervisor's secrets in the sandbox's environment").toEqual([]);
  });

  await test.step("the user's data is kept: the earlier run and its document are still served at /", async () => {
    const run = (await (await page.request.get(`${target.url}/conductor/runs/${user.runId}`)).json()) as { status: string };
    expect(run.status).toBe('completed');
    const document = (await (await page.request.get(`${target.url}/conductor/runs/${user.runId}/document`)).json()) as { sha256: string };
    expect(document.sha256).toBe(user.documentSha256);
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask('Gate fallback: a new task on the process release');
    expect(outcome.status).toBe('completed');
    steps.push({ step: 'Check the data', how: `\`GET /conductor/runs/${user.runId}\` as the user`, observed: `run ${run.status}, document sha256 unchanged; a new task ${outcome.status}` });
  });

  // On this line's own process-mode hypervisor: rolling back every user on the shared target would move other lines' users.
  const everyUser = await test.step("a rollback of every user where one cannot be rolled back answers 422 with a result per user (the other rolled back, the failed one named with its error); the operator's `rollback --all` exits 1 printing FAILED for it", async () => {
    const withKnownGood = fallbackUser;
    const withoutOlder = (await registerWithPasskey(page, fallback.url)).userId;
    const k1 = await fallbackAdmin.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: 'gate-all-k1' }, note: 'gate: rollback all, K1' });
    for (const user of [withKnownGood, withoutOlder]) {
      await fallbackAdmin.deploy(user, k1.id);
      expect(await fallbackAdmin.promote(user, 'gate: K1'), `${user} promoted to K1`).toMatchObject({ known_good: true });
    }
    const k2 = await fallbackAdmin.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: 'gate-all-k2' }, note: 'gate: rollback all, K2' });
    await fallbackAdmin.deploy(withKnownGood, k2.id);
    expect(await fallbackAdmin.promote(withKnownGood, 'gate: K2'), `${withKnownGood} promoted to K2`).toMatchObject({ known_good: true });
    // Now one user runs K2 (K1 is known-good before it), the other runs K1, the oldest known-good: nothing to return to.
    const answer = await rollbackEveryUser(fallbackAdmin, 'gate: roll back every user');
    await evidence.json('rollback-every-user', answer);
    expect(answer.status, 'POST /admin/rollback when one user could not be rolled back').toBe(422);
    expect(answer.results.map((r) => r.user_id).sort(), 'a result per user').toEqual([withKnownGood, withoutOlder].sort());
    expect(answer.results.find((r) => r.user_id === withKnownGood), 'the user with a known-good release to return to').toMatchObject({ ok: true, release: { id: k1.id } });
    expect(answer.results.find((r) => r.user_id === withoutOlder), 'the user with none').toMatchObject({ ok: false, error: expect.stringMatching(/\S/) });
    const pointers = await fallbackAdmin.pointers(withKnownGood);
    expect(pointers.slots[pointers.main], `the slot main serves for ${withKnownGood} after the rollback`).toMatchObject({ release_id: k1.id });

    // Back to K2 by id, so the CLI's rollback of every user again has one that succeeds and one that fails.
    await fallbackAdmin.rollback(withKnownGood, 'gate: back to K2 for the CLI', k2.id);
    const cli = await runOperatorCli(fallbackAdmin, ['rollback', '--all', '--reason', 'gate: the operator rolls back every user']);
    await evidence.json('operator-cli-rollback-all', cli);
    expect(cli.exitCode, `${cli.commandLine}: ${cli.stdout}${cli.stderr}`).toBe(1);
    expect(cli.stderr, 'the failed user on stderr').toContain(`FAILED ${withoutOlder}:`);
    expect(cli.stderr, 'the user that rolled back on stderr').toContain(`rolled back ${withKnownGood}:`);
    expect(cli.json, 'with --json the 422 answer on stdout, every user in it').toMatchObject({
      results: expect.arrayContaining([expect.objectContaining({ user_id: withoutOlder, ok: false }), expect.objectContaining({ user_id: withKnownGood, ok: true })]) as unknown,
    });
    steps.push({ step: 'Roll back every user', how: '`npm run hypervisor -- rollback --all` (POST /admin/rollback)', observed: `422 and exit ${cli.exitCode}: ${withKnownGood} rolled back to release ${k1.id}, ${withoutOlder} FAILED` });
    return { users: [withKnownGood, withoutOlder], k1: k1.id };
  });

  // The named release is not the one a plain rollback picks (K3 comes between), so a `--release` that is not passed on shows.
  await test.step("the operator's `rollback --all --release K1 --json` puts every user back on the named known-good release, not the previous one", async () => {
    const { users, k1 } = everyUser;
    const k3 = await fallbackAdmin.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: 'gate-all-k3' }, note: 'gate: rollback all --release, K3' });
    const k4 = await fallbackAdmin.createRelease({ runtime: 'process', config: { SANDBOX_VERSION: 'gate-all-k4' }, note: 'gate: rollback all --release, K4' });
    for (const user of users) {
      for (const release of [k3, k4]) {
        await fallbackAdmin.deploy(user, release.id);
        expect(await fallbackAdmin.promote(user, `gate: K${release === k3 ? 3 : 4}`), `${user} promoted to release ${release.id}`).toMatchObject({ known_good: true });
      }
    }
    const cli = await runOperatorCli(fallbackAdmin, ['rollback', '--all', '--release', String(k1), '--reason', 'gate: the operator names the release', '--json']);
    await evidence.json('operator-cli-rollback-all-release', cli);
    expect(cli.exitCode, `${cli.commandLine}: ${cli.stdout}${cli.stderr}`).toBe(0);
    for (const user of users) {
      const pointers = await fallbackAdmin.pointers(user);
      expect(pointers.slots[pointers.main], `the slot main serves for ${user} after \`rollback --all --release ${k1}\` (K3 ${k3.id} would be the previous known-good)`).toMatchObject({ release_id: k1 });
    }
    steps.push({ step: 'Roll back every user to a named release', how: `\`npm run hypervisor -- rollback --all --release ${k1}\``, observed: `exit 0: ${users.join(', ')} serve release ${k1}, not ${k3.id}` });
  });

  // Here, not on the podman target: podman tails a container's log itself (podman logs --tail), a process sandbox's log file the hypervisor tails.
  await test.step(`in process mode a start that fails reports the newest ${reportedLogLines} lines of the sandbox's log, in order: the 503 and its sandbox.failed line carry a tail ending with the last line written, none older`, async () => {
    const failing = `${fallbackUser}-tail`;
    const answer = await startFailingAfterManyLines(fallbackAdmin, failing);
    const isFailed = (e: LogEvent) => e.event === 'sandbox.failed' && e.user === failing;
    // The failed line can reach the log file just after the admin start has answered.
    const failed = (await whenLogged(fallback.logEvents, (read) => read.some(isFailed))).find(isFailed);
    await evidence.json('process-sandbox-failed-start-log-tail', { written_lines: writtenLogLines, answer, logged: failed });
    expect(answer, 'the start of a sandbox that writes its lines and exits').toMatchObject({ status: 503, body: { status: 'failed', log_tail: expect.any(String) } });
    const newest = newestLineNumbers(reportedLogLines);
    expect(lineNumbersIn(answer.body.log_tail ?? ''), `the 503's log_tail: the numbered lines ${newest[0]}-${newest.at(-1)} of ${writtenLogLines}, in order`).toEqual(newest);
    expect(failed?.log_tail, 'the sandbox.failed line logs the same tail').toBe(answer.body.log_tail);
    steps.push({ step: 'Read why a start failed', how: `\`POST /admin/sandboxes/${failing}/live/start\` answers 503 with \`log_tail\``, observed: `the last ${reportedLogLines} of ${writtenLogLines} lines the sandbox wrote` });
  });

  await evidence.text('fallback-to-process-mode.md', runbook(steps), 'text/markdown');
});
