import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, expect } from '../../fixtures/gate-test.ts';
import { attachPodmanPs } from '../../fixtures/podman-evidence.ts';
import { whenLogged } from '../../fixtures/hypervisor-log.ts';

const rowOf = (table: string, name: string): string | undefined => table.split('\n').find((line) => line.startsWith(`${name} `));

test('`podman ps` lifecycle output attached.', async ({ target, podman, evidence, userId }) => {
  const name = podman.containerName(userId, 'live');
  const idOf = (table: string): string | undefined => rowOf(table, name)?.trim().split(/\s+/).at(-1);

  const before = await test.step('podman ps before the sandbox starts: no container', async () => {
    const table = await attachPodmanPs(podman, evidence, '1-before-start');
    expect(rowOf(table, name)).toBeUndefined();
    return table;
  });

  const started = await test.step('podman ps after start: the container is up on a loopback port', async () => {
    await target.admin.start(userId, 'live');
    const table = await attachPodmanPs(podman, evidence, '2-after-start');
    expect(rowOf(table, name)).toMatch(/ Up .*127\.0\.0\.1:\d+->8080\/tcp/);
    return table;
  });

  const restarted = await test.step('podman ps after restart: up again, as a new container', async () => {
    await target.admin.restart(userId, 'live');
    const table = await attachPodmanPs(podman, evidence, '3-after-restart');
    expect(rowOf(table, name)).toMatch(/ Up /);
    expect(idOf(table)).not.toBe(idOf(started));
    return table;
  });

  const stopped = await test.step('podman ps after stop: the container has exited (or is gone)', async () => {
    await target.admin.stop(userId, 'live');
    const table = await attachPodmanPs(podman, evidence, '4-after-stop');
    const row = rowOf(table, name);
    expect(row === undefined || / Exited /.test(row), `the container's row after stop: ${row}`).toBe(true);
    return table;
  });

  await test.step('each snapshot is in the evidence as it was printed', async () => {
    const files = evidence.files.filter((file) => /podman-ps-\d/.test(file));
    expect(files).toHaveLength(4);
    const attached = await Promise.all(files.map((file) => readFile(file, 'utf8')));
    for (const [index, table] of [before, started, restarted, stopped].entries()) {
      expect(attached[index]).toContain(table.trimEnd());
    }
  });
});

test('Hypervisor logs for spawn/stop transitions attached.', async ({ target, evidence, userId, hypervisorLog, podman }) => {
  target.requireLocal("reading the hypervisor's log");

  const calls = await test.step('spawn and stop a dev sandbox through the admin API', async () => {
    const startCalledAt = Date.now();
    await target.admin.start(userId, 'dev');
    const startAnsweredAt = Date.now();
    await target.admin.stop(userId, 'dev');
    return { start: { calledAt: startCalledAt, answeredAt: startAnsweredAt }, stop: { calledAt: startAnsweredAt, answeredAt: Date.now() } };
  });

  const transitions = await test.step('the log has start_requested, ready and stop, in order, for that sandbox', async () => {
    const sandboxLines = async () => (await hypervisorLog.lines()).filter((l) => l.entry?.user === userId && String(l.entry.event).startsWith('sandbox.'));
    // The hypervisor's logger writes asynchronously: the stop's line can reach the file just after the admin call has answered.
    const lines = await whenLogged(sandboxLines, (read) => read.some((l) => l.entry?.event === 'sandbox.stop'));
    expect(lines.map((l) => l.entry?.event)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop']);
    const [requested, ready, stop] = lines.map((l) => l.entry ?? {});
    expect(requested).toMatchObject({ role: 'dev', runtime: 'podman', reason: 'admin' });
    expect(ready).toMatchObject({ role: 'dev', runtime: 'podman', container_id: expect.stringMatching(/^[0-9a-f]{64}$/), duration_ms: expect.any(Number) });
    expect(stop).toMatchObject({ role: 'dev', runtime: 'podman', container_id: ready?.container_id, reason: 'admin', duration_ms: expect.any(Number) });
    return lines;
  });

  await test.step("each line's duration_ms is the transition's own, in milliseconds: ready's spans its start_requested line to its own (as the log timed them), and each fits inside the admin call the gate timed", async () => {
    // The log's time has millisecond precision and duration_ms is rounded: a few ms either way.
    const slackMs = 5;
    const [requested, ready, stop] = transitions.map((l) => ({ at: Date.parse(String(l.entry?.time)), durationMs: Number(l.entry?.duration_ms) }));
    const readings = { requested, ready, stop, calls };
    await evidence.json('hypervisor-transition-durations', readings);
    expect(ready?.durationMs, `sandbox.ready's duration_ms against its time less start_requested's (${(ready?.at ?? 0) - (requested?.at ?? 0)} ms)`).toBeGreaterThanOrEqual((ready?.at ?? 0) - (requested?.at ?? 0) - slackMs);
    expect(ready?.durationMs, `sandbox.ready's duration_ms against the ${calls.start.answeredAt - calls.start.calledAt} ms the admin start took`).toBeLessThanOrEqual(calls.start.answeredAt - calls.start.calledAt + slackMs);
    expect(stop?.durationMs, `sandbox.stop's duration_ms against the ${calls.stop.answeredAt - calls.stop.calledAt} ms the admin stop took`).toBeLessThanOrEqual(calls.stop.answeredAt - calls.stop.calledAt + slackMs);
    expect(stop?.durationMs).toBeGreaterThanOrEqual(0);
    for (const [name, call] of [['sandbox.start_requested', calls.start], ['sandbox.ready', calls.start], ['sandbox.stop', calls.stop]] as const) {
      const at = { 'sandbox.start_requested': requested, 'sandbox.ready': ready, 'sandbox.stop': stop }[name]?.at ?? Number.NaN;
      expect(at, `${name}'s time inside the admin call that caused it`).toBeGreaterThanOrEqual(call.calledAt - slackMs);
      expect(at, `${name}'s time inside the admin call that caused it`).toBeLessThanOrEqual(call.answeredAt + slackMs);
    }
  });

  // From below, against podman's own clock: the stop was asked before the container exited, so the stop
  // spans at least from that exit (podman's State.FinishedAt) to its own log line. The line is logged
  // right after the duration is taken (a store write between); that write is covered by the slack and
  // by the time from the stop's start to the exit (podman run, signal, the workload's shutdown), which
  // the bound leaves out. Podman's cleanup after the exit (measured 100-300 ms) is what the bound keeps.
  await test.step("sandbox.stop's duration_ms is bounded from below too: the stop began before podman saw the container exit, so it spans at least from the container's State.FinishedAt to the sandbox.stop line's time", async () => {
    const slackMs = 50;
    const stop = transitions.at(-1)?.entry ?? {};
    const container = await podman.inspect(userId, 'dev');
    const exitedAt = Date.parse(container.State.FinishedAt);
    const readings = { container_id: container.Id, finished_at: container.State.FinishedAt, stop_logged_at: stop.time, duration_ms: stop.duration_ms, exit_to_log_ms: Date.parse(String(stop.time)) - exitedAt };
    await evidence.json('hypervisor-stop-duration-from-below', readings);
    expect(container.Id, 'the container inspected is the one the stop line names').toBe(stop.container_id);
    expect(Number.isFinite(exitedAt), `podman's State.FinishedAt parses (${container.State.FinishedAt})`).toBe(true);
    expect(Number(stop.duration_ms), `sandbox.stop's duration_ms against the ${readings.exit_to_log_ms} ms from the container's exit to the stop's log line, less ${slackMs} ms`).toBeGreaterThanOrEqual(readings.exit_to_log_ms - slackMs);
  });

  await test.step('those log lines are attached as JSON lines, unchanged', async () => {
    const file = await evidence.logExcerpt('hypervisor-spawn-stop-transitions.jsonl', transitions.map((l) => l.raw));
    const attached = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { event: string });
    expect(attached.map((e) => e.event)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop']);
  });
});

test('E2E smoke result attached.', async ({ target, page, desktop, signedInUser, evidence }, testInfo) => {
  const files = await test.step('a person signs up, runs a task and sees its result', async () => {
    await desktop.open(`${target.url}/`);
    const outcome = await desktop.runTask(`Gate E2E smoke for ${signedInUser.username}`);
    expect(outcome.status).toBe('completed');
    const run = (await (await page.request.get(`${target.url}/conductor/runs/${outcome.runId}`)).json()) as { status: string };
    const screenshot = await evidence.screenshot(page, 'e2e-smoke');
    const result = await evidence.json('e2e-smoke-result', {
      target: target.identity.id,
      user: { username: signedInUser.username, user_id: signedInUser.userId },
      run,
      page: { status: outcome.status, events: outcome.events, result: outcome.result },
      websocket_frames: desktop.runFrames(outcome.runId).length,
      duration_ms: outcome.durationMs,
      screenshot: path.basename(screenshot),
    });
    return { screenshot, result };
  });

  await test.step('the screenshot and the run JSON are attached to this test and kept in the evidence', async () => {
    const png = await readFile(files.screenshot);
    expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(png.length).toBeGreaterThan(1_000);
    const result = JSON.parse(await readFile(files.result, 'utf8')) as { run: { status: string }; websocket_frames: number };
    expect(result.run.status).toBe('completed');
    expect(result.websocket_frames).toBeGreaterThan(2);
    expect(testInfo.attachments.map((a) => a.name)).toEqual(expect.arrayContaining(['e2e-smoke.png', 'e2e-smoke-result.json']));
    expect(evidence.files).toEqual(expect.arrayContaining([files.screenshot, files.result]));
  });
});
