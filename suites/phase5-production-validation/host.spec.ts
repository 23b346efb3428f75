import { randomBytes } from 'node:crypto';
import { stateDir } from '../../deploy/generation.ts';
import { errorEntries, type JournalEntry } from '../../deploy/host-readings.ts';
import { gateStatesPrefix } from '../../fixtures/gate-sandbox-states.ts';
import { bracket, headroomSlack, readHeadroomIndependently } from '../../fixtures/headroom-cross-check.ts';
import { plantedLines, plantedMarker, plantJournalLines } from '../../fixtures/planted-journal.ts';
import { entriesDatedOutside, inDatedOrder, windowText } from '../../fixtures/journal-entry-times.ts';
import { publishedTotal } from '../../fixtures/runtime-metrics/published-total.ts';
import { crashSandbox } from '../../fixtures/sandbox-crash.ts';
import { crashRestartBoundMs } from '../../fixtures/crash-restart-bound.ts';
import { routeDispatcher } from '../../fixtures/route-dispatcher.ts';
import { countingFrom, untilPassed } from '../../fixtures/runtime-metrics/counting-window.ts';
import { readMetricsEndpoint } from '../../fixtures/runtime-metrics/metrics-endpoint.ts';
import { localPublishIntervalSecs, test, expect } from '../../fixtures/production-test.ts';

/**
 * Error-level journal lines a Phase 5 run causes on purpose on the host, each with why. The run's
 * restart and rollback are clean stops and starts, so any other error line is a finding.
 */
const causedOnPurpose: readonly { pattern: RegExp; why: string }[] = [
  { pattern: new RegExp(plantedMarker), why: 'planted by Phase 5 lines (this one, the playbook) to prove the journal readings count error-level lines: syslog err and pino 50' },
  { pattern: new RegExp(`"event":"sandbox\\.failed".*"user":"${gateStatesPrefix}`), why: 'the runtime metrics line makes a gate sandbox fail on purpose (a setting its workload refuses), so the published failed count has one to show' },
];

test('Validate logs, restart behavior, and disk/memory headroom.', async ({ productionHost: host, cloudwatch, moto, thresholds, evidence }) => {
  // Locally the first line to ask boots the stand-in (its fixture has its own 10 minutes); the line
  // itself restarts once and waits for an interval published after that restart, then for the one with the crash (a deployed host publishes once a minute).
  test.setTimeout(moto ? 240_000 : 540_000);
  await evidence.provenOn(moto ? { ...host.provenOn, standIn: `${host.provenOn.standIn ?? 'the local stand-in'}; moto stood in for CloudWatch` } : host.provenOn);
  const user = `gate-host-${randomBytes(4).toString('hex')}`;
  const state = async () => ({
    pointers: await host.admin.pointers(user),
    sandboxes: (await host.admin.sandboxes()).filter((s) => s.user_id === user),
    data: await host.access.dataDigest(user),
  });

  try {
    const before = await test.step('the gate user has state on the host: a live sandbox, stopped so its files are at rest', async () => {
      expect(await host.admin.start(user, 'live')).toMatchObject({ status: 'running' });
      await host.admin.stop(user, 'live');
      const taken = await state();
      expect(taken.data.files, 'the sandbox wrote files under its data directory').toBeGreaterThan(0);
      return taken;
    });

    await test.step('systemctl restart brings the hypervisor back healthy: a new process (InvocationID, boot id), the user intact', async () => {
      const restart = await host.access.restartHypervisor();
      const after = await state();
      await evidence.json('restart', { user, restart_to_healthy_ms: Math.round(restart.restartToHealthyMs), before: { ...restart.before, user: before }, after: { ...restart.after, user: after } });
      expect(restart.after.health.healthy).toBe(true);
      expect(restart.after.invocationId).toMatch(/^[0-9a-f]{32}$/);
      expect(restart.after.invocationId).not.toBe(restart.before.invocationId);
      expect(restart.after.health.bootId).toBeDefined();
      expect(restart.after.health.bootId).not.toBe(restart.before.health.bootId);
      expect(after).toEqual(before);
    });

    await test.step("a sandbox that crashes is restarted by the hypervisor; its /metrics count that crash restart, and the SandboxRestarts it publishes from after its start-up reconcile rise by at least it", async () => {
      const metricsRoute = host.browserRoute ? routeDispatcher(host.browserRoute) : undefined;
      const beforeCrash = await readMetricsEndpoint(host.url, metricsRoute);
      // CloudWatch's window starts after the interval that published the restart above's reconcile
      // restarts (one per sandbox on the host), so those cannot stand in for the crash restart.
      const periodSecs = moto ? localPublishIntervalSecs : 60;
      let from: Date | undefined;
      if (cloudwatch) {
        await expect
          .poll(async () => (from = await countingFrom(cloudwatch, new Date(beforeCrash.startedAt), periodSecs)) !== undefined, { message: `a SandboxRestarts point published after the hypervisor started at ${beforeCrash.startedAt}`, timeout: moto ? 30_000 : 180_000 })
          .toBe(true);
        if (from) await untilPassed(from);
      }
      const running = await host.admin.start(user, 'live');
      const command = await crashSandbox(host.access, running);
      // The hypervisor's own view: the same sandbox running again, in a new process, one restart more.
      let restarted = running;
      await expect
        .poll(async () => {
          restarted = (await host.admin.sandbox(user, 'live')) ?? restarted;
          return { status: restarted.status, restarts: restarted.restarts, new_process: restarted.pid !== running.pid || restarted.container_id !== running.container_id };
        }, { message: `${user}:live after \`${command}\` on the host, within ${crashRestartBoundMs} ms (first backoff + readiness + podman)`, timeout: crashRestartBoundMs })
        .toEqual({ status: 'running', restarts: running.restarts + 1, new_process: true });
      const caused = restarted.restarts - running.restarts;
      const afterCrash = await readMetricsEndpoint(host.url, metricsRoute);
      const crashDelta = (afterCrash.restartsByReason.crash ?? 0) - (beforeCrash.restartsByReason.crash ?? 0);
      // The counter has no per-sandbox label: on a deployed host other people's sandboxes may crash too (at least ours);
      // the local stand-in runs only this run's sandboxes (exactly ours).
      const crashCount = moto ? 'exactly, on the local stand-in that runs only this run' : 'at least, on a deployed host other sandboxes share';
      await evidence.json('sandbox-crash-restart-metrics', { user, command, compared: crashCount, restarts_caused: caused, before: beforeCrash.restartsByReason, after: afterCrash.restartsByReason, crash_delta: crashDelta });
      expect(afterCrash.startedAt, 'the hypervisor was not restarted between the two /metrics readings').toBe(beforeCrash.startedAt);
      if (moto) expect(crashDelta, `choiros_sandbox_restarts_total{reason="crash"} moved by ${crashCount} the ${caused} crash restart(s) of ${user}:live`).toBe(caused);
      else expect(crashDelta, `choiros_sandbox_restarts_total{reason="crash"} moved by ${crashCount} the ${caused} crash restart(s) of ${user}:live`).toBeGreaterThanOrEqual(caused);
      // Only the CloudWatch part needs the section: a soft failure, so without it the headroom and journal steps still run and leave their evidence.
      expect.soft(cloudwatch, 'the target description names no `cloudwatch` section: the restarts the host publishes are read there (add region and host, see targets/README.md)').toBeDefined();
      if (!cloudwatch || !from) return;
      const since = from;
      // Published per interval: the restart shows once the interval that counted it is published.
      let published = 0;
      await expect
        .poll(async () => (published = await publishedTotal(cloudwatch, 'SandboxRestarts', since)), { message: `SandboxRestarts published since ${since.toISOString()} (a period boundary after the start-up reconcile was published), against the ${caused} restart(s) the admin API reports for ${user}:live`, timeout: moto ? 30_000 : 180_000 })
        .toBeGreaterThanOrEqual(caused);
      await evidence.json('sandbox-crash-restart', { user, command, from: since.toISOString(), period_secs: periodSecs, before: running, after: restarted, restarts_caused: caused, published_restarts: published });
    });

    await test.step(`disk and memory headroom are above the thresholds (${thresholds.diskFreePercent}% disk, ${thresholds.memoryFreePercent}% memory free)`, async () => {
      // Read a second way just before and just after, so a figure from the wrong field (MemFree, used space) shows.
      const first = await readHeadroomIndependently(host.access, stateDir);
      const headroom = await host.access.headroom();
      const last = await readHeadroomIndependently(host.access, stateDir);
      const expected = { disk: bracket(first.disk.freePercent, last.disk.freePercent, headroomSlack), memory: bracket(first.memory.freePercent, last.memory.freePercent, headroomSlack) };
      await evidence.json('headroom', { thresholds: { diskFreePercent: thresholds.diskFreePercent, memoryFreePercent: thresholds.memoryFreePercent }, ...headroom, cross_check: { slack_points: headroomSlack, before: first, after: last, expected } });
      expect(headroom.disk.freePercent, `disk free by df against statfs (${first.disk.command}) before and after`).toBeGreaterThanOrEqual(expected.disk.low);
      expect(headroom.disk.freePercent, `disk free by df against statfs (${first.disk.command}) before and after`).toBeLessThanOrEqual(expected.disk.high);
      expect(headroom.memory.freePercent, `memory available against MemAvailable/MemTotal (${first.memory.command}) before and after`).toBeGreaterThanOrEqual(expected.memory.low);
      expect(headroom.memory.freePercent, `memory available against MemAvailable/MemTotal (${first.memory.command}) before and after`).toBeLessThanOrEqual(expected.memory.high);
      expect(headroom.disk.freePercent, `disk free under ${headroom.disk.path}: ${headroom.disk.availableKiB} of ${headroom.disk.sizeKiB} KiB`).toBeGreaterThanOrEqual(thresholds.diskFreePercent);
      expect(headroom.memory.freePercent, `memory available: ${headroom.memory.availableKiB} of ${headroom.memory.totalKiB} KiB`).toBeGreaterThanOrEqual(thresholds.memoryFreePercent);
    });

    const planted = plantedLines();
    await test.step("error-level lines planted in the journal (syslog err, pino 50) are counted, and warnings are not; each is dated when it was planted, in planting order", async () => {
      const plantedFrom = await host.access.clock();
      await plantJournalLines(host.access, planted);
      // journald writes a datagram after logger returns: read until all are there (or the poll says which are missing).
      let read: JournalEntry[] = [];
      const readBack = async () => {
        read = (await host.access.journal(host.runStartedAt)).entries.filter((e) => planted.some((p) => p.message === e.message));
        return read.map((e) => e.message).sort();
      };
      await expect.poll(readBack, { message: 'the journal reading returns every planted line', timeout: 15_000 }).toEqual(planted.map((p) => p.message).sort());
      const plantedUntil = await host.access.clock();
      await evidence.json('planted-journal-lines', { planted, read, planted_window: windowText(plantedFrom, plantedUntil) });
      // Times read in the wrong unit or from the wrong field date them in 1970 or millennia ahead.
      expect(entriesDatedOutside(read, plantedFrom, plantedUntil), `planted entries dated outside ${windowText(plantedFrom, plantedUntil)}, the host's clock around the planting`).toEqual([]);
      expect(inDatedOrder(planted, read), 'the planted lines ordered by the time their entries carry').toEqual(planted.map((p) => p.message));
      // Without the rule that names them, exactly the error-level ones would fail the line.
      const counted = errorEntries(read, []).unexpected.map((e) => e.message).sort();
      expect(counted, 'planted lines counted as error-level').toEqual(planted.filter((p) => p.errorLevel).map((p) => p.message).sort());
    });

    await test.step("the hypervisor's journal for the run's window has no error-level line the run did not cause on purpose", async () => {
      const until = await host.access.clock();
      const { command, entries } = await host.access.journal(host.runStartedAt, until);
      const { unexpected, onPurpose } = errorEntries(entries, causedOnPurpose.map((c) => c.pattern));
      await evidence.logExcerpt('hypervisor-journal.jsonl', entries.map((e) => JSON.stringify(e)));
      const datedOutside = entriesDatedOutside(entries, host.runStartedAt, until);
      await evidence.json('journal-check', {
        command,
        window: { since: new Date(host.runStartedAt * 1000).toISOString(), until: new Date(until * 1000).toISOString() },
        entries: entries.length,
        error_level: { unexpected: unexpected.length, caused_on_purpose: onPurpose.length },
        caused_on_purpose_rules: causedOnPurpose.map((c) => ({ pattern: c.pattern.source, why: c.why })),
        unexpected,
        dated_outside_the_window: datedOutside,
      });
      expect(datedOutside, `entries of the journal read for ${windowText(host.runStartedAt, until)} dated outside it`).toEqual([]);
      // The planted error-level lines are in this window and are named as caused on purpose, not missed.
      for (const line of planted.filter((p) => p.errorLevel)) expect(onPurpose.map((e) => e.message), `the planted ${line.kind} line, caused on purpose`).toContain(line.message);
      // The restart above is in the window: a journal that reads nothing would pass any check.
      expect(entries.length).toBeGreaterThan(0);
      expect(unexpected, unexpected.map((e) => `${e.at} ${e.message}`).join('\n')).toEqual([]);
    });
  } finally {
    await host.admin.call('DELETE', `/admin/users/${user}`).catch(() => undefined);
    await evidence.text('host-commands.txt', host.access.transcript.text());
  }
});
