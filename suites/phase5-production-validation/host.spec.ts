import { randomBytes } from 'node:crypto';
import { errorEntries } from '../../deploy/host-readings.ts';
import { test, expect } from '../../fixtures/production-test.ts';

/**
 * Error-level journal lines a Phase 5 run causes on purpose on the host, each with why. None yet:
 * the run's restart and rollback are clean stops and starts, so any error line is a finding.
 */
const causedOnPurpose: readonly { pattern: RegExp; why: string }[] = [];

test('Validate logs, restart behavior, and disk/memory headroom.', async ({ productionHost: host, thresholds, evidence }) => {
  // Locally the first line to ask boots the stand-in (its fixture has its own 10 minutes); the line itself restarts once.
  test.setTimeout(180_000);
  await evidence.provenOn(host.provenOn);
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

    await test.step(`disk and memory headroom are above the thresholds (${thresholds.diskFreePercent}% disk, ${thresholds.memoryFreePercent}% memory free)`, async () => {
      const headroom = await host.access.headroom();
      await evidence.json('headroom', { thresholds: { diskFreePercent: thresholds.diskFreePercent, memoryFreePercent: thresholds.memoryFreePercent }, ...headroom });
      expect(headroom.disk.freePercent, `disk free under ${headroom.disk.path}: ${headroom.disk.availableKiB} of ${headroom.disk.sizeKiB} KiB`).toBeGreaterThanOrEqual(thresholds.diskFreePercent);
      expect(headroom.memory.freePercent, `memory available: ${headroom.memory.availableKiB} of ${headroom.memory.totalKiB} KiB`).toBeGreaterThanOrEqual(thresholds.memoryFreePercent);
    });

    await test.step("the hypervisor's journal for the run's window has no error-level line the run did not cause on purpose", async () => {
      const until = await host.access.clock();
      const { command, entries } = await host.access.journal(host.runStartedAt, until);
      const { unexpected, onPurpose } = errorEntries(entries, causedOnPurpose.map((c) => c.pattern));
      await evidence.logExcerpt('hypervisor-journal.jsonl', entries.map((e) => JSON.stringify(e)));
      await evidence.json('journal-check', {
        command,
        window: { since: new Date(host.runStartedAt * 1000).toISOString(), until: new Date(until * 1000).toISOString() },
        entries: entries.length,
        error_level: { unexpected: unexpected.length, caused_on_purpose: onPurpose.length },
        caused_on_purpose_rules: causedOnPurpose.map((c) => ({ pattern: c.pattern.source, why: c.why })),
        unexpected,
      });
      // The restart above is in the window: a journal that reads nothing would pass any check.
      expect(entries.length).toBeGreaterThan(0);
      expect(unexpected, unexpected.map((e) => `${e.at} ${e.message}`).join('\n')).toEqual([]);
    });
  } finally {
    await host.admin.call('DELETE', `/admin/users/${user}`).catch(() => undefined);
    await evidence.text('host-commands.txt', host.access.transcript.text());
  }
});
