import { readFile } from 'node:fs/promises';
import { test, expect } from '../../fixtures/gate-test.ts';
import { attachPodmanPs } from '../../fixtures/podman-evidence.ts';

const rowOf = (table: string, name: string): string | undefined => table.split('\n').find((line) => line.startsWith(`${name} `));

test('`podman ps` lifecycle output attached.', async ({ target, podman, evidence, userId }) => {
  const name = podman.containerName(userId, 'live');
  const tables: Record<string, string> = {};

  await test.step('podman ps before the sandbox starts: no container', async () => {
    tables.before = await attachPodmanPs(podman, evidence, '1-before-start');
    expect(rowOf(tables.before, name)).toBeUndefined();
  });

  await test.step('podman ps after start: the container is up on a loopback port', async () => {
    await target.admin.start(userId, 'live');
    tables.started = await attachPodmanPs(podman, evidence, '2-after-start');
    expect(rowOf(tables.started, name)).toMatch(/ Up .*127\.0\.0\.1:\d+->8080\/tcp/);
  });

  await test.step('podman ps after restart: up again, as a new container', async () => {
    await target.admin.restart(userId, 'live');
    tables.restarted = await attachPodmanPs(podman, evidence, '3-after-restart');
    const before = rowOf(tables.started, name)?.trim().split(/\s+/).at(-1);
    const after = rowOf(tables.restarted, name)?.trim().split(/\s+/).at(-1);
    expect(rowOf(tables.restarted, name)).toMatch(/ Up /);
    expect(after).not.toBe(before);
  });

  await test.step('podman ps after stop: the container has exited', async () => {
    await target.admin.stop(userId, 'live');
    tables.stopped = await attachPodmanPs(podman, evidence, '4-after-stop');
    expect(rowOf(tables.stopped, name)).toMatch(/ Exited /);
  });

  await test.step('each snapshot is in the evidence as it was printed', async () => {
    const files = evidence.files.filter((file) => /podman-ps-\d/.test(file));
    expect(files).toHaveLength(4);
    const attached = await Promise.all(files.map((file) => readFile(file, 'utf8')));
    for (const [index, table] of [tables.before, tables.started, tables.restarted, tables.stopped].entries()) {
      expect(attached[index]).toContain(table?.trimEnd());
    }
  });
});

test('Hypervisor logs for spawn/stop transitions attached.', async ({ target, evidence, userId, hypervisorLog }) => {
  target.requireLocal("reading the hypervisor's log");

  await test.step('spawn and stop a dev sandbox through the admin API', async () => {
    await target.admin.start(userId, 'dev');
    await target.admin.stop(userId, 'dev');
  });

  const transitions = await test.step('the log has start_requested, ready and stop, in order, for that sandbox', async () => {
    const lines = (await hypervisorLog.lines()).filter((l) => l.entry?.user === userId && String(l.entry.event).startsWith('sandbox.'));
    expect(lines.map((l) => l.entry?.event)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop']);
    const [requested, ready, stop] = lines.map((l) => l.entry ?? {});
    expect(requested).toMatchObject({ role: 'dev', runtime: 'podman', reason: 'admin' });
    expect(ready).toMatchObject({ role: 'dev', runtime: 'podman', container_id: expect.stringMatching(/^[0-9a-f]{64}$/), duration_ms: expect.any(Number) });
    expect(stop).toMatchObject({ role: 'dev', runtime: 'podman', container_id: ready?.container_id, reason: 'admin', duration_ms: expect.any(Number) });
    return lines;
  });

  await test.step('those log lines are attached as JSON lines, unchanged', async () => {
    const file = await evidence.logExcerpt('hypervisor-spawn-stop-transitions.jsonl', transitions.map((l) => l.raw));
    const attached = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { event: string });
    expect(attached.map((e) => e.event)).toEqual(['sandbox.start_requested', 'sandbox.ready', 'sandbox.stop']);
  });
});
