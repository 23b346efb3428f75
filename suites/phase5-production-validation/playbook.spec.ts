import { execa } from 'execa';
import { curlHomeFor } from '../../fixtures/curl-route.ts';
import { plantedLines, plantJournalLines } from '../../fixtures/planted-journal.ts';
import { playbookFile, readPlaybook } from '../../fixtures/playbook.ts';
import { test, expect } from '../../fixtures/production-test.ts';
import { jsonDocuments } from '../../fixtures/json-documents.ts';
import { releaseBaseOf } from '../../fixtures/release-base.ts';
import { waitForHealth } from '../../deploy/health.ts';
import type { AdminRelease, AdminSandbox, RouteSwitch } from '../../hypervisor/admin-client/admin-answers.ts';
import { readMetricsEndpoint } from '../../fixtures/runtime-metrics/metrics-endpoint.ts';
import { parsePrometheusText } from '../../fixtures/runtime-metrics/prometheus-text.ts';

test('Record first operational playbook.', async ({ hostTarget: target, productionHost: host, hostRequests, page, passkey, gateUsers, evidence }) => {
  void passkey;
  // The `any` commands run here against the host's URL (through Caddy's TLS locally); the `host` ones (logs, restart) run on the host over SSH.
  const place = `${target.provenOn.place}; the host commands on ${host.provenOn.place}`;
  const standIn = [target.provenOn.standIn, host.provenOn.standIn].filter(Boolean).join('; ');
  await evidence.provenOn(standIn ? { place, standIn } : { place });
  const playbook = readPlaybook();
  await evidence.file('operations-playbook.md', playbookFile, 'text/markdown');
  const user = await gateUsers.register(page);
  const token = target.adminToken;
  // curl reaches the local stand-in as the browser does: its name mapped to its address, Caddy's root trusted.
  const route = target.browserRoute ? await curlHomeFor(target.browserRoute, target.url) : undefined;

  try {
    const releases = await test.step('the user has a known-good release, a newer one serving, and a third staged in the standby slot, so rollback has somewhere to go and a swap would land elsewhere', async () => {
      const base = await releaseBaseOf(target.admin, user.userId);
      const made: AdminRelease[] = [];
      for (const [step, note] of [['10', 'known-good'], ['20', 'current'], ['30', 'staged']] as const) {
        const release = await target.admin.createRelease({ ...base, config: { SANDBOX_CONDUCTOR_STEP_MS: step }, note: `gate: playbook ${note}` });
        await target.admin.deploy(user.userId, release.id);
        if (note !== 'staged') await target.admin.promote(user.userId, `gate: playbook ${note}`);
        made.push(release);
      }
      const [knownGood, current, staged] = made as [AdminRelease, AdminRelease, AdminRelease];
      const pointers = await target.admin.pointers(user.userId);
      expect(pointers.slots[pointers.main], 'the main route serves the current release before the rollback').toMatchObject({ release_id: current.id });
      expect(pointers.slots[pointers.dev], 'the standby slot holds the staged release').toMatchObject({ release_id: staged.id });
      return { knownGood, current, staged };
    });

    const transcript: string[] = [];
    for (const command of playbook) {
      await test.step(`${command.name} (${command.where})`, async () => {
        if (command.where === 'host') {
          const syntax = await execa('bash', ['-n', '-c', command.script], { reject: false, all: true });
          expect(syntax.exitCode, `${playbookFile}:${command.line} ${command.name}: ${syntax.all ?? ''}`).toBe(0);
          // logs runs in its own step below, after lines are planted in the journal for it to find.
          if (command.name === 'logs') return;
          const before = await host.access.servedBy();
          // CHOIROS_UNIT is left unset, as an operator on the host leaves it: the block's own default must name the hypervisor's unit.
          const run = await host.access.runScript(`the playbook ${command.name} command`, command.script);
          transcript.push(`## ${command.name} (host, run over SSH on ${host.provenOn.place})\n$ ${command.script}\n${run.output.slice(0, 4000)}\nexit ${run.exitCode}`);
          expect(run.exitCode, `${playbookFile}:${command.line} ${command.name} on the host failed: ${run.output.slice(0, 500)}`).toBe(0);
          if (command.name === 'restart') {
            // Then, as the playbook says, health until a new process answers: the command must have restarted the hypervisor, not only found it running.
            const { reading, ms } = await waitForHealth(host.deploy.healthUrl, host.deploy.healthTimeoutSecs * 1000, before.health.bootId);
            const after = await host.access.servedBy();
            await evidence.json('playbook-restart', { before: before.health, after: reading, healthy_after_ms: Math.round(ms), invocation: { before: before.invocationId, after: after.invocationId } });
            expect(reading, `${playbookFile}:${command.line} restart: the hypervisor answers healthy afterwards`).toMatchObject({ healthy: true });
            expect(reading.bootId, `${playbookFile}:${command.line} restart: a new process answers (boot id before: ${before.health.bootId})`).not.toBe(before.health.bootId);
            expect(after.invocationId, `${playbookFile}:${command.line} restart: systemd started the unit again`).not.toBe(before.invocationId);
          }
          return;
        }
        // What the commands that change or show state act on, read just before them.
        // The live sandbox is started first (a no-op when it runs; the hypervisor restart above or its idle stop may have left it stopped), so there is a running instance to restart.
        const liveBefore = command.name === 'restart-sandbox' ? await target.admin.start(user.userId, 'live') : undefined;
        // One proxied request of the gate user's first, so the requests family has a sample to show even when this line runs alone.
        if (command.name === 'metrics') expect((await hostRequests.get(`${target.url}/conductor/runs`)).status(), "GET /conductor/runs with the gate user's session, through the proxy").toBe(200);
        const metricsBefore = command.name === 'metrics' ? await readMetricsEndpoint(target.url, target.dispatcher) : undefined;
        const result = await execa('bash', ['--norc', '--noprofile', '-euo', 'pipefail', '-c', command.script], {
          stdin: 'ignore',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CHOIROS_URL: target.url, CHOIROS_ADMIN_TOKEN: token, CHOIROS_USER: user.userId, ...route?.env },
          extendEnv: false,
          reject: false,
          all: true,
          timeout: 120_000,
        });
        transcript.push(`## ${command.name}\n$ ${command.script}\n${(result.all ?? '').slice(0, 4000)}\nexit ${result.exitCode}`);
        expect(result.exitCode, `${playbookFile}:${command.line} ${command.name} failed: ${(result.all ?? '').slice(0, 500)}`).toBe(0);
        if (command.name === 'rollback') {
          // The command must roll back, not merely switch routes: a swap would put the staged release on main.
          const pointers = await target.admin.pointers(user.userId);
          const { switches } = await target.admin.switches(user.userId);
          await evidence.json('playbook-rollback', { releases: { known_good: releases.knownGood.id, current: releases.current.id, staged: releases.staged.id }, pointers, last_switch: switches[0] });
          expect(pointers.slots[pointers.main], `${playbookFile}:${command.line} rollback: the main route serves the previous known-good release ${releases.knownGood.id} (it served ${releases.current.id})`).toMatchObject({ release_id: releases.knownGood.id });
          // Newest first (GET …/switches).
          expect(switches[0], `${playbookFile}:${command.line} rollback: the last switch recorded is a rollback`).toMatchObject({ action: 'rollback' });
          // The block promises its answer names the release now serving and how long it took: what the operator reads, against the pointers.
          // jsonDocuments names what it could not read; a bare JSON.parse would name neither the block nor its output.
          const [answer] = jsonDocuments(result.stdout) as [RouteSwitch];
          expect(
            { main: answer.main, serving: answer.switch.to.release_id, action: answer.switch.action, took_ms: typeof answer.duration_ms },
            `${playbookFile}:${command.line} rollback: its answer (${result.stdout.slice(0, 300)})`,
          ).toEqual({ main: pointers.main, serving: releases.knownGood.id, action: 'rollback', took_ms: 'number' });
        }
        if (metricsBefore) {
          // The block promises the sandboxes, the proxied requests and the restarts: each family /metrics had before it ran is in its output.
          const shown = new Set(parsePrometheusText(result.stdout).map((sample) => sample.name));
          const families = ['choiros_sandboxes', 'choiros_proxy_requests_total', ...(metricsBefore.restarts > 0 ? ['choiros_sandbox_restarts_total'] : [])];
          for (const family of families) expect(shown.has(family), `${playbookFile}:${command.line} metrics: its output shows ${family}, which GET /metrics had before it ran`).toBe(true);
        }
        if (command.name === 'restart-sandbox') {
          // A restart, not a start the running sandbox answers as it is: the same sandbox running again in a new instance, one restart more.
          const liveAfter = await target.admin.sandbox(user.userId, 'live');
          await evidence.json('playbook-restart-sandbox', { before: liveBefore, after: liveAfter });
          expect(liveBefore, `${user.userId}:live before restart-sandbox`).toMatchObject({ status: 'running' });
          const instance = (sandbox: AdminSandbox | undefined) => `${sandbox?.container_id ?? ''}/${sandbox?.pid ?? ''}`;
          expect({ status: liveAfter?.status, restarts: liveAfter?.restarts, new_instance: instance(liveAfter) !== instance(liveBefore) }, `${playbookFile}:${command.line} restart-sandbox: ${user.userId}:live afterwards`).toEqual({ status: 'running', restarts: (liveBefore?.restarts ?? 0) + 1, new_instance: true });
        }
        if (command.name === 'pointers') {
          // The block promises where the user's routes point and the last switches: its output is the two answers, as the admin API gives them now.
          const shown = jsonDocuments(result.stdout);
          const answers = [await target.admin.pointers(user.userId), await target.admin.switches(user.userId)];
          expect(shown, `${playbookFile}:${command.line} pointers: its output is ${user.userId}'s route pointers, then their switches`).toEqual(answers);
        }
        if (command.name === 'delete-user') {
          // Deleted, not only answered: the account is listed no more and none of its sandboxes is left.
          const listed = (await target.admin.users('gate-')).filter((listing) => listing.user_id === user.userId);
          const sandboxes = (await target.admin.sandboxes()).filter((sandbox) => sandbox.user_id === user.userId).map((sandbox) => `${sandbox.role} ${sandbox.status}`);
          expect({ listed, sandboxes }, `${playbookFile}:${command.line} delete-user: what is left of ${user.userId} (${user.username})`).toEqual({ listed: [], sandboxes: [] });
        }
        if (command.name === 'gate-users') {
          // The listing exists to find an interrupted run's users: it must find this run's own.
          expect(result.all ?? '', `${playbookFile}:${command.line} gate-users: the listing names this run's gate user ${user.username}`).toContain(user.username);
        }
      });
    }
    await test.step("logs (host), run on the host: it shows the error and fatal lines planted in the hypervisor's journal (\"errors and worse\"), and not a warning", async () => {
      const logs = playbook.find((command) => command.name === 'logs');
      expect(logs, `${playbookFile} has a "logs" block run on the host`).toMatchObject({ where: 'host' });
      const planted = plantedLines();
      const shown = planted.filter((line) => line.kind === 'pino error (50)' || line.kind === 'pino fatal (60)');
      const warning = planted.find((line) => line.kind === 'pino warn (40)')!;
      await plantJournalLines(host.access, [...shown, warning]);
      let output = '';
      // journald stores the planted lines shortly after logger returns: run the command until they show (or the poll names what it printed).
      await expect
        .poll(
          async () => {
            const run = await host.access.runScript('the playbook logs command', logs!.script);
            output = `${run.output}\nexit ${run.exitCode}`;
            return shown.filter((line) => !output.includes(line.message)).map((line) => line.kind);
          },
          { message: `${playbookFile}:${logs!.line} logs: the planted error-level lines its output does not show`, timeout: 15_000 },
        )
        .toEqual([]);
      transcript.push(`## logs (host, run over SSH on ${host.provenOn.place} after planting an error, a fatal and a warning line)\n$ ${logs!.script}\n${output.slice(0, 4000)}`);
      expect(output, 'the planted warning line is not an error').not.toContain(warning.message);
    });
    await evidence.text('playbook-transcript.md', transcript.join('\n\n').replaceAll(token, '<admin token>'), 'text/markdown');
  } finally {
    await route?.close();
  }
});
